#!/bin/sh
# Makes a man page from a hand-written template (dist/man/*.in) and the binary's own --help, so
# the page cannot drift from the binary: CMake runs this after every build of the binary.
#
#   scripts/gen-man.sh TEMPLATE BINARY VERSION SYSCONFDIR UNITDIR > PAGE
#
# In the template, "@HELP HEADING@" is replaced by SYNOPSIS (the usage lines) and a section
# HEADING with the rest of `BINARY --help`; "@COMMANDS@" by one subsection per command listed
# under "commands:" in that help, each made from `BINARY COMMAND --help` (and from
# `BINARY COMMAND SUB --help` for the subcommands its usage lines name); @VERSION@,
# @SYSCONFDIR@ and @UNITDIR@ by the arguments.
set -eu
template=$1 bin=$2 version=$3 sysconfdir=$4 unitdir=$5
awk_src=$(dirname "$0")/help2roff.awk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --help > "$tmp/help"
heading=$(sed -n 's/^@HELP \(.*\)@$/\1/p' "$template")
[ -n "$heading" ] || { echo "gen-man: no @HELP HEADING@ line in $template" >&2; exit 2; }
awk -v top=1 -v heading="$heading" -f "$awk_src" "$tmp/help" > "$tmp/help.roff"

: > "$tmp/commands.roff"
if grep -q '^@COMMANDS@$' "$template"; then
    name=$(basename "$bin")
    commands=$(sed -n '/^commands:$/,/^$/p' "$tmp/help" | awk '/^  [a-z]/ { print $1 }')
    [ -n "$commands" ] || { echo "gen-man: no commands in $bin --help" >&2; exit 2; }
    for cmd in $commands; do
        "$bin" "$cmd" --help > "$tmp/cmd"
        printf '.SS "%s %s"\n' "$name" "$(echo "$cmd" | sed 's/-/\\-/g')" >> "$tmp/commands.roff"
        awk -v top=0 -f "$awk_src" "$tmp/cmd" >> "$tmp/commands.roff"
        # Subcommands: "usage: scitt attest export ..." / "       scitt attest verify ...".
        subs=$(awk -v name="$name" -v cmd="$cmd" '
            { w = ($1 == "usage:") ? 2 : 1 }
            (w == 2 || /^ /) && $w == name && $(w + 1) == cmd && $(w + 2) ~ /^[a-z][a-z-]*$/ {
                print $(w + 2)
            }' "$tmp/cmd" | sort -u)
        for sub in $subs; do
            "$bin" "$cmd" "$sub" --help > "$tmp/sub"
            printf '.SS "%s %s %s"\n' "$name" "$cmd" "$sub" | sed 's/-/\\-/g' \
                >> "$tmp/commands.roff"
            awk -v top=0 -f "$awk_src" "$tmp/sub" >> "$tmp/commands.roff"
        done
    done
fi

awk -v help="$tmp/help.roff" -v commands="$tmp/commands.roff" '
    /^@HELP .*@$/ { while ((getline l < help) > 0) print l; next }
    /^@COMMANDS@$/ { while ((getline l < commands) > 0) print l; next }
    { print }' "$template" |
    sed -e "s|@VERSION@|$version|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" -e "s|@UNITDIR@|$unitdir|g"
