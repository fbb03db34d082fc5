#!/bin/bash
# make run ARGS="..." hands the flags to scittd: the Makefile passes ARGS to scripts/run.sh, and
# run.sh to scittd (here --issuer, seen in the transparency configuration it then serves).
#
#   make_run.sh BUILD SOURCE
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
fails=0
passes=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

line=$(make -n -C "$src" BUILD="$build" run ARGS="--issuer make-run.example --print-ports" |
    grep 'scripts/run.sh')
case $line in
*"scripts/run.sh $build --issuer make-run.example --print-ports"*) ok "make run passes ARGS to scripts/run.sh ($line)" ;;
*) fail "make run passes ARGS to scripts/run.sh ($line)" ;;
esac

cd "$tmp"
mkfifo out
SCITTD_LISTEN=127.0.0.1:0 sh "$src/scripts/run.sh" "$build" --issuer make-run.example \
    --print-ports > out 2> err &
pid=$!
port=""
exec 3< out
while IFS= read -r -t 60 l <&3; do
    case $l in READY\ port=*) port=${l#READY port=}; break ;; esac
done
if [ -n "$port" ]; then
    ok "scripts/run.sh passes --print-ports on (port $port)"
    curl -sf "http://127.0.0.1:$port/.well-known/transparency-configuration" > conf.cbor
    if grep -q make-run.example conf.cbor; then
        ok "and --issuer: the service names make-run.example"
    else
        fail "and --issuer: the service names make-run.example"
    fi
else
    fail "scripts/run.sh passes --print-ports on"
    cat err
fi
kill "$pid"
wait "$pid" 2>/dev/null
pid=""
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
