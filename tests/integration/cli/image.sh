#!/bin/sh
# image.sh SOURCE_DIR BUILD_DIR SCITT
# The whole loop on scittd's own image: make image's script builds it twice (the same manifest
# digest: reproducible), skopeo copies it into docker-registry (loopback, TLS, Basic auth), scitt
# sign --image signs it by tag, a scittd started from the image's own root file system (unpacked
# from the layout, run with chroot as the image's non-root user with a private /proc, no container
# daemon) registers
# it, scitt attach puts the transparent statement next to it, and scitt verify --image passes;
# then one layer of the image is changed and pushed under the same tag, and verify --image fails.
SRC=$1
BUILD=$2
SCITT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/registry.sh"
ROOTFS_PID=
trap '[ -n "$ROOTFS_PID" ] && kill -TERM "$ROOTFS_PID" 2>/dev/null; stop_registries; cleanup' \
    EXIT INT TERM
cd "$T" || exit 2
RUN=
NS="unshare -m --mount-proc=$T/rootfs/proc" # scittd reads /proc/self/exe: a private /proc
if [ "$(id -u)" != 0 ]; then
    RUN="unshare -r" # chroot needs root: a user namespace gives it without privileges
    NS="unshare -r -m -p -f --kill-child=SIGTERM --mount-proc=$T/rootfs/proc"
fi

step "make image, twice"
expect 0 "build the image" sh "$SRC/scripts/build-image.sh" "$BUILD" img1 test
D=$(tail -1 "$T/out")
expect 0 "build it again" sh "$SRC/scripts/build-image.sh" "$BUILD" img2 test
checks=$((checks + 1))
if [ "$D" = "$(tail -1 "$T/out")" ] && cmp -s img1/index.json img2/index.json; then
    echo "ok: reproducible: both builds are $D"
else
    fails=$((fails + 1))
    echo "FAIL: two builds differ: $D and $(tail -1 "$T/out")"
fi

step "push it, sign it by tag"
reg_certs || exit 1
htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$T/htpasswd" 2>/dev/null
start_registry I "$(printf 'auth:\n  htpasswd:\n    realm: scitt-test\n    path: %s' "$T/htpasswd")"
R=$REG_I
expect 0 "skopeo copies the layout into the registry" skopeo_push_tag img1 test "$R/scittd/scittd:test"
RO="--registry-cacert $T/reg-tls/ca.crt --registry-user $REG_USER"
SCITT_REGISTRY_PASSWORD=$REG_PASS
export SCITT_REGISTRY_PASSWORD
expect 0 "keygen" "$SCITT" keygen --out rel --self-signed-cert --subject release
# shellcheck disable=SC2086
expect 0 "sign --image by tag" "$SCITT" sign --key rel.key --cert rel.crt \
    --iss https://release.example --image "$R/scittd/scittd:test" --out img.stmt --json $RO
has "$T/out" "\"digest\":\"${D#sha256:}\"" "the registry's digest is the layout's"

step "scittd from the image's root file system"
mkdir rootfs
layer=$(sed -n 's/.*"layers":\[{[^}]*"digest":"sha256:\([0-9a-f]*\)".*/\1/p' \
    "img1/blobs/sha256/${D#sha256:}")
expect 0 "unpack the image's layer" $RUN tar -xzpf "img1/blobs/sha256/$layer" -C rootfs
$NS chroot --userspec=65532:65532 rootfs /usr/sbin/scittd --data /var/lib/scittd \
    --listen 127.0.0.1:0 --platform virtual --insecure-virtual --log-level info \
    2>"$T/rootfs-scittd.log" &
ROOTFS_PID=$!
port=
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*event=listening .*port=\([0-9]*\).*/\1/p' "$T/rootfs-scittd.log" | head -1)
    kill -0 "$ROOTFS_PID" 2>/dev/null || break
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || {
    echo "FAIL: scittd from the image did not start"
    cat "$T/rootfs-scittd.log"
    exit 1
}
URL=http://127.0.0.1:$port
echo "scittd from the image at $URL"
checks=$((checks + 1))
if [ -n "$(ls rootfs/var/lib/scittd)" ]; then
    echo "ok: it keeps its data in the image's /var/lib/scittd as the non-root user"
else
    fails=$((fails + 1))
    echo "FAIL: nothing in rootfs/var/lib/scittd"
fi
expect 0 "keys" "$SCITT" keys --url "$URL" --out keys.cbor
# shellcheck disable=SC2086
expect 0 "register --attach" "$SCITT" register --url "$URL" img.stmt --out img.ts \
    --attach "$R/scittd/scittd:test" $RO
# shellcheck disable=SC2086
expect 0 "attach again (idempotent)" "$SCITT" attach "$R/scittd/scittd:test" img.ts $RO
# shellcheck disable=SC2086
expect 0 "verify --image" "$SCITT" verify --image "$R/scittd/scittd:test" --trust keys.cbor \
    --issuer-key rel.crt --iss https://release.example $RO

step "one layer changed"
mkdir changed-root
$RUN tar -xzpf "img1/blobs/sha256/$layer" -C changed-root
printf 'not what was signed\n' >>changed-root/etc/passwd
expect 0 "build the changed image" python3 "$SRC/scripts/oci-layout.py" changed-root changed \
    --tag test --epoch 0 --user 65532:65532
expect 0 "push it under the same tag" skopeo_push_tag changed test "$R/scittd/scittd:test"
# shellcheck disable=SC2086
expect 1 "verify --image: the changed image fails" "$SCITT" verify \
    --image "$R/scittd/scittd:test" --trust keys.cbor --issuer-key rel.crt $RO
has "$T/err" "no transparent statement is attached" "nothing is attached to the changed image"
# shellcheck disable=SC2086
expect 0 "verify --image: the signed digest still passes" "$SCITT" verify \
    --image "$R/scittd/scittd@$D" --trust keys.cbor --issuer-key rel.crt $RO

kill -TERM "$ROOTFS_PID"
wait "$ROOTFS_PID"
st=$?
ROOTFS_PID=
checks=$((checks + 1))
if [ "$st" = 0 ]; then echo "ok: scittd from the image stopped cleanly"; else
    fails=$((fails + 1))
    echo "FAIL: scittd from the image exited with $st"
    tail -20 "$T/rootfs-scittd.log"
fi
stop_registries
$RUN rm -rf rootfs changed-root
finish
