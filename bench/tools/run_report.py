#!/usr/bin/python3
"""bench/tools/run_report.py — `./harness report`: build, benchmark, compare.

Builds the selected variants' benchmark binaries and the peers with
--config=opt, runs every workload with repetitions, and writes
reports/<date>-<host>/REPORT.md with its CSV/JSON tables and PNG plots.
Progress goes to stdout; a failed benchmark or a missing peer is noted in the
report; Ctrl-C stops measuring and still writes the report.
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import catalog  # noqa: E402
import report  # noqa: E402
import runner  # noqa: E402

USAGE = """usage: ./harness report [--quick] [--variants=a,b|none] [--peers=go,boost_fiber,tbb,thread|none]
                       [--procs=1,2,4] [--workloads=A,B] [--out DIR] [--reps N]
                       [--min-time SECONDS] [--million N] [--million-reps N]
                       [--million-variants=a,b] [--fuzz-summary PATH]
                       [--timeout SECONDS] [--bazel-output-base DIR] [--no-build]
                       [--from-json DIR/samples.json]

  --quick          3 repetitions, procs 1 and the CPUs, MillionParked with 200,000
                   goroutines: a few minutes here
  --variants=LIST  gmplab variants, or none (default: every non-canary variant in variants/)
  --peers=LIST     peers among go,boost_fiber,tbb,thread, or none (default: all)
  --procs=LIST     processor counts, e.g. 1,2,4 (default: 1,2,4,... up to 2x the CPUs;
                   1 and the CPUs with --quick)
  --workloads=LIST only these workloads (default: all; see bench/README.md)
  --out DIR        output directory (default: reports/<date>-<host>)
  --reps N         repetitions per cell (default 10; 3 with --quick)
  --min-time S     minimum seconds per repetition (default 0.05; 0.01 with --quick)
  --million N      goroutines in MillionParked (default 1000000; 200000 with --quick)
  --million-reps N MillionParked repetitions, one cold process each (default 3; 1 with --quick)
  --million-variants=LIST  variants that run MillionParked (default go_default,compact_stacks,
                   go_default only with --quick: the stack policy is what changes its
                   memory, and each run takes ~20 s here)
  --fuzz-summary P fuzz campaign summary to include (default reports/fuzz-summary.json)
  --timeout S      per-process limit in seconds (default 300; 120 with --quick)
  --bazel-output-base DIR  Bazel --output_base (default $GMPLAB_BAZEL_OUTPUT_BASE)
  --no-build       use the binaries already built with --config=opt (the report says so)
  --from-json F    rewrite a report from its samples.json without measuring again
"""


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_list(text, what):
    items = [x.strip() for x in text.split(",")]
    if not text or any(not x for x in items):
        raise UsageError("bad %s list %r (want comma-separated names)" % (what, text))
    return items


def parse_procs(text):
    items = text.split(",") if text else []
    procs = []
    for x in items:
        if not re.fullmatch(r"[0-9]+", x.strip() or "-") or not 1 <= int(x) <= 1024:
            raise UsageError("bad --procs list %r (want positive integers such as 1,2,4)" % text)
        p = int(x)
        if p not in procs:
            procs.append(p)
    if not procs:
        raise UsageError("bad --procs list %r (want positive integers such as 1,2,4)" % text)
    return procs


def default_procs(n):
    procs, p = [], 1
    while p <= 2 * n:
        procs.append(p)
        p *= 2
    if procs[-1] != 2 * n:
        procs.append(2 * n)
    return procs


def parse_args(argv):
    ap = Parser(add_help=False)
    ap.add_argument("-h", "--help", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--variants")
    ap.add_argument("--peers")
    ap.add_argument("--procs")
    ap.add_argument("--workloads")
    ap.add_argument("--out")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--min-time", type=float)
    ap.add_argument("--million", type=int)
    ap.add_argument("--million-reps", type=int)
    ap.add_argument("--million-variants")
    ap.add_argument("--fuzz-summary")
    ap.add_argument("--timeout", type=int)
    ap.add_argument("--bazel-output-base")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--from-json")
    a = ap.parse_args(argv)
    if a.help:
        return a
    if a.procs is not None:
        a.procs = parse_procs(a.procs)
    elif a.quick:  # 1 and the CPUs: the sweep past the CPUs is the full run's
        a.procs = sorted({1, os.cpu_count() or 1})
    else:
        a.procs = default_procs(os.cpu_count() or 1)
    if a.peers is None:
        a.peers = list(catalog.PEERS)
    elif a.peers == "none":
        a.peers = []
    else:
        a.peers = parse_list(a.peers, "--peers")
        bad = [p for p in a.peers if p not in catalog.PEERS]
        if bad:
            raise UsageError("unknown peer(s) %s; known: %s" % (", ".join(bad), ",".join(catalog.PEERS)))
    if a.workloads is not None:
        a.workloads = parse_list(a.workloads, "--workloads")
        bad = [w for w in a.workloads if w not in catalog.WORKLOAD_NAMES]
        if bad:
            raise UsageError("unknown workload(s) %s; known: %s"
                             % (", ".join(bad), ",".join(catalog.WORKLOAD_NAMES)))
    else:
        a.workloads = list(catalog.WORKLOAD_NAMES)
    if a.variants == "none":
        a.variants = []
    elif a.variants is not None:
        a.variants = parse_list(a.variants, "--variants")
    if a.reps is None:
        a.reps = 3 if a.quick else 10
    if a.reps < 1:
        raise UsageError("--reps must be at least 1")
    if a.min_time is None:
        a.min_time = 0.01 if a.quick else 0.05
    if a.min_time <= 0:
        raise UsageError("--min-time must be positive")
    if a.million is None:
        a.million = 200000 if a.quick else 1000000
    if a.million < 1:
        raise UsageError("--million must be positive")
    if a.million_reps is None:
        a.million_reps = 1 if a.quick else 3
    if a.million_reps < 1:
        raise UsageError("--million-reps must be at least 1")
    if a.million_variants is None:
        a.million_variants = ["go_default"] if a.quick else ["go_default", "compact_stacks"]
    elif a.million_variants == "none":
        a.million_variants = []
    else:
        a.million_variants = parse_list(a.million_variants, "--million-variants")
    if a.timeout is None:
        a.timeout = 120 if a.quick else 300
    return a


def machine_context(bazel_ctx):
    ctx = {}
    ctx["date (UTC)"] = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")
    ctx["host"] = socket.gethostname()
    ctx["kernel"] = " ".join(platform.uname()[0:3:2]) + " " + platform.release()
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            ctx["cpu"] = m.group(1) if m else "?"
    except OSError:
        pass
    ctx["logical CPUs"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            ctx["memory"] = f.readline().split(":")[1].strip()
    except OSError:
        pass
    for k in ("mhz_per_cpu", "cpu_scaling_enabled", "library_build_type", "caches"):
        if k in bazel_ctx:
            v = bazel_ctx[k]
            if k == "caches":
                v = ", ".join("L%d %s %dKiB" % (c["level"], c["type"], c["size"] // 1024) for c in v)
            ctx["gbench " + k] = v
    try:
        ctx["compiler"] = subprocess.run(["clang-19", "--version"], text=True,
                                         stdout=subprocess.PIPE).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    ctx["go"] = runner.go_version()
    if os.environ.get("GMPLAB_GIT_REV"):  # a tree exported with `git archive`
        ctx["git"] = os.environ["GMPLAB_GIT_REV"]
        return ctx
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=runner.ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=runner.ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL).stdout.strip()
        ctx["git"] = head + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        pass
    return ctx


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def _terminate(signum, frame):
    raise KeyboardInterrupt()


def main(argv):
    # Ctrl-C (and SIGTERM) stop measuring but still write the report, even when
    # started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("run_report: interrupted before anything was measured\n")
        return 130


def _main(argv):
    try:
        a = parse_args(argv)
    except UsageError as e:
        sys.stderr.write("run_report: %s\n\n%s" % (e, USAGE))
        return 2
    if a.help:
        sys.stdout.write(USAGE)
        return 0
    if a.from_json:
        with open(a.from_json) as f:
            d = json.load(f)
        out_dir = a.out or os.path.dirname(os.path.abspath(a.from_json))
        fuzz = None
        fuzz_path = a.fuzz_summary or os.path.join(runner.ROOT, d["meta"].get("fuzz_path", ""))
        if os.path.isfile(fuzz_path):
            with open(fuzz_path) as f:
                fuzz = json.load(f)
        d["meta"]["fuzz_path"] = os.path.relpath(fuzz_path, runner.ROOT)
        report.write_report(out_dir, d["samples"], [tuple(e) for e in d["errors"]], d["notes"],
                            d["meta"], fuzz)
        runner.log("report rewritten: %s" % os.path.join(out_dir, "REPORT.md"))
        return 0
    t_start = time.time()
    bazel = runner.Bazel(a.bazel_output_base or os.environ.get("GMPLAB_BAZEL_OUTPUT_BASE"))
    try:
        known, canaries = runner.variant_names(bazel)
    except RuntimeError as e:
        sys.stderr.write("run_report: cannot list variants: %s\n" % e)
        return 1
    if a.variants is None:
        a.variants = known
    else:
        bad = [v for v in a.variants if v not in known and v not in canaries]
        if bad:
            sys.stderr.write("run_report: unknown variant(s) %s; known: %s\n"
                             % (", ".join(bad), ",".join(known + canaries)))
            return 2
    host = socket.gethostname().split(".")[0]
    out_dir = a.out or os.path.join(
        runner.ROOT, "reports", "%s-%s" % (datetime.datetime.utcnow().strftime("%Y-%m-%d"), host))
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="gmplab_report_")
    runner.log("report: variants=%s peers=%s procs=%s reps=%d min_time=%gs -> %s"
               % (",".join(a.variants), ",".join(a.peers) or "none",
                  ",".join(map(str, a.procs)), a.reps, a.min_time, out_dir))

    notes, errors, samples = [], [], []
    load_start = loadavg()
    targets = ["//variants:%s_bench" % v for v in a.variants]
    peer_targets = {"boost_fiber": "//bench:boost_fiber_bench", "tbb": "//bench:tbb_bench",
                    "thread": "//bench:thread_bench"}
    targets += [peer_targets[p] for p in a.peers if p in peer_targets]
    bin_dir = bazel.bin_dir()
    if a.no_build:
        built = {}
        for t in targets:
            pkg, name = t[2:].split(":")
            built[t] = os.access(os.path.join(bin_dir, pkg, name), os.X_OK)
        notes.append("--no-build: binaries were not rebuilt for this report; they are "
                     "whatever `bazel build --config=opt` last produced")
    else:
        built = bazel.build(targets)

    def binary(target):
        pkg, name = target[2:].split(":")
        return os.path.join(bin_dir, pkg, name)

    systems = []  # (system, kind, binary)
    describe = {}
    for v in a.variants:
        t = "//variants:%s_bench" % v
        if not built.get(t):
            notes.append("variant **%s**: build of %s failed; not measured" % (v, t))
            continue
        systems.append((v, "variant", binary(t)))
        describe[v] = runner.describe(binary(t))
    for p in a.peers:
        if p == "go":
            gobin, err = runner.go_test_binary(work)
            if err:
                notes.append("peer **go** missing: %s" % err)
                continue
            systems.append(("go", "go", gobin))
            describe["go"] = runner.go_version()
        else:
            t = peer_targets[p]
            if not built.get(t):
                notes.append("peer **%s** missing: build of %s failed" % (p, t))
                continue
            systems.append((p, "peer", binary(t)))
            describe[p] = runner.describe(binary(t))

    settings = {"reps": a.reps, "min_time": a.min_time, "million": a.million,
                "million_reps": a.million_reps, "timeout": a.timeout}
    jobs = []
    hw = os.cpu_count() or 1
    for system, kind, path in systems:
        if kind == "go":
            jobs += runner.plan_go(path, a.workloads, a.procs, settings, hw)
        else:
            wl = a.workloads
            if kind == "variant" and system not in a.million_variants:
                wl = [w for w in wl if w != "MillionParked"]
            if kind == "peer":
                wl = [w for w in wl if catalog.peer_supports(system, w)[0]]
            jobs += runner.plan_gbench(system, path, wl, a.procs, settings,
                                       peer=system if kind == "peer" else None)
    # Interleave: each workload runs on every system before the next workload,
    # so a burst of outside load hits the systems compared alike.
    order = {w: i for i, w in enumerate(catalog.WORKLOAD_NAMES)}
    def rep_of(job):
        m = re.search(r" rep (\d+)/", job.label)
        return int(m.group(1)) if m else 0

    jobs = [j for _, j in sorted(enumerate(jobs), key=lambda ij: (
        order.get(ij[1].workload, len(order)), rep_of(ij[1]), ij[0]))]
    interrupted = False
    gbench_ctx = {}
    for i, job in enumerate(jobs, 1):
        try:
            s, e, ctx = runner.run_job(job, work, i, len(jobs))
        except runner.Interrupted:
            interrupted = True
            notes.append("interrupted by Ctrl-C at job %d of %d (%s %s); later jobs not run"
                         % (i, len(jobs), job.system, job.label))
            break
        samples += s
        errors += e
        if ctx and job.system == "go_default" and not gbench_ctx:
            gbench_ctx = ctx
        elif ctx and not gbench_ctx:
            gbench_ctx = ctx

    machine = machine_context(gbench_ctx)
    machine["load average (start / end)"] = "%s / %s" % (load_start, loadavg())
    machine["elapsed"] = "%.0f s" % (time.time() - t_start)
    machine["note"] = ("a shared 2-core VM: other processes (builds, fuzzers) may run "
                       "beside the benchmarks; see the load average") if hw <= 2 else ""
    fuzz_path = a.fuzz_summary or os.path.join(runner.ROOT, "reports", "fuzz-summary.json")
    fuzz = None
    if os.path.exists(fuzz_path):
        try:
            with open(fuzz_path) as f:
                fuzz = json.load(f)
        except (OSError, ValueError) as e:
            notes.append("fuzz summary %s unreadable: %s" % (fuzz_path, e))
    elif a.fuzz_summary:
        notes.append("fuzz summary %s not found" % fuzz_path)
    meta = {
        "title": "%s, %s" % (machine["date (UTC)"], machine["host"]),
        "command": "./harness report " + " ".join(argv),
        "variants": [s for s, k, _ in systems if k == "variant"] or a.variants,
        "peers": a.peers,
        "procs": ",".join(map(str, a.procs)),
        "reps": a.reps, "million_reps": a.million_reps,
        "million_variants": ",".join(a.million_variants), "min_time": a.min_time,
        "million": a.million, "describe": describe,
        "defines": runner.variant_defines(bazel, a.variants),
        "machine": machine, "interrupted": interrupted,
        "fuzz_path": os.path.relpath(fuzz_path, runner.ROOT),
    }
    try:
        report.write_report(out_dir, samples, errors, notes, meta, fuzz)
    except KeyboardInterrupt:
        sys.stderr.write("run_report: interrupted while writing; partial report in %s\n" % out_dir)
        return 130
    runner.log("report written: %s (%d samples, %d problems, %.0fs)"
               % (os.path.join(out_dir, "REPORT.md"), len(samples), len(errors) + len(notes),
                  time.time() - t_start))
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
