"""Group testing over the mutant schema: many mutants per run.

The schema (//fuzz/mutate:m_schema) can weaken any set of sites at once
(GMP_MUTATE_SITE=a,b,c). A run with a group of mutants selected that finds
nothing clears every member: each was weakened for the whole run, so the
run was at least as hard on each as a run of that mutant alone would have
been, up to the scheduling luck of a race. A run that finds something is
attributed to members:

  tests  the failed test cases are rerun with each member alone; a member
         whose run fails (and go_default passes the same cases) is caught;
  fuzz   the finding's input is replayed with each member alone, the
         members whose functions the report names first; the first member
         whose replay fails is caught, the others go back to the queue. When
         no member reproduces it alone the group is split in two and each
         half runs again; a single mutant whose own run found something is
         caught even if its replays pass (a race that reproduces rarely).

Costs: a group that survives costs one run; the per-site Bazel checks
(NAME_check) cost one run per mutant and remain the way to fan a pass out
to remote executors.
"""

import os
import re
import shutil
import tempfile
import time
import types

import check_mutant

campaign = check_mutant.campaign
SCHEMA = check_mutant.SCHEMA
# Detectors whose report is evidence by itself: a TSan report or a runtime
# fatal error names the fault. Others (an assertion, a timeout) may be
# timing and must fail again.
SURE = ("tsan-race", "tsan-other", "runtime-fatal")


def log(msg):
    print("mutate: " + msg, flush=True)


class Selected:
    """Context manager: GMP_MUTATE_SITE and GMP_MUTATE_REACHED for the
    processes started inside it."""

    def __init__(self, mutants, reached_dir):
        self.mutants, self.reached_dir = mutants, reached_dir

    def __enter__(self):
        os.environ["GMP_MUTATE_SITE"] = ",".join(self.mutants)
        os.environ["GMP_MUTATE_REACHED"] = self.reached_dir
        return self

    def __exit__(self, *exc):
        os.environ.pop("GMP_MUTATE_SITE", None)
        os.environ.pop("GMP_MUTATE_REACHED", None)


def survivors(entries):
    return [e for e in entries if e["verdict"].startswith("survived")]


def chunks(items, k):
    return [items[i:i + k] for i in range(0, len(items), k)]


# ----------------------------------------------------------------------------
# Runtime tests


def test_groups(entries, k, tests, controls, cap, total, control_runs=3):
    """Runs the schema's runtime tests over the entries still surviving, k
    mutants at a time, each group run stopping at its first failed test;
    the first mutant that fails the failed cases alone becomes caught (when
    go_default passes them), and the rest of its group runs again without
    it. A test that go_default fails too is left out of that group's next
    run. Returns one record per group run."""
    queue = [(g, frozenset()) for g in chunks(survivors(entries), k)]
    records = []
    while queue:
        group, skip = queue.pop(0)
        group = survivors(group)
        if not group:
            continue
        mutants = [e["mutant"] for e in group]
        reached = tempfile.mkdtemp(prefix="mutate-reached-")
        log("tests, run %d: %d mutants (%d more groups queued)%s" % (
            len(records) + 1, len(group), len(queue),
            " without %s" % ",".join(sorted(skip)) if skip else ""))
        t0 = time.time()
        run = {t: p for t, p in tests.items() if t not in skip}
        with Selected(mutants, reached):
            results, failed = check_mutant.run_tests(run, cap, time.time() + total,
                                                     fail_fast=True, quiet=True)
        rec = {"phase": "tests", "mutants": mutants, "seconds": round(time.time() - t0, 1),
               "failed": failed["test"] if failed else None,
               "skipped": [r["test"] for r in results if "skipped" in r] + sorted(skip),
               "caught": []}
        records.append(rec)
        hit = set(os.listdir(reached))
        shutil.rmtree(reached, ignore_errors=True)
        for e in group:
            e["reached_tests"] = e.get("reached_tests", False) or e["mutant"] in hit
            e["tests"] = "in a group of %d" % len(group)
            e["total_s"] = round(e.get("total_s", 0) + rec["seconds"], 1)
            if rec["skipped"]:
                e["note"] = "runtime tests not run: %s" % ",".join(rec["skipped"])
        if failed is None:
            continue
        test, log_tail = failed["test"], failed.get("log_tail", "")
        cases = check_mutant.failed_cases(log_tail)
        if test in controls and check_mutant.control_fails(controls[test], log_tail, cap,
                                                           control_runs):
            rec["note"] = "%s fails on go_default too: left out" % test
            log("tests: %s fails on go_default too; the group runs again without it" % test)
            queue.insert(0, (group, skip | {test}))
            continue
        for e in sorted(group, key=lambda e: mentioned(e, log_tail)):
            first, secs = run_alone(tests[test], cases, e["mutant"], cap)
            if first is None:
                continue
            if check_mutant.classify(first["reason"]) not in SURE:
                # A failed assertion or a timeout can be the machine's
                # timing: it counts when it fails again in two more runs.
                again = sum(run_alone(tests[test], cases, e["mutant"], cap)[0] is not None
                            for _ in range(2))
                if again == 0:
                    e["note"] = "%s failed once with it alone (%s), not in 2 more runs" % (
                        test, first["reason"])
                    continue
                first["reason"] += " (alone: failed %d of 3 runs)" % (again + 1)
            e.update({"verdict": "caught", "detector": "test:" + test,
                      "reason": first["reason"], "how": check_mutant.classify(first["reason"]),
                      "after_s": secs,
                      "tests": "in a group of %d, then alone: %s" % (
                          len(group), ",".join(cases) if cases else "the whole test")})
            if first.get("where"):
                e["where"] = first["where"]
            rec["caught"].append(e["mutant"])
            log("%s: caught by %s alone: %s" % (e["mutant"], test, first["reason"]))
            break
        if rec["caught"]:
            queue.insert(0, (survivors(group), skip))  # the others again, without it
        elif len(group) > 1:
            # Mutants that fail only together: two orders that each give the
            # same happens-before edge (either alone is redundant). Halve the
            # group until they are apart; each then survives on its own.
            half = (len(group) + 1) // 2
            rec["note"] = ("%s failed, but with no mutant of the group alone: halved"
                           % test)
            log("tests: %s failed, but with no mutant alone; halving the group" % test)
            together = [e["mutant"] for e in group]
            for e in group:
                e.setdefault("fails_together", []).append(
                    {"test": test, "with": [m for m in together if m != e["mutant"]]})
            queue[:0] = [(group[:half], skip), (group[half:], skip)]
        else:
            rec["note"] = "%s failed once, but not again: left out" % test
            log("tests: %s failed with %s, but not again; left out" % (
                test, group[0]["mutant"]))
            group[0]["note"] = "%s failed once with it, but not on a second run" % test
            queue.insert(0, (group, skip | {test}))
    return records


def mentioned(e, report):
    """Sort key: 0 when a report names the entry's function, else 1."""
    func = e["site"].split(":", 1)[1].rsplit("#", 1)[0].split("::")[-1]
    return 0 if re.search(r"\b%s\b" % re.escape(func), report) else 1


def run_alone(binary, cases, mutant, cap):
    """(failure or None, seconds) of one run of `cases` (all when empty) of
    a schema test binary with only `mutant` selected."""
    reached = tempfile.mkdtemp(prefix="mutate-reached-")
    args = ["--gtest_filter=" + ":".join(cases)] if cases else []
    t0 = time.time()
    with Selected([mutant], reached):
        rc, output, timed_out = check_mutant.run_binary(binary, args, cap)
    shutil.rmtree(reached, ignore_errors=True)
    secs = round(time.time() - t0, 1)
    if rc == 0:
        return None, secs
    r = {"reason": check_mutant.test_reason(output, rc, timed_out, cap)}
    _, frame = check_mutant.report_excerpt_of(output, r["reason"])
    if frame:
        r["where"] = frame
    return r, secs


# ----------------------------------------------------------------------------
# Fuzzers


def fuzz_groups(entries, k, binaries, controls, budget, timeout, work, replays=3):
    """Runs the schema's TSan fuzzers over the entries still surviving, k
    mutants at a time, until every one is caught or cleared. Returns one
    record per group run."""
    by_name = {e["mutant"]: e for e in entries}
    queue = chunks([e["mutant"] for e in survivors(entries)], k)
    records, runs = [], 0
    while queue:
        group = queue.pop(0)
        runs += 1
        reached = tempfile.mkdtemp(prefix="mutate-reached-")
        out = tempfile.mkdtemp(prefix="group-%d-" % runs, dir=work)
        log("fuzz, run %d: %d mutants (%d more groups queued)" % (runs, len(group), len(queue)))
        ns = types.SimpleNamespace(time=budget, sanitizer="tsan", timeout=timeout,
                                   rss_limit_mb=6144, replays=0)
        t0 = time.time()
        with Selected(group, reached):
            res = campaign.run_canary(ns, SCHEMA, list(binaries), binaries, controls,
                                      "fuzz", out, package="//fuzz/mutate")
        secs = round(time.time() - t0, 1)
        hit = set(os.listdir(reached))
        shutil.rmtree(reached, ignore_errors=True)
        rec = {"phase": "fuzz", "mutants": group, "seconds": secs,
               "caught": [], "rejected_findings": res.get("rejected_findings", [])}
        records.append(rec)
        for name in group:
            e = by_name[name]
            e["reached_fuzz"] = e.get("reached_fuzz", False) or name in hit
            e["fuzz"] = "in a group of %d, %.0f s, budget %d s" % (len(group), secs, budget)
            e["total_s"] = round(e.get("total_s", 0) + secs, 1)
            e["budget_s"] = budget
        if not res["caught"]:
            continue
        artifact = os.path.join(campaign.ROOT, res["artifact"])
        fuzz_log = os.path.join(os.path.dirname(artifact), "fuzz.log")
        excerpt, frame = check_mutant.report_excerpt(fuzz_log, res["reason"])
        target, reason = res["target"], re.sub(r"\s*\(pid=\d+\)$", "", res["reason"])
        rec["finding"] = {"target": target, "reason": reason, "where": frame}
        culprit = None
        for name in suspects(group, by_name, excerpt or ""):
            if replay_fails(binaries[target], artifact, name, timeout, replays):
                culprit = name
                break
        if culprit is None and len(group) == 1:
            culprit = group[0]  # its own run found it; the race is rare
            rec["note"] = "the finding did not reproduce in %d replays" % replays
        if culprit is None:
            half = (len(group) + 1) // 2
            log("fuzz: %s found %s; no single mutant reproduces it: splitting the "
                "group" % (target, reason))
            queue[:0] = [group[:half], group[half:]]
            continue
        e = by_name[culprit]
        e.update({"verdict": "caught", "detector": "fuzz:" + target, "reason": reason,
                  "how": check_mutant.classify(reason), "after_s": res["time_to_detection_s"],
                  "fuzz": "in a group of %d, found after %.1f s; the input fails with this "
                          "mutant alone" % (len(group), res["time_to_detection_s"])})
        if frame:
            e["where"] = frame
        if rec.get("note"):
            e["note"] = rec["note"]
        e["artifact"] = keep(artifact, work, culprit)
        rec["caught"].append(culprit)
        log("%s: caught by fuzz:%s: %s" % (culprit, target, reason))
        rest = [n for n in group if n != culprit]
        if rest:
            queue.insert(0, rest)
    return records


def suspects(group, by_name, report):
    """The group's mutants, those whose function or file the report names
    first."""
    def score(name):
        e = by_name[name]
        return (mentioned(e, report), 0 if os.path.basename(e["file"]) in report else 1)
    return sorted(group, key=score)


def replay_fails(binary, artifact, mutant, timeout, runs):
    """Whether `artifact` fails the schema fuzzer with only `mutant`
    selected, in any of `runs` runs."""
    reached = tempfile.mkdtemp(prefix="mutate-reached-")
    try:
        with Selected([mutant], reached):
            env = dict(os.environ, **campaign.SANITIZER_ENV["tsan"])
            return campaign.control_reproduces(binary, artifact, env, timeout, runs)
    finally:
        shutil.rmtree(reached, ignore_errors=True)


def keep(artifact, work, name):
    """Copies a finding's input next to the results; returns its path."""
    dst = os.path.join(work, "findings", name + "-" + os.path.basename(artifact))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(artifact, dst)
    return dst
