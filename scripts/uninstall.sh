#!/bin/sh
# `make uninstall`: removes what `make install` put under PREFIX (DESTDIR honoured), as listed
# in PREFIX/share/scittd/install-manifest (scripts/install.sh), then the manifest itself and
# the directories the install created, when they are empty. A file changed since it was
# installed (an edited configuration) is kept, and so is anything the install did not put there.
#
#   DESTDIR=/staging scripts/uninstall.sh PREFIX
set -eu
prefix=$1
destdir=${DESTDIR:-}
manifest=$destdir$prefix/share/scittd/install-manifest
if [ ! -f "$manifest" ]; then
    echo "uninstall: no $manifest: nothing was installed there by make install" >&2
    exit 1
fi
kept=0
dirs=""
while read -r kind a b; do
    case $kind in
    file)
        if [ ! -e "$destdir$b" ]; then
            continue
        elif [ "$(sha256sum < "$destdir$b" | cut -d' ' -f1)" = "$a" ]; then
            rm -f "$destdir$b"
        else
            echo "uninstall: keeping $destdir$b (changed since it was installed)"
            kept=$((kept + 1))
        fi
        ;;
    link)
        if [ -L "$destdir$b" ] && [ "$(readlink "$destdir$b")" = "$a" ]; then
            rm -f "$destdir$b"
        fi
        ;;
    kept)
        echo "uninstall: keeping $destdir$a (it was not replaced by the install: changed by hand)"
        kept=$((kept + 1))
        ;;
    dir) dirs="$a
$dirs" ;;
    esac
done < "$manifest"
rm -f "$manifest"
# Deepest first; a directory that is not empty (something else lives there) stays.
echo "$dirs" | sort -r | while IFS= read -r d; do
    [ -n "$d" ] && [ -d "$destdir$d" ] && rmdir "$destdir$d" 2>/dev/null || true
done
echo "uninstall: done ($kept changed file(s) kept)"
