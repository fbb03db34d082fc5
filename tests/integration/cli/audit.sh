#!/bin/sh
# audit.sh SCITT SCITTD AUDIT_LOGS
# scitt audit against what a hostile or changing service serves:
#  - logs written by audit_logs (static layout, keys made at run time): a service that serves 64
#    junk keys, then 65; statements with the policy subject the service did not sign; a policy
#    change; an issuer longer than 1,000 bytes; a missing bundle and a tampered tile (exit 2 and
#    exit 1 told apart); a damaged state file;
#  - a real scittd on loopback: a rotated receipt key proven by the consistency receipt, and a
#    policy change on restart with --fail-on-policy-change.
SCITT=$1
SCITTD=$2
LOGS=$3
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
"$LOGS" "$T/logs" >/dev/null || { echo "FAIL: audit_logs"; exit 1; }
L=$T/logs

# json_num KEY: the first "KEY":number in $T/out.
json_num() {
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$T/out" | head -1
}

# num KEY VALUE DESCRIPTION: the first "KEY":number in $T/out is VALUE.
num() {
    checks=$((checks + 1))
    got=$(json_num "$1")
    if [ "$got" = "$2" ]; then
        echo "ok: $3"
    else
        fails=$((fails + 1))
        echo "FAIL: $3: \"$1\" is \"$got\", expected $2"
        sed 's/^/  | /' "$T/out" | head -5
    fi
}

step "a service that serves junk keys"
expect 0 "first audit pins the key that signed the policy entry" "$SCITT" audit \
    --url "$L/keys/a" --state k --json
has "$T/out" '"result":"ok"' "ok"
num pinned 1 "one key pinned"
has "$T/out" '"proof":"signed the policy statement at entry 0"' "pinned because the log proves it"
expect 0 "64 junk keys served instead of the service's: still audited" "$SCITT" audit \
    --url "$L/keys/b" --state k --json
has "$T/out" '"result":"ok"' "ok, not exit 2"
num served 64 "64 served"
num unproven 64 "64 served keys the log does not prove"
num pinned 1 "none of them pinned"
has "$T/out" '"key_churn":true' "key churn reported"
has "$T/out" '"withdrawn":["' "the pinned key no longer served is reported"
expect 0 "65 keys served (more than a key set holds)" "$SCITT" audit --url "$L/keys/c" --state k
has "$T/out" "KEY CHURN: 64 served key(s) signed nothing the audited log holds" "churn in the text"
lacks "$T/out" "no longer serves" "the service's key is served again"
expect 0 "the service serves its key alone again" "$SCITT" audit --url "$L/keys/d" --state k --json
num pinned 1 "still one key pinned after three audits"
has "$T/out" '"key_churn":false' "no churn"
expect 0 "a served key set that is no CBOR: the pinned key audits" "$SCITT" audit \
    --url "$L/keys/garbage" --state k --json
has "$T/out" '"key_churn":true' "reported as churn"
num malformed 1 "counted as malformed"
expect 0 "a first audit with 65 keys served pins only the proven one" "$SCITT" audit \
    --url "$L/keys/c" --state k2 --json
num pinned 1 "one key pinned"
num unproven 64 "64 unproven"
expect 0 "--from-scratch with the same state" "$SCITT" audit --url "$L/keys/c" --state k2 \
    --from-scratch --json
num pinned 1 "still one key pinned"

step "a static copy without served keys"
cp -r "$L/keys/a" nokeys
mv nokeys/.well-known/scitt-keys service-keys.cbor
expect 2 "no key pinned, none served: could not audit" "$SCITT" audit --url nokeys --state nk
has "$T/err" "no service keys to recognise policy statements with" "the message says what is missing"
has "$T/err" "give --keys" "and what to add"
expect 0 "--keys pins the service's keys" "$SCITT" audit --url nokeys --state nk \
    --keys service-keys.cbor --json
num pinned 1 "pinned"
has "$T/out" '"served":null' "nothing served"
has "$T/out" '"key_churn":false' "a source without keys is no churn"

step "the text says only what happened"
expect 0 "a first audit (text)" "$SCITT" audit --url "$L/keys/a" --state k3
has "$T/out" "first audit: the checkpoint key and 1 service key(s) are pinned on first use in k3" \
    "a first audit says it pinned on first use"
has "$T/out" "(signature verified)" "the checkpoint verified"
has "$T/out" "replayed (0.." "the range starts at entry 0"
expect 0 "the same log again (text)" "$SCITT" audit --url "$L/keys/a" --state k3
lacks "$T/out" "first audit" "a later audit is no first use"
has "$T/out" "entries: none new since the audited size" "nothing new: no range"
lacks "$T/out" "replayed (" "no impossible range of entries"
cp -r "$L/keys/a" badcp
flip badcp/checkpoint 20
expect 1 "a first audit of a checkpoint that does not verify (text)" "$SCITT" audit \
    --url badcp --state k4
lacks "$T/out" "signature verified" "no \"signature verified\" when it did not verify"
lacks "$T/out" "replayed (" "no range of entries"
lacks "$T/out" "pinned on first use" "no pinning claimed"
lacks "$T/out" "pinned key" "no key called pinned"
lacks "$T/out" "keys: 0 pinned" "no key count called pinned"
has "$T/out" "not pinned yet" "the checkpoint key is the one the service names"
has "$T/out" "first audit: nothing pinned, the state was not saved" "it says nothing was pinned"
[ -e k4/state.cbor ] && { fails=$((fails + 1)); echo "FAIL: state saved"; } || echo "ok: no state"
expect 1 "the same as JSON" "$SCITT" audit --url badcp --state k4 --json
has "$T/out" '"checkpoint_verified":false' "checkpoint_verified false"
has "$T/out" '"state_saved":false' "state_saved false"

step "could not audit (exit 2) and discrepancy (exit 1) told apart"
cp -r "$L/keys/d" missing
rm missing/tile/entries/000.p/7
expect 2 "a missing entry bundle: could not audit" "$SCITT" audit --url missing --state m --json
has "$T/out" '"result":"could_not_audit"' "result"
has "$T/out" '"exit":2' "exit in the JSON"
has "$T/out" '"could_not_audit":"tile/entries/000.p/7: missing"' "the reason"
has "$T/err" "could not audit: tile/entries/000.p/7: missing" "one line on stderr"
[ -f m/state.cbor ] && { fails=$((fails + 1)); echo "FAIL: state saved"; } ||
    echo "ok: no state saved"
cp -r "$L/keys/d" tampered
flip tampered/tile/0/000.p/7 5
expect 1 "a tampered tile: discrepancy" "$SCITT" audit --url tampered --state t --json
has "$T/out" '"result":"discrepancy"' "result"
has "$T/out" '"kind":"tree"' "about the tree"
has "$T/out" '"exit":1' "exit in the JSON"
expect 2 "no checkpoint key anywhere: could not audit, in JSON too" "$SCITT" audit \
    --url missing/tile --state n --json
has "$T/out" '"result":"could_not_audit"' "result"
one_line "could not audit message"

step "a damaged state file"
cp -r k kd
"$LOGS" damage-policy kd/state.cbor || { echo "FAIL: damage-policy"; exit 1; }
expect 2 "state.cbor whose policy is not a byte string is refused" "$SCITT" audit \
    --url "$L/keys/d" --state kd
has "$T/err" "kd/state.cbor is damaged: \"policy\" is not a byte string" "the file and field"
one_line "damaged state message"
# The read of the damaged field touched bytes it never set: memcheck fails (99) on that. ASan does
# not see such reads and memcheck cannot run an ASan binary: that build says so and skips it.
if [ -n "${SCITT_SANITIZED:-}" ]; then
    echo "SKIP: the damaged state under valgrind (a sanitizer build; run in the other builds)"
else
    command -v valgrind >/dev/null || { echo "FAIL: valgrind is required (install-deps.sh)"; exit 1; }
    expect 2 "the damaged state under valgrind: no uninitialised read" valgrind -q \
        --error-exitcode=99 "$SCITT" audit --url "$L/keys/d" --state kd
fi
expect 0 "--from-scratch replaces a damaged state" "$SCITT" audit --url "$L/keys/d" --state kd \
    --from-scratch
expect 0 "and the state is whole again" "$SCITT" audit --url "$L/keys/d" --state kd

step "statements with the policy subject the service did not sign"
expect 0 "the log before them" "$SCITT" audit --url "$L/forged/a" --state f
expect 1 "each is a discrepancy, none a policy change" "$SCITT" audit --url "$L/forged/b" \
    --state f --json
num discrepancy_count 4 "four"
has "$T/out" '{"index":3,"kind":"entry","reason":"a statement with the policy subject under the service key' \
    "the service's kid, another signer"
has "$T/out" '{"index":4,"kind":"entry","reason":"a statement with the policy subject under kid' \
    "a kid that is no key of the service"
has "$T/out" "{\"index\":5,\"kind\":\"entry\",\"reason\":\"a statement with the policy subject signed by the service key" \
    "the service's key, another iss"
has "$T/out" '{"index":6,"kind":"entry","reason":"a policy statement signed by the service that does not parse' \
    "a policy that does not parse"
has "$T/out" '"policies":[]' "no policy change"
num policy_changes 0 "no policy change counted"
expect 1 "the same run as text" "$SCITT" audit --url "$L/forged/b" --state f-text
one_line "discrepancy message"
# Reported once: the state moved past them; the next audit checks what is new.
expect 0 "the next audit is not wedged" "$SCITT" audit --url "$L/forged/c" --state f --json
has "$T/out" '"result":"ok"' "ok"
num replayed 1 "only the new entry replayed"
num reported_earlier 4 "the earlier discrepancies are counted"
expect 0 "nothing new" "$SCITT" audit --url "$L/forged/c" --state f
has "$T/out" "earlier audits reported 4 discrepancies in entries (not repeated): 3 4 5 6" \
    "and listed"
expect 1 "--from-scratch finds them again" "$SCITT" audit --url "$L/forged/c" --state f \
    --from-scratch

step "a policy change"
expect 0 "policy A" "$SCITT" audit --url "$L/policy/a" --state p
cp -r p p-fail
cp -r p p-t
expect 0 "policy B: reported" "$SCITT" audit --url "$L/policy/b" --state p --json
num policy_changes 1 "one change (B registered twice is one change)"
has "$T/out" '"change":true,"replaces":0}' "entry 3 replaces entry 0"
has "$T/out" '"change":false,"replaces":3}' "entry 5 repeats the text of entry 3"
has "$T/out" '"result":"ok"' "ok without --fail-on-policy-change"
expect 1 "--fail-on-policy-change exits 1" "$SCITT" audit --url "$L/policy/b" --state p-fail \
    --fail-on-policy-change --json
has "$T/out" '"result":"policy_change"' "result"
has "$T/out" '"discrepancy_count":0' "not a discrepancy"
expect 0 "reported once" "$SCITT" audit --url "$L/policy/b" --state p-fail --fail-on-policy-change
expect 1 "the summary names the change" "$SCITT" audit --url "$L/policy/b" --state p-t \
    --fail-on-policy-change
has "$T/out" "POLICY CHANGE: entry 3 replaces the policy of entry 0" "text summary"
has "$T/err" "entry 3: the registration policy changed" "one-line message"

step "an issuer of 1,010 bytes with a character across byte 1,000"
expect 0 "first audit" "$SCITT" audit --url "$L/issuer/a" --state i
expect 0 "the next audit recognises the service's policy statement" "$SCITT" audit \
    --url "$L/issuer/b" --state i --json
has "$T/out" '"result":"ok"' "ok"
num policy_changes 1 "the policy statement is the service's"
expect 0 "an issuer over the limit is not compared, and says so" "$SCITT" audit \
    --url "$L/issuer/long" --state il
has "$T/out" "issuer is over 1024 bytes" "reported"

step "a real scittd: a rotated key proven by the consistency receipt"
start_scittd "$T/data"
"$SCITT" keygen --out ci --self-signed-cert --subject CI >/dev/null
sign_register() {
    printf '{"n":%s}\n' "$1" >p.json
    "$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example/app --sub app \
        --payload p.json --out s.stmt >/dev/null && "$SCITT" register --url "$URL" s.stmt >/dev/null
}
expect 0 "register" sign_register 1
expect 0 "first audit" "$SCITT" audit --url "$URL" --state r --json
num pinned 1 "the service key pinned"
stop_scittd
start_scittd "$T/data" --rotate-receipt-key
expect 0 "register after rotation" sign_register 2
expect 0 "audit after rotation" "$SCITT" audit --url "$URL" --state r --json
has "$T/out" '"proof":"signed the consistency receipt 2 -> 3"' "the new key proven and pinned"
num pinned 2 "two keys pinned"
has "$T/out" '"key_churn":false' "rotation is not churn"
stop_scittd

step "a real scittd: a new policy on restart"
printf '{"version":1,"algorithms":["ES256"],"issuers":[{"iss_prefix":"https://ci.example/","self_signed":true}]}\n' \
    >prod.json
start_scittd "$T/data" --policy prod.json
expect 0 "register under the new policy" sign_register 3
cp -r r r2
expect 1 "--fail-on-policy-change" "$SCITT" audit --url "$URL" --state r \
    --fail-on-policy-change --json
has "$T/out" '"result":"policy_change"' "result"
has "$T/out" '"change":true,"replaces":0}' "the new policy entry replaces entry 0"
expect 0 "without the option: reported, exit 0" "$SCITT" audit --url "$URL" --state r2
has "$T/out" "POLICY CHANGE: entry" "in the summary"
stop_scittd

finish
