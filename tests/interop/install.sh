#!/bin/sh
# install.sh DEST: installs the project's interoperability harness (tests/interop) into DEST, the
# build tree's interop/ when ctest runs it (the fixture interop.setup).
#
#   DEST/bin/verify-receipt   COSE Receipts, by @transmute/cose (cose-kit for EdDSA and RSA)
#   DEST/bin/tlogcheck        C2SP checkpoints, tiles, proofs, by golang.org/x/mod/sumdb
#   DEST/bin/cose-check       strict COSE_Sign1, by python3-cbor2 and python3-cryptography
#
# The Debian packages it needs (nodejs, npm, golang-go, golang-golang-x-mod-dev, python3-cbor2,
# python3-cryptography) come from scripts/install-deps.sh; this script only checks that they are
# there. The npm packages are installed into DEST/js/node_modules at the exact versions of
# js/package-lock.json, each checked against the lock's integrity hash; the Go tool is built in
# GOPATH mode from Debian's x/mod with no network. Nothing outside DEST is written but npm's
# download cache. Running it again on an installed DEST changes nothing unless a source changed.
# Exit status: 0 installed, 1 something is missing or failed (the message says what), 2 usage.
set -eu
if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: tests/interop/install.sh DEST" >&2
    exit 2
fi
src=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P)
mkdir -p -- "$1"
dest=$(CDPATH= cd -- "$1" && pwd -P)
die() {
    echo "interop install: $*" >&2
    exit 1
}
case "$dest/" in "$src/"*) die "DEST must be outside $src" ;; esac

# The runtimes, all from Debian packages (scripts/install-deps.sh).
gopath=/usr/share/gocode
python=/usr/bin/python3
missing=""
node=$(command -v node 2>/dev/null) || missing="$missing nodejs"
npm=$(command -v npm 2>/dev/null) || missing="$missing npm"
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
[ -d "$gopath/src/golang.org/x/mod/sumdb/tlog" ] || missing="$missing golang-golang-x-mod-dev"
"$python" -c 'import cbor2' 2>/dev/null || missing="$missing python3-cbor2"
"$python" -c 'import cryptography' 2>/dev/null || missing="$missing python3-cryptography"
[ -z "$missing" ] || die "missing Debian packages:$missing (scripts/install-deps.sh installs them)"
"$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
    die "node $("$node" --version) is older than 18"

# What an install is made of: the sources and the runtimes. The same stamp means nothing to do.
files="bin/verify-receipt bin/tlogcheck bin/cose-check lib/common.sh node.sh esm_detect.mjs
esm_hook.mjs js/package.json js/package-lock.json js/common.mjs js/verify-receipt.mjs
js/make-fixture.mjs go/tlogcheck/main.go py/cose_check.py"
stamp=$({
    (cd "$src" && sha256sum $files)
    echo "node $node $("$node" --version) npm $("$npm" --version)"
    go version
    dpkg-query -W -f '${Version}\n' golang-golang-x-mod-dev python3-cbor2 python3-cryptography 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
ready() {
    [ "$(cat "$dest/.installed" 2>/dev/null)" = "$stamp" ] && [ -f "$dest/lib/env.sh" ] &&
        [ -x "$dest/go/bin/tlogcheck" ] && [ -d "$dest/js/node_modules/@transmute/cose" ]
}
if ready; then
    echo "interop harness up to date in $dest"
    exit 0
fi
# Parallel ctest runs may share DEST: one installs, the others wait and find it ready.
exec 9>"$dest/.lock"
flock 9
if ready; then
    echo "interop harness up to date in $dest"
    exit 0
fi
echo "installing the interop harness into $dest"
rm -f "$dest/.installed" "$dest/lib/env.sh"
for f in $files; do
    case $f in
    node.sh | esm_*.mjs) to=lib/$f ;;
    *) to=$f ;;
    esac
    case $f in bin/* | node.sh) mode=755 ;; *) mode=644 ;; esac
    install -D -m "$mode" "$src/$f" "$dest/$to"
done

# npm: the locked versions, optional native add-ons left out (cbor-x has a JavaScript fallback),
# no install scripts run. The lock's integrity hashes are checked on every download; then every
# locked package must be installed at its locked version.
lockstamp=$(cat "$src/js/package-lock.json" "$src/js/package.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$dest/js/.npm-installed" 2>/dev/null)" != "$lockstamp" ] ||
    [ ! -d "$dest/js/node_modules/@transmute/cose" ]; then
    rm -rf "$dest/js/node_modules" "$dest/js/.npm-installed"
    if [ -z "${HOME:-}" ] || ! mkdir -p "$HOME/.npm" 2>/dev/null || [ ! -w "$HOME/.npm" ]; then
        export npm_config_cache="$dest/.npm-cache"
    fi
    (cd "$dest/js" && "$npm" install --no-save --ignore-scripts --omit=optional --omit=dev \
        --no-audit --no-fund --no-update-notifier --loglevel=error) ||
        die "npm could not install the packages of js/package-lock.json (is the npm registry reachable?)"
    (cd "$dest/js" && "$node" -e '
        const fs = require("fs");
        const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
        let bad = 0, n = 0;
        for (const [path, p] of Object.entries(lock.packages)) {
          if (!path || p.optional || p.dev) continue;
          n++;
          let got = "missing";
          try { got = JSON.parse(fs.readFileSync(path + "/package.json", "utf8")).version } catch {}
          if (got !== p.version) { console.error(`${path}: locked ${p.version}, installed ${got}`); bad++ }
          if (!p.integrity) { console.error(`${path}: no integrity hash in the lock`); bad++ }
        }
        if (bad) process.exit(1);
        console.log(`npm: ${n} packages at their locked versions`);
    ') || die "node_modules does not match js/package-lock.json"
    echo "$lockstamp" >"$dest/js/.npm-installed"
fi

# Go: x/mod from Debian's GOPATH, no modules, no proxy, no network.
(cd "$dest/go" && env GO111MODULE=off GOPATH="$gopath" GOCACHE="$dest/go/.cache" GOFLAGS= \
    GOPROXY=off GOTOOLCHAIN=local go build -trimpath -o bin/tlogcheck ./tlogcheck) ||
    die "go build of tlogcheck failed"

{
    echo "# written by tests/interop/install.sh"
    echo "SCITT_INTEROP_INSTALLED_NODE='$dest/lib/node.sh'"
    echo "SCITT_INTEROP_INSTALLED_PYTHON='$python'"
    echo "SCITT_NODE=\${SCITT_NODE:-'$node'}"
    echo "export SCITT_NODE"
} >"$dest/lib/env.sh"
echo "$stamp" >"$dest/.installed"
transmute=$("$node" -p 'require(process.argv[1]).version' "$dest/js/node_modules/@transmute/cose/package.json")
kit=$("$node" -p 'require(process.argv[1]).version' "$dest/js/node_modules/cose-kit/package.json")
echo "interop harness installed in $dest:"
echo "  verify-receipt: @transmute/cose $transmute, cose-kit $kit on node $("$node" --version)"
echo "  tlogcheck:      golang.org/x/mod $(dpkg-query -W -f '${Version}' golang-golang-x-mod-dev 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3)"
echo "  cose-check:     cbor2 $(dpkg-query -W -f '${Version}' python3-cbor2 2>/dev/null || echo '?'), cryptography $("$python" -c 'import cryptography; print(cryptography.__version__)')"
