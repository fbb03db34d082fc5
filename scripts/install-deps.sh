#!/bin/sh
# Installs the Debian 12 packages scittd needs to build, test and run, but only those that are
# missing. This script is the one place system packages come from.
#
#   scripts/install-deps.sh            build + test + run dependencies
#   scripts/install-deps.sh --package  and the Debian packaging tools (make deb, make test-package)
#   scripts/install-deps.sh --check    print what is missing and exit 1 if anything is
#                                      (--check --package: the packaging tools included)
set -eu

check_only=0
package=0
for arg in "$@"; do
    case $arg in
    --check) check_only=1 ;;
    --package) package=1 ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
    esac
done

# Build: compilers and generators the two README commands rely on.
build_pkgs="gcc make cmake git pkg-config clang clang-format"
# Libraries (headers + pkg-config files); node-llhttp ships the llhttp C sources the server compiles;
# zlib gzips C2SP tiles and entry bundles for clients that send Accept-Encoding: gzip.
# libpq-dev: the PostgreSQL storage backend (ledger/store_pg.c; libscitt does not link it).
lib_pkgs="libssl-dev liblmdb-dev libcbor-dev libuv1-dev node-llhttp libcmocka-dev libpq-dev zlib1g-dev"
# p11-kit: RFC 7512 PKCS#11 URIs and module loading for signing keys kept in tokens (scitt sign
# --key pkcs11:...); the PKCS#11 API itself is called directly, no OpenSSL engine or provider.
lib_pkgs="$lib_pkgs libp11-kit-dev"
# Tests: real HTTP clients and certificate tools, valgrind for the memcheck run, and the
# runtimes of the interoperability harness (tests/interop, installed into the build tree by the
# ctest fixture interop.setup): Go + x/mod (GOPATH mode, no network), Python cbor2 + cryptography,
# Node.js + npm (its npm packages come from tests/interop/js/package-lock.json).
test_pkgs="curl openssl ca-certificates valgrind python3 python3-cbor2 python3-cryptography golang-go golang-golang-x-mod-dev libclang-rt-14-dev"
# Install tests (tests/package): systemd for `systemd-analyze verify/security` on the unit (only
# the tool is used: nothing is booted or started), groff-base to render the man pages, man-db
# because systemd-analyze verify looks up the unit's Documentation= pages with man(1) (a minimal
# Debian has no man), binutils for readelf on the installed library.
test_pkgs="$test_pkgs systemd groff-base man-db binutils"
# PostgreSQL storage tests: the Debian server (initdb, pg_ctl under /usr/lib/postgresql/15/bin),
# started by the tests themselves on loopback in a temporary folder (tests/pg_server.h).
test_pkgs="$test_pkgs postgresql"
# OCI tests (tests/integration/cli/oci.sh): a real registry (docker-registry: distribution 2.8,
# run on loopback by the tests), skopeo to push images into it without a container daemon, and
# htpasswd (apache2-utils) for the registry's Basic authentication file.
test_pkgs="$test_pkgs docker-registry skopeo apache2-utils"
# strace: tests/integration/cli/oci_plain.sh shows that a refused plain-HTTP address is never
# connected to (connect(2) calls traced), and that --plain-http does connect to it.
test_pkgs="$test_pkgs strace"
# PKCS#11 tests (tests/integration/cli/pkcs11.sh): SoftHSM2, a software token the tests
# initialise in a temporary directory (ES256, ES384, Ed25519 keys imported with softhsm2-util).
test_pkgs="$test_pkgs softhsm2"
# Explorer tests (tests/integration/ui): a real browser, headless, driven over the DevTools
# protocol on a pipe, so that the in-browser verification (WebCrypto) is what is tested.
test_pkgs="$test_pkgs chromium"
# Packaging (make deb, make test-package): debhelper builds the .deb files (dpkg-shlibdeps
# computes their Depends), lintian checks them, debootstrap makes the fresh Debian 12 root the
# packages are installed into.
package_pkgs="dpkg-dev debhelper lintian debootstrap"
[ "$package" = 1 ] || package_pkgs=""

missing=""
for p in $build_pkgs $lib_pkgs $test_pkgs $package_pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
# Node.js and npm: accept any already on PATH (the interop harness needs Node >= 18 with npm);
# otherwise take Debian's.
if ! command -v node >/dev/null 2>&1; then
    missing="$missing nodejs"
fi
if ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi

if [ -z "$missing" ]; then
    echo "install-deps: all system packages present"
    exit 0
fi
if [ "$check_only" = 1 ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done"
