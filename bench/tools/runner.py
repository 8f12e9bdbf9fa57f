"""bench/tools/runner.py — builds the benchmark binaries and runs them.

Every (system, workload) pair is one process with its own timeout, so a
crash, a hang or Ctrl-C loses at most that one cell. MillionParked runs one
process per repetition, so no repetition reuses a warm free list.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import catalog
import parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(msg):
    print(msg, flush=True)


class Bazel:
    """Runs Bazel in the workspace, optionally with its own output base."""

    def __init__(self, output_base=None):
        self.output_base = output_base

    def cmd(self, *args):
        c = ["bazel"]
        if self.output_base:
            c.append("--output_base=" + self.output_base)
        return c + list(args)

    def run(self, *args, capture=True):
        return subprocess.run(self.cmd(*args), cwd=ROOT, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None)

    def query(self, expr, output="label"):
        r = self.run("query", "--output=" + output, expr)
        if r.returncode != 0:
            raise RuntimeError("bazel query %r failed:\n%s" % (expr, r.stderr[-2000:]))
        return r.stdout

    def bin_dir(self):
        r = self.run("info", "--config=opt", "bazel-bin")
        if r.returncode != 0:
            raise RuntimeError("bazel info failed:\n" + r.stderr[-2000:])
        return r.stdout.strip()

    def build(self, targets):
        """Builds targets with --config=opt. Returns {target: ok}."""
        base = ["build", "--config=opt", "--experimental_convenience_symlinks=ignore"]
        if not targets:
            return {}
        log("building %d target(s) with --config=opt ..." % len(targets))
        r = self.run(*(base + ["--keep_going"] + targets))
        if r.returncode == 0:
            return {t: True for t in targets}
        # Find which ones failed, one at a time (only on failure).
        result = {}
        for t in targets:
            rt = self.run(*(base + [t]))
            result[t] = rt.returncode == 0
            if not result[t]:
                log("  build of %s failed:\n%s" % (t, _tail(rt.stderr, 15)))
        return result


def _tail(text, n):
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return "\n".join("    " + l for l in lines[-n:])


def variant_names(bazel):
    """Returns (normal, canary) variant names from //variants."""
    def names(expr):
        out = bazel.query(expr)
        res = []
        for line in out.splitlines():
            m = re.match(r"^//variants:(\w+)_bench$", line.strip())
            if m:
                res.append(m.group(1))
        return res
    normal = names("kind(cc_binary, //variants:*) except attr(tags, canary, //variants:*)")
    canary = names("kind(cc_binary, attr(tags, canary, //variants:*))")
    normal.sort(key=lambda v: (v != "go_default", v))
    return normal, sorted(canary)


def variant_defines(bazel, variants):
    """Returns {variant: [defines]} from the variants' cc_library rules."""
    try:
        out = bazel.query("kind(cc_library, //variants:*)", output="build")
    except RuntimeError:
        return {}
    res = {}
    for block in out.split("\ncc_library(")[0:]:
        m = re.search(r'name = "(\w+)"', block)
        d = re.search(r"defines = \[(.*?)\]", block, re.S)
        if m and d and m.group(1) in variants:
            res[m.group(1)] = re.findall(r'"((?:[^"\\]|\\.)*)"', d.group(1))
    return res


class Job:
    """One process to run: a system's workload (or one repetition of it)."""

    def __init__(self, system, workload, argv, fmt, env=None, timeout=300, label=""):
        self.system = system
        self.workload = workload
        self.argv = argv
        self.fmt = fmt  # "gbench" or "go"
        self.env = env
        self.timeout = timeout
        self.label = label or workload


class Interrupted(Exception):
    pass


def run_job(job, out_dir, index, total):
    """Runs one job. Returns (samples, errors, context). Raises Interrupted."""
    tag = "[%d/%d] %-12s %s" % (index, total, job.system, job.label)
    sys.stdout.write(tag + " ... ")
    sys.stdout.flush()
    fd, json_out = tempfile.mkstemp(prefix="bench_", suffix=".json", dir=out_dir)
    os.close(fd)
    argv = list(job.argv)
    if job.fmt == "gbench":
        argv += ["--benchmark_out=" + json_out, "--benchmark_out_format=json",
                 "--benchmark_format=console"]
    env = dict(os.environ)
    env.update(job.env or {})
    t0 = time.time()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=job.timeout)
        rc = proc.returncode
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, _ = proc.communicate()
        rc, timed_out = -1, True
    except KeyboardInterrupt:
        _kill(proc)
        proc.communicate()
        os.unlink(json_out)
        print("interrupted")
        raise Interrupted()
    dt = time.time() - t0
    samples, errors, context = [], [], {}
    try:
        if job.fmt == "gbench":
            with open(json_out) as f:
                text = f.read()
            if text.strip():
                try:
                    samples, errs, context = parse.parse_gbench_json(text, job.system)
                except ValueError:
                    fixed = parse.salvage_gbench_json(text)
                    if fixed is None:
                        raise
                    samples, errs, context = parse.parse_gbench_json(fixed, job.system)
                errors += [(job.system, w, p, m) for w, p, m in errs]
        else:
            samples, errs = parse.parse_go_bench(out, job.system)
            errors += [(job.system, w or job.workload, p, m) for w, p, m in errs]
    except (ValueError, KeyError) as e:
        if rc == 0 and not timed_out:
            errors.append((job.system, job.workload, None, "unreadable output: %s" % e))
    finally:
        if os.path.exists(json_out):
            os.unlink(json_out)
    if timed_out:
        errors.append((job.system, job.workload, None,
                       "timed out after %ds (%s)" % (job.timeout, job.label)))
    elif rc != 0:
        errors.append((job.system, job.workload, None,
                       "exit status %d (%s): %s" % (rc, job.label, _last_line(out))))
    if not samples and not timed_out and rc == 0 and not errors:
        errors.append((job.system, job.workload, None, "no samples (%s)" % job.label))
    status = "ok" if samples and not errors else ("PARTIAL" if samples else "FAILED")
    print("%s, %d sample(s), %.1fs" % (status, len(samples), dt), flush=True)
    if status != "ok":
        for e in errors[-3:]:
            print("    %s" % (e[3],), flush=True)
    return samples, errors, context


def _last_line(text):
    """The line that says why a process failed: a fatal error if any, else the last."""
    lines = [l for l in (text or "").splitlines() if l.strip()]
    for l in lines:
        if re.search(r"fatal error|terminate called|Assertion|AddressSanitizer|"
                     r"ThreadSanitizer|Segmentation fault|^panic:|--- FAIL", l):
            return l.strip()[:300]
    return lines[-1][:300] if lines else "(no output)"


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def go_test_binary(work_dir):
    """Compiles bench/go into a test binary. Returns (path, error)."""
    go = shutil.which("go")
    if go is None:
        return None, "go not found on PATH (install golang-go)"
    cache = os.path.join(work_dir, "gocache")
    os.makedirs(cache, exist_ok=True)
    out = os.path.join(work_dir, "go_bench.test")
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", GOCACHE=cache,
               GO111MODULE="on", GOTOOLCHAIN="local")
    r = subprocess.run([go, "test", "-c", "-o", out, "."], cwd=os.path.join(ROOT, "bench", "go"),
                       env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        return None, "go test -c failed: " + _last_line(r.stdout)
    return out, None


def go_version():
    try:
        return subprocess.run(["go", "version"], text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.strip()
    except OSError:
        return "go not found"


def plan_gbench(system, binary, workloads, procs, settings, peer=None):
    """Jobs for a Google Benchmark binary (a gmplab variant or a C++ peer)."""
    jobs = []
    common = ["--benchmark_min_time=%g" % settings["min_time"]]
    per_proc_process = peer == "boost_fiber"
    for w in workloads:
        mode = catalog.MODE.get(w, "sweep")
        filt = "--benchmark_filter=^%s(/|$)" % re.escape(w)
        if mode == "default":
            for rep in range(settings["million_reps"]):
                jobs.append(Job(system, w, [binary, filt, "--benchmark_repetitions=1",
                                            "--million=%d" % settings["million"]] + common,
                                "gbench", timeout=settings["timeout"],
                                label="%s rep %d/%d" % (w, rep + 1, settings["million_reps"])))
            continue
        reps = ["--benchmark_repetitions=%d" % settings["reps"]]
        if per_proc_process:
            plist = [1] if mode == "one" else list(procs)
            if w == "WakeupParallelSpinning":
                plist = [p for p in plist if p >= 2]
            for p in plist:
                jobs.append(Job(system, w, [binary, filt, "--procs=%d" % p] + reps + common,
                                "gbench", timeout=settings["timeout"],
                                label="%s procs=%d" % (w, p)))
        else:
            if w == "WakeupParallelSpinning" and not any(p >= 2 for p in procs):
                continue
            plist = [1] if mode == "one" else procs
            jobs.append(Job(system, w, [binary, filt, "--procs=" + ",".join(map(str, plist))]
                            + reps + common, "gbench", timeout=settings["timeout"]))
    return jobs


def plan_go(binary, workloads, procs, settings, hardware_threads):
    """Jobs for the Go test binary."""
    jobs = []
    base = [binary, "-test.run", "^$"]
    benchtime = "%dms" % max(1, int(settings["min_time"] * 1000))
    for w in workloads:
        mode = catalog.MODE.get(w, "sweep")
        bench = ["-test.bench", "^Benchmark%s$" % w]
        if mode == "default":
            for rep in range(settings["million_reps"]):
                jobs.append(Job("go", w, base + bench + [
                    "-test.benchtime", "1x", "-test.count", "1",
                    "-test.cpu", str(hardware_threads)], "go",
                    env={"GMPLAB_MILLION": str(settings["million"])},
                    timeout=settings["timeout"],
                    label="%s rep %d/%d" % (w, rep + 1, settings["million_reps"])))
            continue
        bt = "100000x" if w == "PingPongHog" else benchtime
        cpus = "1" if mode == "one" else ",".join(map(str, procs))
        if w == "WakeupParallelSpinning":
            cpus = ",".join(str(p) for p in procs if p >= 2)
            if not cpus:
                continue
        jobs.append(Job("go", w, base + bench + [
            "-test.benchtime", bt, "-test.count", str(settings["reps"]), "-test.cpu", cpus],
            "go", timeout=settings["timeout"]))
    return jobs


def describe(binary):
    try:
        r = subprocess.run([binary, "--describe"], text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return r.stdout.strip() if r.returncode == 0 else "(--describe failed: %s)" % _last_line(r.stderr)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "(--describe failed: %s)" % e
