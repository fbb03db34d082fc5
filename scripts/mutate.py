#!/usr/bin/env python3
"""Plants known bugs one at a time and checks that the test suite catches each one.

    scripts/mutate.py [--list FILE]... [--only ID[,ID...]] [--keep | --scratch DIR] [--jobs N]
                      [--markdown FILE]

Without --list it runs every list of the repository (LISTS below); --list may be given more than
once. A row that appears in two lists (same file, find and replace) runs once. Every mutation
names a file, an exact piece of its text, what to put in
its place, and the ctest cases that should fail when it is planted. The script copies the tracked
files of the repository into a scratch folder (the checkout itself is never touched), builds them
once, runs every mutation's tests on the unmutated code (they must pass there, or the table means
nothing), then for each mutation: plants it, rebuilds what its tests run (--full: everything),
runs its tests and restores the file. It
prints a kill table (with the cases that failed: the ones that caught it) and exits 1 unless
every mutation was killed.

With --scratch DIR the copy and its build live in DIR and stay there: a later run with the same
DIR copies only the files that changed since, so it rebuilds incrementally.

A mutation whose text is not found exactly once in its file is reported STALE (the list no longer
matches the code), one that does not compile BROKEN, one whose tests fail without a failing case
(a ctest error, not a catch) ERROR: all fail the run, so the list is kept true. A row whose
tests: selects no ctest case stops the run before anything is planted.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTS = ["scripts/mutations.txt", "scripts/mutations-witness.txt", "scripts/mutations-ui.txt",
         "tests/unit/tee/dcap_mutations.txt", "tests/unit/tee/attest_mutations.txt"]


def parse(path):
    """Blocks of `key: value` lines; a block starts with `@ id`. `find:` and `replace:` may be
    continued on following lines that start with `|` (the text after `| ` is one more line)."""
    muts, cur, last = [], None, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith("@ "):
                cur = {"id": line[2:].strip(), "line": n}
                muts.append(cur)
                last = None
                continue
            if cur is None:
                sys.exit(f"{path}:{n}: text before the first '@ id' line")
            if line.startswith("|"):
                if last not in ("find", "replace"):
                    sys.exit(f"{path}:{n}: a '|' continuation only follows find: or replace:")
                cur[last] += "\n" + line[2:]
                continue
            key, sep, value = line.partition(":")
            key = key.strip()
            if not sep or key not in ("file", "find", "replace", "tests", "why"):
                sys.exit(f"{path}:{n}: expected file/find/replace/tests/why, got {line!r}")
            cur[key] = value[1:] if value.startswith(" ") else value
            last = key
    for m in muts:
        for key in ("file", "find", "replace", "tests", "why"):
            if key not in m:
                sys.exit(f"{path}:{m['line']}: mutation {m['id']} has no {key}:")
    ids = [m["id"] for m in muts]
    if len(ids) != len(set(ids)):
        sys.exit(f"{path}: two mutations share an id")
    return muts


def load(paths):
    """The rows of every list in order; a row repeated in a later list (same file, find and
    replace) is kept once, and one id naming two different rows is an error."""
    muts, seen = [], {}
    for path in paths:
        for m in parse(path):
            m["list"] = os.path.relpath(path, ROOT)
            key = (m["file"], m["find"], m["replace"])
            if m["id"] in seen:
                if seen[m["id"]] != key:
                    sys.exit(f"{path}: mutation {m['id']} is another row in an earlier list")
                continue
            if key in seen.values():
                continue
            seen[m["id"]] = key
            muts.append(m)
    return muts


def failed_tests(log, start):
    """The ctest cases reported failed in @p log after offset @p start, each with the cmocka
    functions that failed in it: "test_sign1 (test_ec_signature_length)"."""
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        text = f.read()
    tail = text.split("The following tests FAILED:", 1)
    if len(tail) < 2:
        return []
    funcs, current = {}, None
    for line in tail[0].splitlines():
        case = re.match(r"^\s*\d+/\d+ Test +#\d+: (\S+) ", line)
        if case:
            current = case.group(1)
            continue
        fn = re.match(r"^\[  FAILED  \] (\w+)$", line)
        if fn and current and fn.group(1) not in funcs.setdefault(current, []):
            funcs[current].append(fn.group(1))
    out = []
    for name in re.findall(r"^\s*\d+ - (\S+) \(", tail[1], re.M):
        out.append(f"{name} ({', '.join(funcs[name])})" if funcs.get(name) else name)
    return out


def run(cmd, cwd, log, timeout=None):
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.write("timed out\n")
            return 124


def copy_tree(dest):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE).stdout.split(b"\0")
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        src = os.path.join(ROOT, rel)
        if not os.path.lexists(src):
            continue  # deleted in the work tree
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if same_file(src, dst):
            continue  # unchanged since an earlier run in this scratch folder: keep its time
        if os.path.lexists(dst):
            os.remove(dst)
        # A fresh time, never the checkout's: an object built from a planted copy of this file
        # (a run stopped in the middle of a row) must not look newer than the restored source.
        shutil.copy(src, dst, follow_symlinks=False)


def prune_tree(dest):
    """Removes what an earlier run in this scratch folder copied and the checkout no longer has."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE).stdout.split(b"\0")
    keep = {f.decode() for f in files if f}
    for top, _, names in os.walk(dest):
        for n in names:
            rel = os.path.relpath(os.path.join(top, n), dest)
            if rel not in keep:
                os.remove(os.path.join(top, n))


def same_file(a, b):
    if os.path.islink(a) or os.path.islink(b) or not os.path.isfile(b):
        return os.path.islink(a) and os.path.islink(b) and os.readlink(a) == os.readlink(b)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def ctest(build, regex, log, jobs):
    return run(["ctest", "--test-dir", build, "-R", regex, "-j", str(jobs), "--output-on-failure",
                "--timeout", "600", "--no-tests=error"], build, log)


def count_tests(build, regex):
    """How many ctest cases @p regex selects (a row that selects none could never be caught)."""
    out = subprocess.run(["ctest", "--test-dir", build, "-N", "-R", regex], cwd=build,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    found = re.search(r"Total Tests: (\d+)", out)
    return int(found.group(1)) if found else 0


def executables(build):
    """The executables the build made: file name -> the target that links it. A target's file
    name may differ from the target's own (scitt_cli makes `scitt`, while `scitt` is the
    library's target): each target's link.txt names its output after -o."""
    names = set()
    for top, dirs, files in os.walk(build):
        dirs[:] = [d for d in dirs if d != "CMakeFiles"]
        for n in files:
            p = os.path.join(top, n)
            if ".so" not in n and not n.endswith((".sh", ".py")) and os.access(p, os.X_OK) and \
                    os.path.isfile(p) and not os.path.islink(p):
                names.add(n)
    target = {}
    for top, dirs, files in os.walk(build):
        if os.path.basename(top).endswith(".dir") and "link.txt" in files:
            toks = open(os.path.join(top, "link.txt"), encoding="utf-8", errors="replace").read()
            out = re.search(r"(?:^|\s)-o\s+(\S+)", toks)
            if out and os.path.basename(out.group(1)) in names:
                target[os.path.basename(out.group(1))] = os.path.basename(top)[:-len(".dir")]
    return {n: target.get(n, n) for n in names}


def targets_for(build, regex, exes):
    """What a row's tests run: the executables named by their ctest commands, and for any test
    that is not a plain unit or corpus-replay case, the programs the integration tests start
    (scittd, scitt, the fixtures: every executable that is not a test, a replay or a bench).
    Building only these keeps a row to one compile and a few links instead of relinking the
    whole tree. make brings every selected program up to date with the files as they are (the
    earlier rows' files restored, this row's planted), so a row's tests run no earlier row's
    bug as long as they start only what is selected: a unit case starts nothing but itself,
    an integration case the programs that are not tests. A program built with an earlier row's
    bug and selected by no later row stays so until the run ends with a full build; --full
    rebuilds everything for every row instead."""
    out = subprocess.run(["ctest", "--test-dir", build, "-N", "-V", "-R", regex], cwd=build,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    want, helpers = set(), False
    for line in out.splitlines():
        cmd = re.match(r"^\d+: Test command: (.*)$", line)
        if cmd:
            for tok in re.findall(r'"([^"]*)"|(\S+)', cmd.group(1)):
                name = os.path.basename(tok[0] or tok[1])
                if name in exes:
                    want.add(exes[name])
        labels = re.match(r"^Labels: (.*)$", line)
        if labels and not set(labels.group(1).split()) & {"unit", "fuzz-regress"}:
            helpers = True
    if helpers:
        want |= {t for n, t in exes.items() if not re.match(r"^(test_|replay_)|.*_bench$", n)}
    return sorted(want)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="append",
                    help="a list of mutations (repeatable; default: every list of the repository)")
    ap.add_argument("--only", help="comma-separated mutation ids")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--scratch", help="use (and keep) this scratch folder")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--markdown", help="also write the kill table to this file")
    ap.add_argument("--full", action="store_true",
                    help="rebuild the whole tree for every row, not only what its tests run")
    args = ap.parse_args()

    lists = args.list or [os.path.join(ROOT, p) for p in LISTS]
    muts = load(lists)
    if args.only:
        want = set(args.only.split(","))
        unknown = want - {m["id"] for m in muts}
        if unknown:
            sys.exit(f"mutate: unknown mutation ids: {', '.join(sorted(unknown))}")
        muts = [m for m in muts if m["id"] in want]

    if args.scratch:
        scratch = os.path.abspath(args.scratch)
        os.makedirs(scratch, exist_ok=True)
        args.keep = True
    else:
        scratch = tempfile.mkdtemp(prefix="scitt-mutate.")
    src = os.path.join(scratch, "src")
    build = os.path.join(scratch, "build")
    log = os.path.join(scratch, "mutate.log")
    t0 = time.time()
    print(f"mutate: {len(muts)} mutations from {len(lists)} list(s); scratch copy and log in "
          f"{scratch}", flush=True)
    # The table names the commit the copy was taken from (and whether the work tree differed).
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    if os.path.isdir(src):
        prune_tree(src)
    copy_tree(src)

    stale = []
    for m in muts:
        path = os.path.join(src, m["file"])
        text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        if text.count(m["find"]) != 1:
            stale.append(m["id"])
    if stale:
        print(f"mutate: STALE (text not found exactly once): {', '.join(stale)}")
        return 1

    if run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], src, log) or \
            run(["cmake", "--build", build, "-j", str(args.jobs)], src, log):
        print(f"mutate: the unmutated copy does not build; see {log}")
        return 1
    # Every row must select tests, and every test named must pass on the unmutated code.
    empty = [m["id"] for m in muts if count_tests(build, m["tests"]) == 0]
    if empty:
        print(f"mutate: rows whose tests: selects no ctest case: {', '.join(empty)}")
        return 1
    # (One alternation: ctest's regular expressions allow at most nine groups.)
    all_tests = "|".join(m["tests"] for m in muts)
    if ctest(build, all_tests, log, args.jobs):
        print(f"mutate: the tests fail on the unmutated code; see {log}")
        return 1
    print(f"mutate: baseline built and green in {time.time() - t0:.0f} s", flush=True)

    exes = executables(build)
    rows = []
    for m in muts:
        path = os.path.join(src, m["file"])
        original = open(path, encoding="utf-8").read()
        t1 = time.time()
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.replace(m["find"], m["replace"], 1))
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"\n==== {m['id']}: {m['why']}\n")
        caught = []
        targets = ["--target"] + targets_for(build, m["tests"], exes) if not args.full else []
        if run(["cmake", "--build", build, "-j", str(args.jobs)] + targets, src, log):
            verdict = "BROKEN"
        else:
            start = os.path.getsize(log)
            rc = ctest(build, m["tests"], log, args.jobs)
            caught = failed_tests(log, start)
            # killed only by a failing case: ctest's own errors are not a catch
            verdict = "killed" if caught else "SURVIVED" if rc == 0 else "ERROR"
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)
        secs = time.time() - t1
        rows.append((m, verdict, secs, caught))
        print(f"  {verdict:8} {m['id']:28} {secs:5.0f} s  {m['why']}", flush=True)
    # leave the copy built as it was
    run(["cmake", "--build", build, "-j", str(args.jobs)], src, log)

    killed = sum(1 for r in rows if r[1] == "killed")
    table = []
    for lst in dict.fromkeys(r[0]["list"] for r in rows):
        table += [f"`{lst}`:", "",
                  "| # | id | file | planted bug | tests run | failed (caught it) | result | s |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for i, (m, v, secs, caught) in enumerate((r for r in rows if r[0]["list"] == lst), 1):
            tests = m["tests"].replace("|", " \\| ")
            why = m["why"].replace("|", "\\|")
            by = ", ".join(f"`{t}`" for t in caught) or "-"
            table.append(f"| {i} | `{m['id']}` | `{m['file']}` | {why} | `{tests}` | {by} | {v} "
                         f"| {secs:.0f} |")
        table.append("")
    command = "scripts/mutate.py " + " ".join(
        os.path.relpath(a, ROOT) if os.path.isabs(a) else a for a in sys.argv[1:])
    table.append(f"{killed} of {len(rows)} planted bugs caught, on commit {commit}"
                 f"{' with uncommitted changes' if dirty else ''}; `{command.strip()}` took "
                 f"{time.time() - t0:.0f} s (baseline build and tests included).")
    print()
    print("\n".join(table))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(table) + "\n")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
