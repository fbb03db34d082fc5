# Shared by the OCI tests (sourced after lib.sh, POSIX sh): a real registry (Debian's
# docker-registry, distribution 2.8, which has no referrers API) on a free loopback port with TLS
# and Basic or token authentication, images pushed into it with skopeo from OCI layouts the test
# writes, and raw registry API calls with curl for what an attacker would push by hand.

REG_USER=ci
REG_PASS=s3cret-registry-pass

# free_port: a port nobody listens on right now (the registry binds it right after).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# reg_certs: a CA and a certificate for 127.0.0.1 and localhost in $T/reg-tls.
reg_certs() {
    d=$T/reg-tls
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=test registry CA" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || return 1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$d/reg.key" -out "$d/reg.csr" 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext"
    openssl x509 -req -in "$d/reg.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/ext" -out "$d/reg.crt" 2>/dev/null
}

# start_registry NAME AUTH_YAML [tls|plain]: docker-registry on a free port; sets REG_<NAME>
# (host:port) and REG_PID_<NAME>. AUTH_YAML is the "auth:" section (may be empty).
start_registry() {
    name=$1
    auth=$2
    mode=${3:-tls}
    port=$(free_port)
    dir=$T/registry-$name
    mkdir -p "$dir/data"
    {
        printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n'
        printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' \
            "$dir/data"
        printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
        if [ "$mode" = tls ]; then
            printf '  tls:\n    certificate: %s\n    key: %s\n' "$T/reg-tls/reg.crt" \
                "$T/reg-tls/reg.key"
        fi
        printf '%s\n' "$auth"
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    pid=$!
    eval "REG_PID_$name=$pid"
    eval "REG_$name=127.0.0.1:$port"
    scheme=https
    [ "$mode" = tls ] || scheme=http
    i=0
    while [ $i -lt 100 ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/reg-tls/ca.crt" \
            "$scheme://127.0.0.1:$port/v2/" 2>/dev/null)
        case $code in 200 | 401) return 0 ;; esac
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "FAIL: docker-registry $name did not start"
    cat "$dir/log"
    exit 1
}

stop_registries() {
    for v in $(set | sed -n 's/^REG_PID_\([A-Za-z0-9_]*\)=.*/\1/p'); do
        eval "p=\$REG_PID_$v"
        if [ -n "$p" ]; then
            kill -TERM "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
        eval "REG_PID_$v="
    done
}

# make_layout DIR TEXT: a one-layer OCI image layout whose layer holds a file with TEXT; prints
# nothing, writes DIR (oci-layout, index.json, blobs) with tag "t".
make_layout() {
    out=$1
    rm -rf "$out" "$out.work"
    mkdir -p "$out/blobs/sha256" "$out.work/root"
    printf '%s\n' "$2" >"$out.work/root/hello.txt"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$out.work/root" \
        -cf "$out.work/layer.tar" hello.txt
    ld=$(sha256sum "$out.work/layer.tar" | cut -c1-64)
    ls_=$(wc -c <"$out.work/layer.tar")
    cp "$out.work/layer.tar" "$out/blobs/sha256/$ld"
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$ld" >"$out.work/config.json"
    cd_=$(sha256sum "$out.work/config.json" | cut -c1-64)
    cs=$(wc -c <"$out.work/config.json")
    cp "$out.work/config.json" "$out/blobs/sha256/$cd_"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
        "$cd_" "$cs" "$ld" "$ls_" >"$out.work/manifest.json"
    md=$(sha256sum "$out.work/manifest.json" | cut -c1-64)
    ms=$(wc -c <"$out.work/manifest.json")
    cp "$out.work/manifest.json" "$out/blobs/sha256/$md"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"t"}}]}' \
        "$md" "$ms" >"$out/index.json"
    rm -rf "$out.work"
    LAYOUT_DIGEST=sha256:$md
}

# skopeo_push LAYOUT DEST (host:port/repo:tag): copies the layout's image "t" into the registry
# as is; skopeo_push_tag LAYOUT TAG DEST the one tagged TAG.
skopeo_push() {
    skopeo_push_tag "$1" t "$2"
}
skopeo_push_tag() {
    printf '{"default":[{"type":"insecureAcceptAnything"}]}' >"$T/skopeo-policy.json"
    mkdir -p "$T/skopeo-certs"
    cp "$T/reg-tls/ca.crt" "$T/skopeo-certs/ca.crt"
    skopeo --policy "$T/skopeo-policy.json" copy --quiet --preserve-digests \
        --dest-cert-dir "$T/skopeo-certs" --dest-creds "$REG_USER:$REG_PASS" \
        "oci:$1:$2" "docker://$3"
}

# rapi METHOD REGISTRY PATH [curl args...]: a raw registry API call with the test credentials.
rapi() {
    m=$1
    r=$2
    p=$3
    shift 3
    curl -sS --cacert "$T/reg-tls/ca.crt" -u "$REG_USER:$REG_PASS" -X "$m" "$@" "https://$r$p"
}

# push_blob REGISTRY REPO FILE: uploads FILE as a blob (monolithic) and prints its digest.
push_blob() {
    d=sha256:$(sha256sum "$3" | cut -c1-64)
    loc=$(rapi POST "$1" "/v2/$2/blobs/uploads/" -D - -o /dev/null |
        sed -n 's/^[Ll]ocation: *\([^\r]*\).*/\1/p')
    case $loc in http*) loc=$(printf '%s' "$loc" | sed 's#^https*://[^/]*##') ;; esac
    case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
    rapi PUT "$1" "$loc${sep}digest=$d" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$3" -o /dev/null
    printf '%s\n' "$d"
}

# push_manifest REGISTRY REPO REF MEDIA FILE
push_manifest() {
    rapi PUT "$1" "/v2/$2/manifests/$3" -H "Content-Type: $4" --data-binary "@$5" -o /dev/null \
        -w '%{http_code}\n'
}
