#!/bin/sh
# bench/pkcs11_load.sh [BUILD_DIR] [load options...]
# Registrations/s with scittd's receipt key in a PKCS#11 token (SoftHSM2) against the same with
# the key in the keystore, in one run of bench/load (--receipt-key): a token is initialised in a
# temporary directory under BUILD_DIR (default build), an ES256 key made by `scitt keygen` is
# imported into it and its file deleted, and load prints registrations_file_key,
# registrations_pkcs11_key and "ratio pkcs11_key/file_key". The token goes afterwards.
B=${1:-build}
[ $# -gt 0 ] && shift
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -f "$m" ] && MODULE=$m && break
done
command -v softhsm2-util >/dev/null && [ -n "$MODULE" ] || {
    echo "pkcs11_load: SoftHSM2 is missing (scripts/install-deps.sh installs softhsm2)" >&2
    exit 2
}
D=$(mktemp -d "$B/pkcs11-bench.XXXXXX") || exit 2
D=$(cd "$D" && pwd)
trap 'rm -rf "$D"' EXIT INT TERM
mkdir "$D/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$D" \
    >"$D/softhsm2.conf"
SOFTHSM2_CONF=$D/softhsm2.conf
export SOFTHSM2_CONF
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null &&
    "$B/tools/scitt" keygen --out "$D/rk" --alg ES256 >/dev/null &&
    softhsm2-util --import "$D/rk.key" --token bench --label receipts --id 01 --pin 1234 \
        >/dev/null || exit 2
rm -f "$D/rk.key"
printf '1234\n' >"$D/pin"
"$B/bench/load" --scittd "$B/server/scittd" \
    --receipt-key "pkcs11:token=bench;object=receipts?module-path=$MODULE&pin-source=file:$D/pin" \
    "$@"
