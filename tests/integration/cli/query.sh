#!/bin/sh
# query.sh SCITT: `scitt query` against a hostile /query server started here on loopback
# (hostile_query.py, a free port): a service that answers empty pages with an advancing cursor,
# one entry per page forever, a cursor that does not advance, or slowly, cannot keep the command
# running: it stops with what it found, says where to continue, and exits 2. An honest service's
# last page ends the query with exit 0. Each run is wrapped in `timeout`, so a query that would
# never end fails this test instead of hanging it.
SCITT=$1
PY=$(cd "$(dirname "$0")" && pwd)/hostile_query.py
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
command -v python3 >/dev/null || { echo "FAIL: python3 is required (scripts/install-deps.sh)"; exit 1; }

# serve MODE: starts the server; sets URL and SERVER_PID; requests answered go to $T/count.
serve() {
    [ -n "$SERVER_PID" ] && { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; }
    rm -f "$T/count" "$T/port"
    python3 "$PY" "$1" "$T/count" >"$T/port" 2>"$T/server.err" &
    SERVER_PID=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q PORT "$T/port" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    port=$(sed -n 's/^PORT //p' "$T/port")
    [ -n "$port" ] || { echo "FAIL: the $1 server did not start"; cat "$T/server.err"; exit 1; }
    URL=http://127.0.0.1:$port
    echo "== $1 server at $URL"
}

# answered CMP N DESCRIPTION: the number of requests the server answered compares with N.
answered() {
    checks=$((checks + 1))
    n=$(cat "$T/count" 2>/dev/null || echo 0)
    if [ "$n" "$1" "$2" ]; then
        echo "ok: $3 ($n requests)"
    else
        fails=$((fails + 1))
        echo "FAIL: $3: $n requests, expected $1 $2"
    fi
}

step "empty pages that claim more"
serve empty
expect 2 "query stops at the first empty page" timeout 20 "$SCITT" query --url "$URL" --json
answered -eq 1 "one request"
has "$T/err" "empty page that claims more" "the message says why"
has "$T/err" "continue with --cursor 1" "and where to continue"
one_line "empty page message"
has "$T/out" '{"entries":[],"next":1,"truncated":true}' "the JSON names the cursor"
expect 2 "resuming from the cursor stops at the next empty page" timeout 20 "$SCITT" query \
    --url "$URL" --cursor 1
has "$T/err" "continue with --cursor 2" "the cursor advanced by the service's page"

step "one entry per page, forever"
serve trickle
expect 2 "--max-pages bounds the requests" timeout 20 "$SCITT" query --url "$URL" \
    --limit 1000000 --max-pages 50
answered -eq 50 "fifty requests"
[ "$(wc -l <"$T/out")" = 50 ] && echo "ok: fifty entries printed" ||
    { fails=$((fails + 1)); echo "FAIL: $(wc -l <"$T/out") entries printed"; }
has "$T/err" "--max-pages reached" "the message names the bound"
has "$T/err" "continue with --cursor 50" "and where to continue"
serve trickle
expect 2 "the default page limit bounds the requests" timeout 120 "$SCITT" query --url "$URL" \
    --limit 1000000 --timeout 110
answered -eq 1000 "a thousand requests"
expect 0 "--limit still ends a query normally" timeout 20 "$SCITT" query --url "$URL" --limit 3 \
    --json
has "$T/out" '"next":3,"truncated":true}' "the JSON names the next cursor and says it is cut"
has "$T/err" "showing the first 3 entries (--limit); more match: continue with --cursor 3" \
    "stderr says the result stops at --limit"

step "a cursor that does not advance"
serve stuck
expect 2 "query stops when the cursor does not advance" timeout 20 "$SCITT" query --url "$URL"
answered -le 2 "at most two requests"
has "$T/err" "cursor that does not advance" "the message says why"

step "a slow service"
serve slow
start=$(date +%s)
expect 2 "--timeout bounds the whole command" timeout 30 "$SCITT" query --url "$URL" \
    --timeout 3 --limit 100
took=$(($(date +%s) - start))
checks=$((checks + 1))
# not a timing test: the slow server never ends, so anything near 3 s shows the bound held
[ "$took" -le 15 ] && echo "ok: ended after ${took}s" ||
    { fails=$((fails + 1)); echo "FAIL: took ${took}s with --timeout 3"; }
has "$T/err" "--timeout reached" "the message names the bound"
answered -le 4 "at most four requests"

step "an honest service"
serve finite
expect 0 "the last page ends the query" timeout 20 "$SCITT" query --url "$URL" --json
has "$T/out" '"next":null,"truncated":false}' "complete"
[ -s "$T/err" ] && { fails=$((fails + 1)); echo "FAIL: a complete result said something on stderr"; }
[ "$(grep -o '"entry_id"' "$T/out" | wc -l)" = 3 ] && echo "ok: three entries" ||
    { fails=$((fails + 1)); echo "FAIL: entries"; cat "$T/out"; }
expect 0 "--all: every match" timeout 20 "$SCITT" query --url "$URL" --all --json
has "$T/out" '"truncated":false}' "--all is complete"
[ "$(grep -o '"entry_id"' "$T/out" | wc -l)" = 3 ] && echo "ok: --all printed three" ||
    { fails=$((fails + 1)); echo "FAIL: --all entries"; cat "$T/out"; }
expect 2 "--all and --limit exclude each other" "$SCITT" query --url "$URL" --all --limit 5
one_line "--all with --limit"
D=0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF
expect 0 "--digest sha256:HEX as a registry writes it" timeout 20 "$SCITT" query --url "$URL" \
    --digest "sha256:$D" --json
expect 2 "--digest sha256:xyz is a usage error" "$SCITT" query --url "$URL" --digest sha256:xyz
one_line "bad digest message"
has "$T/err" "64, 96 or 128 hex digits" "the message says what a digest is"
expect 2 "--digest of the wrong length for its algorithm" "$SCITT" query --url "$URL" \
    --digest "sha512:$D"
expect 0 "--cursor resumes" timeout 20 "$SCITT" query --url "$URL" --cursor 2
[ "$(wc -l <"$T/out")" = 1 ] && echo "ok: one entry from cursor 2" ||
    { fails=$((fails + 1)); echo "FAIL: $(wc -l <"$T/out") entries from cursor 2"; }

step usage
expect 2 "--max-pages 0" "$SCITT" query --url "$URL" --max-pages 0
expect 2 "--cursor not a number" "$SCITT" query --url "$URL" --cursor x
expect 0 "--help names the bounds" "$SCITT" query --help
has "$T/out" "--max-pages N" "--max-pages in the help"
has "$T/out" "for the whole command" "--timeout in the help"

finish
