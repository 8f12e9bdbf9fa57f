#!/usr/bin/python3
"""gmplab fuzz campaigns: `./harness fuzz ...` runs this script.

    ./harness fuzz [--variant=V | --all-variants] [--target=T] [--time=S]
                   [--jobs=N] [--sanitizer=tsan|asan] [--canaries]
                   [--timeout=S] [--replays=N] [--keep-going] [--no-merge]
                   [--no-build] [--results=DIR] [--summary=FILE]

Campaign (default): builds //variants:<V>_fuzz_<T> with `--config=fuzz`
(libFuzzer + TSan) or `--config=fuzz-asan` (libFuzzer + ASan/UBSan), runs
libFuzzer for --time seconds per target (-max_total_time; with --jobs=N as
-jobs=N -workers=N; with --keep-going as -fork=N, going on past
findings), keeps every crash, leak and timeout artefact under
fuzz/results/<UTC time>/, merges the new inputs into fuzz/corpus/<T>/ with
-merge=1, prints a summary (executions, exec/s, coverage, corpus size,
findings) and writes it as JSON (reports/fuzz-summary.json by default).
Every finding is printed with the one command that reproduces it, and
that input is replayed --replays times (default 20) on the same binary with
the same sanitizer options: the summary gives its reproduction rate
(a data race or a lost wake-up may need many runs to show again).

--all-variants: one campaign per target for every non-canary variant with
fuzzers, go_default first. --time is then the budget per target for all
variants together (each gets an equal share, at least 5 s), and the variants
share one corpus per target: each campaign starts from the inputs the
earlier variants found, and the union is merged into fuzz/corpus/<T>/ at
the end. The summary lists every (variant, target) campaign.

--canaries: for every canary variant (name starting with canary_, see
variants/BUILD.bazel) runs all its fuzz targets at once until the first
finding or --time seconds (default 300), records the time to detection, and
exits non-zero, loudly, if any canary was not caught. A finding counts only
if go_default's fuzzer passes the same input (10 runs); otherwise it is
recorded as rejected and that target starts again.

Environment: GMPLAB_BAZEL (the bazel binary, default `bazel`),
GMPLAB_BAZEL_OUTPUT_BASE (passed as --output_base when set); BAZEL and
BAZEL_OUTPUT_BASE are read when those are unset (tools/bazel_cli.py).

Exit status: 0 = no finding (campaign) / every canary caught (--canaries);
1 = findings / a canary missed; 2 = bad arguments or a failed build.
"""

import argparse
import concurrent.futures
import datetime
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tools/bazel_cli.py and tools/fuzz_targets.py are imported where they are
# used: fuzz/mutate/check_mutant.py imports this file in tests whose runfiles
# hold this file alone.
sys.path.insert(0, os.path.join(ROOT, "tools"))
SANITIZER_CONFIG = {"tsan": "fuzz", "asan": "fuzz-asan"}
# clang 19's sanitizers symbolize through a matching llvm-symbolizer (package
# llvm-19, installed by ./harness setup); without it crash reports and
# findings show <null> frames.
SYMBOLIZER = "external_symbolizer_path=/usr/lib/llvm-19/bin/llvm-symbolizer"
SANITIZER_ENV = {
    "tsan": {"TSAN_OPTIONS": "halt_on_error=1:report_signal_unsafe=0:"
                             "second_deadlock_stack=1:" + SYMBOLIZER},
    "asan": {"ASAN_OPTIONS": "detect_leaks=1:detect_stack_use_after_return=0:"
                             "abort_on_error=1:" + SYMBOLIZER,
             "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:" + SYMBOLIZER},
}
# The least time one variant's campaign gets under --all-variants.
MIN_SHARE_S = 5
ARTIFACT_KINDS = ("crash", "leak", "timeout", "oom")
# Lines that name what went wrong, most specific first.
REASON_PATTERNS = [
    re.compile(r"fuzz invariant violated: .*"),
    re.compile(r"fatal error: .*"),
    re.compile(r"WARNING: ThreadSanitizer: .*"),
    re.compile(r"ERROR: AddressSanitizer: .*"),
    re.compile(r"ERROR: LeakSanitizer: .*"),
    re.compile(r"runtime error: .*"),
    re.compile(r"ERROR: libFuzzer: .*"),
    re.compile(r"==\d+== ERROR: libFuzzer: .*"),
]


class UsageError(Exception):
    pass


def log(msg):
    print("fuzz: " + msg, flush=True)


# ----------------------------------------------------------------------------
# Bazel


def target_names():
    """The fuzz targets' names: FUZZ_TARGETS in fuzz/defs.bzl."""
    import fuzz_targets as targets_mod  # pylint: disable=import-outside-toplevel
    return targets_mod.names(ROOT)


def bazel_cmd():
    import bazel_cli  # pylint: disable=import-outside-toplevel
    return bazel_cli.Bazel(root=ROOT).cmd()


def bazel_prefix_for_humans():
    return " ".join(shlex.quote(c) for c in bazel_cmd())


def run_bazel(args, capture=False):
    cmd = bazel_cmd() + args
    if capture:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            raise UsageError("`%s` failed (exit %d)" % (" ".join(cmd), p.returncode))
        return p.stdout
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    p = subprocess.run(cmd, cwd=ROOT)
    if p.returncode != 0:
        raise UsageError("`%s` failed (exit %d)" % (" ".join(cmd), p.returncode))
    return ""


def declared_fuzzers():
    """Returns {variant: set(targets)} from the fuzz binaries Bazel knows."""
    out = run_bazel(["query", "--output=label",
                     'attr(tags, "\\bfuzz\\b", kind(cc_binary, //variants:all))'],
                    capture=True)
    found = {}
    pat = re.compile(r"^//variants:(.+)_fuzz_(%s)$" % "|".join(target_names()))
    for line in out.split():
        m = pat.match(line.strip())
        if m:
            found.setdefault(m.group(1), set()).add(m.group(2))
    return found


def bazel_bin(config):
    return run_bazel(["info", "--config=" + config, "bazel-bin"],
                     capture=True).strip()


def build(labels, config):
    run_bazel(["build", "--config=" + config] + labels)


# ----------------------------------------------------------------------------
# libFuzzer logs


def parse_log(text):
    """Extracts libFuzzer's numbers from one log."""
    stats = {"executions": 0, "exec_per_sec": 0, "coverage": 0,
             "features": 0, "new_units": 0, "peak_rss_mb": 0}
    for key, name in (("executions", "number_of_executed_units"),
                      ("exec_per_sec", "average_exec_per_sec"),
                      ("new_units", "new_units_added"),
                      ("peak_rss_mb", "peak_rss_mb")):
        m = re.findall(r"stat::%s:\s+(\d+)" % name, text)
        if m:
            stats[key] = int(m[-1])
    progress = re.findall(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+)", text,
                          re.MULTILINE)
    # -fork mode: "#<runs>: cov: C ft: F corp: N exec/s: E oom/timeout/crash: ..."
    fork = re.findall(r"^#(\d+): cov: (\d+) ft: (\d+) corp: \d+ exec/s:? (\d+)",
                      text, re.MULTILINE)
    if fork:
        last = fork[-1]
        stats["executions"] = int(last[0])
        stats["coverage"] = int(last[1])
        stats["features"] = int(last[2])
        stats["exec_per_sec"] = int(last[3])
    elif progress:
        last = progress[-1]
        stats["coverage"] = int(last[1])
        stats["features"] = int(last[2])
        if not stats["executions"]:
            stats["executions"] = int(last[0])
    return stats


def reason_in(text):
    for pat in REASON_PATTERNS:
        m = pat.search(text)
        if m:
            return m.group(0).strip()
    return "unknown (see the log)"


def reason_by_replay(binary, artifact, env, timeout, runs=3):
    """Replays `artifact` until it fails (at most `runs` times) and returns
    the reason it printed, or None if it passed every time. libFuzzer's
    -fork mode keeps only the tail of a crashing job's log."""
    for _ in range(runs):
        try:
            p = subprocess.run([binary, "-timeout=%d" % timeout, artifact],
                               env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               errors="replace", timeout=timeout * 3 + 30)
        except subprocess.TimeoutExpired:
            return "hang (replay ran past %d s)" % (timeout * 3 + 30)
        if p.returncode != 0:
            return reason_in(p.stdout)
    return None


def reproduce_command(config, label, artifact):
    """The one shell command that replays `artifact` as a campaign does:
    the same binary and the same sanitizer options."""
    sanitizer = {v: k for k, v in SANITIZER_CONFIG.items()}[config]
    env = " ".join("%s=%s" % (k, shlex.quote(v))
                   for k, v in sorted(SANITIZER_ENV[sanitizer].items()))
    return "%s %s run --config=%s %s -- %s" % (
        env, bazel_prefix_for_humans(), config, label, shlex.quote(artifact))


def replay_rate(binary, artifact, env, timeout, runs):
    """Replays `artifact` `runs` times; returns how many runs failed.

    A run fails when the fuzzer exits non-zero (a crash, a sanitizer report,
    an invariant, libFuzzer's -timeout) or outlives three times the timeout.
    Runs go two at a time: replays of a hang cost `timeout` seconds each.
    """
    def one(_):
        try:
            p = subprocess.run([binary, "-timeout=%d" % timeout, artifact],
                               env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               timeout=timeout * 3 + 30)
        except subprocess.TimeoutExpired:
            return True
        return p.returncode != 0

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return sum(pool.map(one, range(runs)))


def add_reproduction(finding, binary, env, timeout, runs):
    if runs <= 0:
        return
    failed = replay_rate(binary, os.path.join(ROOT, finding["artifact"]), env,
                         timeout, runs)
    finding["replays"] = runs
    finding["reproduced"] = failed
    finding["reproduction_rate"] = round(failed / runs, 2)


def findings_in(results_dir, logs, label, config, variant, target):
    found = []
    for path in sorted(glob.glob(os.path.join(results_dir, "*-*"))):
        name = os.path.basename(path)
        kind = name.split("-", 1)[0]
        if kind not in ARTIFACT_KINDS or not os.path.isfile(path):
            continue
        reason = "unknown (see the log)"
        log_path = None
        for lp in logs:
            try:
                text = open(lp, errors="replace").read()
            except OSError:
                continue
            if name in text:
                reason = reason_in(text)
                log_path = lp
                break
        found.append({
            "variant": variant,
            "target": target,
            "kind": kind,
            "artifact": os.path.relpath(path, ROOT),
            "log": os.path.relpath(log_path, ROOT) if log_path else None,
            "reason": reason,
            "reproduce": reproduce_command(config, label, os.path.abspath(path)),
        })
    return found


# ----------------------------------------------------------------------------
# Campaigns


def fuzzer_args(args, target, results_dir, max_time):
    a = ["-max_total_time=%d" % max_time,
         "-timeout=%d" % args.timeout,
         "-rss_limit_mb=%d" % args.rss_limit_mb,
         "-print_final_stats=1",
         "-artifact_prefix=%s/" % results_dir]
    d = os.path.join(ROOT, "fuzz", target + ".dict")
    if os.path.exists(d):
        a.append("-dict=" + d)
    return a


def corpus_dir(target):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    if not os.path.isdir(d):
        raise UsageError("missing corpus directory %s (run "
                         "fuzz/tools/make_seeds.py)" % os.path.relpath(d, ROOT))
    return d


def count_files(d):
    return len([f for f in os.listdir(d) if os.path.isfile(os.path.join(d, f))])


def share_per_variant(total, variants):
    """Seconds per target each of `variants` campaigns gets out of `total`."""
    share = total // variants
    if share < MIN_SHARE_S:
        raise UsageError(
            "--time=%d shared by %d variants leaves %d s each; give at least %d"
            % (total, variants, share, MIN_SHARE_S * variants))
    return share


def run_campaign(args, variant, target, binary, config, stamp_dir,
                 max_time=None, new_corpus=None, merge=True):
    """One libFuzzer campaign of `max_time` seconds (default --time).

    New inputs go to `new_corpus` (default: the campaign's own directory);
    with `merge`, they are merged into fuzz/corpus/<target>/ afterwards.
    """
    label = "//variants:%s_fuzz_%s" % (variant, target)
    max_time = max_time or args.time
    seeds = corpus_dir(target)
    out = os.path.join(stamp_dir, "%s-%s-%s" % (variant, target, args.sanitizer))
    os.makedirs(out, exist_ok=True)
    new_corpus = new_corpus or os.path.join(out, "corpus")
    os.makedirs(new_corpus, exist_ok=True)
    env = dict(os.environ, **SANITIZER_ENV[args.sanitizer])
    cmd = [binary] + fuzzer_args(args, target, out, max_time)
    if args.keep_going:
        cmd += ["-fork=%d" % args.jobs, "-ignore_crashes=1",
                "-ignore_timeouts=1", "-ignore_ooms=1"]
    elif args.jobs > 1:
        cmd += ["-jobs=%d" % args.jobs, "-workers=%d" % args.jobs]
    cmd += [new_corpus, seeds]
    log("%s: fuzzing %d s (%s, %d job%s) -> %s" % (
        label, max_time, args.sanitizer, args.jobs, "s" if args.jobs > 1 else "",
        os.path.relpath(out, ROOT)))
    main_log = os.path.join(out, "fuzz.log")
    start = time.time()
    with open(main_log, "w") as f:
        rc = subprocess.run(cmd, cwd=out, env=env, stdout=f,
                            stderr=subprocess.STDOUT).returncode
    wall = time.time() - start
    logs = [main_log] + sorted(glob.glob(os.path.join(out, "fuzz-*.log")))
    per_log = [parse_log(open(lp, errors="replace").read()) for lp in logs]
    if args.jobs > 1 and not args.keep_going:
        per_log = per_log[1:] or per_log
    stats = {
        "executions": sum(s["executions"] for s in per_log),
        "exec_per_sec": sum(s["exec_per_sec"] for s in per_log),
        "coverage": max([s["coverage"] for s in per_log] or [0]),
        "features": max([s["features"] for s in per_log] or [0]),
        "new_units": sum(s["new_units"] for s in per_log),
        "peak_rss_mb": max([s["peak_rss_mb"] for s in per_log] or [0]),
    }
    findings = findings_in(out, logs, label, config, variant, target)
    for f in findings:
        if f["reason"].startswith(("unknown", "ERROR: libFuzzer: deadly",
                                   "==")) and f["kind"] == "crash":
            r = reason_by_replay(binary, os.path.join(ROOT, f["artifact"]), env,
                                 args.timeout)
            f["reason"] = (r + " (on replay)") if r else (
                f["reason"] + "; passed 3 replays (flaky)")
    for f in findings:
        add_reproduction(f, binary, env, args.timeout, args.replays)
    merged = 0
    if merge:
        merged = merge_corpus(args, binary, env, seeds, new_corpus, out)
    result = {
        "variant": variant,
        "target": target,
        "sanitizer": args.sanitizer,
        "time_s": max_time,
        "wall_s": round(wall, 1),
        "jobs": args.jobs,
        "keep_going": args.keep_going,
        "exit_code": rc,
        "corpus_size": count_files(seeds),
        "merged_into_corpus": merged,
        "results_dir": os.path.relpath(out, ROOT),
        "findings": findings,
    }
    result.update(stats)
    if args.keep_going and wall > 0:
        # -fork mode prints the current rate only; report the average.
        result["exec_per_sec"] = int(stats["executions"] / wall)
    if stats["executions"] == 0 and not findings:
        result["error"] = "libFuzzer ran no input (exit %d); see %s" % (
            rc, os.path.relpath(main_log, ROOT))
    return result


def merge_corpus(args, binary, env, seeds, new_corpus, out):
    """Merges `new_corpus` into `seeds` (libFuzzer -merge=1); returns how
    many files the corpus gained."""
    if args.no_merge or count_files(new_corpus) == 0:
        return 0
    before = count_files(seeds)
    mcmd = [binary, "-merge=1", "-timeout=%d" % args.timeout,
            "-rss_limit_mb=%d" % args.rss_limit_mb,
            "-artifact_prefix=%s/" % out, seeds, new_corpus]
    with open(os.path.join(out, "merge.log"), "w") as f:
        subprocess.run(mcmd, cwd=out, env=env, stdout=f,
                       stderr=subprocess.STDOUT)
    return count_files(seeds) - before


def control_reproduces(control, artifact, env, timeout, runs=10):
    """Whether the control fuzzer (go_default) also fails on `artifact`.

    A canary's finding counts only when the same input passes on the
    variant without the planted bug, so a bug of the runtime itself (or of
    the harness) is never taken for a caught canary.
    """
    for _ in range(runs):
        try:
            p = subprocess.run([control, "-timeout=%d" % timeout, artifact],
                               env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=timeout * 3 + 30)
        except subprocess.TimeoutExpired:
            return True
        if p.returncode != 0:
            return True
    return False


def run_canary(args, variant, targets, binaries, controls, config, stamp_dir,
               package="//variants"):
    """Runs every target of one canary variant at once until one finds.

    Also the fuzzing half of a memory-order mutant's check
    (fuzz/mutate/check_mutant.py), whose fuzzers live in `package`."""
    env = dict(os.environ, **SANITIZER_ENV[args.sanitizer])
    procs = {}
    start = time.time()
    deadline = start + args.time
    rejected = []

    def launch(target, attempt):
        out = os.path.join(stamp_dir, "%s-%s-%s%s" % (
            variant, target, args.sanitizer, "" if attempt == 0 else "-%d" % attempt))
        os.makedirs(os.path.join(out, "corpus"), exist_ok=True)
        left = max(1, int(deadline - time.time()))
        cmd = ([binaries[target]] + fuzzer_args(args, target, out, left) +
               [os.path.join(out, "corpus"), corpus_dir(target)])
        f = open(os.path.join(out, "fuzz.log"), "w")
        p = subprocess.Popen(cmd, cwd=out, env=env, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
        procs[target] = (p, out, f, attempt)

    for target in targets:
        launch(target, 0)
    caught = None
    while procs and caught is None and time.time() < deadline + 30:
        time.sleep(0.2)
        for target, (p, out, f, attempt) in list(procs.items()):
            if p.poll() is None:
                continue
            f.close()
            del procs[target]
            label = "%s:%s_fuzz_%s" % (package, variant, target)
            found = findings_in(out, [os.path.join(out, "fuzz.log")], label,
                                config, variant, target)
            if not found:
                # Ended before the cap without an artefact (a crash whose
                # input libFuzzer did not get to write): start it again.
                if time.time() < deadline - 5 and attempt < 5:
                    log("canary %s: %s ended after %.1f s without an artefact "
                        "(exit %s); starting it again" % (
                            variant, target, time.time() - start, p.returncode))
                    launch(target, attempt + 1)
                continue
            ttd = time.time() - start
            artifact = os.path.join(ROOT, found[0]["artifact"])
            if control_reproduces(controls[target], artifact, env, args.timeout):
                log("canary %s: %s finding also fails go_default, not the "
                    "canary's: %s" % (variant, target, found[0]["reason"]))
                rejected.append({"target": target, "after_s": round(ttd, 1),
                                 "reason": found[0]["reason"],
                                 "artifact": found[0]["artifact"]})
                if time.time() < deadline - 5 and attempt < 5:
                    launch(target, attempt + 1)
                continue
            caught = (target, ttd, found[0])
            break
    for target, (p, out, f, attempt) in procs.items():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)  # our own session only
        p.wait()
        f.close()
    name = variant[len("canary_"):]
    result = {"variant": variant, "canary": name, "caught": False,
              "cap_s": args.time, "targets": targets,
              "rejected_findings": rejected}
    if caught is not None:
        target, ttd, finding = caught
        add_reproduction(finding, binaries[target], env, args.timeout, args.replays)
        for k in ("replays", "reproduced", "reproduction_rate"):
            if k in finding:
                result[k] = finding[k]
        result.update({"caught": True, "target": target,
                       "time_to_detection_s": round(ttd, 1),
                       "reason": finding["reason"],
                       "artifact": finding["artifact"],
                       "reproduce": finding["reproduce"],
                       "control": "go_default passes the same input"})
    return result


# ----------------------------------------------------------------------------
# Summary


def write_summary(path, campaigns, canaries, args):
    summary = {}
    if os.path.exists(path):
        try:
            summary = json.load(open(path))
        except (OSError, ValueError):
            summary = {}
    summary["generated"] = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    summary["host"] = {"cpus": os.cpu_count()}
    if campaigns:
        keep = [c for c in summary.get("campaigns", [])
                if (c["variant"], c["target"], c["sanitizer"]) not in
                {(n["variant"], n["target"], n["sanitizer"]) for n in campaigns}]
        summary["campaigns"] = keep + campaigns
    if canaries is not None:
        summary["canaries"] = canaries
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")


def print_campaigns(campaigns):
    print()
    print("%-24s %-11s %-5s %10s %8s %6s %7s %8s" % (
        "variant", "target", "san", "execs", "exec/s", "cov", "corpus",
        "findings"))
    for c in campaigns:
        print("%-24s %-11s %-5s %10d %8d %6d %7d %8d" % (
            c["variant"], c["target"], c["sanitizer"], c["executions"],
            c["exec_per_sec"], c["coverage"], c["corpus_size"],
            len(c["findings"])))
    for c in campaigns:
        if c.get("error"):
            print("  ERROR %s/%s: %s" % (c["variant"], c["target"], c["error"]))
        for f in c["findings"]:
            print("  FINDING %s/%s %s: %s" % (c["variant"], c["target"],
                                             f["kind"], f["reason"]))
            if "replays" in f:
                print("    reproduced %d of %d replays" % (f["reproduced"], f["replays"]))
            print("    artefact:  %s" % f["artifact"])
            print("    reproduce: %s" % f["reproduce"])


def print_canaries(canaries):
    print()
    print("%-32s %-8s %-11s %8s  %s" % ("canary variant", "caught", "target",
                                        "ttd (s)", "reason"))
    for c in canaries:
        print("%-32s %-8s %-11s %8s  %s" % (
            c["variant"], "yes" if c["caught"] else "NO", c.get("target", "-"),
            c.get("time_to_detection_s", "-"), c.get("reason", "")))
    for c in canaries:
        if c["caught"]:
            print("  %s reproduce: %s" % (c["variant"], c["reproduce"]))
            if "replays" in c:
                print("  %s reproduced %d of %d replays" % (
                    c["variant"], c["reproduced"], c["replays"]))
        else:
            print("CANARY NOT CAUGHT: %s ran %d s on %s without a finding" % (
                c["variant"], c["cap_s"], ", ".join(c["targets"])))


# ----------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="harness fuzz",
        description="Run gmplab's libFuzzer campaigns (see fuzz/README.md).")
    p.add_argument("--variant", default=None,
                   help="variant to fuzz (default go_default); with "
                        "--canaries, the one canary variant to run")
    targets = target_names()
    p.add_argument("--target", action="append", default=None,
                   help="fuzz target: %s (default: all; repeatable)" %
                   ", ".join(targets))
    p.add_argument("--time", type=int, default=None,
                   help="seconds per target (campaign, default 60) or the cap "
                        "per canary (--canaries, default 300)")
    p.add_argument("--jobs", type=int, default=1,
                   help="parallel libFuzzer jobs per target (default 1)")
    p.add_argument("--sanitizer", default="tsan", choices=sorted(SANITIZER_CONFIG))
    p.add_argument("--all-variants", dest="all_variants", action="store_true",
                   help="fuzz every non-canary variant, sharing --time per "
                        "target among them and one corpus per target")
    p.add_argument("--canaries", action="store_true",
                   help="prove every canary variant is caught")
    p.add_argument("--replays", type=int, default=20,
                   help="replays of each finding for its reproduction rate "
                        "(default 20; 0 = none)")
    p.add_argument("--timeout", type=int, default=10,
                   help="libFuzzer -timeout: seconds one input may run (default 10)")
    p.add_argument("--rss-limit-mb", dest="rss_limit_mb", type=int, default=6144)
    p.add_argument("--keep-going", action="store_true",
                   help="do not stop at the first finding: libFuzzer -fork=JOBS "
                        "with -ignore_crashes/-ignore_timeouts/-ignore_ooms")
    p.add_argument("--no-merge", action="store_true",
                   help="do not merge new inputs into fuzz/corpus/")
    p.add_argument("--results", default=None,
                   help="results directory (default fuzz/results/<UTC time>)")
    p.add_argument("--summary", default=os.path.join(ROOT, "reports",
                                                     "fuzz-summary.json"))
    p.add_argument("--no-build", action="store_true",
                   help="use the fuzzers already built")
    args = p.parse_args(argv)
    if args.time is None:
        args.time = 300 if args.canaries else 60
    if args.time <= 0:
        raise UsageError("--time must be a positive number of seconds, got %d" % args.time)
    if args.jobs <= 0:
        raise UsageError("--jobs must be at least 1, got %d" % args.jobs)
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive, got %d" % args.timeout)
    for t in args.target or []:
        if t not in targets:
            raise UsageError("unknown target %r; targets: %s" % (t, ", ".join(targets)))
    if args.replays < 0:
        raise UsageError("--replays must be 0 or more, got %d" % args.replays)
    if args.all_variants and (args.variant or args.canaries):
        raise UsageError("--all-variants fuzzes every non-canary variant; "
                         "drop --variant/--canaries")
    if args.canaries and args.keep_going:
        raise UsageError("--canaries stops at the first finding; drop --keep-going")
    if args.canaries and args.variant and not args.variant.startswith("canary_"):
        raise UsageError("--canaries with --variant takes a canary variant "
                         "(canary_*), got %r" % args.variant)
    return args


def main(argv):
    try:
        args = parse_args(argv)
        targets = args.target or target_names()
        for t in targets:
            corpus_dir(t)
        config = SANITIZER_CONFIG[args.sanitizer]
        fuzzers = declared_fuzzers()
        if args.canaries:
            variants = sorted(v for v in fuzzers if v.startswith("canary_"))
            if args.variant:
                if args.variant not in variants:
                    raise UsageError("unknown canary variant %r; canaries: %s" % (
                        args.variant, ", ".join(variants)))
                variants = [args.variant]
            if not variants:
                raise UsageError("no canary variants (canary_*) are declared "
                                 "in variants/BUILD.bazel")
        elif args.all_variants:
            variants = sorted((v for v in fuzzers if not v.startswith("canary_")),
                              key=lambda v: (v != "go_default", v))
            if not variants:
                raise UsageError("no non-canary variant has fuzzers")
            share_per_variant(args.time, len(variants))
        else:
            variant = args.variant or "go_default"
            if variant not in fuzzers:
                raise UsageError("unknown variant %r; variants with fuzzers: %s" % (
                    variant, ", ".join(sorted(fuzzers)) or "none"))
            variants = [variant]
        for v in variants:
            missing = [t for t in targets if t not in fuzzers[v]]
            if missing:
                raise UsageError("variant %s has no fuzz target %s" % (v, ", ".join(missing)))
        build_variants = variants + (["go_default"] if args.canaries else [])
        labels = ["//variants:%s_fuzz_%s" % (v, t) for v in build_variants
                  for t in targets]
        if not args.no_build:
            build(labels, config)
        bin_dir = bazel_bin(config)
        binaries = {}
        for v in build_variants:
            for t in targets:
                b = os.path.join(bin_dir, "variants", "%s_fuzz_%s" % (v, t))
                if not os.access(b, os.X_OK):
                    raise UsageError("fuzzer %s is not built (drop --no-build)" % b)
                binaries[(v, t)] = b
        stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        stamp_dir = os.path.abspath(args.results or os.path.join(
            ROOT, "fuzz", "results", stamp + ("-canaries" if args.canaries else "")))
        os.makedirs(stamp_dir, exist_ok=True)
    except UsageError as e:
        print("harness fuzz: error: %s" % e, file=sys.stderr)
        return 2

    if args.canaries:
        canaries = []
        for v in variants:
            log("canary %s: all of %s at once, cap %d s" % (v, ", ".join(targets), args.time))
            r = run_canary(args, v, targets, {t: binaries[(v, t)] for t in targets},
                           {t: binaries[("go_default", t)] for t in targets},
                           config, stamp_dir)
            log("canary %s: %s" % (v, ("caught in %.1f s by %s: %s" % (
                r["time_to_detection_s"], r["target"], r["reason"]))
                if r["caught"] else "NOT CAUGHT"))
            canaries.append(r)
        if args.variant and os.path.exists(args.summary):
            # One canary rerun: keep the other canaries' last results.
            try:
                old = json.load(open(args.summary)).get("canaries", [])
            except (OSError, ValueError):
                old = []
            canaries = [c for c in old if c["variant"] != args.variant] + canaries
        write_summary(args.summary, [], canaries, args)
        with open(os.path.join(stamp_dir, "summary.json"), "w") as f:
            json.dump({"canaries": canaries}, f, indent=2)
        print_canaries(canaries)
        log("summary written to %s" % os.path.relpath(args.summary, ROOT))
        return 0 if all(c["caught"] for c in canaries) else 1

    campaigns = []
    if args.all_variants:
        share = share_per_variant(args.time, len(variants))
        log("%d variants x %d s per target, one shared corpus per target" % (
            len(variants), share))
        env = dict(os.environ, **SANITIZER_ENV[args.sanitizer])
        shared = {t: os.path.join(stamp_dir, "shared-%s-%s" % (t, args.sanitizer))
                  for t in targets}
        for v in variants:
            for t in targets:
                campaigns.append(run_campaign(
                    args, v, t, binaries[(v, t)], config, stamp_dir,
                    max_time=share, new_corpus=shared[t], merge=False))
        for t in targets:
            gained = merge_corpus(args, binaries[(variants[0], t)], env,
                                  corpus_dir(t), shared[t], shared[t])
            log("%s: %d inputs of the shared corpus merged into fuzz/corpus/%s" % (
                t, gained, t))
            for c in campaigns:
                if c["target"] == t:
                    c["corpus_size"] = count_files(corpus_dir(t))
    else:
        for t in targets:
            campaigns.append(run_campaign(args, variants[0], t,
                                          binaries[(variants[0], t)], config,
                                          stamp_dir))
    write_summary(args.summary, campaigns, None, args)
    with open(os.path.join(stamp_dir, "summary.json"), "w") as f:
        json.dump({"campaigns": campaigns}, f, indent=2)
    print_campaigns(campaigns)
    log("results in %s; summary written to %s" % (
        os.path.relpath(stamp_dir, ROOT), os.path.relpath(args.summary, ROOT)))
    bad = any(c["findings"] or c.get("error") for c in campaigns)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
