#!/bin/sh
# receipt_pkcs11.sh SCITT SCITTD P11_PUBKEY
# scittd --receipt-key pkcs11:... against SoftHSM2 (a token initialised in a temporary
# directory): a service whose ES256 receipt key lives in the token registers statements whose
# receipts verify offline against /jwks and against the token's public key read by p11_pubkey
# (the PKCS#11 API alone); a restart keeps the key; ES384 and Ed25519 token keys sign too. Then
# each refusal at start-up (wrong PIN, two matching keys, no key, an RSA key, a P-521 key, a PIN
# in the URI, a TEE platform) is one line, exit 2, and leaves no data directory; --check-config
# does not show a PIN; a log whose receipt key is in a token does not start without it.
SCITT=$1
SCITTD=$2
P11PUB=$3
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

step "a SoftHSM2 token: ES256, ES384, Ed25519, RSA and P-521 keys, two keys under one label"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" \
    >softhsm2.conf
SOFTHSM2_CONF=$T/softhsm2.conf
export SOFTHSM2_CONF
expect 0 "init the token" softhsm2-util --init-token --free --label svc --pin 1234 --so-pin 5678
imp() { # imp FILE LABEL ID
    expect 0 "import $2 ($3)" softhsm2-util --import "$1" --token svc --label "$2" --id "$3" \
        --pin 1234
    rm -f "$1"
}
for k in es256:ES256:01 es384:ES384:02 ed25519:EdDSA:03 dup1:ES256:0a dup2:ES256:0b; do
    name=${k%%:*}
    rest=${k#*:}
    expect 0 "keygen $name" "$SCITT" keygen --out "$name" --alg "${rest%%:*}"
    label=$name
    case $name in dup*) label=dup ;; esac
    imp "$name.key" "$label" "${rest#*:}"
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
imp rsa.key rsa 04
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.key 2>/dev/null
imp p521.key p521 05
printf '1234\n' >pin.txt
printf '9999\n' >wrong-pin.txt
chmod 600 pin.txt wrong-pin.txt
uri() { # uri OBJECT [PIN_FILE]
    printf 'pkcs11:token=svc;object=%s?module-path=%s&pin-source=file:%s' "$1" "$MODULE" \
        "$T/${2:-pin.txt}"
}

step "the issuer (a file key) and a statement"
expect 0 "issuer key" "$SCITT" keygen --out iss --self-signed-cert --subject "ci issuer"
printf 'release 2.0\n' >payload.txt
expect 0 "sign" "$SCITT" sign --key iss.key --cert iss.crt --iss https://ci.example --sub app \
    --payload payload.txt --out a.stmt

step "scittd signs receipts with the token's ES256 key"
start_scittd "$T/data" --receipt-key "$(uri es256)"
lacks "$T/scittd.log" "1234" "the log does not show the PIN"
expect 0 "register" "$SCITT" register --url "$URL" a.stmt --out a.ts
curl -sf "$URL/jwks" >jwks.json
checks=$((checks + 1))
if [ "$(grep -o '"kid"' jwks.json | wc -l)" = 1 ]; then
    echo "ok: /jwks publishes one key (no key was made in the keystore)"
else
    fails=$((fails + 1))
    echo "FAIL: /jwks: $(cat jwks.json)"
fi
expect 0 "the receipt verifies offline against /jwks" "$SCITT" verify a.ts --trust jwks.json \
    --issuer-key iss.pub
expect 0 "the token's public key, read through the PKCS#11 API" "$P11PUB" "$MODULE" svc es256
cp "$T/out" token-es256.pem
has token-es256.pem "BEGIN PUBLIC KEY" "a PEM public key"
expect 0 "the receipt verifies against the token's public key" "$SCITT" verify a.ts \
    --trust token-es256.pem --issuer-key iss.pub
expect 0 "and against the key the token was loaded with" "$SCITT" verify a.ts --trust es256.pub \
    --issuer-key iss.pub
expect 1 "not against another key of the token" "$SCITT" verify a.ts --trust es384.pub \
    --issuer-key iss.pub
curl -sf "$URL/.well-known/transparency-configuration" -H 'Accept: application/json' >tc.json
stop_scittd

step "a restart (PIN from the environment) keeps the receipt key"
printf 'release 2.1\n' >payload.txt
expect 0 "sign another" "$SCITT" sign --key iss.key --cert iss.crt --iss https://ci.example \
    --sub app --payload payload.txt --out b.stmt
SCITT_PKCS11_PIN=1234
export SCITT_PKCS11_PIN
start_scittd "$T/data" --receipt-key "pkcs11:token=svc;object=es256?module-path=$MODULE"
unset SCITT_PKCS11_PIN
expect 0 "register after the restart" "$SCITT" register --url "$URL" b.stmt --out b.ts
curl -sf "$URL/jwks" >jwks2.json
checks=$((checks + 1))
if cmp -s jwks.json jwks2.json; then
    echo "ok: /jwks is unchanged"
else
    fails=$((fails + 1))
    echo "FAIL: /jwks changed: $(cat jwks2.json)"
fi
expect 0 "the new receipt verifies against the token's key" "$SCITT" verify b.ts \
    --trust token-es256.pem --issuer-key iss.pub
expect 0 "the old one still does" "$SCITT" verify a.ts --trust token-es256.pem --issuer-key iss.pub
stop_scittd

step "the token's key is needed to start this log again"
expect 2 "without --receipt-key: refused" "$SCITTD" --data "$T/data" --listen 127.0.0.1:0 \
    --platform virtual --insecure-virtual
has "$T/err" "held in a PKCS#11 token" "the message says where the key is"
start_scittd "$T/data" --rotate-receipt-key
printf 'release 2.2\n' >payload.txt
expect 0 "sign a third" "$SCITT" sign --key iss.key --cert iss.crt --iss https://ci.example \
    --sub app --payload payload.txt --out c.stmt
expect 0 "register with a new keystore key" "$SCITT" register --url "$URL" c.stmt --out c.ts
curl -sf "$URL/jwks" >jwks3.json
expect 0 "the token-signed receipt verifies against the published set" "$SCITT" verify a.ts \
    --trust jwks3.json --issuer-key iss.pub
expect 1 "the new receipt is not the token's" "$SCITT" verify c.ts --trust token-es256.pem \
    --issuer-key iss.pub
stop_scittd

step "ES384 and Ed25519 token keys"
for k in es384 ed25519; do
    start_scittd "$T/data-$k" --receipt-key "$(uri $k)"
    expect 0 "register ($k receipt key)" "$SCITT" register --url "$URL" a.stmt --out "$k.ts"
    expect 0 "token key $k" "$P11PUB" "$MODULE" svc "$k"
    cp "$T/out" "token-$k.pem"
    expect 0 "the $k receipt verifies against the token's key" "$SCITT" verify "$k.ts" \
        --trust "token-$k.pem" --issuer-key iss.pub
    stop_scittd
done

step "refusals at start-up: exit 2, one line, no data directory"
refused() { # refused DESC TEXT ARGS...
    desc=$1
    text=$2
    shift 2
    expect 2 "$desc" "$SCITTD" --data "$T/refused" --listen 127.0.0.1:0 "$@"
    has "$T/err" "$text" "$desc: the message says so"
    checks=$((checks + 1))
    if [ "$(wc -l <"$T/err")" = 1 ] && [ ! -e "$T/refused" ]; then
        echo "ok: $desc: one line, nothing written"
    else
        fails=$((fails + 1))
        echo "FAIL: $desc: $(wc -l <"$T/err") lines, data directory: $(ls -d "$T/refused" 2>&1)"
    fi
}
V="--platform virtual --insecure-virtual"
# shellcheck disable=SC2086
refused "the wrong PIN" "the PIN is incorrect" $V --receipt-key "$(uri es256 wrong-pin.txt)"
lacks "$T/err" "9999" "the PIN is not in the message"
# shellcheck disable=SC2086
refused "two keys match" "more than one private key matches" $V --receipt-key "$(uri dup)"
# shellcheck disable=SC2086
refused "no key matches" "no private key matches" $V --receipt-key "$(uri nope)"
# shellcheck disable=SC2086
refused "an RSA key" "only EC (P-256, P-384, P-521) and Ed25519 keys" $V \
    --receipt-key "$(uri rsa)"
# shellcheck disable=SC2086
refused "a P-521 key" "receipt keys are ES256, ES384 or Ed25519" $V --receipt-key "$(uri p521)"
# shellcheck disable=SC2086
refused "a PIN written into the URI" "holds the PIN (pin-value)" $V \
    --receipt-key "pkcs11:token=svc;object=es256?module-path=$MODULE&pin-value=4321"
lacks "$T/err" "4321" "the PIN is not repeated"
# shellcheck disable=SC2086
refused "not a pkcs11: URI" "takes a pkcs11: URI" $V --receipt-key es256.pub
refused "a TEE platform" "outside it" --platform snp --receipt-key "$(uri es256)"
refused "a TEE platform (tdx)" "outside it" --platform tdx --receipt-key "$(uri es256)"
# shellcheck disable=SC2086
refused "--rotate-receipt-key with a token key" "held in a PKCS#11 token" $V --rotate-receipt-key \
    --receipt-key "$(uri es256)"

step "--check-config shows the URI without a PIN"
printf 'receipt-key = pkcs11:token=svc;object=es256?pin-value=4321&module-path=%s\n' "$MODULE" \
    >scittd.conf
expect 0 "check-config" "$SCITTD" --config scittd.conf --check-config
has "$T/out" "receipt-key = pkcs11:token=svc;object=es256?pin-value=<redacted>&module-path=" \
    "the URI is shown, its PIN redacted"
lacks "$T/out" "4321" "the PIN is not shown"
expect 0 "check-config with a pin-source" "$SCITTD" --receipt-key "$(uri es256)" --check-config
has "$T/out" "pin-source=file:$T/pin.txt" "a pin-source is a path, shown"
finish
