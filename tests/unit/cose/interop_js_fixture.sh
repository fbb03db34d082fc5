#!/bin/sh
# interop_js_fixture.sh DEST OUT VERIFIER
# Has the installed harness (DEST) make a fresh fixture with @transmute/cose into OUT, then checks
# it with our verifier program. Exit status is the verifier's (2 when the fixture cannot be made).
dest=$1
out=$2
verifier=$3
. "$dest/lib/env.sh" || exit 2
node=${SCITT_INTEROP_NODE:-$SCITT_INTEROP_INSTALLED_NODE}
rm -rf "$out" && mkdir -p "$out" || exit 2
(cd "$dest/js" && "$node" make-fixture.mjs "$out") >/dev/null || exit 2
exec "$verifier" "$out"
