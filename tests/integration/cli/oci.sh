#!/bin/sh
# oci.sh SCITT SCITTD
# Statements that travel with the image through a real registry: docker-registry (distribution
# 2.8, no referrers API, so the referrers tag schema is used) on loopback with TLS and Basic
# authentication, images pushed with skopeo, and scittd. sign --image resolves the tag, register
# --attach and attach push the transparent statement, verify --image finds and checks it; then
# what an attacker with push rights can do to the referrers: a statement about another image, an
# image whose layer changed under the same tag, an unrelated referrer, a referrer whose subject
# is another image.
SCITT=$1
SCITTD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/registry.sh"
trap 'stop_registries; cleanup' EXIT INT TERM
cd "$T" || exit 2
for tool in docker-registry skopeo htpasswd curl; do
    command -v "$tool" >/dev/null || {
        echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"
        exit 1
    }
done

step "a registry with TLS and Basic authentication"
reg_certs || exit 1
htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$T/htpasswd" 2>/dev/null
start_registry B "$(printf 'auth:\n  htpasswd:\n    realm: scitt-test\n    path: %s' "$T/htpasswd")"
R=$REG_B
echo "registry at $R"
make_layout img1 "first image"
D1=$LAYOUT_DIGEST
make_layout img2 "second image"
D2=$LAYOUT_DIGEST
expect 0 "skopeo copies the first image" skopeo_push img1 "$R/team/app:1.0"
expect 0 "skopeo copies the second image" skopeo_push img2 "$R/team/app:2.0"

RO="--registry-cacert $T/reg-tls/ca.crt --registry-user $REG_USER"
SCITT_REGISTRY_PASSWORD=$REG_PASS
export SCITT_REGISTRY_PASSWORD

step "keys, scittd"
expect 0 "keygen" "$SCITT" keygen --out ci --self-signed-cert --subject ci
start_scittd "$T/data"
expect 0 "keys" "$SCITT" keys --url "$URL" --out keys.cbor

step "sign --image resolves a tag in the registry"
# shellcheck disable=SC2086
expect 0 "sign --image REF (no digest)" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example --image "$R/team/app:1.0" --out s1.stmt --json $RO
has "$T/out" "\"digest\":\"${D1#sha256:}\"" "the digest is the manifest's (as skopeo pushed it)"
has "$T/out" "\"sub\":\"$R/team/app\"" "sub is the normalised repository"
# shellcheck disable=SC2086
expect 2 "sign --image: uppercase repository" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example --image "$R/Team/app:1.0" --out x.stmt $RO
has "$T/err" "lowercase" "the message says repositories are lowercase"
# shellcheck disable=SC2086
expect 2 "sign --image: a tag the registry does not have" "$SCITT" sign --key ci.key \
    --cert ci.crt --iss https://ci.example --image "$R/team/app:9.9" --out x.stmt $RO
has "$T/err" "404" "the registry's answer is shown"
expect 2 "sign --image: no credentials" env -u SCITT_REGISTRY_PASSWORD "$SCITT" sign \
    --key ci.key --cert ci.crt --iss https://ci.example --image "$R/team/app:1.0" --out x.stmt \
    --registry-cacert "$T/reg-tls/ca.crt"
has "$T/err" "needs credentials" "the message asks for credentials"
expect 2 "sign --image: wrong password" env SCITT_REGISTRY_PASSWORD=wrong "$SCITT" sign \
    --key ci.key --cert ci.crt --iss https://ci.example --image "$R/team/app:1.0" --out x.stmt \
    --registry-cacert "$T/reg-tls/ca.crt" --registry-user "$REG_USER"
has "$T/err" "401" "the refusal is shown"
expect 2 "sign --image: the registry's certificate is not trusted" "$SCITT" sign --key ci.key \
    --cert ci.crt --iss https://ci.example --image "$R/team/app:1.0" --out x.stmt \
    --registry-user "$REG_USER"
has "$T/err" "not trusted" "TLS is verified"
mkdir -p dockercfg
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R" "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64)" \
    >dockercfg/config.json
expect 0 "sign --image with credentials from a docker config.json" env \
    -u SCITT_REGISTRY_PASSWORD DOCKER_CONFIG="$T/dockercfg" "$SCITT" sign --key ci.key \
    --cert ci.crt --iss https://ci.example --image "$R/team/app:1.0" --out s1b.stmt \
    --registry-cacert "$T/reg-tls/ca.crt" --json
has "$T/out" "\"digest\":\"${D1#sha256:}\"" "the same digest"

step "register, attach, verify --image"
expect 0 "register" "$SCITT" register --url "$URL" s1.stmt --out s1.ts
# shellcheck disable=SC2086
expect 0 "attach" "$SCITT" attach "$R/team/app:1.0" s1.ts --json $RO
has "$T/out" '"referrers":"tag"' "distribution 2.8: the referrers tag schema"
A1=$(json_field artifact)
# shellcheck disable=SC2086
expect 0 "attach again (idempotent)" "$SCITT" attach "$R/team/app:1.0" s1.ts --json $RO
has "$T/out" "\"artifact\":\"$A1\"" "the same artifact"
rapi GET "$R" "/v2/team/app/manifests/sha256-${D1#sha256:}" \
    -H 'Accept: application/vnd.oci.image.index.v1+json' >refs.json
checks=$((checks + 1))
if [ "$(grep -o "$A1" refs.json | wc -l)" = 1 ]; then echo "ok: listed once"; else
    fails=$((fails + 1))
    echo "FAIL: the referrers tag lists the artifact $(grep -o "$A1" refs.json | wc -l) times"
    cat refs.json
fi
has refs.json '"artifactType":"application/scitt-statement+cose"' "the artifact type is listed"
has refs.json '"dev.scittd.receipt.entry-id"' "the annotations are listed"
# shellcheck disable=SC2086
expect 0 "verify --image" "$SCITT" verify --image "$R/team/app:1.0" --trust keys.cbor \
    --issuer-key ci.crt --json $RO
has "$T/out" "\"verified_by\":\"$A1\"" "--json names the statement that verified"
has "$T/out" "\"check\":\"digest\",\"result\":\"ok\"" "the subject digest was checked"
# shellcheck disable=SC2086
expect 0 "verify --image by digest" "$SCITT" verify --image "$R/team/app@$D1" --trust keys.cbor \
    --issuer-key ci.crt $RO
# shellcheck disable=SC2086
expect 1 "verify --image: another issuer required" "$SCITT" verify --image "$R/team/app:1.0" \
    --trust keys.cbor --issuer-key ci.crt --iss https://other.example $RO
# shellcheck disable=SC2086
expect 1 "verify --image: the second image has nothing attached" "$SCITT" verify \
    --image "$R/team/app:2.0" --trust keys.cbor --issuer-key ci.crt $RO
has "$T/err" "no transparent statement is attached" "the message says so"

step "register --attach"
# shellcheck disable=SC2086
expect 0 "sign the second image" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example --image "$R/team/app:2.0" --out s2.stmt $RO
# shellcheck disable=SC2086
expect 0 "register --attach" "$SCITT" register --url "$URL" s2.stmt --out s2.ts \
    --attach "$R/team/app:2.0" --json $RO
has "$T/out" '"attached":"sha256:' "the artifact is reported"
# shellcheck disable=SC2086
expect 0 "verify --image the second image" "$SCITT" verify --image "$R/team/app:2.0" \
    --trust keys.cbor --issuer-key ci.crt $RO

step "attacks"
# (1) a statement about another image: attach refuses it ...
# shellcheck disable=SC2086
expect 1 "attach: the statement is about another image" "$SCITT" attach "$R/team/app:1.0" s2.ts $RO
has "$T/err" "not about this image" "the message says why"
# ... and pushed by hand with the image as its subject, verify --image refuses it
mkdir -p evil
printf '{}' >evil/empty
E=$(push_blob "$R" team/app evil/empty)
L=$(push_blob "$R" team/app s2.ts)
evil_manifest() { # SUBJECT_DIGEST LAYER_DIGEST LAYER_FILE
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/scitt-statement+cose","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/scitt-statement+cose","digest":"%s","size":%s}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1}}' \
        "$E" "$2" "$(wc -c <"$3")" "$1"
}
evil_index() { # ARTIFACT_FILE...
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
    sep=
    for f in "$@"; do
        printf '%s{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"artifactType":"application/scitt-statement+cose"}' \
            "$sep" "$(sha256sum "$f" | cut -c1-64)" "$(wc -c <"$f")"
        sep=,
    done
    printf ']}'
}
evil_manifest "$D1" "$L" s2.ts >evil/other.json
ED=sha256:$(sha256sum evil/other.json | cut -c1-64)
checks=$((checks + 1))
code=$(push_manifest "$R" team/app "$ED" application/vnd.oci.image.manifest.v1+json evil/other.json)
[ "$code" = 201 ] && echo "ok: the forged artifact is in the registry" || {
    fails=$((fails + 1))
    echo "FAIL: pushing the forged artifact: $code"
}
evil_index evil/other.json >evil/index1.json
push_manifest "$R" team/app "sha256-${D1#sha256:}" application/vnd.oci.image.index.v1+json \
    evil/index1.json >/dev/null
# shellcheck disable=SC2086
expect 1 "verify --image: only a statement about another image is attached" "$SCITT" verify \
    --image "$R/team/app:1.0" --trust keys.cbor --issuer-key ci.crt --json $RO
has "$T/out" "\"check\":\"digest\",\"result\":\"failed\"" "the subject digest check fails"
# (2) an unrelated referrer: a real artifact of the second image listed in the first's tag
A2=$(sed -n 's/.*"attached":"\(sha256:[0-9a-f]*\)".*/\1/p' "$T/out" | head -1)
rapi GET "$R" "/v2/team/app/manifests/sha256-${D2#sha256:}" \
    -H 'Accept: application/vnd.oci.image.index.v1+json' >refs2.json
sed 's/^.*"manifests":\[//; s/\]}$//' refs2.json >refs2.entries
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
    "$(cat refs2.entries)" >evil/index2.json
push_manifest "$R" team/app "sha256-${D1#sha256:}" application/vnd.oci.image.index.v1+json \
    evil/index2.json >/dev/null
# shellcheck disable=SC2086
expect 1 "verify --image: only an unrelated referrer is listed" "$SCITT" verify \
    --image "$R/team/app:1.0" --trust keys.cbor --issuer-key ci.crt $RO
has "$T/err" "not this image" "its subject is checked"
# (3) a referrer whose subject is another image but whose statement is about this one
evil_manifest "$D2" "$(push_blob "$R" team/app s1.ts)" s1.ts >evil/cross.json
push_manifest "$R" team/app "sha256:$(sha256sum evil/cross.json | cut -c1-64)" \
    application/vnd.oci.image.manifest.v1+json evil/cross.json >/dev/null
evil_index evil/cross.json >evil/index3.json
push_manifest "$R" team/app "sha256-${D1#sha256:}" application/vnd.oci.image.index.v1+json \
    evil/index3.json >/dev/null
# shellcheck disable=SC2086
expect 1 "verify --image: a referrer whose subject is another image" "$SCITT" verify \
    --image "$R/team/app:1.0" --trust keys.cbor --issuer-key ci.crt $RO
has "$T/err" "its subject is $D2, not this image" "the referrer's subject must be the image"
# the genuine statement back next to the forgeries: one good statement suffices
# shellcheck disable=SC2086
expect 0 "attach the genuine statement again" "$SCITT" attach "$R/team/app:1.0" s1.ts $RO
# shellcheck disable=SC2086
expect 0 "verify --image: the genuine one among forgeries" "$SCITT" verify \
    --image "$R/team/app:1.0" --trust keys.cbor --issuer-key ci.crt --json $RO
has "$T/out" "\"verified_by\":\"$A1\"" "the genuine statement verified"
# (4) one layer of the image changed, pushed under the same tag
make_layout img1 "first image, one byte changed"
expect 0 "skopeo pushes the changed image under 1.0" skopeo_push img1 "$R/team/app:1.0"
# shellcheck disable=SC2086
expect 1 "verify --image: a changed layer under the same tag" "$SCITT" verify \
    --image "$R/team/app:1.0" --trust keys.cbor --issuer-key ci.crt $RO
# shellcheck disable=SC2086
expect 0 "verify --image: the original digest still verifies" "$SCITT" verify \
    --image "$R/team/app@$D1" --trust keys.cbor --issuer-key ci.crt $RO
# (5) the transparent statement's layer blob altered in the registry is not accepted:
# its digest would change, so the registry cannot serve it under the old one; a tampered
# statement pushed as a new artifact fails its signature
cp s1.ts evil/tampered.ts
flip evil/tampered.ts -5
evil_manifest "$D1" "$(push_blob "$R" team/app evil/tampered.ts)" evil/tampered.ts >evil/tamp.json
push_manifest "$R" team/app "sha256:$(sha256sum evil/tamp.json | cut -c1-64)" \
    application/vnd.oci.image.manifest.v1+json evil/tamp.json >/dev/null
evil_index evil/tamp.json >evil/index4.json
push_manifest "$R" team/app "sha256-${D1#sha256:}" application/vnd.oci.image.index.v1+json \
    evil/index4.json >/dev/null
# shellcheck disable=SC2086
expect 1 "verify --image: a tampered statement" "$SCITT" verify --image "$R/team/app@$D1" \
    --trust keys.cbor --issuer-key ci.crt $RO

step "blobs served from elsewhere (the registry redirects to its storage)"
# docker-registry's redirect middleware answers blob GETs with a 307 to a storage URL, as
# registries backed by object stores do; a TLS file server on loopback serves that storage.
mkdir -p "$T/registry-S/data"
cat >"$T/static.py" <<'PYEOF'
import http.server, os, ssl, sys
root, cert, key, port_file = sys.argv[1:5]
os.chdir(root)
srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(port_file + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
PYEOF
python3 "$T/static.py" "$T/registry-S/data" "$T/reg-tls/reg.crt" "$T/reg-tls/reg.key" \
    "$T/static.port" 2>"$T/static.log" &
STATIC_PID=$!
i=0
while [ ! -s "$T/static.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
start_registry S "$(printf 'auth:\n  htpasswd:\n    realm: scitt-test\n    path: %s\nmiddleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: https://127.0.0.1:%s' \
    "$T/htpasswd" "$(cat "$T/static.port")")"
S=$REG_S
expect 0 "skopeo copies an image (redirecting registry)" skopeo_push img2 "$S/team/app:2.0"
# shellcheck disable=SC2086
expect 0 "attach (redirecting registry)" "$SCITT" attach "$S/team/app:2.0" s2.ts $RO
code=$(rapi GET "$S" "/v2/team/app/blobs/sha256:$(sha256sum s2.ts | cut -c1-64)" -o /dev/null \
    -w '%{http_code}')
checks=$((checks + 1))
if [ "$code" = 307 ]; then echo "ok: the registry redirects blob downloads"; else
    fails=$((fails + 1))
    echo "FAIL: the registry answered $code for a blob, not 307"
fi
# shellcheck disable=SC2086
expect 0 "verify --image follows the redirect to the statement" "$SCITT" verify \
    --image "$S/team/app:2.0" --trust keys.cbor --issuer-key ci.crt $RO
kill -TERM "$STATIC_PID" 2>/dev/null
wait "$STATIC_PID" 2>/dev/null

step "a registry with token authentication"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=test token signer" -keyout tok.key -out tok.crt 2>/dev/null
python3 "$HERE/token_server.py" "$T/tok.port" "$T/reg-tls/reg.crt" "$T/reg-tls/reg.key" \
    tok.crt tok.key "$REG_USER" "$REG_PASS" test-registry test-issuer "$T/tok.log" \
    2>"$T/tok.err" &
TOK_PID=$!
i=0
while [ ! -s "$T/tok.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/tok.port" ] || {
    echo "FAIL: the token service did not start"
    cat "$T/tok.err"
    exit 1
}
start_registry K "$(printf 'auth:\n  token:\n    realm: https://127.0.0.1:%s/token\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: %s' \
    "$(cat "$T/tok.port")" "$T/tok.crt")"
K=$REG_K
expect 0 "skopeo copies the first image (token auth)" skopeo_push img2 "$K/team/app:2.0"
# shellcheck disable=SC2086
expect 0 "sign --image (token auth)" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example --image "$K/team/app:2.0" --out k.stmt --json $RO
has "$T/out" "\"digest\":\"${D2#sha256:}\"" "resolved through a bearer token"
has "$T/tok.log" "scope=repository%3Ateam%2Fapp%3Apull credentials=yes" "a pull token was asked for"
# shellcheck disable=SC2086
expect 0 "register --attach (token auth)" "$SCITT" register --url "$URL" k.stmt --out k.ts \
    --attach "$K/team/app:2.0" $RO
has "$T/tok.log" "scope=repository%3Ateam%2Fapp%3Apull%2Cpush credentials=yes" "then a push token"
# shellcheck disable=SC2086
expect 0 "verify --image (token auth)" "$SCITT" verify --image "$K/team/app:2.0" \
    --trust keys.cbor --issuer-key ci.crt $RO
expect 2 "verify --image: the token service refuses wrong credentials" env \
    SCITT_REGISTRY_PASSWORD=wrong "$SCITT" verify --image "$K/team/app:2.0" --trust keys.cbor \
    --issuer-key ci.crt --registry-cacert "$T/reg-tls/ca.crt" --registry-user "$REG_USER"
has "$T/err" "token service answered 401" "the message says so"
kill -TERM "$TOK_PID" 2>/dev/null
wait "$TOK_PID" 2>/dev/null

stop_scittd
stop_registries
finish
