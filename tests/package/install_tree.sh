#!/bin/bash
# `make install` (scripts/install.sh) into a temporary DESTDIR, then one of these checks:
#   layout      binaries, the library with its SONAME, headers, pkg-config file, man pages,
#               completion, unit and example configuration where they belong
#   pkgconfig   a program built with `pkg-config --cflags --libs scitt` only, against the
#               installed tree (shared and static), runs; every installed header stands alone
#               and every function it declares is in libscitt.so
#   man         every option of `scittd --help` and of every `scitt COMMAND --help` is in the
#               installed man pages, which groff renders without a warning
#   completion  the installed bash completion offers every command and each command's options
#               as `scitt COMMAND --help` lists them, and nothing else
#   unit        systemd-analyze verify passes on the installed unit, its sandboxing is all there
#               and `systemd-analyze security` scores it 2.0 or less
#   config      the example configuration names every option of `scittd --help`, all commented
#   uninstall   make uninstall removes exactly what make install put there
#
#   install_tree.sh CHECK BUILD SOURCE
set -u
check=$1
build=$(cd "$2" && pwd)
src=$(cd "$3" && pwd)
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
# A library built with the sanitizers needs them in the programs that link it.
san=""
grep -q '^SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && san="-fsanitize=address,undefined"
fails=0
passes=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
expect() { # expect WHAT COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
    exit $?
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
P=$dest$prefix
install_into() { DESTDIR=$1 sh "$src/scripts/install.sh" "$build" "$prefix" > "$tmp/install.log" 2>&1; }
if ! install_into "$dest"; then
    cat "$tmp/install.log"
    fail "scripts/install.sh into $dest"
    finish
fi
ok "installed into $dest$prefix"
scittd_bin=$P/sbin/scittd
scitt_bin=$P/bin/scitt
# Every --option a help text mentions.
options_of() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# The commands listed by `scitt --help`, and the subcommands a command's usage lines name.
scitt_commands() { "$scitt_bin" --help | sed -n '/^commands:$/,/^$/p' | awk '/^  [a-z]/ { print $1 }'; }
scitt_subs() {
    "$scitt_bin" "$1" --help | awk -v cmd="$1" '{ w = ($1 == "usage:") ? 2 : 1 }
        (w == 2 || /^ /) && $w == "scitt" && $(w + 1) == cmd && $(w + 2) ~ /^[a-z][a-z-]*$/ {
            print $(w + 2) }' | sort -u
}

case $check in
layout)
    for f in sbin/scittd bin/scitt; do
        expect "$f is an executable" test -x "$P/$f"
    done
    expect "scittd --version runs from the installed tree" \
        sh -c "'$scittd_bin' --version | grep -qx 'scittd [0-9.]*'"
    real=$(cd "$P/lib" && ls libscitt.so.*.*.* 2>/dev/null | head -1)
    soname=$(readelf -d "$P/lib/$real" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    expect "libscitt.so has a versioned SONAME ($soname, file $real)" \
        sh -c "echo '$soname' | grep -qx 'libscitt\.so\.[0-9][0-9]*'"
    expect "$soname -> $real" test "$(readlink "$P/lib/$soname")" = "$real"
    expect "libscitt.so -> $soname (the development link)" test "$(readlink "$P/lib/libscitt.so")" = "$soname"
    expect "libscitt.a" test -f "$P/lib/libscitt.a"
    needed=$(readelf -d "$P/lib/$real" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
    expect "libscitt.so needs neither LMDB nor libuv (needs: $needed)" \
        sh -c "! echo '$needed' | grep -qE 'liblmdb|libuv'"
    expect "no RUNPATH into the build tree" sh -c "! readelf -d '$P/lib/$real' | grep -q '$build'"
    for h in base.h merkle.h cose.h receipt.h tee.h attest.h; do
        expect "include/scitt/$h" test -f "$P/include/scitt/$h"
    done
    for h in ledger.h policy.h service.h; do
        expect "include/scitt/$h (the daemon's, not libscitt's) is not installed" test ! -e "$P/include/scitt/$h"
    done
    for f in lib/pkgconfig/scitt.pc share/man/man8/scittd.8 share/man/man1/scitt.1 \
        share/bash-completion/completions/scitt lib/systemd/system/scittd.service \
        etc/scittd/scittd.conf; do
        expect "$f" test -s "$P/$f"
    done
    ;;
pkgconfig)
    export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
    flags=$(pkg-config --cflags --libs scitt)
    expect "pkg-config --cflags --libs scitt: $flags" test -n "$flags"
    expect "pkg-config --modversion scitt matches scittd --version" test \
        "$(pkg-config --modversion scitt)" = "$("$scittd_bin" --version | cut -d' ' -f2)"
    # shellcheck disable=SC2086
    if cc -std=c11 -Wall -Werror $san -o "$tmp/hello" "$src/tests/package/hello_libscitt.c" $flags; then
        ok "a program builds against the installed tree with those flags alone"
        out=$(LD_LIBRARY_PATH=$P/lib "$tmp/hello")
        rc=$?
        echo "$out" | sed 's/^/     /'
        expect "it runs: the RFC 9162 root of the 8-leaf test tree, inclusion verified, tamper refused" \
            test "$rc" = 0 -a "$(echo "$out" | head -1)" = 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328
        expect "it loads libscitt.so from the installed tree" \
            sh -c "LD_LIBRARY_PATH='$P/lib' ldd '$tmp/hello' | grep -q '$P/lib/libscitt.so'"
    else
        fail "a program builds against the installed tree with those flags alone"
    fi
    # Static: libscitt.a and the private requirements (pkg-config --static).
    sflags=$(pkg-config --cflags --static --libs-only-other --libs-only-L scitt)
    slibs=$(pkg-config --static --libs-only-l scitt | sed 's/-lscitt//')
    # shellcheck disable=SC2086
    if cc -std=c11 $san -o "$tmp/hello-static" "$src/tests/package/hello_libscitt.c" $sflags \
        "$P/lib/libscitt.a" $slibs && "$tmp/hello-static" > /dev/null; then
        ok "the same program links libscitt.a (pkg-config --static) and runs"
    else
        fail "the same program links libscitt.a (pkg-config --static) and runs"
    fi
    expect "the static build does not need libscitt.so" sh -c "! ldd '$tmp/hello-static' | grep -q libscitt"
    cflags=$(pkg-config --cflags scitt)
    # client.h is libscitt-client's (which links libscitt); every other header is libscitt's.
    nm -D --defined-only "$P/lib/libscitt.so" "$P/lib/libscitt-client.so" | awk '{ print $3 }' | sort -u > "$tmp/syms"
    for h in "$P"/include/scitt/*.h; do
        name=scitt/$(basename "$h")
        printf '#include <%s>\n#include <%s>\n' "$name" "$name" > "$tmp/one.c"
        # shellcheck disable=SC2086
        expect "<$name> compiles alone (and twice)" cc -std=c11 -Wall -Werror -fsyntax-only $cflags "$tmp/one.c"
        # Declarations "type scitt_name(" at the start of a line, not static inline, not typedefs.
        missing=$(sed -e 's/SCITT_API //' -e 's/SCITT_MUST_USE //' "$h" | grep -E '^(const )?[a-z_][a-z0-9_]*( \*| )\**scitt_[a-z0-9_]+\(' |
            grep -vE '^(static|typedef)' | sed -E 's/.*(scitt_[a-z0-9_]+)\(.*/\1/' | sort -u |
            while read -r fn; do grep -qx "$fn" "$tmp/syms" || echo "$fn"; done | tr '\n' ' ')
        n=$(sed -e 's/SCITT_API //' -e 's/SCITT_MUST_USE //' "$h" | grep -cE '^(const )?[a-z_][a-z0-9_]*( \*| )\**scitt_[a-z0-9_]+\(')
        expect "<$name>: its $n declared functions are all in libscitt.so${missing:+ (missing: $missing)}" test -z "$missing"
    done
    ;;
man)
    render() { groff -man -Tascii -ww -rLL=200n -P-c -P-b -P-u "$1" 2> "$tmp/groff.err"; }
    render "$P/share/man/man8/scittd.8" > "$tmp/scittd.txt"
    expect "scittd(8) renders without a groff warning" test ! -s "$tmp/groff.err"
    render "$P/share/man/man1/scitt.1" > "$tmp/scitt.txt"
    expect "scitt(1) renders without a groff warning" test ! -s "$tmp/groff.err"
    expect "scittd(8) names the installed version" grep -q "scittd $("$scittd_bin" --version | cut -d' ' -f2)" "$tmp/scittd.txt"
    n=0
    missing=""
    for o in $("$scittd_bin" --help | options_of); do
        n=$((n + 1))
        grep -qe "$o" "$tmp/scittd.txt" || missing="$missing $o"
    done
    expect "all $n options of scittd --help are in scittd(8)${missing:+ (missing:$missing)}" test "$n" -gt 20 -a -z "$missing"
    n=0
    missing=""
    cmds=$(scitt_commands)
    for c in $cmds; do
        grep -q "^ *scitt $c\$" "$tmp/scitt.txt" || missing="$missing [section scitt $c]"
        echo "$c" > "$tmp/keys"
        for s in $(scitt_subs "$c"); do
            echo "$c $s" >> "$tmp/keys"
            grep -q "^ *scitt $c $s\$" "$tmp/scitt.txt" || missing="$missing [section scitt $c $s]"
        done
        while IFS= read -r k; do
            # shellcheck disable=SC2086
            for o in $("$scitt_bin" $k --help | options_of); do
                n=$((n + 1))
                grep -qe "$o" "$tmp/scitt.txt" || missing="$missing $k:$o"
            done
        done < "$tmp/keys"
    done
    expect "all $(echo $cmds | wc -w) commands and $n command options of scitt --help are in scitt(1)${missing:+ (missing:$missing)}" \
        test "$n" -gt 100 -a -z "$missing"
    ;;
completion)
    comp=$P/share/bash-completion/completions/scitt
    mkdir -p "$tmp/cwd" && touch "$tmp/cwd/statement.cose" "$tmp/cwd/other.pem"
    # complete WORDS...: what the completion offers for the last word, sorted, one line.
    complete_words() {
        (cd "$tmp/cwd" && bash -c '
            source "$0"
            COMP_WORDS=("$@")
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            _scitt
            printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$comp" "$@")
    }
    cmds=$(scitt_commands | sort | tr '\n' ' ')
    got=$(complete_words scitt "")
    expect "scitt <TAB>: every command of scitt --help ($got)" \
        test "$got" = "$(printf '%s\n' $cmds --help --version | sort | tr '\n' ' ')"
    for c in $cmds; do
        subs=$(scitt_subs "$c" | tr '\n' ' ')
        if [ -n "$subs" ]; then
            got=$(complete_words scitt "$c" "")
            expect "scitt $c <TAB>: its subcommands" test "$got" = "$(printf '%s\n' $subs --help | sort | tr '\n' ' ')"
            keys=$(for s in $subs; do echo "$c $s"; done)
        else
            keys=$c
        fi
        while IFS= read -r k; do
            # shellcheck disable=SC2086
            "$scitt_bin" $k --help > "$tmp/help"
            # Its own options: in the usage lines and at the start of the option lines.
            own=$(awk '/^usage: / { u = 1 } u && /^$/ { u = 0 } u || /^ +--[a-z]/ { print }' "$tmp/help" |
                options_of | tr '\n' ' ')
            all=$(options_of < "$tmp/help" | tr '\n' ' ')
            # shellcheck disable=SC2086
            got=$(complete_words scitt $k --)
            missing=""
            for o in $own; do case " $got " in *" $o "*) ;; *) missing="$missing $o" ;; esac; done
            extra=""
            for o in $got; do
                [ "$o" = --help ] && continue
                case " $all " in *" $o "*) ;; *) extra="$extra $o" ;; esac
            done
            expect "scitt $k --<TAB>: its $(echo $own | wc -w) options, nothing its help does not name${missing:+ (missing:$missing)}${extra:+ (extra:$extra)}" \
                test -z "$missing$extra" -a -n "$own"
        done <<< "$keys"
    done
    got=$(complete_words scitt register --out st)
    expect "scitt register --out st<TAB>: a file name ($got)" test "$got" = "statement.cose "
    got=$(complete_words scitt verify "")
    expect "scitt verify <TAB>: file names ($got)" test "$got" = "other.pem statement.cose "
    ;;
unit)
    unit=$P/lib/systemd/system/scittd.service
    exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
    expect "ExecStart runs the installed scittd ($exec_path)" test "$exec_path" = "$prefix/sbin/scittd"
    for d in Type=notify User=scittd StateDirectory=scittd StateDirectoryMode=0700 \
        ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
        'CapabilityBoundingSet=' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
        SystemCallFilter=@system-service MemoryDenyWriteExecute=yes; do
        expect "the unit sets $d" grep -qx -- "$d" "$unit"
    done
    # systemd-analyze verify checks that ExecStart's binary exists and that the Documentation=
    # man page is there: point both at the DESTDIR tree.
    sed "s|^ExecStart=$prefix/sbin/scittd|ExecStart=$scittd_bin|" "$unit" > "$tmp/scittd.service"
    if (cd "$tmp" && MANPATH=$P/share/man systemd-analyze verify ./scittd.service) > "$tmp/verify.log" 2>&1; then
        ok "systemd-analyze verify"
    else
        sed 's/^/     /' "$tmp/verify.log"
        fail "systemd-analyze verify"
    fi
    (cd "$tmp" && systemd-analyze security --offline=yes ./scittd.service) > "$tmp/security.log" 2>&1
    grep -E '^✗' "$tmp/security.log" | sed 's/^/     /'
    score=$(sed -n 's/.*Overall exposure level for scittd.service: \([0-9.]*\).*/\1/p' "$tmp/security.log")
    echo "     systemd-analyze security: overall exposure level $score"
    expect "systemd-analyze security scores the unit ${score:-?} (at most 2.0)" \
        awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
    expect "systemd-analyze security --threshold=20 agrees" \
        sh -c "cd '$tmp' && systemd-analyze security --offline=yes --threshold=20 ./scittd.service > /dev/null 2>&1"
    ;;
config)
    conf=$P/etc/scittd/scittd.conf
    live=$(grep -vE '^[[:space:]]*(#|$)' "$conf")
    expect "every line of the example is a comment${live:+ (not: $live)}" test -z "$live"
    missing=""
    n=0
    for o in $("$scittd_bin" --help | options_of); do
        case $o in --help | --version | --config | --check-config) continue ;; esac
        n=$((n + 1))
        grep -qE "^#${o#--} = " "$conf" || missing="$missing ${o#--}"
    done
    expect "the example sets all $n options of scittd --help as \"#key = value\"${missing:+ (missing:$missing)}" \
        test "$n" -gt 20 -a -z "$missing"
    ;;
uninstall)
    DESTDIR=$dest sh "$src/scripts/uninstall.sh" "$prefix" > "$tmp/uninstall.log" 2>&1
    left=$(cd "$dest" && find . -mindepth 1 | head -5 | tr '\n' ' ')
    expect "uninstall from an empty DESTDIR leaves nothing${left:+ (left: $left)}" test -z "$left"
    # A tree with things of its own: they stay, and so does an edited configuration.
    d2=$tmp/dest2
    mkdir -p "$d2$prefix/bin" "$d2$prefix/share/man/man1"
    echo mine > "$d2$prefix/bin/other-tool"
    echo mine > "$d2$prefix/share/man/man1/other-tool.1"
    install_into "$d2" && install_into "$d2"
    expect "installing twice works" test $? = 0
    echo "data = /srv/scittd" >> "$d2$prefix/etc/scittd/scittd.conf"
    install_into "$d2"
    expect "a reinstall keeps the edited configuration" grep -qx "data = /srv/scittd" "$d2$prefix/etc/scittd/scittd.conf"
    expect "a reinstall replaces the rest (the man page)" cmp -s "$d2$prefix/share/man/man8/scittd.8" "$build/dist/scittd.8"
    DESTDIR=$d2 sh "$src/scripts/uninstall.sh" "$prefix" > "$tmp/uninstall.log" 2>&1
    left=$(cd "$d2" && find . -mindepth 1 | sort | tr '\n' ' ')
    want=$(printf '%s\n' . ".$prefix/bin/other-tool" ".$prefix/share/man/man1/other-tool.1" \
        ".$prefix/etc/scittd/scittd.conf" | while read -r p; do
            while [ "$p" != . ]; do echo "$p"; p=$(dirname "$p"); done
        done | sort -u | tr '\n' ' ')
    expect "uninstall leaves exactly the tree's own files and the edited configuration (left: $left)" test "$left" = "$want"
    expect "uninstall says it kept the edited configuration" grep -q "keeping .*scittd.conf" "$tmp/uninstall.log"
    DESTDIR=$d2 sh "$src/scripts/uninstall.sh" "$prefix" > /dev/null 2>&1
    expect "a second uninstall finds no manifest and fails" test $? != 0
    ;;
*)
    echo "install_tree.sh: unknown check $check" >&2
    exit 2
    ;;
esac
finish
