#!/bin/sh
# Signed-checkpoint interop with the independent Go harness (golang.org/x/mod sumdb/note):
#   interop.sh NOTE_TOOL INTEROP_HOME ours-to-go   our checkpoint verifies with tlogcheck
#   interop.sh NOTE_TOOL INTEROP_HOME go-to-ours   tlogcheck's checkpoints verify with our code
# Each direction also checks that a tampered checkpoint is refused by the other side.
set -u
tool=$1
home=$2
mode=$3
tc="$home/bin/tlogcheck"
[ -x "$tc" ] || { echo "tlogcheck is not installed in $home"; exit 2; }
t=$(mktemp -d) || exit 2
trap 'rm -rf "$t"' EXIT

case $mode in
ours-to-go)
    origin=example.com/scittd-interop
    "$tool" sign-checkpoint "$t" "$origin" 123456 || exit 1
    "$tc" checkpoint -vkey "@$t/vkey.txt" -origin "$origin" "$t/checkpoint" || exit 1
    sed 's/^123456$/123457/' "$t/checkpoint" >"$t/tampered"
    out=$("$tc" checkpoint -vkey "@$t/vkey.txt" -origin "$origin" "$t/tampered")
    case $out in
    *"RESULT: FAIL"*) echo "tampered checkpoint refused by tlogcheck" ;;
    *) echo "$out"; echo "tampered checkpoint was not refused"; exit 1 ;;
    esac
    ;;
go-to-ours)
    origin=example.com/go-log
    "$tc" mkfixture -dir "$t" -n1 3 -n2 7 -name "$origin" || exit 1
    "$tool" verify-checkpoint "$t/vkey.txt" "$t/checkpoint" "$origin" 7 || exit 1
    "$tool" verify-checkpoint "$t/vkey.txt" "$t/checkpoint.3" "$origin" 3 || exit 1
    sed 's/^7$/8/' "$t/checkpoint" >"$t/tampered"
    if "$tool" verify-checkpoint "$t/vkey.txt" "$t/tampered" "$origin"; then
        echo "tampered checkpoint was accepted"
        exit 1
    fi
    if "$tool" verify-checkpoint "$t/vkey.txt" "$t/checkpoint" example.com/other-log; then
        echo "checkpoint accepted for another origin"
        exit 1
    fi
    ;;
*)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
echo "interop $mode: passed"
