#!/bin/sh
# docs_ci.sh SCITT SCITTD DOCS_CI_MD
# Runs the scitt commands of docs/ci.md as written, against a real scittd whose registration
# policy requires the release CA's did:x509 (as the page suggests) and a real registry
# (docker-registry on loopback with TLS and Basic authentication, the image pushed by skopeo as the
# build step would): the one-time setup, then the GitHub Actions and the GitLab CI jobs' sign,
# register --attach and verify --image steps, and the Kubernetes webhook's command. The commands
# are read out of the page, so a page that drifts from the tool fails here. Only what the page
# leaves to the CI system is supplied: the service URL (for https://scitt.example), the CA
# fingerprint (for REPLACE-WITH-CA-FINGERPRINT), the variables the CI system sets, registry
# credentials where docker login would write them, and the registry's CA as the system's.
SCITT=$1
SCITTD=$2
DOC=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/registry.sh"
trap 'stop_registries; cleanup' EXIT INT TERM
cd "$T" || exit 2
mkdir bin && ln -s "$SCITT" bin/scitt
PATH=$T/bin:$PATH
export PATH

# commands SECTION: the scitt command lines of one part of the page, continuations joined
# ("\" line ends in shell, deeper-indented lines of a YAML plain scalar), list dashes dropped.
commands() {
    awk -v want="$1" '
        function indent(s) { match(s, /^[ \t]*/); return RLENGTH }
        function flush() { if (cur != "") print cur; cur = "" }
        /^## / { flush(); section = $0; next }
        /^```/ { flush(); block = !block; next }
        !block || index(section, want) == 0 { next }
        {
            line = $0
            sub(/^[ \t]+/, "", line)
            if (cur != "" && shell) {        # a shell line that ended in a backslash
                cur = cur " " line
                if (cur ~ /\\$/) { sub(/[ \t]*\\$/, "", cur); next }
                flush()
                next
            }
            if (cur != "" && indent($0) > ind && line !~ /^- /) {    # YAML plain scalar
                cur = cur " " line
                next
            }
            flush()
            dash = line ~ /^- /
            sub(/^- /, "", line)
            if (line !~ /^scitt /) { next }
            cur = line
            ind = indent($0)
            shell = !dash
            if (shell && cur ~ /\\$/) { sub(/[ \t]*\\$/, "", cur); next }
            if (shell) { flush() }
        }
        END { flush() }
    ' "$DOC"
}

# run DESCRIPTION LINE: a command line of the page with the placeholders filled in, run by sh.
run_doc() {
    line=$(printf '%s\n' "$2" | sed -e "s#https://scitt.example#$URL#g" \
        -e "s#REPLACE-WITH-CA-FINGERPRINT#$FP#g" -e 's#\${{ github.repository }}#example/app#g')
    expect "${3:-0}" "$1: $line" sh -c "$line"
}

step "the page's jobs can run as written"
# Every CI job that runs scitt installs it first: a GitHub job has an "Install scitt" step before
# its first scitt command, a GitLab job extends .scitt (whose before_script installs it).
awk '
    /^## / { sect = $0 }
    /^```/ { block = !block; next }
    !block { next }
    index(sect, "GitHub Actions") && /^  [a-z][a-z0-9_-]*:$/ { job = $1; installed = 0; next }
    index(sect, "GitHub Actions") && job != "" && /name: Install scitt/ { installed = 1 }
    index(sect, "GitHub Actions") && job != "" && /^ *scitt / && !installed {
        print "GitHub job " job " runs scitt before installing it"; bad = 1 }
    index(sect, "GitLab CI") && /^[a-z][a-z0-9_-]*:$/ { job = $1; ext = 0; next }
    index(sect, "GitLab CI") && /^  extends: \.scitt$/ { ext = 1 }
    index(sect, "GitLab CI") && /^ *- scitt / && !ext { print "GitLab job " job " runs scitt without extends: .scitt"; bad = 1 }
    index(sect, "GitLab CI") && /^\.scitt:/ { inst = 1 }
    index(sect, "GitLab CI") && inst && /install .*tools\/scitt \/usr\/local\/bin/ { gl_install = 1; inst = 0 }
    END { if (!gl_install) { print "GitLab: .scitt installs no scitt"; bad = 1 } exit bad }
' "$DOC" >"$T/out" 2>&1
st=$?
checks=$((checks + 1))
if [ "$st" = 0 ] && [ ! -s "$T/out" ]; then echo "ok: every job that runs scitt installs it"; else
    fails=$((fails + 1)); echo "FAIL: a job runs scitt without installing it"; sed 's/^/  | /' "$T/out"; fi
# Images: only public ones that exist (Debian, Docker's); no image of a made-up registry.
imgs=$(sed -n 's/^ *image: *\([^ #]*\).*/\1/p' "$DOC" | sort -u | tr '\n' ' ')
checks=$((checks + 1))
case " $imgs " in
*registry.example*) fails=$((fails + 1)); echo "FAIL: an image that does not exist: $imgs" ;;
*) echo "ok: images named: $imgs" ;;
esac
for i in $imgs; do
    case $i in debian:12 | docker:27 | docker:27-dind) ;; *)
        fails=$((fails + 1)); echo "FAIL: image $i is not one the page may assume" ;; esac
done
# File names: the CA is made as release-ca (release-ca.key, release-ca.crt) and named so.
checks=$((checks + 1))
if grep -q 'keygen --out release-ca ' "$DOC" && ! grep -Eq '(^|[^-])\bca\.key' "$DOC"; then
    echo "ok: the CA's files are release-ca.*"
else
    fails=$((fails + 1)); echo "FAIL: the CA's files are not named consistently"; grep -n 'ca\.key' "$DOC"
fi
# Retention: the page does not tell both to keep the transparent statement and to keep nothing.
lacks "$DOC" "no artifact is kept" "no \"nothing is kept\" beside \"keep the transparent statement\""
has "$DOC" "Keep the transparent statement as long as the image" "the retention advice"

step "one-time setup"
setup=$(commands "One-time setup")
[ "$(printf '%s\n' "$setup" | wc -l)" = 3 ] || {
    echo "FAIL: expected the three setup commands of docs/ci.md, found:"
    printf '%s\n' "$setup"
    exit 1
}
expect 0 "keygen (the release CA)" sh -c "$(printf '%s\n' "$setup" | sed -n 1p)"
expect 0 "keygen (the CI key)" sh -c "$(printf '%s\n' "$setup" | sed -n 2p)"
DID=$(json_field did_x509)
FP=$(printf '%s' "$DID" | sed -n 's/^did:x509:0:sha256:\([^:]*\)::.*/\1/p')
[ -n "$FP" ] || {
    echo "FAIL: no did:x509 from keygen --json"
    exit 1
}
# the registration policy the page describes: did:x509 rules with the release CA as the root
ca=$(awk 'BEGIN { ORS = "\\n" } { print }' release-ca.crt)
printf '{"version": 1, "issuers": [{"did_x509": true, "x509_roots": ["%s"]}]}\n' "$ca" \
    >policy.json
start_scittd "$T/data" --policy policy.json
run_doc "setup" "$(printf '%s\n' "$setup" | sed -n 3p)"
checks=$((checks + 1))
if [ -s scitt-keys.cbor ]; then echo "ok: the service keys were written"; else
    fails=$((fails + 1))
    echo "FAIL: no scitt-keys.cbor"
fi

# the registry (TLS, Basic authentication) and what the CI system and the image build provide
reg_certs || exit 1
htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$T/htpasswd" 2>/dev/null
start_registry D "$(printf 'auth:\n  htpasswd:\n    realm: scitt-test\n    path: %s' "$T/htpasswd")"
make_layout img "the released image"
GOOD=$LAYOUT_DIGEST
make_layout changed "the released image, one layer changed"
SSL_CERT_FILE=$T/reg-tls/ca.crt # the registry's CA, as a runner's system store would hold it
mkdir -p dockercfg              # what docker login writes
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_D" \
    "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64)" >dockercfg/config.json
DOCKER_CONFIG=$T/dockercfg
CI_REGISTRY_USER=$REG_USER
SCITT_REGISTRY_PASSWORD=$REG_PASS
ISS=$DID
GITHUB_REF_NAME=v1.4.2
CI_COMMIT_TAG=v1.4.2
DIGEST=sha256:$(printf 'an image manifest' | sha256sum | cut -c1-64) # for the policy check below
export SSL_CERT_FILE DOCKER_CONFIG CI_REGISTRY_USER SCITT_REGISTRY_PASSWORD ISS GITHUB_REF_NAME \
    CI_COMMIT_TAG DIGEST
cp ci.chain.pem chain.keep

n_ci=0
for ci in "GitHub Actions" "GitLab CI"; do
    step "$ci"
    n_ci=$((n_ci + 1))
    IMAGE=$REG_D/example/app$n_ci
    export IMAGE
    expect 0 "$ci: the build pushes the image" skopeo_push img "$IMAGE:v1.4.2"
    lines=$(commands "$ci")
    n=$(printf '%s\n' "$lines" | grep -c '^scitt ')
    [ "$n" = 3 ] || {
        echo "FAIL: expected sign, register and verify in the $ci section, found:"
        printf '%s\n' "$lines"
        exit 1
    }
    cp chain.keep ci.chain.pem
    cp ci.key.keep ci.key 2>/dev/null || cp ci.key ci.key.keep
    rm -f app.statement app.transparent
    run_doc "$ci sign" "$(printf '%s\n' "$lines" | grep '^scitt sign')"
    run_doc "$ci register and attach" "$(printf '%s\n' "$lines" | grep '^scitt register')"
    verify=$(printf '%s\n' "$lines" | grep '^scitt verify')
    run_doc "$ci deploy gate" "$verify"
    has verify.json "\"digest\":\"$GOOD\"" "$ci: the gate reports the verified digest"
    # the gate refuses the tag once it names another manifest (one layer changed)
    expect 0 "$ci: a changed image is pushed under the tag" skopeo_push changed "$IMAGE:v1.4.2"
    run_doc "$ci deploy gate, changed image" "$verify" 1
    has "$T/err" "no transparent statement is attached" "$ci: refused for the changed image"
    # the original manifest, by digest, still passes (what the webhook below checks)
    if [ "$n_ci" = 1 ]; then
        step "Kubernetes admission"
        k8s=$(commands "Kubernetes admission")
        [ "$(printf '%s\n' "$k8s" | grep -c '^scitt verify')" = 1 ] || {
            echo "FAIL: expected the webhook's scitt verify in the Kubernetes section, found:"
            printf '%s\n' "$k8s"
            exit 1
        }
        IMAGE_REF=$IMAGE@$GOOD
        export IMAGE_REF
        run_doc "webhook: the released image by digest" "$k8s"
        IMAGE_REF=$IMAGE:v1.4.2
        run_doc "webhook: the changed image" "$k8s" 1
    fi
done

step "the policy holds"
expect 0 "keygen: a key the release CA did not issue" \
    scitt keygen --out stranger --self-signed-cert --subject release-pipeline
expect 0 "sign with it" scitt sign --key stranger.key --cert stranger.crt --iss "$ISS" \
    --image "$IMAGE:$GITHUB_REF_NAME@$DIGEST" --out stranger.statement
expect 1 "register: refused by the did:x509 policy" scitt register --url "$URL" \
    stranger.statement --out stranger.transparent
stop_scittd
finish
