#!/bin/sh
# bench/failover.sh [BUILD_DIR] [KILLS]
# Failover time on PostgreSQL: three scittd instances on one database (a server started on
# loopback), a client registering through each, the sequencing instance SIGKILLed at a random
# moment under load KILLS times (default 20) and restarted as a follower; each time, from the
# kill to the next 201s (three registrations acknowledged through the survivors). It runs the
# harness of the multi-instance crash test (tests/integration/test_scittd_pg test_pg_failover, which
# also checks after every kill that no acknowledged entry was lost and no head forked) and prints
# failover_kills, failover_lease (the instances' --lease-ms), failover_p50 and failover_max.
B=${1:-build}
KILLS=${2:-20}
T="$B/tests/integration/test_scittd_pg"
[ -x "$T" ] || {
    echo "failover: $T is not built" >&2
    exit 2
}
out=$(SCITT_BINARY_DIR=$(cd "$B" && pwd) SCITT_PG_KILLS=$KILLS "$T" test_pg_failover 2>&1)
rc=$?
echo "$out" | grep -E '^(failover_[a-z0-9]+|pg_failover): ' | sed 's/^pg_failover: /summary: /'
if [ $rc -eq 0 ] && ! echo "$out" | grep -q '^failover_p50: '; then
    rc=1 # the case did not run
fi
if [ $rc -ne 0 ]; then
    echo "error: the failover run failed (exit $rc):"
    echo "$out" | tail -20
    exit 1
fi
