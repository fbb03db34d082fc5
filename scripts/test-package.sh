#!/bin/bash
# make test-package: the Debian packages of make deb in a fresh Debian 12 root.
#   - lintian on every package: an error fails (debian/*.lintian-overrides say why for any tag
#     overridden);
#   - a fresh bookworm minbase root (debootstrap from deb.debian.org, cached as a tarball in
#     OUT/cache, so later runs take seconds to lay it out);
#   - apt-get install ./scittd_*.deb pulls its Depends and nothing else; the postinst made the
#     scittd system user and /var/lib/scittd (0700); the conffile, unit and man page are there;
#   - scittd from the package, run as the scittd user (virtual platform), takes a statement
#     signed and registered with the packaged scitt, whose receipt then verifies;
#   - the packaged unit passes systemd-analyze verify and scores <= 2.0 in systemd-analyze
#     security (the host's systemd, offline);
#   - libscitt-dev: a program builds with pkg-config --cflags --libs scitt and runs;
#   - apt-get remove keeps /var/lib/scittd and the data in it, purge removes it.
#
#   scripts/test-package.sh OUT     (OUT holds the .deb files; root only)
set -u
out=$(realpath "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
fails=0
passes=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
expect() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
t0=$(date +%s)
elapsed() { echo "$(($(date +%s) - t0)) s"; }
finish() {
    echo "test-package: $(elapsed) in all"
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
    exit $?
}
if [ "$(id -u)" != 0 ]; then
    echo "test-package: needs root (debootstrap, chroot)" >&2
    exit 2
fi
for p in scittd scitt libscitt0 libscitt-dev; do
    ls "$out/${p}"_*.deb > /dev/null 2>&1 || { echo "test-package: no $p .deb in $out (make deb)" >&2; exit 2; }
done

# --- lintian -----------------------------------------------------------------------------------
echo "--- lintian ($(lintian --version))"
lintian --fail-on error --display-info "$out"/*.deb > "$out/lintian.log" 2>&1
rc=$?
sed 's/^/     /' "$out/lintian.log"
expect "lintian: no error in the four packages" test "$rc" = 0

# --- the fresh root ----------------------------------------------------------------------------
. "$src/scripts/fresh-root.sh"
if ! fresh_root "$out"; then
    fail "debootstrap bookworm minbase"
    finish
fi
mkdir -p "$root/debs"
cp "$out"/*.deb "$root/debs/"
cp "$src/tests/package/hello_libscitt.c" "$root/debs/"
echo "     root ready at $(elapsed)"

# --- install scittd ----------------------------------------------------------------------------
cat > "$root/debs/install.sh" <<'INSIDE'
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q > /debs/apt-update.log 2>&1 || { cat /debs/apt-update.log; exit 1; }
# $1: the package; the rest: what apt-get install gets.
pkg=$1
shift
dpkg-query -W -f '${Package}\n' | sort > /debs/before
apt-get install -y -q "$@" > /debs/apt-$pkg.log 2>&1 || { cat /debs/apt-$pkg.log; exit 1; }
dpkg-query -W -f '${Package}\n' | sort > /debs/after
comm -13 /debs/before /debs/after > /debs/new-$pkg
# The package's Depends and Pre-Depends, recursively, with what apt installs beside them by
# default: the Recommends of those dependencies (libpq5's Kerberos and LDAP libraries recommend
# their data files). Our packages declare no Recommends of their own (debian/control), so nothing
# here is there because of a choice of ours beyond Depends.
apt-cache depends --recurse --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$pkg" | grep -v '^ ' | grep -v '^<' | sort -u > /debs/closure-$pkg
INSIDE
echo "--- apt-get install ./scittd_*.deb"
if inside 'cd /debs && bash install.sh scittd ./scittd_*.deb'; then
    ok "apt-get install ./scittd_*.deb"
else
    fail "apt-get install ./scittd_*.deb"
    finish
fi
new=$(tr '\n' ' ' < "$root/debs/new-scittd")
echo "     installed: $new"
outside=$(comm -23 "$root/debs/new-scittd" "$root/debs/closure-scittd" | tr '\n' ' ')
expect "it pulled only scittd's dependencies${outside:+ (not a dependency: $outside)}" test -z "$outside"
expect "scittd itself is installed" grep -qx scittd "$root/debs/new-scittd"
echo "     Depends: $(inside 'dpkg-query -W -f "\${Depends}" scittd')"
for p in "$out"/*.deb; do
    expect "$(basename "$p") declares no Recommends (the closure above counts its dependencies' only)" \
        test -z "$(dpkg-deb -f "$p" Recommends)"
done

user=$(inside 'getent passwd scittd')
echo "     user: $user"
uid=$(echo "$user" | cut -d: -f3)
expect "postinst made the scittd system user (uid $uid < 1000, no login shell)" \
    sh -c "[ -n '$uid' ] && [ '$uid' -lt 1000 ] && echo '$user' | grep -q ':/usr/sbin/nologin$'"
expect "and its group" sh -c "chroot '$root' getent group scittd > /dev/null"
st=$(chroot "$root" stat -c '%a %U %G' /var/lib/scittd 2>/dev/null)
expect "/var/lib/scittd is 0700 scittd:scittd ($st)" test "$st" = "700 scittd scittd"
expect "/etc/scittd/scittd.conf is a conffile" \
    sh -c "chroot '$root' dpkg-query -W -f '\${Conffiles}' scittd | grep -q ' /etc/scittd/scittd.conf '"
expect "/etc/scittd/scittd.conf is the example, every line commented" \
    sh -c "! grep -vqE '^[[:space:]]*(#|\$)' '$root/etc/scittd/scittd.conf'"
expect "the unit is /lib/systemd/system/scittd.service, running /usr/sbin/scittd" \
    grep -q '^ExecStart=/usr/sbin/scittd ' "$root/lib/systemd/system/scittd.service"
expect "the unit is not enabled by the installation" \
    test ! -e "$root/etc/systemd/system/multi-user.target.wants/scittd.service"
expect "scittd(8) is installed" test -f "$root/usr/share/man/man8/scittd.8.gz"

echo "--- apt-get install ./scitt_*.deb"
if inside 'cd /debs && bash install.sh scitt ./scitt_*.deb'; then
    ok "apt-get install ./scitt_*.deb"
else
    fail "apt-get install ./scitt_*.deb"
fi
outside=$(comm -23 "$root/debs/new-scitt" "$root/debs/closure-scitt" | tr '\n' ' ')
expect "it pulled only scitt's dependencies (installed: $(tr '\n' ' ' < "$root/debs/new-scitt"))${outside:+ (not a dependency: $outside)}" \
    test -z "$outside"
expect "scitt's bash completion is installed" test -f "$root/usr/share/bash-completion/completions/scitt"

# --- run it ------------------------------------------------------------------------------------
echo "--- scittd as the scittd user, scitt registers and verifies"
cat > "$root/debs/run.sh" <<'INSIDE'
set -u
cd /tmp
setpriv --reuid scittd --regid scittd --init-groups --inh-caps=-all \
    /usr/sbin/scittd --data /var/lib/scittd --listen 127.0.0.1:0 --platform virtual \
    --insecure-virtual --print-ports --issuer package-test.example > /tmp/scittd.out 2> /tmp/scittd.err &
pid=$!
port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's/^READY port=//p' /tmp/scittd.out)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "scittd did not start:"; cat /tmp/scittd.err; exit 1
fi
echo "scittd pid $pid as $(ps -o user= -p "$pid" 2>/dev/null || stat -c %U /proc/$pid) on port $port"
url=http://127.0.0.1:$port
set -e
scitt keygen --out issuer --alg ES256 --self-signed-cert --subject package-test
scitt sign --key issuer.key --cert issuer.crt --iss https://package-test.example --sub demo \
    --payload /etc/os-release --content-type text/plain --out demo.cose
scitt register --url "$url" demo.cose --out demo.transparent
scitt keys --url "$url" --out keys.cbor
scitt verify demo.transparent --trust keys.cbor
echo "verify: ok"
# A receipt must not verify with another service's key.
scitt keygen --out other --alg ES256 > /dev/null
if scitt verify demo.transparent --trust other.pub > /dev/null 2>&1; then
    echo "verify with another key: accepted (wrong)"; exit 1
fi
echo "verify with another key: refused"
ls -ln /var/lib/scittd | sed 's/^/  /'
kill -TERM "$pid"
wait "$pid"
echo "scittd stopped: exit $?"
INSIDE
if inside 'bash /debs/run.sh' > "$out/run.log" 2>&1; then
    ok "scittd (user scittd, virtual) registered a statement from scitt; the receipt verifies, another key is refused"
else
    fail "scittd (user scittd, virtual) registered a statement from scitt; the receipt verifies, another key is refused"
fi
sed 's/^/     /' "$out/run.log"
scittd_uid=$(echo "$user" | cut -d: -f3)
foreign=$(find "$root/var/lib/scittd" ! -uid "${scittd_uid:-0}" | tr '\n' ' ')
expect "scittd ran as scittd: everything in /var/lib/scittd is its own${foreign:+ (not: $foreign)}" \
    test -n "$(ls -A "$root/var/lib/scittd")" -a -z "$foreign"

# --- the packaged unit -------------------------------------------------------------------------
unit=$root/lib/systemd/system/scittd.service
sed "s|^ExecStart=/usr/sbin/scittd|ExecStart=$root/usr/sbin/scittd|" "$unit" > "$root/debs/scittd.service"
if (cd "$root/debs" && MANPATH=$root/usr/share/man systemd-analyze verify ./scittd.service) > "$out/verify.log" 2>&1; then
    ok "systemd-analyze verify on the packaged unit"
else
    sed 's/^/     /' "$out/verify.log"
    fail "systemd-analyze verify on the packaged unit"
fi
score=$(cd "$root/debs" && systemd-analyze security --offline=yes ./scittd.service 2>&1 |
    sed -n 's/.*Overall exposure level for scittd.service: \([0-9.]*\).*/\1/p')
echo "     systemd-analyze security: overall exposure level $score"
expect "the packaged unit scores ${score:-?} (at most 2.0)" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'

# --- libscitt-dev ------------------------------------------------------------------------------
echo "--- libscitt-dev: build a program with pkg-config"
if inside 'cd /debs && bash install.sh libscitt-dev ./libscitt0_*.deb ./libscitt-dev_*.deb gcc libc6-dev pkgconf' ; then
    ok "apt-get install ./libscitt0_*.deb ./libscitt-dev_*.deb"
    if inside 'cd /tmp && gcc -std=c11 -Wall -Werror -o hello /debs/hello_libscitt.c $(pkg-config --cflags --libs scitt) && ./hello' > "$out/hello.log" 2>&1 &&
        head -1 "$out/hello.log" | grep -qx 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328; then
        ok "a program built with pkg-config --cflags --libs scitt runs on the packaged libscitt.so.0"
    else
        fail "a program built with pkg-config --cflags --libs scitt runs on the packaged libscitt.so.0"
    fi
    sed 's/^/     /' "$out/hello.log"
else
    fail "apt-get install ./libscitt0_*.deb ./libscitt-dev_*.deb"
fi

# --- remove, purge -----------------------------------------------------------------------------
echo "--- remove and purge"
inside 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q scittd' > "$out/remove.log" 2>&1
expect "apt-get remove scittd: the daemon is gone" test ! -e "$root/usr/sbin/scittd"
expect "apt-get remove scittd: /var/lib/scittd and its data stay" test -n "$(ls -A "$root/var/lib/scittd" 2>/dev/null)"
expect "apt-get remove scittd: the configuration stays" test -f "$root/etc/scittd/scittd.conf"
inside 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q scittd' > "$out/purge.log" 2>&1
expect "apt-get purge scittd: /var/lib/scittd is gone" test ! -e "$root/var/lib/scittd"
expect "apt-get purge scittd: /etc/scittd is gone" test ! -e "$root/etc/scittd"
finish
