#!/bin/sh
# `make install`: installs the build under PREFIX (DESTDIR honoured) and records what it put
# there in PREFIX/share/scittd/install-manifest, so that `make uninstall` (scripts/uninstall.sh)
# removes exactly that and nothing else, even after `make clean`.
#
#   DESTDIR=/staging scripts/install.sh BUILD PREFIX
#
# The manifest lists every file written, with its SHA-256 (a file changed since is kept by the
# uninstall), and every directory that did not exist before (removed by the uninstall when it
# is empty again). A configuration file edited by hand is neither overwritten nor removed.
set -eu
build=$1
prefix=$2
destdir=${DESTDIR:-}
case $prefix in /*) ;; *) echo "install: PREFIX must be absolute, not \"$prefix\"" >&2; exit 2 ;; esac

stage=$(mktemp -d)
trap 'rm -rf "$stage" "$stage.dirs" "$stage.files" "$stage.created"' EXIT
# What an install puts where: the same install into an empty staging tree first.
DESTDIR=$stage cmake --install "$build" --prefix "$prefix" > /dev/null
(cd "$stage" && find . -mindepth 1 -type d | sed 's|^\.||' | sort) > "$stage.dirs"
(cd "$stage" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) > "$stage.files"
manifest=$prefix/share/scittd/install-manifest
# Directories this install creates, and those an earlier install created (installing twice
# must not make the second manifest forget them).
echo "$prefix/share/scittd" >> "$stage.dirs"
{
    while IFS= read -r d; do
        [ -d "$destdir$d" ] || echo "$d"
    done < "$stage.dirs"
    [ -f "$destdir$manifest" ] && sed -n 's/^dir //p' "$destdir$manifest"
} | sort -u > "$stage.created"

DESTDIR=$destdir cmake --install "$build" --prefix "$prefix"

mkdir -p "$destdir$prefix/share/scittd"
{
    echo "# scittd install manifest: what \`make install\` put here (scripts/uninstall.sh)."
    sed 's/^/dir /' "$stage.created"
    while IFS= read -r f; do
        if [ -L "$stage$f" ]; then
            [ -L "$destdir$f" ] && echo "link $(readlink "$destdir$f") $f"
        elif cmp -s "$stage$f" "$destdir$f"; then
            echo "file $(sha256sum < "$destdir$f" | cut -d' ' -f1) $f"
        else
            echo "kept $f"
        fi
    done < "$stage.files"
} > "$destdir$manifest.tmp"
mv "$destdir$manifest.tmp" "$destdir$manifest"
rm -f "$stage.dirs" "$stage.files" "$stage.created"
echo "install: manifest in $destdir$manifest"
