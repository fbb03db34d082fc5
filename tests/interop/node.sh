#!/bin/sh
# The node the interoperability harness runs on (install.sh installs it as DEST/lib/node.sh and
# records it in DEST/lib/env.sh): Debian 12's own node with one addition when that node is older
# than 20.19.
#
# Node 20.19 and later load a .js file written as an ES module as one even when its package does
# not say "type": "module" (module syntax detection). The harness's EdDSA and RSA receipt path
# (cose-kit) imports @peculiar/webcrypto, whose "import" export is such a file
# (build/webcrypto.es.js), so under Debian 12's node 18 that import fails before any check runs.
# For those nodes esm_detect.mjs registers a load hook that treats files ending in .es.js (the
# ES-module builds of bundled packages) as ES modules, as newer nodes do; nothing else changes.
# SCITT_NODE names the node to run (default: node on PATH).
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
node=${SCITT_NODE:-$(command -v node)}
if [ -z "$node" ]; then
    echo "interop node: no node on PATH" >&2
    exit 2
fi
if "$node" -e 'const [a, b] = process.versions.node.split(".").map(Number);
               process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    exec "$node" "$@"
fi
exec "$node" --no-warnings=ExperimentalWarning --import "file://$here/esm_detect.mjs" "$@"
