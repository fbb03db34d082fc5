#!/bin/sh
# pkcs11.sh SCITT SCITTD
# scitt sign --key pkcs11:... against SoftHSM2: a token initialised in a temporary directory,
# ES256, ES384 and Ed25519 keys imported into it (their files are deleted afterwards: the token
# alone signs), statements signed through RFC 7512 URIs (PIN and module in the URI, from a file,
# from the environment), each verified with the key's public half and registered with a real
# scittd; then the wrong PIN, a URI that matches no key or two keys, a certificate of another key,
# an algorithm the key cannot do, and a statement whose signature the token did not make.
SCITT=$1
SCITTD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
cd "$T" || exit 2
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -f "$m" ] && MODULE=$m && break
done
command -v softhsm2-util >/dev/null && [ -n "$MODULE" ] || {
    echo "FAIL: SoftHSM2 is missing (scripts/install-deps.sh installs softhsm2)"
    exit 1
}

step "a SoftHSM2 token with ES256, ES384 and Ed25519 keys"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" \
    >softhsm2.conf
SOFTHSM2_CONF=$T/softhsm2.conf
export SOFTHSM2_CONF
expect 0 "init the token" softhsm2-util --init-token --free --label scitt --pin 1234 --so-pin 5678
id=0
for k in es256:ES256 es384:ES384 ed25519:EdDSA; do
    name=${k%%:*}
    id=$((id + 1))
    expect 0 "keygen $name" "$SCITT" keygen --out "$name" --alg "${k#*:}" --self-signed-cert \
        --subject "ci $name"
    expect 0 "import $name into the token" softhsm2-util --import "$name.key" --token scitt \
        --label "$name" --id "0$id" --pin 1234
    rm -f "$name.key"
done
printf 'release 1.4.2\n' >payload.txt
printf '1234\n' >pin.txt
URI="pkcs11:token=scitt;object=es256?module-path=$MODULE&pin-value=1234"

start_scittd "$T/data"
expect 0 "keys" "$SCITT" keys --url "$URL" --out keys.cbor

step "sign through the token"
expect 0 "sign ES256 (module and PIN in the URI, x5chain)" "$SCITT" sign --key "$URI" \
    --cert es256.crt --iss https://ci.example --sub app --payload payload.txt --out es256.stmt --json
has "$T/out" '"alg":"ES256"' "ES256"
expect 0 "sign ES384 (pin-source file)" "$SCITT" sign \
    --key "pkcs11:token=scitt;object=es384?module-path=$MODULE&pin-source=file:$T/pin.txt" \
    --cert es384.crt --iss https://ci.example --sub app --payload payload.txt --out es384.stmt --json
has "$T/out" '"alg":"ES384"' "ES384"
expect 0 "sign EdDSA (module and PIN from the environment)" env \
    SCITT_PKCS11_MODULE="$MODULE" SCITT_PKCS11_PIN=1234 "$SCITT" sign \
    --key "pkcs11:token=scitt;object=ed25519" --cert ed25519.crt --iss https://ci.example --sub app \
    --payload payload.txt --out ed25519.stmt --json
has "$T/out" '"alg":"EdDSA"' "EdDSA"
expect 0 "sign ES256 by id, an image statement" "$SCITT" sign \
    --key "pkcs11:token=scitt;id=%01?module-path=$MODULE&pin-value=1234" --cert es256.crt \
    --iss https://ci.example --image "registry.example/app@sha256:$(printf x | sha256sum | cut -c1-64)" \
    --out img.stmt

step "what the token signed verifies with the public keys, and registers"
for name in es256 es384 ed25519; do
    expect 0 "register $name" "$SCITT" register --url "$URL" "$name.stmt" --out "$name.ts"
    expect 0 "verify $name with its public key" "$SCITT" verify "$name.ts" --trust keys.cbor \
        --issuer-key "$name.pub"
done
expect 1 "verify es256 with another key fails" "$SCITT" verify es256.ts --trust keys.cbor \
    --issuer-key es384.pub
expect 0 "register the image statement" "$SCITT" register --url "$URL" img.stmt --out img.ts
expect 0 "verify the image statement and its digest" "$SCITT" verify img.ts --trust keys.cbor \
    --issuer-key es256.pub --digest "sha256:$(printf x | sha256sum | cut -c1-64)"

step "refusals"
expect 2 "the wrong PIN" "$SCITT" sign \
    --key "pkcs11:token=scitt;object=es256?module-path=$MODULE&pin-value=9999" --cert es256.crt \
    --iss https://ci.example --sub app --payload payload.txt --out x.stmt
has "$T/err" "PIN is incorrect" "the message says so"
one_line "wrong PIN"
expect 2 "a URI that matches no key" "$SCITT" sign \
    --key "pkcs11:token=scitt;object=nope?module-path=$MODULE&pin-value=1234" \
    --iss https://ci.example --sub app --payload payload.txt --out x.stmt
has "$T/err" "no private key matches" "the message says so"
expect 2 "a URI that matches three keys" "$SCITT" sign \
    --key "pkcs11:token=scitt?module-path=$MODULE&pin-value=1234" \
    --iss https://ci.example --sub app --payload payload.txt --out x.stmt
has "$T/err" "more than one private key" "an ambiguous URI is refused"
expect 2 "a token that does not exist" "$SCITT" sign \
    --key "pkcs11:token=other;object=es256?module-path=$MODULE&pin-value=1234" \
    --iss https://ci.example --sub app --payload payload.txt --out x.stmt
has "$T/err" "no token matches" "the message says so"
expect 2 "no module" env -u SCITT_PKCS11_MODULE "$SCITT" sign \
    --key "pkcs11:token=scitt;object=es256?pin-value=1234" \
    --iss https://ci.example --sub app --payload payload.txt --out x.stmt
has "$T/err" "module-path" "the message says where the module comes from"
expect 2 "the certificate of another key" "$SCITT" sign --key "$URI" --cert es384.crt \
    --iss https://ci.example --sub app --payload payload.txt --out x.stmt
has "$T/err" "is not for the key" "the certificate must certify the token's key"
expect 2 "an algorithm the key cannot do" "$SCITT" sign --key "$URI" --alg EdDSA \
    --cert es256.crt --iss https://ci.example --sub app --payload payload.txt --out x.stmt
checks=$((checks + 1))
if [ -e x.stmt ]; then
    fails=$((fails + 1))
    echo "FAIL: a refused sign left x.stmt"
else
    echo "ok: nothing written by the refusals"
fi

stop_scittd
finish
