#!/bin/bash
# make test-fresh-clone: what a new user gets. A clone of this repository's HEAD in a fresh
# Debian 12 minbase root that holds nothing else but build-essential, cmake, git and
# ca-certificates; there, as root with CI=true (as .ci/run), `make test` and then, unless
# --no-sanitize is given, `make test-sanitize`. Every dependency comes from the repository's own
# scripts/install-deps.sh inside the root; nothing of this machine is visible in it but /dev and
# /sys.
#
#   scripts/test-fresh-clone.sh OUT [--no-sanitize]    (OUT: work folder and root cache; root)
#
# The logs stay in OUT (fresh-clone-test.log, fresh-clone-sanitize.log); exit 0 only if every
# step passed.
set -u
out=$(mkdir -p "$1" && realpath "$1")
sanitize=1
[ "${2:-}" = --no-sanitize ] && sanitize=0
src=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "test-fresh-clone: needs root (debootstrap, chroot)" >&2
    exit 2
fi
t0=$(date +%s)
. "$src/scripts/fresh-root.sh"
fresh_root "$out" || { echo "FAIL debootstrap bookworm minbase"; exit 1; }
git clone -q --no-local "$src" "$root/src/scittd" || { echo "FAIL git clone"; exit 1; }
echo "--- clone of $(git -C "$src" rev-parse --short HEAD) in a fresh root"
# /dev and /sys of the machine, everything else the root's own; the namespace (and every process
# left in it) ends with the step. The root is bound onto itself first so that "/" inside is a
# mount point, as on a booted machine (tests that make their own mount namespace, such as
# cli.image's, change the propagation of "/", which a bare chroot directory refuses).
in_root() {
    CMD=$1 ROOT=$root unshare --mount --pid --fork --mount-proc="$root/proc" /bin/bash -c \
        'mount --rbind "$ROOT" "$ROOT" && mount --rbind /dev "$ROOT/dev" && mount --rbind /sys "$ROOT/sys" &&
         mount -t tmpfs tmpfs "$ROOT/dev/shm" && exec chroot "$ROOT" /bin/bash -c "$CMD"'
}
fails=0
step() {
    local what=$1 log=$2 cmd=$3
    local s=$(date +%s)
    if in_root "$cmd" > "$out/$log" 2>&1; then
        echo "ok   $what ($(($(date +%s) - s)) s)"
    else
        echo "FAIL $what ($(($(date +%s) - s)) s); the end of $out/$log:"
        tail -40 "$out/$log" | sed 's/^/     /'
        fails=$((fails + 1))
    fi
}
step "apt-get install build-essential cmake git ca-certificates" fresh-clone-apt.log \
    'export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q build-essential cmake git ca-certificates'
step "make test (CI=true)" fresh-clone-test.log 'cd /src/scittd && CI=true make test'
grep -E 'tests passed|Skipped|skipped' "$out/fresh-clone-test.log" | tail -5 | sed 's/^/     /'
if [ "$sanitize" = 1 ]; then
    step "make test-sanitize (CI=true)" fresh-clone-sanitize.log 'cd /src/scittd && CI=true make test-sanitize'
    grep -E 'tests passed|Skipped|skipped' "$out/fresh-clone-sanitize.log" | tail -5 | sed 's/^/     /'
fi
echo "test-fresh-clone: $(($(date +%s) - t0)) s in all, $fails failed"
[ "$fails" -eq 0 ]
