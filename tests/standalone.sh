#!/bin/sh
# standalone.sh SOURCE_DIR: fails when a tracked file of the repository refers to the team's
# shared folder (the sibling folder "shared" beside the clone, its absolute path on the team's
# machines, the old environment variable that named it): everything a build, a test, a
# benchmark or a script reads must be in the repository (test data in tests/data, with
# tests/data/PROVENANCE.md, which names that folder only to say where the data came from).
# It first checks that its own search finds such a reference in a scratch repository, so a
# search that can no longer find anything fails too.
set -u
src=$1
# Built from parts, so that this script holds none of the strings it looks for.
up='\.\.' work='/work' name='shared' var='SCITT_SHARED'
pattern="$up/$name|$work/$name|${var}_DIR|"'(^|[^A-Za-z0-9_])shared/(interop|vectors|tee|spec|design|hooks)'

search() { # DIR: prints the matching lines of tracked files, PROVENANCE.md aside
    git -C "$1" grep -n -I -E -e "$pattern" -- . ':!tests/data/PROVENANCE.md'
}

command -v git >/dev/null 2>&1 || { echo "standalone: git is needed"; exit 2; }
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "standalone: $src is not a git checkout"; exit 2; }

t=$(mktemp -d) || exit 2
trap 'rm -rf "$t"' EXIT
git init -q "$t" && mkdir -p "$t/tests/data" &&
    planted="set(D \${CMAKE_SOURCE_DIR}/../$name/vectors)" &&
    printf '%s\n' "$planted" >"$t/CMakeLists.txt" &&
    printf 'from ../%s\n' "$name" >"$t/tests/data/PROVENANCE.md" &&
    git -C "$t" add -A || exit 2
found=$(search "$t")
if [ "$found" != "CMakeLists.txt:1:$planted" ]; then
    echo "standalone: the search does not work: it found [$found] in a planted repository"
    exit 1
fi

found=$(search "$src")
if [ -n "$found" ]; then
    echo "standalone: these tracked files refer to the shared folder outside the repository:"
    echo "$found"
    exit 1
fi
echo "standalone: no tracked file refers to the shared folder"
