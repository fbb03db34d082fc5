#!/bin/sh
# make deb: the Debian packages scittd, scitt, libscitt0 and libscitt-dev, built by
# dpkg-buildpackage (debhelper; dpkg-shlibdeps computes their Depends) from a copy of the working
# tree in OUT/scittd-VERSION (the files git tracks or would track; no build directories), so
# nothing is written beside the source tree. The .deb files land in OUT.
#
#   scripts/build-deb.sh OUT
set -eu
cd "$(dirname "$0")/.."
out=$(realpath -m "$1")
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
project=$(sed -n 's/^project(scittd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [ "${version%%-*}" != "$project" ]; then
    echo "build-deb: debian/changelog says $version, CMakeLists.txt says $project" >&2
    exit 2
fi
src=$out/scittd-$version
rm -rf "$src"
mkdir -p "$src"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
        [ -e "$f" ] && printf '%s\n' "$f"
    done | tar -cf - -T - | tar -xf - -C "$src"
else
    tar --exclude='./build*' --exclude=./data -cf - . | tar -xf - -C "$src"
fi
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" \
    dpkg-buildpackage -b -us -uc > "$out/dpkg-buildpackage.log" 2>&1) || {
    tail -40 "$out/dpkg-buildpackage.log" >&2
    echo "build-deb: dpkg-buildpackage failed (whole log: $out/dpkg-buildpackage.log)" >&2
    exit 1
}
echo "build-deb: built in $(($(date +%s) - start)) s (log: $out/dpkg-buildpackage.log):"
for deb in "$out"/*.deb; do
    echo "  $deb"
    dpkg-deb -f "$deb" Package Version Depends | sed 's/^/    /'
done
