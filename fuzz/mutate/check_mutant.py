#!/usr/bin/python3
"""One memory-order mutant's check: //fuzz/mutate:<mutant>_check.

The binaries are the mutant schema's (//fuzz/mutate:m_schema_*, every
mutant in one build); this check starts each of them with
GMP_MUTATE_SITE=<mutant>, which weakens that one site, and
GMP_MUTATE_REACHED set, which records whether the weakened operation ran
at all ("reached": a survivor nothing executed needs a test, not a model
checker).

    check_mutant.py --mutant=NAME --site=ID --order=O [--budget=S]
                    [--targets=spawn_lock,block,runq] [--no-tests]
                    [--test-cap=S] [--timeout=S]

1. Fuzz: every TSan fuzz target of the mutant at once, from the committed
   corpus, until the first finding or --budget seconds. This is the canary
   runner of fuzz/tools/campaign.py (run_canary): a finding counts only if
   go_default's fuzzer passes the same input 10 times, and a target that
   dies without an artefact is started again.
2. Runtime tests: if the fuzzers found nothing, each runtime test binary of
   the mutant (runtime/tests.bzl's RUNTIME_TESTS, built in the same config),
   one after another, each capped at --test-cap seconds. A failure counts
   only if go_default's copy of the test passes the failed cases (or, when
   gtest named none, the whole test) 5 times: timing tests can fail on a
   loaded machine whatever the memory orders.

Prints the verdict as one line `MUTANT_VERDICT {json}` (read by
./harness mutate from the test log) and writes verdict.json and any
finding's input to $TEST_UNDECLARED_OUTPUTS_DIR. Exit status 0 whatever the
verdict, so that Bazel caches it; non-zero only when the check itself could
not run (a missing binary, a bad flag).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "fuzz", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import campaign  # noqa: E402  (fuzz/tools/campaign.py)
import fuzz_targets  # noqa: E402  (tools/fuzz_targets.py)

PACKAGE = "fuzz/mutate"
SCHEMA = "m_schema"
TARGETS = fuzz_targets.names(ROOT)  # FUZZ_TARGETS of fuzz/defs.bzl

# How a detector's message is classified, first match wins.
HOW = [
    (re.compile(r"ThreadSanitizer: data race"), "tsan-race"),
    (re.compile(r"ThreadSanitizer"), "tsan-other"),
    (re.compile(r"program finishes within|timeout|hang|ran past"), "timeout"),
    (re.compile(r"fuzz invariant violated|\[  FAILED  \]|Failure|expected"), "check-failure"),
    (re.compile(r"fatal error:"), "runtime-fatal"),
    (re.compile(r"deadly signal|SEGV|signal|Sanitizer|crash"), "crash"),
]


def classify(reason):
    for pat, how in HOW:
        if pat.search(reason or ""):
            return how
    return "other"


def test_binaries(schema=SCHEMA):
    """{test: path} for every runtime test binary of the schema present."""
    out = {}
    pat = re.compile(r"^%s_(\w+_test)$" % re.escape(schema))
    d = os.path.join(ROOT, PACKAGE)
    for name in sorted(os.listdir(d)):
        m = pat.match(name)
        path = os.path.join(d, name)
        if m and os.path.isfile(path) and os.access(path, os.X_OK):
            out[m.group(1)] = path
    return out


def test_reason(output, rc, timed_out, cap):
    if timed_out:
        return "timeout: ran past %d s" % cap
    for pat in (r"WARNING: ThreadSanitizer: [^\n]*", r"fatal error: [^\n]*",
                r"\[  FAILED  \] [^\n]*", r"[^\n]*Failure[^\n]*"):
        m = re.search(pat, output)
        if m:
            return re.sub(r"\s*\(pid=\d+\)$", "", m.group(0).strip())
    if rc < 0:
        return "killed by signal %d" % -rc
    return "exit status %d" % rc


def run_binary(path, args, timeout):
    """(exit status, output, timed out) of one test binary run."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TEST_TMPDIR=tmp)
        env.pop("TEST_UNDECLARED_OUTPUTS_DIR", None)
        try:
            p = subprocess.run([path] + args, cwd=tmp, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace",
                               timeout=timeout, start_new_session=True)
            return p.returncode, p.stdout, False
        except subprocess.TimeoutExpired as e:
            output = e.stdout or ""
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            return -9, output, True


def failed_cases(output):
    """The gtest cases a run reports as failed (`[  FAILED  ] Suite.Name`)."""
    names = re.findall(r"^\[  FAILED  \] ([\w/.]+)(?: \(\d+ ms\))?(?:, where .*)?$",
                       output, re.MULTILINE)
    return sorted(set(n for n in names if "." in n))


def control_fails(control, output, cap, runs):
    """How many of `runs` runs of go_default's copy of the test fail: the
    failed cases only when gtest named them, else the whole binary."""
    cases = failed_cases(output)
    args = ["--gtest_filter=" + ":".join(cases)] if cases else []
    failed = 0
    for _ in range(runs):
        rc, _, _ = run_binary(control, args, cap)
        failed += rc != 0
    return failed


def run_tests(binaries, cap, deadline, controls=None, control_runs=5, fail_fast=False,
              quiet=False):
    """Runs each test binary; returns (results, first failure or None). A
    failure counts only if go_default's copy (`controls`) passes the same
    cases `control_runs` times; otherwise it is recorded as rejected. With
    fail_fast, stops at the first failure; quiet leaves out the reports."""
    results, first = [], None
    controls = controls or {}
    for test, path in binaries.items():
        left = deadline - time.time()
        if left < 5:
            results.append({"test": test, "skipped": "out of time"})
            continue
        t0 = time.time()
        rc, output, timed_out = run_binary(path, [], min(cap, left))
        secs = round(time.time() - t0, 1)
        r = {"test": test, "passed": rc == 0, "seconds": secs}
        if rc != 0 and test in controls:
            bad = control_fails(controls[test], output, cap, control_runs)
            r["control"] = "go_default failed %d of %d runs" % (bad, control_runs)
            if bad:
                r["passed"] = None
                r["rejected"] = test_reason(output, rc, timed_out, int(min(cap, left)))
                print("check: %s failed, but go_default's copy failed too (%d/%d): not "
                      "counted: %s" % (test, bad, control_runs, r["rejected"]), flush=True)
                results.append(r)
                continue
        if rc != 0:
            r["reason"] = test_reason(output, rc, timed_out, int(min(cap, left)))
            r["log_tail"] = output[-3000:]
            excerpt, frame = report_excerpt_of(output, r["reason"])
            if frame:
                r["where"] = frame
            if excerpt and not quiet:
                print("check: %s's report:\n%s" % (test, excerpt), flush=True)
            if first is None:
                first = r
        results.append(r)
        print("check: %s %s in %.1f s%s" % (test, "passed" if rc == 0 else "FAILED", secs,
                                          "" if rc == 0 else ": " + r["reason"]), flush=True)
        if fail_fast and first is not None:
            break
    return results, first


def report_excerpt(log_path, reason, lines=40):
    """(excerpt, top frame) of the report that `reason` starts in a log."""
    try:
        text = open(log_path, errors="replace").read()
    except OSError:
        return None, None
    return report_excerpt_of(text, reason, lines)


def report_excerpt_of(text, reason, lines=40):
    key = re.sub(r"\s*\(pid=\d+\)$", "", reason or "")
    i = text.find(key) if key else -1
    if i < 0:
        return None, None
    block = text[i:].splitlines()[:lines]
    # The first stack's innermost frame in gmplab's code (not in /usr/...:
    # libstdc++'s atomic_base.h says little about which site raced).
    stack = []
    for ln in block:
        if re.match(r"^\s*#\d+\s", ln):
            stack.append(ln)
        elif stack:
            break
    frame = next((ln for ln in stack if " /usr/" not in ln), stack[0] if stack else None)
    if frame:
        # "#0 execute /proc/self/cwd/runtime/proc.cc:1380:9 (bin+0x..) (BuildId: ..)"
        frame = re.sub(r"^\s*#\d+\s+(0x[0-9a-f]+\s+in\s+)?", "", frame)
        frame = re.sub(r"\s+\([^()]*\+0x[0-9a-f]+\).*$", "", frame)
        frame = frame.replace("/proc/self/cwd/", "").strip()
    return "\n".join(block), frame


def keep_artifact(path, outdir):
    if not outdir or not path or not os.path.exists(path):
        return None
    os.makedirs(outdir, exist_ok=True)
    dst = os.path.join(outdir, os.path.basename(path))
    shutil.copyfile(path, dst)
    return os.path.basename(path)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="check_mutant.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--mutant", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--order", required=True)
    p.add_argument("--budget", type=int, default=30,
                   help="seconds of fuzzing (all targets at once; default 30)")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--runtime-tests", default="",
                   help="the runtime tests of the mutant (RUNTIME_TESTS), comma-separated")
    p.add_argument("--no-tests", action="store_true",
                   help="do not run the runtime tests when fuzzing finds nothing")
    p.add_argument("--test-cap", type=int, default=240,
                   help="seconds one runtime test may run (default 240)")
    p.add_argument("--tests-total", type=int, default=900,
                   help="seconds all runtime tests together may run (default 900)")
    p.add_argument("--timeout", type=int, default=10,
                   help="libFuzzer -timeout per input (default 10)")
    args = p.parse_args(argv)
    if args.budget <= 0:
        p.error("--budget must be positive")
    args.targets = [t for t in args.targets.split(",") if t]
    bad = [t for t in args.targets if t not in TARGETS]
    if bad or not args.targets:
        p.error("--targets: unknown %s; targets: %s" % (",".join(bad), ",".join(TARGETS)))
    return args


def main(argv):
    args = parse_args(argv)
    d = os.path.join(ROOT, PACKAGE)
    binaries = {t: os.path.join(d, "%s_fuzz_%s" % (SCHEMA, t)) for t in args.targets}
    controls = {t: os.path.join(ROOT, "variants", "go_default_fuzz_" + t) for t in args.targets}
    for b in list(binaries.values()) + list(controls.values()):
        if not os.access(b, os.X_OK):
            print("check: error: %s is missing (build with --config=fuzz)" % b, file=sys.stderr)
            return 2
    outdir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
    work = tempfile.mkdtemp(prefix="mutant-", dir=os.environ.get("TEST_TMPDIR"))
    verdict = {"mutant": args.mutant, "site": args.site, "order": args.order,
               "budget_s": args.budget, "targets": args.targets}
    os.environ["GMP_MUTATE_SITE"] = args.mutant
    reached = {}
    for phase in ("fuzz", "tests"):
        reached[phase] = os.path.join(work, "reached-" + phase)
        os.makedirs(reached[phase], exist_ok=True)
    os.environ["GMP_MUTATE_REACHED"] = reached["fuzz"]
    start = time.time()
    print("check: %s (%s -> %s): fuzzing %s for %d s" % (
        args.mutant, args.site, args.order, ",".join(args.targets), args.budget), flush=True)
    ns = types.SimpleNamespace(time=args.budget, sanitizer="tsan", timeout=args.timeout,
                               rss_limit_mb=6144, replays=0)
    fuzz = campaign.run_canary(ns, args.mutant, args.targets, binaries, controls,
                               "fuzz", work, package="//" + PACKAGE)
    verdict["fuzz_s"] = round(time.time() - start, 1)
    verdict["reached_fuzz"] = args.mutant in os.listdir(reached["fuzz"])
    os.environ["GMP_MUTATE_REACHED"] = reached["tests"]
    verdict["rejected_findings"] = fuzz.get("rejected_findings", [])
    if fuzz["caught"]:
        artifact = os.path.join(campaign.ROOT, fuzz["artifact"])
        fuzz_log = os.path.join(os.path.dirname(artifact), "fuzz.log")
        excerpt, frame = report_excerpt(fuzz_log, fuzz["reason"])
        verdict.update({
            "verdict": "caught", "detector": "fuzz:" + fuzz["target"],
            "reason": re.sub(r"\s*\(pid=\d+\)$", "", fuzz["reason"]),
            "how": classify(fuzz["reason"]),
            "after_s": fuzz["time_to_detection_s"],
            "artifact": keep_artifact(artifact, outdir),
        })
        if frame:
            verdict["where"] = frame
        keep_artifact(fuzz_log, outdir)
        if excerpt:
            print("check: the finding's report (full log in the test's outputs):\n" + excerpt,
                  flush=True)
    elif not args.no_tests:
        tests = test_binaries()
        names = [n for n in args.runtime_tests.split(",") if n]
        missing = [n for n in names if n not in tests]
        if missing:
            print("check: error: runtime tests missing: %s" % ", ".join(missing),
                  file=sys.stderr)
            return 2
        t0 = time.time()
        controls = {n: os.path.join(ROOT, "variants", "go_default_" + n) for n in names}
        controls = {n: c for n, c in controls.items() if os.access(c, os.X_OK)}
        results, first = run_tests({n: tests[n] for n in names}, args.test_cap,
                                   t0 + args.tests_total, controls)
        verdict["tests"] = results
        verdict["reached_tests"] = args.mutant in os.listdir(reached["tests"])
        if first:
            if first.get("where"):
                verdict["where"] = first["where"]
            verdict.update({
                "verdict": "caught", "detector": "test:" + first["test"],
                "reason": first["reason"], "how": classify(first["reason"]),
                "after_s": round(verdict["fuzz_s"] + (time.time() - t0), 1),
            })
        elif any("skipped" in r for r in results):
            verdict.update({"verdict": "survived", "note": "some runtime tests skipped: out of time"})
    if "verdict" not in verdict:
        verdict["verdict"] = "survived"
    verdict["total_s"] = round(time.time() - start, 1)
    if outdir:
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, "verdict.json"), "w") as f:
            json.dump(verdict, f, indent=2)
    slim = {k: v for k, v in verdict.items() if k != "tests"}
    slim["tests"] = [{k: v for k, v in r.items() if k != "log_tail"}
                     for r in verdict.get("tests", [])]
    print("MUTANT_VERDICT " + json.dumps(slim, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
