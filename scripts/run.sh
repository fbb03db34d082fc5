#!/bin/sh
# `make run`: starts scittd on an embedded LMDB in ./data on the INSECURE virtual platform (no TEE
# on a development machine), after printing how to register and verify a statement. Arguments
# after the build directory are passed on to scittd (make run ARGS="--policy p.json ...").
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
listen=${SCITTD_LISTEN:-127.0.0.1:8000}
url="http://$listen"
scitt="$build/tools/scitt"
cat <<MSG
scittd: starting on $url with data in ./data (virtual platform: INSECURE, no TEE).
Register and verify a statement from another terminal:
  $scitt keygen --out dev --alg ES256 --self-signed-cert --subject ci.example
  $scitt sign --key dev.key --cert dev.crt --iss https://ci.example --sub demo \\
      --payload README.md --content-type text/markdown --out demo.cose
  $scitt register --url $url demo.cose --out demo.transparent
  $scitt keys --url $url --out scitt-keys.cbor
  $scitt verify demo.transparent --trust scitt-keys.cbor
Stop with Ctrl-C (the batch in flight is finished and LMDB is closed cleanly).
MSG
exec "$build/server/scittd" --data ./data --listen "$listen" --platform virtual --insecure-virtual "$@"
