#!/usr/bin/env python3
"""Three scittd instances (logs A, B, C) that witness each other with scittd's own witness role:
each runs --witness-key and --witness-log for the other two logs, and asks the other two
instances as its witnesses (--witness URL=VKEY, a 2-of-2 tlog-policy). No separate witness
daemon runs. Shows:
 - GET /witness/vkey of each instance is its key's vkey; the options are also taken from the
   configuration file (C is started with --config only);
 - configurations scittd refuses (exit 2, one line);
 - every log is witnessed: /checkpoint meets its policy (checked by c2sp.py), and receipts
   carrying the cosigned checkpoint verify offline with `scitt verify --witness-policy`;
 - a fork of A (a copy of its data directory registering other entries under the same key) is
   refused by both witnesses, visible in the fork's metrics (refusals counted, no cosignature
   after the fork) and log, while the original goes on being witnessed;
 - witness instance C SIGKILLed while A and the fork keep submitting, then restarted: every
   cosignature C ever gave (collected from every /checkpoint served meanwhile, each verified) is
   for one root per size, and A is witnessed again.

    test_witness_role.py SCITT SCITTD
"""
import os
import signal
import subprocess
import sys
import threading
import time

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c2sp  # noqa: E402
import harness  # noqa: E402
from harness import check, run, start, stop, get  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]
C2SP_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c2sp.py")
NAMES = ["a", "b", "c"]


def size_root(note):
    _, size, root = c2sp.parse_checkpoint(c2sp.split_note(note)[0])
    return size, root


def metric_sum(text, prefix, witness):
    total = 0
    for line in text.split("\n"):
        if line.startswith(prefix + "{") and ('witness="%s"' % witness) in line:
            total += int(float(line.split()[-1]))
    return total


def body(tmp):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)
    base = [SCITTD, "--platform", "virtual", "--insecure-virtual", "--log-level", "info"]
    logs = {}
    for n in NAMES:
        data = os.path.join(tmp, "log-" + n)
        p, port = start(base + ["--data", data, "--listen", "127.0.0.1:0", "--origin",
                                "log-%s.test" % n], os.path.join(tmp, "scittd-%s.log" % n))
        cfg = cbor2.loads(get("http://127.0.0.1:%d" % port,
                              "/.well-known/transparency-configuration")[1])
        stop(p)
        key = os.path.join(tmp, "w%s.key" % n)
        r = run(SCITT, "witness", "keygen", "--name", "w%s.test" % n, "--out", key)
        check(r.returncode == 0, "witness keygen: " + r.stderr)
        port = harness.free_port()
        logs[n] = {"data": data, "vkey": cfg["checkpoint_vkey"], "wkey": key,
                   "wvkey": r.stdout.strip(), "port": port,
                   "url": "http://127.0.0.1:%d" % port, "origin": "log-%s.test" % n}

    def refused(extra, what, expect):
        r = subprocess.run(base + ["--data", logs["a"]["data"], "--listen", "127.0.0.1:0",
                                   "--origin", "log-a.test"] + extra,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and expect in r.stderr,
              "%s: exit 2 naming it (%d) %s" % (what, r.returncode, r.stderr[-300:]))
    wlog_b = "log-b.test=" + logs["b"]["vkey"]
    refused(["--witness-log", wlog_b], "--witness-log without a key", "--witness-key")
    refused(["--witness-key", logs["a"]["wkey"]], "--witness-key without a log", "--witness-log")
    refused(["--witness-key", logs["a"]["wkey"], "--witness-log", "log-b.test=nonsense"],
            "a --witness-log that is no vkey", "not [ORIGIN=]VKEY")
    refused(["--witness-key", os.path.join(tmp, "ci.key"), "--witness-log", wlog_b],
            "a key that is not a witness key", "not a witness key file")
    open(os.path.join(tmp, "open.key"), "w").write(open(logs["a"]["wkey"]).read())
    os.chmod(os.path.join(tmp, "open.key"), 0o644)
    refused(["--witness-key", os.path.join(tmp, "open.key"), "--witness-log", wlog_b],
            "a key file others may read", "readable by group or others")

    for n in NAMES:
        pol = "log %s\n" % logs[n]["vkey"]
        others = [o for o in NAMES if o != n]
        for o in others:
            pol += "witness W%s %s %s\n" % (o.upper(), logs[o]["wvkey"], logs[o]["url"])
        pol += "group both 2 %s\nquorum both\n" % " ".join("W" + o.upper() for o in others)
        logs[n]["policy"] = os.path.join(tmp, "policy-" + n)
        open(logs[n]["policy"], "w").write(pol)
        opts = [("data", logs[n]["data"]), ("listen", "127.0.0.1:%d" % logs[n]["port"]),
                ("origin", logs[n]["origin"]), ("witness-key", logs[n]["wkey"]),
                ("witness-policy", logs[n]["policy"])]
        for o in others:
            opts += [("witness-log", "%s=%s" % (logs[o]["origin"], logs[o]["vkey"])),
                     ("witness", "%s=%s" % (logs[o]["url"], logs[o]["wvkey"]))]
        if n == "c":  # every witness setting from the configuration file
            conf = os.path.join(tmp, "c.conf")
            open(conf, "w").write("".join("%s = %s\n" % kv for kv in opts))
            logs[n]["args"] = ["--config", conf]
        else:
            logs[n]["args"] = sum((["--" + k, v] for k, v in opts), [])
        logs[n]["proc"], _ = start(base + logs[n]["args"], os.path.join(tmp, "scittd-%s.log" % n))

    for n in NAMES:
        st, vk = get(logs[n]["url"], "/witness/vkey")
        check(st == 200 and vk.decode() == logs[n]["wvkey"] + "\n",
              "%s: GET /witness/vkey is its key's vkey (%d %r)" % (n, st, vk[:80]))

    def register(n, name, url=None):
        url = url or logs[n]["url"]
        r = harness.sign(SCITT, tmp, name)
        r = r if r.returncode else run(SCITT, "register", "--url", url, name + ".stmt", "--out",
                                       name + ".ts", "--json", cwd=tmp)
        check(r.returncode == 0, "register %s: %s" % (name, r.stderr))
        return r.stdout.split('"entry_id":"')[1].split('"')[0] if r.returncode == 0 else None

    def witnessed(n, url=None, wait=30):
        url = url or logs[n]["url"]
        deadline = time.time() + wait
        while time.time() < deadline:
            st, latest = get(url, "/checkpoint/latest")
            st2, cp = get(url, "/checkpoint")
            if st == 200 and st2 == 200 and size_root(cp)[0] >= size_root(latest)[0]:
                return cp
            time.sleep(0.1)
        return None

    ids = {}
    for n in NAMES:
        for i in range(3):
            ids[(n, i)] = register(n, "%s-entry%d" % (n, i))
    wvkeys = {n: c2sp.parse_vkey(logs[n]["wvkey"]) for n in NAMES}
    for n in NAMES:
        cp = witnessed(n)
        if not check(cp is not None, "log %s: /checkpoint reaches the newest head, witnessed" % n):
            continue
        f = os.path.join(tmp, "cp-" + n)
        open(f, "wb").write(cp)
        r = run("/usr/bin/python3", C2SP_PY, "verify-policy", f, logs[n]["policy"])
        check(r.returncode == 0, "log %s: c2sp.py finds the 2-of-2 quorum met: %s" % (n, r.stderr))
        found = c2sp.verify_cosigs(cp, list(wvkeys.values()))
        check(set(found) == {"w%s.test" % o for o in NAMES if o != n},
              "log %s: cosigned by the two other instances (%s)" % (n, sorted(found)))
        # a receipt carrying the cosigned checkpoint, verified offline against the policy
        r = run(SCITT, "keys", "--url", logs[n]["url"], "--out", "keys-%s.cbor" % n, cwd=tmp)
        r = r if r.returncode else run(SCITT, "get", "--url", logs[n]["url"], ids[(n, 1)] or "",
                                       "--witnessed", "--statement", "--out", "w-%s.ts" % n,
                                       "--timeout", "20", cwd=tmp)
        r = r if r.returncode else run(SCITT, "verify", "w-%s.ts" % n, "--trust",
                                       "keys-%s.cbor" % n, "--witness-policy", logs[n]["policy"],
                                       cwd=tmp)
        check(r.returncode == 0, "log %s: a witnessed receipt verifies offline against the "
              "policy: %s" % (n, r.stdout + r.stderr))
        other = logs[[o for o in NAMES if o != n][0]]["policy"]
        r = run(SCITT, "verify", "w-%s.ts" % n, "--trust", "keys-%s.cbor" % n,
                "--witness-policy", other, cwd=tmp)
        check(r.returncode != 0, "log %s: and not against another log's policy" % n)
    for n in NAMES:
        m = get(logs[n]["url"], "/metrics")[1].decode()
        others = [o for o in NAMES if o != n]
        check(all('scittd_witness_role_cosigned_size{origin="%s"}' % logs[o]["origin"] in m and
                  'scittd_witness_role_cosigned_size{origin="%s"} 0' % logs[o]["origin"] not in m
                  for o in others) and
              'scittd_witness_role_add_checkpoint_total{status="200"} 0' not in m,
              "%s: its witness role cosigned both other logs (metrics)" % n)
        check("event=witness_role_cosigned" in open(os.path.join(tmp, "scittd-%s.log" % n)).read(),
              "%s: and logged it" % n)

    # a fork of A: a copy of its data directory that registers other entries under the same key
    a = logs["a"]
    stop(a["proc"])
    fork_data = os.path.join(tmp, "log-a-fork")
    subprocess.run(["cp", "-a", "--sparse=always", a["data"], fork_data], check=True)
    a["proc"], _ = start(base + a["args"], os.path.join(tmp, "scittd-a.log"))
    register("a", "honest0")
    register("a", "honest1")
    check(witnessed("a") is not None, "the original A goes on being witnessed")
    fork_args = [x if x != a["data"] else fork_data for x in a["args"]]
    fork_args[fork_args.index("--listen") + 1] = "127.0.0.1:0"
    # the fork is not a witness: its copied witness state is another instance's (and locked)
    i = fork_args.index("--witness-key")
    fork_args = fork_args[:i] + fork_args[i + 2:]
    while "--witness-log" in fork_args:
        i = fork_args.index("--witness-log")
        fork_args = fork_args[:i] + fork_args[i + 2:]
    fork, fport = start(base + fork_args, os.path.join(tmp, "scittd-a-fork.log"))
    furl = "http://127.0.0.1:%d" % fport
    deadline = time.time() + 20
    while time.time() < deadline and "scittd_witness_rounds_total 0" in get(
            furl, "/metrics")[1].decode():
        time.sleep(0.1)
    time.sleep(1)
    m0 = get(furl, "/metrics")[1].decode()
    cos0 = {w: metric_sum(m0, "scittd_witness_cosigned_total", w) for w in ("WB", "WC")}
    for i in range(3):
        register("a", "forked%d" % i, url=furl)
    refusals = {}
    deadline = time.time() + 30
    while time.time() < deadline:
        m = get(furl, "/metrics")[1].decode()
        refusals = {w: metric_sum(m, "scittd_witness_refused_total", w) for w in ("WB", "WC")}
        if all(refusals.values()):
            break
        time.sleep(0.2)
    check(all(refusals.values()), "both witness instances refuse the fork (its metrics: %s)"
          % refusals)
    flog = open(os.path.join(tmp, "scittd-a-fork.log")).read()
    check("event=witness_refused" in flog and ("status=409" in flog or "status=422" in flog),
          "the fork's log records the refusals")
    for o in ("b", "c"):
        wl = open(os.path.join(tmp, "scittd-%s.log" % o)).read()
        check("event=witness_role_refused" in wl and "origin=log-a.test" in wl,
              "witness instance %s logs its refusal of the fork" % o)
    st, fcp = get(furl, "/checkpoint")
    fid = register("a", "forked3", url=furl)
    st2, _ = get(furl, "/entries/%s?witnessed=1" % fid)
    check(st2 == 503, "no witnessed receipt for the fork's own entries (%d)" % st2)

    # witness instance C SIGKILLed and restarted while A and the fork keep submitting; every
    # cosignature seen anywhere meanwhile is collected
    seen = []  # (size, root, note) of every /checkpoint served
    running = [True]

    def poll():
        while running[0]:
            for u in (a["url"], furl, logs["b"]["url"]):
                try:
                    st, cp = get(u, "/checkpoint", timeout=5)
                except OSError:
                    continue
                if st == 200:
                    seen.append(cp)
            time.sleep(0.05)

    def load():
        k = 0
        while running[0]:
            register("a", "load-a%d" % k)
            register("a", "load-f%d" % k, url=furl)
            k += 1
    threads = [threading.Thread(target=poll, daemon=True), threading.Thread(target=load,
                                                                            daemon=True)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    c = logs["c"]
    stop(c["proc"], signal.SIGKILL)
    time.sleep(1.0)
    c["proc"], _ = start(base + c["args"], os.path.join(tmp, "scittd-c.log"))
    time.sleep(2.5)
    running[0] = False
    for t in threads:
        t.join(120)
    check(witnessed("a", wait=60) is not None, "A is witnessed again after C's restart")
    seen.append(witnessed("a") or b"")
    roots = {}
    by_c = 0
    for cp in seen:
        if not cp:
            continue
        found = c2sp.verify_cosigs(cp, [wvkeys["c"]])
        if "wc.test" not in found:
            continue
        by_c += 1
        size, root = size_root(cp)
        check(roots.setdefault((c2sp.split_note(cp)[0].split("\n")[0], size), root) == root,
              "C cosigned two roots for size %d" % size)
    check(by_c > 0 and len(roots) > 1,
          "cosignatures of C collected over the kill (%d, %d sizes)" % (by_c, len(roots)))
    m = get(furl, "/metrics")[1].decode()
    cos1 = {w: metric_sum(m, "scittd_witness_cosigned_total", w) for w in ("WB", "WC")}
    check(cos1 == cos0, "no witness cosigned anything of the fork after it forked (%s -> %s)"
          % (cos0, cos1))
    st, fcp2 = get(furl, "/checkpoint")
    check(st == 503 or (fcp2 == fcp), "the fork's /checkpoint never moved past the fork (%d)" % st)
    stop(fork)
    for n in NAMES:
        stop(logs[n]["proc"])


def main():
    return harness.main("witness-role-", body, tail=3000)


if __name__ == "__main__":
    sys.exit(main())
