# Shared by the scitt CLI tests (sourced, POSIX sh). The caller sets SCITT (the tool), and for
# server tests SCITTD. Every step checks its exit status and, where it matters, its output; the
# test fails at the end if any step did, and prints what each failing step wrote.

T=$(mktemp -d "${TMPDIR:-/tmp}/scitt-cli.XXXXXX") || exit 2
fails=0
checks=0
SERVER_PID=

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

step() {
    echo "== $*"
}

# expect CODE DESCRIPTION COMMAND...: runs COMMAND with stdout in $T/out, stderr in $T/err.
expect() {
    want=$1
    desc=$2
    shift 2
    checks=$((checks + 1))
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ]; then
        fails=$((fails + 1))
        echo "FAIL: $desc: exit status $got, expected $want"
        echo "  command: $*"
        sed 's/^/  stdout: /' "$T/out" | head -40
        sed 's/^/  stderr: /' "$T/err" | head -20
    else
        echo "ok: $desc"
    fi
}

# has FILE TEXT DESCRIPTION: FILE ($T/out or $T/err usually) holds TEXT (a fixed string).
has() {
    checks=$((checks + 1))
    if grep -qF -- "$2" "$1"; then
        echo "ok: $3"
    else
        fails=$((fails + 1))
        echo "FAIL: $3: \"$2\" not in $(basename "$1")"
        sed 's/^/  | /' "$1" | head -40
    fi
}

# lacks FILE TEXT DESCRIPTION
lacks() {
    checks=$((checks + 1))
    if grep -qF -- "$2" "$1"; then
        fails=$((fails + 1))
        echo "FAIL: $3: \"$2\" found in $(basename "$1")"
    else
        echo "ok: $3"
    fi
}

# One-line messages: stderr of a failing command is exactly one line per failure.
one_line() {
    checks=$((checks + 1))
    n=$(wc -l <"$T/err")
    if [ "$n" -ge 1 ] && grep -Eq '^scitt( [a-z-]+)?: ' "$T/err"; then
        echo "ok: $1 (message: $(head -1 "$T/err"))"
    else
        fails=$((fails + 1))
        echo "FAIL: $1: no \"scitt <command>: ...\" message"
        sed 's/^/  stderr: /' "$T/err"
    fi
}

# json_field KEY: the first "KEY":"value" string in $T/out.
json_field() {
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T/out" | head -1
}

# flip FILE OFFSET: flips the low bit of one byte (negative OFFSET counts from the end).
flip() {
    size=$(wc -c <"$1")
    off=$2
    [ "$off" -lt 0 ] && off=$((size + off))
    b=$(od -An -tu1 -j "$off" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

# start_scittd DATA_DIR [ARGS...]: starts scittd on a free port; sets URL and SERVER_PID.
start_scittd() {
    data=$1
    shift
    # emptied here, not by the redirection below: that one runs in the child, and a loaded machine
    # can let the loop read the port of the scittd started before it from the old log first
    : >"$T/scittd.log"
    "$SCITTD" --data "$data" --listen 127.0.0.1:0 --platform virtual --insecure-virtual \
        --log-level info "$@" 2>>"$T/scittd.log" &
    SERVER_PID=$!
    port=
    i=0
    while [ $i -lt 100 ]; do
        port=$(sed -n 's/.*event=listening .*port=\([0-9]*\).*/\1/p' "$T/scittd.log" | head -1)
        [ -n "$port" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$port" ]; then
        echo "FAIL: scittd did not start"
        cat "$T/scittd.log"
        exit 1
    fi
    scheme=http
    case " $* " in *" --tls-cert "*) scheme=https ;; esac
    URL=$scheme://127.0.0.1:$port
    echo "scittd pid $SERVER_PID at $URL"
}

stop_scittd() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    st=$?
    SERVER_PID=
    checks=$((checks + 1))
    if [ "$st" != 0 ]; then
        fails=$((fails + 1))
        echo "FAIL: scittd exited with status $st"
        tail -20 "$T/scittd.log"
    fi
}

finish() {
    echo "$checks checks, $fails failed"
    [ "$fails" = 0 ]
    exit $?
}
