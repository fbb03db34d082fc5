#!/usr/bin/env python3
"""Three scittd instances (logs A, B, C), each with a witness beside it (`scitt witness serve`,
the witness role) that witnesses the other two logs; each log collects cosignatures itself
(--witness URL=VKEY for the other two witnesses, --witness-policy: 2 of the three). Shows:
 - /checkpoint serves the newest checkpoint meeting the policy (checked again by c2sp.py);
 - `scitt get --witnessed` gives receipts carrying their cosigned checkpoint, verified offline
   by `scitt verify --witness-policy` (no --checkpoint) and independently by c2sp.py, and still
   matching RFC 9942's CDDL; tampered cosignatures and a stricter policy fail naming witnesses;
 - a witness SIGKILLed mid-run and restarted: the logs are witnessed again;
 - a fork (a copy of A's data directory registering another entry under the same key) is refused
   by every witness, and the refusals show in the fork's metrics and logs.

    test_witness_scittd.py SCITT SCITTD
"""
import os
import signal
import subprocess
import sys
import time

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c2sp  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
C2SP_PY = os.path.join(HERE, "c2sp.py")
CDDL_PY = os.path.join(HERE, "..", "..", "unit", "cose", "receipt_cddl.py")
from harness import check, run, start, stop, get  # noqa: E402
import harness  # noqa: E402


def size_of(note):
    return c2sp.parse_checkpoint(c2sp.split_note(note)[0])[1]


def main():
    return harness.main("witness-scittd-", body, tail=2500)


def body(tmp):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)
    names = ["a", "b", "c"]
    logs = {}

    def scittd(n, data, extra):
        origin = "log-%s.test" % n.split("-")[0]  # each log its own origin; a fork keeps it
        return start([SCITTD, "--data", data, "--listen", "127.0.0.1:0", "--platform", "virtual",
                      "--insecure-virtual", "--log-level", "info", "--origin", origin] + extra,
                     os.path.join(tmp, "scittd-%s.log" % n), "event=listening")

    # first start: each log's checkpoint key, which its witnesses are configured with
    for n in names:
        data = os.path.join(tmp, "log-" + n)
        p, port = scittd(n, data, [])
        url = "http://127.0.0.1:%d" % port
        cfg = cbor2.loads(get(url, "/.well-known/transparency-configuration")[1])
        logs[n] = {"data": data, "vkey": cfg["checkpoint_vkey"]}
        stop(p)

    # the witness beside each log witnesses the other two
    wit = {}
    for n in names:
        d = os.path.join(tmp, "w" + n)
        os.makedirs(d)
        vk = run(SCITT, "witness", "keygen", "--name", "w%s.test" % n, "--out",
                 os.path.join(d, "key")).stdout.strip()
        cmd = [SCITT, "witness", "serve", "--key", os.path.join(d, "key"), "--state",
               os.path.join(d, "state")]
        for o in names:
            if o != n:
                cmd += ["--log", logs[o]["vkey"]]
        p, port = start(cmd + ["--listen", "127.0.0.1:0"], os.path.join(tmp, "w%s.log" % n),
                        "event=listening")
        wit[n] = {"cmd": cmd, "proc": p, "port": port, "vkey": vk,
                  "url": "http://127.0.0.1:%d" % port}

    # configurations scittd refuses to start with (exit 2, one line naming the problem)
    def refused(extra, what, expect):
        r = subprocess.run([SCITTD, "--data", logs["a"]["data"], "--listen", "127.0.0.1:0",
                            "--platform", "virtual", "--insecure-virtual", "--origin",
                            "log-a.test"] + extra, capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and expect in r.stderr, "%s: exit 2 (%d) %s" % (what, r.returncode,
                                                                             r.stderr[-300:]))
    wb_arg = "%s=%s" % (wit["b"]["url"], wit["b"]["vkey"])
    refused(["--witness-policy", "/nonexistent"], "a policy without witnesses", "--witness")
    refused(["--witness", wit["b"]["url"] + "=" + logs["b"]["vkey"]], "a log key as a witness key",
            "not a witness vkey")
    refused(["--witness", "ftp://x=" + wit["b"]["vkey"]], "a URL that is not http", "http")
    refused(["--witness", wb_arg, "--witness", wb_arg], "one witness twice", "twice")
    other = os.path.join(tmp, "policy-other")
    open(other, "w").write("log %s\nwitness WB %s\nquorum WB\n" % (logs["b"]["vkey"],
                                                                    wit["b"]["vkey"]))
    refused(["--witness", wb_arg, "--witness-policy", other], "a policy for another log",
            "no log line carries this service's key")
    refused(["--witness", wb_arg, "--cosigned-checkpoint", other], "--cosigned-checkpoint too",
            "give one")

    for n in names:
        pol = "log %s\n" % logs[n]["vkey"]
        for o in names:
            pol += "witness W%s %s %s\n" % (o.upper(), wit[o]["vkey"], wit[o]["url"])
        pol += "group two-of-three 2 WA WB WC\nquorum two-of-three\n"
        path = os.path.join(tmp, "policy-" + n)
        open(path, "w").write(pol)
        logs[n]["policy"] = path
        extra = ["--witness-policy", path]
        for o in names:
            if o != n:
                extra += ["--witness", "%s=%s" % (wit[o]["url"], wit[o]["vkey"])]
        logs[n]["args"] = extra
        logs[n]["proc"], port = scittd(n, logs[n]["data"], extra)
        logs[n]["url"] = "http://127.0.0.1:%d" % port

    def register(n, name, url=None):
        url = url or logs[n]["url"]
        r = harness.sign(SCITT, tmp, name)
        check(r.returncode == 0, "sign %s: %s" % (name, r.stderr))
        r = run(SCITT, "register", "--url", url, name + ".stmt", "--out", name + ".ts",
                "--json", cwd=tmp)
        check(r.returncode == 0, "register %s: %s" % (name, r.stderr))
        return r.stdout.split('"entry_id":"')[1].split('"')[0] if r.returncode == 0 else None

    def witnessed(n, url=None, want=None, wait=30):
        """Polls GET /checkpoint until it is the newest head (or @want); returns it."""
        url = url or logs[n]["url"]
        deadline = time.time() + wait
        while True:
            st, latest = get(url, "/checkpoint/latest")
            st2, cp = get(url, "/checkpoint")
            goal = want if want is not None else (size_of(latest) if st == 200 else -1)
            if st2 == 200 and size_of(cp) >= goal:
                return cp
            if time.time() > deadline:
                return None
            time.sleep(0.1)

    ids = {}
    for n in names:
        for i in range(3):
            ids[(n, i)] = register(n, "%s-entry%d" % (n, i))
    for n in names:
        cp = witnessed(n)
        check(cp is not None, "log %s: /checkpoint reaches the newest head, witnessed" % n)
        if cp is None:
            continue
        check(cp.count("\u2014".encode()) == 3, "log %s: log signature + two cosignatures" % n)
        f = os.path.join(tmp, "cp-" + n)
        open(f, "wb").write(cp)
        r = run("/usr/bin/python3", C2SP_PY, "verify-policy", f, logs[n]["policy"])
        check(r.returncode == 0, "log %s: c2sp.py finds the 2-of-3 quorum met: %s" % (n, r.stderr))
        found = c2sp.verify_cosigs(cp, [c2sp.parse_vkey(wit[o]["vkey"]) for o in names])
        check(set(found) == {"w%s.test" % o for o in names if o != n},
              "log %s: cosigned by the two other witnesses (%s)" % (n, sorted(found)))
    st, m = get(logs["a"]["url"], "/metrics")
    m = m.decode()
    check('scittd_witness_cosigned_total{witness="WB"}' in m and
          "scittd_witness_lag_milliseconds_count" in m and "scittd_witnessed_size" in m,
          "metrics: per-witness counters, latency and lag")

    # receipts carrying their cosigned checkpoint, verified offline against the policy
    a = logs["a"]
    r = run(SCITT, "keys", "--url", a["url"], "--out", "keys-a.cbor", cwd=tmp)
    check(r.returncode == 0, "scitt keys: " + r.stderr)
    r = run(SCITT, "keys", "--url", logs["b"]["url"], "--out", "keys-b.cbor", cwd=tmp)
    check(r.returncode == 0, "scitt keys (B): " + r.stderr)
    eid = ids[("a", 1)]
    r = run(SCITT, "get", "--url", a["url"], eid, "--witnessed", "--statement", "--out",
            "w.ts", "--timeout", "20", cwd=tmp)
    check(r.returncode == 0, "scitt get --witnessed --statement: " + r.stderr)
    st, _ = get(a["url"], "/entries/%s?witnessed=0" % eid)
    check(st == 400, "?witnessed takes 1 only (got %d)" % st)
    r = run(SCITT, "get", "--url", a["url"], eid, "--witnessed", "--out", "w.receipt",
            "--timeout", "20", cwd=tmp)
    check(r.returncode == 0, "scitt get --witnessed: " + r.stderr)
    rec = cbor2.loads(open(os.path.join(tmp, "w.receipt"), "rb").read())
    carried = rec.value[1].get(-65538)
    check(isinstance(carried, str) and c2sp.verify_cosigs(
        carried.encode(), [c2sp.parse_vkey(wit["b"]["vkey"])]),
        "the receipt's unprotected -65538 holds the cosigned checkpoint")
    r = run("/usr/bin/python3", CDDL_PY, os.path.join(tmp, "w.receipt"), os.path.join(tmp, "w.ts"))
    check(r.returncode == 0, "witnessed receipt and statement match RFC 9942's CDDL: " + r.stderr)
    r = run("/usr/bin/python3", C2SP_PY, "verify-witnessed", "w.ts", a["policy"], cwd=tmp)
    check(r.returncode == 0, "c2sp.py: the carried checkpoint meets the policy and is the "
          "receipt's tree: " + r.stderr)
    r = run(SCITT, "verify", "w.ts", "--trust", "keys-a.cbor", cwd=tmp)
    check(r.returncode == 0, "plain scitt verify of the witnessed statement: " + r.stderr)
    r = run(SCITT, "verify", "w.ts", "--trust", "keys-a.cbor", "--witness-policy", a["policy"],
            cwd=tmp)
    check(r.returncode == 0 and "same root as the witnessed checkpoint" in r.stdout + r.stderr,
          "scitt verify --witness-policy with the carried checkpoint: " + r.stdout + r.stderr)
    r = run(SCITT, "verify", ids[("a", 1)] and "a-entry1.ts", "--trust", "keys-a.cbor",
            "--witness-policy", a["policy"], cwd=tmp)
    check(r.returncode == 1 and "scitt get --witnessed" in r.stderr,
          "a receipt without a carried checkpoint needs one: " + r.stderr)
    strict = open(a["policy"]).read().replace("group two-of-three 2", "group two-of-three all")
    open(os.path.join(tmp, "strict-a"), "w").write(strict)
    r = run(SCITT, "verify", "w.ts", "--trust", "keys-a.cbor", "--witness-policy", "strict-a",
            cwd=tmp)
    check(r.returncode == 1 and "missing: WA" in r.stderr,
          "all-of-three: verify names the witness missing: " + r.stderr)

    # tampering with what the receipt carries
    ts = cbor2.loads(open(os.path.join(tmp, "w.ts"), "rb").read())

    def with_note(note_text, out):
        rc = cbor2.loads(ts.value[1][394][0])
        rc.value[1][-65538] = note_text
        t2 = cbor2.CBORTag(18, list(ts.value))
        t2.value[1] = dict(ts.value[1])
        t2.value[1][394] = [cbor2.dumps(rc)]
        open(os.path.join(tmp, out), "wb").write(cbor2.dumps(t2))

    lines = carried.rstrip("\n").split("\n")
    with_note("\n".join(lines[:-1]) + "\n", "one-cosig.ts")
    r = run(SCITT, "verify", "one-cosig.ts", "--trust", "keys-a.cbor", "--witness-policy",
            a["policy"], cwd=tmp)
    check(r.returncode == 1 and "missing:" in r.stderr,
          "a carried checkpoint stripped to one cosignature fails: " + r.stderr)
    r = run("/usr/bin/python3", C2SP_PY, "verify-witnessed", "one-cosig.ts", a["policy"], cwd=tmp)
    check(r.returncode == 1, "c2sp.py refuses it too")
    bad = lines[-1][:-6] + ("AAAAA=" if not lines[-1].endswith("AAAAA=") else "BBBBB=")
    with_note("\n".join(lines[:-1] + [bad]) + "\n", "bad-cosig.ts")
    r = run(SCITT, "verify", "bad-cosig.ts", "--trust", "keys-a.cbor", "--witness-policy",
            a["policy"], cwd=tmp)
    check(r.returncode == 1, "a corrupted cosignature line fails: " + r.stderr)
    # a genuine witnessed checkpoint of another log (B), carried in A's receipt
    with_note(open(os.path.join(tmp, "cp-b"), "rb").read().decode(), "other-log.ts")
    r = run(SCITT, "verify", "other-log.ts", "--trust", "keys-a.cbor", "--witness-policy",
            a["policy"], cwd=tmp)
    check(r.returncode == 1, "another log's cosigned checkpoint does not pass: " + r.stderr)
    # an older witnessed checkpoint of A itself (a receipt of the newer tree)
    register("a", "a-entry3")
    newer = witnessed("a")
    r = run(SCITT, "get", "--url", a["url"], ids[("a", 2)] or "", "--witnessed", "--statement",
            "--out", "w2.ts", "--timeout", "20", cwd=tmp)
    check(r.returncode == 0 and newer is not None, "a newer witnessed statement: " + r.stderr)
    ts = cbor2.loads(open(os.path.join(tmp, "w2.ts"), "rb").read())
    with_note(carried, "older-cp.ts")
    r = run(SCITT, "verify", "older-cp.ts", "--trust", "keys-a.cbor", "--witness-policy",
            a["policy"], cwd=tmp)
    check(r.returncode == 1 and "newer than the witnessed checkpoint" in r.stderr,
          "a receipt with an older carried checkpoint fails: " + r.stderr)

    # scitt refresh: an old statement (the register's, unwitnessed) moves to the newest witnessed
    # checkpoint, proven consistent, without trusting the service
    r = run(SCITT, "refresh", "--url", a["url"], "a-entry1.ts", "--trust", "keys-a.cbor",
            "--witness-policy", a["policy"], "--out", "a1-fresh.ts", "--json", cwd=tmp)
    check(r.returncode == 0 and '"new_size"' in r.stdout, "scitt refresh: " + r.stdout + r.stderr)
    r = run(SCITT, "verify", "a1-fresh.ts", "--trust", "keys-a.cbor", "--witness-policy",
            a["policy"], cwd=tmp)
    check(r.returncode == 0, "the refreshed statement verifies against the policy: " + r.stderr)
    r = run("/usr/bin/python3", C2SP_PY, "verify-witnessed", "a1-fresh.ts", a["policy"], cwd=tmp)
    check(r.returncode == 0, "c2sp.py accepts the refreshed statement: " + r.stderr)
    r = run(SCITT, "refresh", "--url", a["url"], "a-entry1.ts", "--trust", "keys-b.cbor",
            "--out", "x.ts", cwd=tmp)
    check(r.returncode != 0 and not os.path.exists(os.path.join(tmp, "x.ts")),
          "refresh with another service's keys writes nothing: " + r.stderr)

    # a witness killed mid-run and restarted: the logs it witnesses are witnessed again
    wb = wit["b"]
    stop(wb["proc"], signal.SIGKILL)
    register("a", "a-during-kill")
    register("c", "c-during-kill")
    time.sleep(2)
    st, latest = get(a["url"], "/checkpoint/latest")
    st2, cp = get(a["url"], "/checkpoint")
    check(st2 == 200 and size_of(cp) < size_of(latest),
          "with WB down, A's newest head is not served as witnessed (one cosignature of two)")
    open(os.path.join(tmp, "cp-during"), "wb").write(cp)
    r = run("/usr/bin/python3", C2SP_PY, "verify-policy", "cp-during", a["policy"], cwd=tmp)
    check(r.returncode == 0, "what A serves meanwhile still meets the policy: " + r.stderr)
    st, m = get(a["url"], "/metrics")
    check("scittd_witness_quorum_missed_total 0" not in m.decode(),
          "the missed quorum is counted")
    check("event=witness_quorum" in open(os.path.join(tmp, "scittd-a.log")).read(),
          "and logged with the missing witnesses")
    wb["proc"], _ = start(wb["cmd"] + ["--listen", "127.0.0.1:%d" % wb["port"]],
                          os.path.join(tmp, "wb.log"), "event=listening")
    for n in ("a", "c"):
        check(witnessed(n, wait=60) is not None,
              "log %s is witnessed again after WB's restart" % n)
    st, m = get(a["url"], "/metrics")
    check('scittd_witness_failures_total{witness="WB"} 0' not in m.decode(),
          "the failures while WB was down are counted")

    # the witnessed checkpoint survives a restart (even a SIGKILL): with every witness of A down,
    # the restarted A serves at once what was witnessed before, verified again at load
    cp_before = witnessed("a")
    kept = os.path.join(a["data"], "witnessed.checkpoint")
    deadline = time.time() + 10
    while time.time() < deadline and not (
            os.path.exists(kept) and open(kept, "rb").read() == cp_before):
        time.sleep(0.1)
    check(cp_before is not None and open(kept, "rb").read() == cp_before,
          "A keeps its newest witnessed checkpoint in DATA/witnessed.checkpoint")
    for o in ("b", "c"):
        stop(wit[o]["proc"])
    stop(a["proc"], signal.SIGKILL)

    def restart_a():
        a["proc"], port = scittd("a", a["data"], a["args"])
        a["url"] = "http://127.0.0.1:%d" % port
        return get(a["url"], "/checkpoint")
    st, cp = restart_a()
    check(st == 200 and cp == cp_before,
          "after SIGKILL and restart, with no witness up, /checkpoint serves the kept one (%d)" % st)
    r = run(SCITT, "get", "--url", a["url"], ids[("a", 0)], "--witnessed", "--out",
            "after-restart.receipt", "--timeout", "5", cwd=tmp)
    check(r.returncode == 0, "and witnessed receipts at once: " + r.stderr)
    stop(a["proc"])
    genuine = open(kept, "rb").read()
    # what is loaded is verified: one cosignature of two stripped, a cosignature corrupted
    lines = genuine.decode().rstrip("\n").split("\n")
    bad_line = lines[-1][:-6] + ("AAAAA=" if not lines[-1].endswith("AAAAA=") else "BBBBB=")
    for what, text in (("stripped to one cosignature", "\n".join(lines[:-1]) + "\n"),
                       ("a corrupted cosignature", "\n".join(lines[:-1] + [bad_line]) + "\n"),
                       ("not a checkpoint", "garbage\n")):
        open(kept, "w").write(text)
        before = open(os.path.join(tmp, "scittd-a.log")).read().count("event=witnessed_refused")
        st, _ = restart_a()
        stop(a["proc"])
        log_a = open(os.path.join(tmp, "scittd-a.log")).read()
        check(st == 503 and log_a.count("event=witnessed_refused") == before + 1,
              "a kept checkpoint %s is not served after restart (%d)" % (what, st))
    open(kept, "wb").write(genuine)
    for o in ("b", "c"):
        wit[o]["proc"], _ = start(wit[o]["cmd"] + ["--listen", "127.0.0.1:%d" % wit[o]["port"]],
                                  os.path.join(tmp, "w%s.log" % o), "event=listening")
    restart_a()

    # a fork of A: a copy of its data directory registering another entry under the same key
    stop(a["proc"])
    copied = size_of(open(kept, "rb").read())
    fork_data = os.path.join(tmp, "log-a-fork")
    subprocess.run(["cp", "-a", "--sparse=always", a["data"], fork_data], check=True)
    a["proc"], port = scittd("a", a["data"], a["args"])
    a["url"] = "http://127.0.0.1:%d" % port
    register("a", "honest")
    register("a", "honest2")
    check(witnessed("a") is not None, "the original A goes on being witnessed")
    r = run(SCITT, "refresh", "--url", a["url"], "a-entry1.ts", "--trust", "keys-a.cbor",
            "--latest", "--out", "a1-latest.ts", cwd=tmp)
    check(r.returncode == 0, "refresh --latest from the original: " + r.stderr)
    fork, fport = scittd("a-fork", fork_data, a["args"])
    furl = "http://127.0.0.1:%d" % fport
    for i in range(3):
        register("a", "forked%d" % i, url=furl)
    # the fork is larger now: its consistency proof cannot start from the original's tree
    r = run(SCITT, "refresh", "--url", furl, "a1-latest.ts", "--trust", "keys-a.cbor", "--latest",
            "--out", "a1-forked.ts", cwd=tmp)
    check(r.returncode == 1 and "not proven a prefix" in r.stderr and
          not os.path.exists(os.path.join(tmp, "a1-forked.ts")),
          "refresh from the fork is refused (consistency): " + r.stderr)
    deadline = time.time() + 30
    refused = {}
    while time.time() < deadline:
        m = get(furl, "/metrics")[1].decode()
        refused = {}
        for line in m.split("\n"):
            if line.startswith("scittd_witness_refused_total{"):
                w = line.split('witness="')[1].split('"')[0]
                refused[w] = refused.get(w, 0) + int(line.split()[-1])
        if all(refused.get(w, 0) > 0 for w in ("WB", "WC")):
            break
        time.sleep(0.2)
    check(all(refused.get(w, 0) > 0 for w in ("WB", "WC")),
          "every witness refuses the fork, counted in its metrics: %s" % refused)
    st, fcp = get(furl, "/checkpoint")
    check(st == 503 or (st == 200 and size_of(fcp) <= copied),
          "the fork has no witnessed checkpoint past the copied prefix (GET /checkpoint %d)" % st)
    fid = register("a", "forked3", url=furl)
    st, _ = get(furl, "/entries/%s?witnessed=1" % fid)
    check(st == 503, "nor witnessed receipts of its own entries (%d)" % st)
    flog = open(os.path.join(tmp, "scittd-a-fork.log")).read()
    check("event=witness_refused" in flog and "status=409" in flog,
          "the fork's log records the refusals")
    st, honest_cp = get(a["url"], "/checkpoint")
    check(st == 200, "the original still serves its witnessed checkpoint")
    # the original's witnessed checkpoint (of a size the fork also signed, another root) placed
    # in the fork's data directory is refused at the fork's next start
    stop(fork)
    hsize = size_of(honest_cp)
    open(os.path.join(fork_data, "witnessed.checkpoint"), "wb").write(honest_cp)
    fork, fport = scittd("a-fork", fork_data, a["args"])
    st, _ = get("http://127.0.0.1:%d" % fport, "/checkpoint")
    flog = open(os.path.join(tmp, "scittd-a-fork.log")).read()
    check(st == 503 and "event=witnessed_refused" in flog and
          ("not the ledger's at size %d" % hsize) in flog,
          "the original's witnessed checkpoint is refused by the fork's ledger (%d)" % st)
    stop(fork)
    for n in names:
        stop(logs[n]["proc"])
    for n in names:
        if wit[n]["proc"].poll() is None:
            stop(wit[n]["proc"])


if __name__ == "__main__":
    sys.exit(main())
