#!/bin/sh
# interop_expect.sh WANT COMMAND [ARGS...]
# Runs an entry point of the independent verifier harness and checks both its exit status (WANT:
# 0 = verified, 1 = rejected) and its closing "RESULT: OK" / "RESULT: FAIL" line, so a harness
# crash (exit 1 without a RESULT line) never passes as a rejection. An argument @@FILE is replaced
# by the first line of FILE (roots computed when the files were generated).
want=$1
shift
n=$#
i=0
while [ "$i" -lt "$n" ]; do
    a=$1
    shift
    case "$a" in
    @@*) a=$(head -n 1 "${a#@@}") || exit 2 ;;
    esac
    set -- "$@" "$a"
    i=$((i + 1))
done
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
last=$(printf '%s\n' "$out" | tail -n 1)
case "$want:$rc:$last" in
0:0:"RESULT: OK"*) exit 0 ;;
1:1:"RESULT: FAIL"*) exit 0 ;;
esac
echo "interop_expect: wanted exit $want, got $rc with last line: $last" >&2
exit 1
