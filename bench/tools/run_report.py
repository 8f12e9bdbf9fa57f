#!/usr/bin/python3
"""bench/tools/run_report.py — `./harness report`: build, benchmark, compare.

Builds the selected variants' benchmark binaries (each in its layout copies)
and the peers with --config=opt, checks that the machine is quiet, runs the
workloads as randomized interleaved blocks of one-process samples (see
design.py), confirms the best policies in a second round, and writes
reports/<date>-<host>/REPORT.md with its CSV/JSON tables and PNG plots.
`--compare A B` lists the verdicts two reports disagree on.
Progress goes to stdout; a failed process or a missing peer is noted in the
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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

import analysis  # noqa: E402
import arg_types  # noqa: E402  (tools/arg_types.py)
import bazel_cli  # noqa: E402  (tools/bazel_cli.py)
import catalog  # noqa: E402
import compare  # noqa: E402
import design  # noqa: E402
import report  # noqa: E402
import runner  # noqa: E402

USAGE = """%(prog)s [--quick] [--variants=a,b|none] [--peers=go,tokio,boost_fiber,tbb,thread|none]
                       [--procs=1,2,4] [--workloads=A,B] [--out DIR] [--blocks N]
                       [--confirm-blocks N] [--min-time SECONDS] [--million N]
                       [--million-reps N] [--million-variants=a,b|none] [--seed N]
                       [--allow-load] [--no-floor] [--fuzz-summary PATH] [--timeout SECONDS]
                       [--bazel-output-base DIR] [--no-build] [--from-json DIR/samples.json]
       %(prog)s --compare DIR_A DIR_B"""

DESCRIPTION = """\
Every sample is one process. Block k runs every system once per workload, in a
fresh random order, each gmplab variant in a layout copy of its own; systems are
compared within blocks (Hodges-Lehmann ratio, exact 95% CI, Wilcoxon signed-rank
test, Holm or Benjamini-Hochberg per table). An A/A control (aa_control: go_default
at another code layout) calibrates every report."""


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


def default_procs(n):
    procs, p = [], 1
    while p <= 2 * n:
        procs.append(p)
        p *= 2
    if procs[-1] != 2 * n:
        procs.append(2 * n)
    return procs


def parser():
    """The command line of `./harness report`; -h/--help is a flag that _main
    answers (so that asking for help needs no machine and exits 0)."""
    ap = Parser(prog="./harness report", usage=USAGE, description=DESCRIPTION,
                formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False)
    ap.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    ap.add_argument("--quick", action="store_true",
                    help="go_default and aa_control against every peer, 16 blocks, procs 1 "
                         "and the CPUs, MillionParked with 200,000 goroutines: about 5 "
                         "minutes here")
    ap.add_argument("--variants", metavar="LIST",
                    help="gmplab variants, or none (default: every non-canary variant in "
                         "variants/; --quick: go_default,aa_control)")
    ap.add_argument("--peers", metavar="LIST",
                    help="peers among go,tokio,boost_fiber,tbb,thread, or none (default: "
                         "all; tokio is built from bench/tokio with Debian's /usr/bin/cargo, "
                         "offline)")
    ap.add_argument("--procs", metavar="LIST", type=arg_types.procs_list,
                    help="processor counts, e.g. 1,2,4 (default: 1,2,4,... up to 2x the "
                         "CPUs; 1 and the CPUs with --quick)")
    ap.add_argument("--workloads", metavar="LIST",
                    help="only these workloads (default: all; see bench/README.md)")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: reports/<date>-<host>)")
    ap.add_argument("--blocks", "--reps", type=int, dest="blocks", metavar="N",
                    help="randomized blocks, i.e. samples per cell (default 16: as many as a "
                         "variant has layout copies; --reps is the same flag)")
    ap.add_argument("--confirm-blocks", type=int, metavar="N",
                    help="blocks of the best-policy confirmation round (default 16; 0 skips "
                         "it)")
    ap.add_argument("--min-time", type=float, metavar="S",
                    help="minimum seconds each benchmark runs inside its process (default "
                         "0.03; 0.02 with --quick)")
    ap.add_argument("--million", type=int, metavar="N",
                    help="goroutines in MillionParked (default 1000000; 200000 with --quick)")
    ap.add_argument("--million-reps", type=int, metavar="N",
                    help="MillionParked blocks, one cold process per system each (default 3)")
    ap.add_argument("--million-variants", metavar="LIST",
                    help="variants that run MillionParked (default go_default,compact_stacks; "
                         "go_default with --quick), or none")
    ap.add_argument("--seed", type=int, metavar="N",
                    help="seed of the randomization (default: from the clock; the report "
                         "records it)")
    ap.add_argument("--allow-load", action="store_true",
                    help="measure even when other processes keep the machine busy (the report "
                         "says so at the top); without it a busy machine is refused")
    ap.add_argument("--no-floor", action="store_true",
                    help="skip the floor (//bench:floor_bench: WakeupParallelSpinning, Syscall "
                         "and MillionParked's unavoidable part on plain threads) and the "
                         "report's \"Time above the floor\" section; by default it runs in "
                         "those workloads' blocks")
    ap.add_argument("--fuzz-summary", metavar="P",
                    help="fuzz campaign summary to include (default "
                         "reports/fuzz-summary.json)")
    ap.add_argument("--timeout", type=int, metavar="S",
                    help="per-process limit in seconds, at least 1 (default 120)")
    ap.add_argument("--bazel-output-base", metavar="DIR",
                    help="Bazel --output_base (default $%s)" % bazel_cli.OUTPUT_BASE_ENV)
    ap.add_argument("--no-build", action="store_true",
                    help="use the binaries already built with --config=opt (the report says "
                         "so)")
    ap.add_argument("--from-json", metavar="F",
                    help="rewrite a report from its samples.json without measuring again "
                         "(report.py F does the same)")
    ap.add_argument("--compare", nargs=2, metavar=("A", "B"),
                    help="list every cell whose verdict differs between reports A and B "
                         "(significant in one only, or opposite directions); writes nothing")
    return ap


def parse_args(argv):
    ap = parser()
    a = ap.parse_args(argv)
    if a.help or a.compare:
        return a
    if a.procs is None and a.quick:  # 1 and the CPUs: the sweep past the CPUs is the full run's
        a.procs = sorted({1, os.cpu_count() or 1})
    elif a.procs is None:
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
    elif a.quick:
        a.variants = [analysis.BASE, analysis.AA]
    if a.blocks is None:
        a.blocks = 16
    if a.blocks < 1:
        raise UsageError("--blocks must be at least 1")
    if a.confirm_blocks is None:
        a.confirm_blocks = 16
    if a.confirm_blocks < 0:
        raise UsageError("--confirm-blocks must be 0 or more")
    if a.min_time is None:
        a.min_time = 0.02 if a.quick else 0.03
    if a.min_time <= 0:
        raise UsageError("--min-time must be positive")
    if a.million is None:
        a.million = 200000 if a.quick else 1000000
    if a.million < 1:
        raise UsageError("--million must be positive")
    if a.million_reps is None:
        a.million_reps = 3
    if a.million_reps < 1:
        raise UsageError("--million-reps must be at least 1")
    if a.million_variants is None:
        a.million_variants = [analysis.BASE] if a.quick else [analysis.BASE, "compact_stacks"]
    elif a.million_variants == "none":
        a.million_variants = []
    else:
        a.million_variants = parse_list(a.million_variants, "--million-variants")
    if a.timeout is None:
        a.timeout = 120
    if a.timeout < 1:
        raise UsageError("--timeout must be at least 1 second (got %d)" % a.timeout)
    if a.seed is None:
        a.seed = int(time.time() * 1000) % (2 ** 31)
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


def tokio_system(work):
    """The Tokio peer: bench/tokio built by cargo, run like the C++ peers
    (a Google Benchmark-style binary). Returns (System, error)."""
    runner.log("building bench/tokio with %s --offline --release ..." % runner.CARGO)
    path, err = runner.tokio_binary(work)
    if err:
        return None, err
    return design.System("tokio", "peer", path), None


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


def _fmt_s(s):
    s = int(s)
    return "%dm%02ds" % (s // 60, s % 60)


def _run_jobs(jobs, work, state, what):
    """Runs jobs in order; appends to state. Returns False if interrupted."""
    t0 = time.time()
    for i, job in enumerate(jobs, 1):
        try:
            s, e, ctx, extra = runner.run_job(job, work, i, len(jobs))
        except runner.Interrupted:
            state["notes"].append("interrupted by Ctrl-C at %s job %d of %d (%s %s); later jobs "
                                  "not run" % (what, i, len(jobs), job.system, job.label))
            return False
        state["samples"] += s
        state["errors"] += e
        state["latency"] += extra
        if ctx and (job.system == analysis.BASE or not state["gbench_ctx"]):
            state["gbench_ctx"] = state["gbench_ctx"] or ctx
        if i % 50 == 0:
            el = time.time() - t0
            runner.log("  %s: %d/%d processes, %s elapsed, about %s left"
                       % (what, i, len(jobs), _fmt_s(el), _fmt_s(el / i * (len(jobs) - i))))
    return True


def _main(argv):
    try:
        a = parse_args(argv)
    except UsageError as e:
        sys.stderr.write("%srun_report: error: %s\n(--help lists every flag)\n"
                         % (parser().format_usage(), e))
        return 2
    if a.help:
        sys.stdout.write(parser().format_help())
        return 0
    if a.compare:
        return compare.main(a.compare[0], a.compare[1])
    if a.from_json:
        path = report.rewrite(a.from_json, a.out, a.fuzz_summary)
        runner.log("report rewritten: %s" % path)
        return 0
    t_start = time.time()
    notes = []
    busy, steal, load1 = runner.quiet_check()
    runner.log("machine before the build: others use %.2f CPUs, steal %.2f, load average %s"
               % (busy, steal, runner.loadavg()))
    quiet_before = {"busy_cpus": busy, "steal_cpus": steal, "loadavg": runner.loadavg()}
    if busy > runner.CONTENTION_CPUS or steal > runner.CONTENTION_CPUS:
        if not a.allow_load:
            sys.stderr.write(
                "run_report: the machine is busy: other processes use %.2f CPUs (steal %.2f; "
                "load average %s). Measurements taken beside them are not worth reporting. "
                "Stop them, or pass --allow-load to measure anyway (the report will say so).\n"
                % (busy, steal, runner.loadavg()))
            return 3
        notes.append("measured with --allow-load on a busy machine (others used %.2f CPUs "
                     "before the build)" % busy)
    bazel = runner.Bazel(a.bazel_output_base)
    try:
        known, canaries = runner.variant_names(bazel)
    except RuntimeError as e:
        sys.stderr.write("run_report: cannot list variants: %s\n" % e)
        return 1
    if a.variants is None:
        a.variants = known
    for flag, names in (("--variants", a.variants), ("--million-variants", a.million_variants)):
        bad = [v for v in names if v not in known and v not in canaries]
        if bad:
            sys.stderr.write("run_report: %s: unknown variant(s) %s; known: %s\n"
                             % (flag, ", ".join(bad), ",".join(known + canaries)))
            return 2
    missing = [v for v in a.million_variants if v not in a.variants]
    if missing and "MillionParked" in a.workloads:
        notes.append("--million-variants names %s, not among --variants: not measured"
                     % ", ".join(missing))
    host = socket.gethostname().split(".")[0]
    out_dir = a.out or os.path.join(
        runner.ROOT, "reports", "%s-%s" % (datetime.datetime.utcnow().strftime("%Y-%m-%d"), host))
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="gmplab_report_")
    runner.log("report: variants=%s peers=%s procs=%s blocks=%d min_time=%gs seed=%d -> %s"
               % (",".join(a.variants), ",".join(a.peers) or "none",
                  ",".join(map(str, a.procs)), a.blocks, a.min_time, a.seed, out_dir))

    copies = {}
    try:
        out = bazel.query("attr(name, '_bench_layout[0-9]+$', //variants:*)")
        for line in out.splitlines():
            m = re.match(r"^//variants:(\w+)_bench_layout(\d+)$", line.strip())
            if m:
                copies.setdefault(m.group(1), []).append(int(m.group(2)))
    except RuntimeError as e:
        notes.append("layout copies unavailable (%s); variants run their default binary" % e)
    targets = []
    for v in a.variants:
        targets.append("//variants:%s_bench" % v)
        targets += ["//variants:%s_bench_layout%d" % (v, i) for i in sorted(copies.get(v, []))]
    peer_targets = {"boost_fiber": "//bench:boost_fiber_bench", "tbb": "//bench:tbb_bench",
                    "thread": "//bench:thread_bench"}
    targets += [peer_targets[p] for p in a.peers if p in peer_targets]
    floor_target = "//bench:floor_bench"
    want_floor = not a.no_floor and any(catalog.floor_runs(w) for w in a.workloads)
    if want_floor:
        targets.append(floor_target)
    bin_dir = bazel.bin_dir()
    t_build = time.time()
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

    systems = []
    describe = {}
    for v in a.variants:
        t = "//variants:%s_bench" % v
        if not built.get(t):
            notes.append("variant **%s**: build of %s failed; not measured" % (v, t))
            continue
        layouts = [(i, binary("//variants:%s_bench_layout%d" % (v, i)))
                   for i in sorted(copies.get(v, []))
                   if built.get("//variants:%s_bench_layout%d" % (v, i))]
        if not layouts:
            notes.append("variant **%s**: no layout copies; every block runs its one binary" % v)
        systems.append(design.System(v, "variant", binary(t), layouts))
        describe[v] = runner.describe(binary(t))
    for p in a.peers:
        if p == "go":
            gobin, err = runner.go_test_binary(work)
            if err:
                notes.append("peer **go** missing: %s" % err)
                continue
            systems.append(design.System("go", "go", gobin))
            describe["go"] = runner.go_version()
        elif p == "tokio":
            tokio, err = tokio_system(work)
            if err:
                notes.append("peer **tokio** missing: %s" % err)
                continue
            systems.append(tokio)
            describe["tokio"] = runner.describe(tokio.binary)
        else:
            t = peer_targets[p]
            if not built.get(t):
                notes.append("peer **%s** missing: build of %s failed" % (p, t))
                continue
            systems.append(design.System(p, "peer", binary(t)))
            describe[p] = runner.describe(binary(t))
    if want_floor:
        if built.get(floor_target):
            systems.append(design.System(catalog.FLOOR, "floor", binary(floor_target)))
            describe[catalog.FLOOR] = runner.describe(binary(floor_target))
        else:
            notes.append("the **floor** is missing: %s %s" % (
                floor_target, "is not built (--no-build)" if a.no_build else "failed to build"))
    build_s = time.time() - t_build

    busy, steal, load1 = runner.wait_quiet()
    runner.log("machine after the build: others use %.2f CPUs, steal %.2f, load average %s"
               % (busy, steal, runner.loadavg()))
    quiet_after = {"busy_cpus": busy, "steal_cpus": steal, "loadavg": runner.loadavg()}
    if (busy > runner.CONTENTION_CPUS or steal > runner.CONTENTION_CPUS) and not a.allow_load:
        sys.stderr.write("run_report: the machine stayed busy after the build (others use %.2f "
                         "CPUs); pass --allow-load to measure anyway\n" % busy)
        return 3

    settings = {"blocks": a.blocks, "confirm_blocks": a.confirm_blocks, "min_time": a.min_time,
                "million": a.million, "million_reps": a.million_reps, "timeout": a.timeout,
                "million_variants": a.million_variants, "hog_ops": 100000}
    hw = os.cpu_count() or 1
    rng = design.new_rng(a.seed)
    jobs = design.plan_main(systems, a.workloads, a.procs, settings, hw, rng)
    runner.log("measuring: %d processes in %d blocks (+%d MillionParked blocks)"
               % (len(jobs), a.blocks, a.million_reps if "MillionParked" in a.workloads else 0))
    state = {"samples": [], "errors": [], "latency": [], "notes": notes, "gbench_ctx": {}}
    t_measure = time.time()
    finished = _run_jobs(jobs, work, state, "main")
    confirm_info = {}
    if finished and a.confirm_blocks > 0:
        cands = analysis.choose_candidates(state["samples"], [s.name for s in systems
                                                            if s.kind == "variant"])
        by_name = {s.name: s for s in systems}
        cand_systems = {w: [by_name[v] for v in vs if v in by_name] for w, vs in cands.items()}
        cand_systems = {w: vs for w, vs in cand_systems.items() if vs}
        if cand_systems and analysis.BASE in by_name:
            cjobs = design.plan_confirm(cand_systems, by_name[analysis.BASE], a.procs, settings,
                                        hw, rng, first_block=a.blocks)
            runner.log("confirmation round: %d processes, %d blocks, candidates %s"
                       % (len(cjobs), a.confirm_blocks,
                          "; ".join("%s: %s" % (w, ",".join(s.name for s in vs))
                                    for w, vs in sorted(cand_systems.items()))))
            finished = _run_jobs(cjobs, work, state, "confirm")
            confirm_info = {w: [s.name for s in vs] for w, vs in cand_systems.items()}
    measure_s = time.time() - t_measure

    machine = machine_context(state["gbench_ctx"])
    machine["load average (end)"] = runner.loadavg()
    machine["elapsed"] = "%.0f s (build %.0f s, measuring %.0f s)" % (
        time.time() - t_start, build_s, measure_s)
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
        "variants": [s.name for s in systems if s.kind == "variant"] or a.variants,
        "peers": a.peers,
        "floor": any(s.kind == "floor" for s in systems),
        "procs": ",".join(map(str, a.procs)),
        "blocks": a.blocks, "confirm_blocks": a.confirm_blocks,
        "million_reps": a.million_reps,
        "million_variants": ",".join(a.million_variants), "min_time": a.min_time,
        "million": a.million, "seed": a.seed, "describe": describe,
        "layout_copies": {s.name: len(s.layouts) for s in systems if s.kind == "variant"},
        "defines": runner.variant_defines(bazel, a.variants),
        "machine": machine, "interrupted": not finished,
        "allow_load": a.allow_load, "quiet_before": quiet_before, "quiet_after": quiet_after,
        "contention_cpus": runner.CONTENTION_CPUS, "confirm": confirm_info,
        "hardware_threads": hw,
        "fuzz_path": os.path.relpath(fuzz_path, runner.ROOT),
    }
    try:
        report.write_report(out_dir, state["samples"], state["errors"], notes, meta, fuzz,
                            state["latency"])
    except KeyboardInterrupt:
        sys.stderr.write("run_report: interrupted while writing; partial report in %s\n" % out_dir)
        return 130
    runner.log("report written: %s (%d samples, %d problems, %.0fs)"
               % (os.path.join(out_dir, "REPORT.md"), len(state["samples"]),
                  len(state["errors"]) + len(notes), time.time() - t_start))
    return 0 if finished else 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
