#!/usr/bin/env python3
"""Plants known bugs one at a time and checks that the test suite catches each one.

    scripts/mutate.py [--list FILE] [--only ID[,ID...]] [--keep | --scratch DIR] [--jobs N]
                      [--markdown FILE]

Every mutation in scripts/mutations.txt names a file, an exact piece of its text, what to put in
its place, and the ctest cases that should fail when it is planted. The script copies the tracked
files of the repository into a scratch folder (the checkout itself is never touched), builds them
once, runs every mutation's tests on the unmutated code (they must pass there, or the table means
nothing), then for each mutation: plants it, rebuilds, runs its tests, and restores the file. It
prints a kill table and exits 1 unless every mutation was killed.

With --scratch DIR the copy and its build live in DIR and stay there: a later run with the same
DIR copies only the files that changed since, so it rebuilds incrementally.

A mutation whose text is not found exactly once in its file is reported STALE (the list no longer
matches the code), one that does not compile BROKEN: both fail the run, so the list is kept true.
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
        shutil.copy2(src, dst, follow_symlinks=False)


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", default=os.path.join(ROOT, "scripts", "mutations.txt"))
    ap.add_argument("--only", help="comma-separated mutation ids")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--scratch", help="use (and keep) this scratch folder")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--markdown", help="also write the kill table to this file")
    args = ap.parse_args()

    muts = parse(args.list)
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
    print(f"mutate: {len(muts)} mutations; scratch copy and log in {scratch}", flush=True)
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

    t0 = time.time()
    if run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], src, log) or \
            run(["cmake", "--build", build, "-j", str(args.jobs)], src, log):
        print(f"mutate: the unmutated copy does not build; see {log}")
        return 1
    # Every test named by the list must pass on the unmutated code.
    # (One alternation: ctest's regular expressions allow at most nine groups.)
    all_tests = "|".join(m["tests"] for m in muts)
    if ctest(build, all_tests, log, args.jobs):
        print(f"mutate: the tests fail on the unmutated code; see {log}")
        return 1
    print(f"mutate: baseline built and green in {time.time() - t0:.0f} s", flush=True)

    rows = []
    for m in muts:
        path = os.path.join(src, m["file"])
        original = open(path, encoding="utf-8").read()
        t1 = time.time()
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.replace(m["find"], m["replace"], 1))
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"\n==== {m['id']}: {m['why']}\n")
        if run(["cmake", "--build", build, "-j", str(args.jobs)], src, log):
            verdict = "BROKEN"
        else:
            verdict = "killed" if ctest(build, m["tests"], log, args.jobs) else "SURVIVED"
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)
        secs = time.time() - t1
        rows.append((m, verdict, secs))
        print(f"  {verdict:8} {m['id']:28} {secs:5.0f} s  {m['why']}", flush=True)
    # leave the copy built as it was
    run(["cmake", "--build", build, "-j", str(args.jobs)], src, log)

    killed = sum(1 for _, v, _ in rows if v == "killed")
    table = ["| # | planted bug | file | caught by | result |", "| --- | --- | --- | --- | --- |"]
    for i, (m, v, _) in enumerate(rows, 1):
        tests = m["tests"].replace("|", " \\| ")
        table.append(f"| {i} | {m['why']} (`{m['id']}`) | `{m['file']}` | `{tests}` | {v} |")
    table.append("")
    table.append(f"{killed} of {len(rows)} planted bugs caught ({time.time() - t0:.0f} s).")
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
