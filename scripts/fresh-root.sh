# Sourced by scripts/test-package.sh and scripts/test-fresh-clone.sh: a fresh Debian 12
# (bookworm) minbase root for a test, and a way to run commands in it.
#   fresh_root OUT      sets $root to a new root under OUT, laid out from the cached tarball
#                       OUT/cache/bookworm-minbase.tar (made by debootstrap on first use from
#                       $DEBIAN_MIRROR, default deb.debian.org); removed when the script exits.
#   inside CMD          runs CMD with bash in the root, in its own mount and PID namespaces
#                       (/proc mounted there; every process started inside ends with it).
# Needs root (debootstrap, chroot, unshare). Returns non-zero when debootstrap fails.

fresh_root() {
    local out=$1
    local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local cache=$out/cache/bookworm-minbase.tar
    root=$(mktemp -d "$out/root.XXXXXX")
    trap 'rm -rf "$root"' EXIT
    if [ ! -f "$cache" ]; then
        echo "--- debootstrap bookworm minbase from $mirror (cached in $cache afterwards)"
        mkdir -p "$out/cache"
        if ! debootstrap --variant=minbase bookworm "$root" "$mirror" > "$out/cache/debootstrap.log" 2>&1; then
            tail -20 "$out/cache/debootstrap.log"
            return 1
        fi
        rm -rf "$root/var/cache/apt/archives"/*.deb
        tar -C "$root" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
    else
        echo "--- laying out the cached root $cache"
        tar -C "$root" -xf "$cache"
    fi
    # mktemp made the root 0700 (and the tarball keeps that): other users must traverse "/".
    chmod 0755 "$root"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # Certificate authorities this machine's administrator added (a site's TLS-inspecting proxy,
    # say) are what a fresh machine at the same site would be given too: without them npm cannot
    # reach its registry over HTTPS. ca-certificates, once installed in the root, trusts them.
    if ls /usr/local/share/ca-certificates/*.crt > /dev/null 2>&1; then
        mkdir -p "$root/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    fi
}

inside() {
    unshare --mount --pid --fork --mount-proc="$root/proc" chroot "$root" /bin/bash -c "$1"
}
