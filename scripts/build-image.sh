#!/bin/sh
# `make image`: an OCI image of scittd without a container daemon, as an OCI image layout.
#
#   scripts/build-image.sh BUILD OUT [TAG]
#
# The root file system is the installed tree (cmake --install of BUILD under /usr, as make install
# puts it), the shared libraries its programs load (ldd) and the dynamic loader, the system's CA
# certificates, and a non-root user scittd (65532:65532) owning /var/lib/scittd, the data
# directory. scripts/oci-layout.py turns it into a one-layer image, reproducibly: the time is the
# commit's (SOURCE_DATE_EPOCH, else git log), so two builds from one commit give the same manifest
# digest. Prints the manifest digest. Copy it into a registry with skopeo:
#   skopeo copy oci:OUT:TAG docker://registry.example/scittd:TAG
set -eu
build=$1
out=$2
tag=${3:-latest}
here=$(cd "$(dirname "$0")" && pwd)
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here/.." log -1 --format=%ct 2>/dev/null || echo 0)}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR=$root cmake --install "$build" --prefix /usr >/dev/null

# the shared libraries of every installed program and library, and the loader they name
for f in "$root"/usr/bin/* "$root"/usr/sbin/*; do
    [ -f "$f" ] || continue
    ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'
done | sort -u >"$root.libs"
while IFS= read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done <"$root.libs"
rm -f "$root.libs"

# CA certificates, the user, the data directory
mkdir -p "$root/etc/ssl/certs" "$root/var/lib/scittd" "$root/tmp" "$root/proc" "$root/dev"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nscittd:x:65532:65532:scittd:/var/lib/scittd:/usr/sbin/nologin\n' \
    >"$root/etc/passwd"
printf 'root:x:0:\nscittd:x:65532:\n' >"$root/etc/group"
chmod 0700 "$root/var/lib/scittd"
chmod 1777 "$root/tmp"

rm -rf "$out"
python3 "$here/oci-layout.py" "$root" "$out" --tag "$tag" --epoch "$epoch" \
    --user 65532:65532 --owned var/lib/scittd=65532:65532 --entrypoint /usr/sbin/scittd \
    --cmd=--data --cmd=/var/lib/scittd --cmd=--listen --cmd=0.0.0.0:8080 \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
