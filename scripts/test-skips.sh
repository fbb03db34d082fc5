#!/bin/sh
# test-skips.sh JUNIT_XML: after a ctest run (--output-junit), lists every test that was skipped
# and why (the "SKIP: ..." line it printed), so a skip never hides among the passes.
# Prints nothing when no test was skipped. Always exits 0: the ctest status is the verdict.
f=$1
[ -f "$f" ] || exit 0
awk '
    /<testcase / {
        name = $0; sub(/.*<testcase name="/, "", name); sub(/".*/, "", name)
        skipped = ($0 ~ /status="notrun"/); why = ""; inout = 0
    }
    skipped && /<system-out>/ { inout = 1 }
    skipped && inout && why == "" && /SKIP:/ {
        why = $0; sub(/.*SKIP: */, "", why); sub(/<\/system-out>.*/, "", why)
    }
    skipped && /<\/testcase>/ {
        if (why == "") why = "(the test printed no reason)"
        list[++n] = name ": " why
        skipped = 0
    }
    END {
        if (n == 0) exit
        printf "\n%d test(s) skipped:\n", n
        for (i = 1; i <= n; i++) print "  " list[i]
    }
' "$f"
exit 0
