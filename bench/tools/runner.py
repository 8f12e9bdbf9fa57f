"""bench/tools/runner.py — builds the benchmark binaries and runs them.

The sample is a process: every job is one process that measures one workload
(at every procs value it runs) once, with its iterations aggregated into one
value per benchmark. A crash, a hang or Ctrl-C loses at most that one
process. Each job records what the machine was doing while it ran (see
`machine_load`), so a sample taken under contention is known and counted.
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

import bazel_cli  # noqa: E402  (tools/bazel_cli.py)
import catalog  # noqa: E402
import parse  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A sample is "contended" when processes other than the benchmark used more
# than this many CPUs on average while it ran (or the hypervisor stole that
# much): the machine was not quiet for it.
CONTENTION_CPUS = 0.25

# Raw latency samples kept per process (they only feed the pooled CDF).
LATENCY_KEEP = 5000


def log(msg):
    print(msg, flush=True)


class Bazel(bazel_cli.Bazel):
    """tools/bazel_cli.py's Bazel, which builds with --config=opt."""

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
    normal.sort(key=lambda v: (v != "go_default", v != "aa_control", v))
    return normal, sorted(canary)


def layout_copies(bazel, variant):
    """The number of layout copies //variants:<variant>_bench_layout<i> has."""
    out = bazel.query("attr(name, '^%s_bench_layout[0-9]+$', //variants:*)" % variant)
    return len([l for l in out.splitlines() if l.strip()])


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
    """One process to run: one system's workload, once."""

    def __init__(self, system, workload, argv, fmt, env=None, timeout=300, label="",
                 block=None, layout=None, phase="main"):
        self.system = system
        self.workload = workload
        self.argv = argv
        self.fmt = fmt  # "gbench" or "go"
        self.env = env
        self.timeout = timeout
        self.label = label or workload
        self.block = block      # the block this process belongs to
        self.layout = layout    # the layout copy (gmplab variants), else None
        self.phase = phase      # "main", "confirm" or "million"


class Interrupted(Exception):
    pass


# --- what the machine does --------------------------------------------------

def _proc_stat():
    """(busy, steal) CPU seconds summed over all CPUs since boot."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    v = [int(x) for x in fields]
    hz = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal ...
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    steal = v[7] if len(v) > 7 else 0
    return busy / hz, steal / hz


def _psi_cpu():
    """(some avg10 in %, some total in s) from /proc/pressure/cpu, or (None, None)."""
    try:
        with open("/proc/pressure/cpu") as f:
            line = f.readline()
    except OSError:
        return None, None
    m = re.search(r"avg10=([0-9.]+).*total=(\d+)", line)
    return (float(m.group(1)), int(m.group(2)) / 1e6) if m else (None, None)


def loadavg1():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def _self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class LoadProbe:
    """Measures, over an interval, the CPU that others used: the machine's
    busy time less what this runner and its waited-for children used."""

    def __init__(self):
        self.t0 = time.time()
        self.mono0 = time.monotonic()
        self.stat0 = _proc_stat()
        self.self0 = _self_cpu()
        self.child0 = _children_cpu()
        self.load1 = loadavg1()
        self.psi_avg10, self.psi0 = _psi_cpu()

    def finish(self):
        wall = time.monotonic() - self.mono0
        stat1 = _proc_stat()
        child = _children_cpu() - self.child0
        own = _self_cpu() - self.self0
        _, psi1 = _psi_cpu()
        rec = {"start": round(self.t0, 3), "wall_s": round(wall, 4),
               "cpu_s": round(child, 4), "load1": self.load1,
               "psi_some_avg10": self.psi_avg10}
        if self.stat0 and stat1 and wall > 0:
            busy = stat1[0] - self.stat0[0]
            rec["foreign_cpus"] = round(max(0.0, busy - child - own) / wall, 3)
            rec["steal_cpus"] = round(max(0.0, stat1[1] - self.stat0[1]) / wall, 3)
        if self.psi0 is not None and psi1 is not None and wall > 0:
            rec["psi_some_frac"] = round((psi1 - self.psi0) / wall, 3)
        rec["contended"] = (rec.get("foreign_cpus", 0) > CONTENTION_CPUS or
                            rec.get("steal_cpus", 0) > CONTENTION_CPUS)
        return rec


def quiet_check(seconds=3.0):
    """Watches the machine for `seconds` with nothing of ours running.
    Returns (busy_cpus, steal_cpus, load1)."""
    p = LoadProbe()
    time.sleep(seconds)
    r = p.finish()
    return r.get("foreign_cpus", 0.0), r.get("steal_cpus", 0.0), loadavg1()


def wait_quiet(max_wait=60, seconds=2.0):
    """After a build: waits (up to max_wait s) until others use under
    CONTENTION_CPUS. Returns the last (busy, steal, load1)."""
    deadline = time.time() + max_wait
    while True:
        busy, steal, load1 = quiet_check(seconds)
        if (busy <= CONTENTION_CPUS and steal <= CONTENTION_CPUS) or time.time() > deadline:
            return busy, steal, load1


# --- running one process ----------------------------------------------------

def run_job(job, out_dir, index, total):
    """Runs one job. Returns (samples, errors, context, extra). Raises Interrupted.

    Every sample gets the job's block, layout and phase, and a `process`
    record: start time, wall and CPU seconds of the process, the 1-minute load
    average, CPU pressure, the CPUs others used meanwhile, and whether that
    makes it contended. `extra` holds any raw latency samples it wrote.
    """
    tag = "[%d/%d] %-18s %s" % (index, total, job.system +
                                 ("#%d" % job.layout if job.layout else ""), job.label)
    sys.stdout.write(tag + " ... ")
    sys.stdout.flush()
    fd, json_out = tempfile.mkstemp(prefix="bench_", suffix=".json", dir=out_dir)
    os.close(fd)
    fd, lat_out = tempfile.mkstemp(prefix="latency_", suffix=".jsonl", dir=out_dir)
    os.close(fd)
    argv = list(job.argv)
    if job.fmt == "gbench":
        argv += ["--benchmark_out=" + json_out, "--benchmark_out_format=json",
                 "--benchmark_format=console"]
    env = dict(os.environ)
    env.update(job.env or {})
    env["GMPLAB_LATENCY_OUT"] = lat_out
    fd, out_path = tempfile.mkstemp(prefix="stdout_", dir=out_dir)
    probe = LoadProbe()
    with os.fdopen(fd, "w+") as out_file:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, text=True, stdout=out_file,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=job.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()
            rc, timed_out = -1, True
        except KeyboardInterrupt:
            _kill(proc)
            proc.wait()
            for p in (json_out, lat_out, out_path):
                _unlink(p)
            print("interrupted")
            raise Interrupted()
        process = probe.finish()
        out_file.seek(0)
        out = out_file.read()
    _unlink(out_path)
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
        _unlink(json_out)
    extra = _read_latency(lat_out, job.system)
    _unlink(lat_out)
    if timed_out:
        errors.append((job.system, job.workload, None,
                       "timed out after %ds (%s)" % (job.timeout, job.label)))
    elif rc != 0:
        errors.append((job.system, job.workload, None,
                       "exit status %d (%s): %s" % (rc, job.label, _last_line(out))))
    if not samples and not timed_out and rc == 0 and not errors:
        errors.append((job.system, job.workload, None, "no samples (%s)" % job.label))
    for s in samples:
        s["block"] = job.block
        s["layout"] = job.layout
        s["phase"] = job.phase
        s["process"] = process
    status = "ok" if samples and not errors else ("PARTIAL" if samples else "FAILED")
    print("%s, %d sample(s), %.2fs%s" % (status, len(samples), process["wall_s"],
                                        ", CONTENDED" if process["contended"] else ""),
          flush=True)
    if status != "ok":
        for e in errors[-3:]:
            print("    %s" % (e[3],), flush=True)
    return samples, errors, context, extra


def _read_latency(path, system):
    """Raw latency samples a process appended to GMPLAB_LATENCY_OUT."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if isinstance(d, dict) and isinstance(d.get("samples_ns"), list):
                    vals = [int(x) for x in d["samples_ns"] if isinstance(x, (int, float))]
                    if len(vals) > LATENCY_KEEP:  # an even stride keeps the shape
                        step = len(vals) / float(LATENCY_KEEP)
                        vals = [vals[int(i * step)] for i in range(LATENCY_KEEP)]
                    out.append({"system": system, "workload": d.get("workload", "?"),
                                "procs": int(d.get("procs", 1)), "samples_ns": vals})
    except OSError:
        pass
    return out


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


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


# --- the peers' binaries ----------------------------------------------------

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


CARGO = "/usr/bin/cargo"  # Debian's cargo: a rustup one would not use the vendored crates
TOKIO_CRATE = os.path.join(ROOT, "bench", "tokio")


def tokio_binary(work_dir, cargo=CARGO, crate=TOKIO_CRATE):
    """Builds bench/tokio with Debian's cargo, offline, against the vendored
    crates in /usr/share/cargo/registry (bench/tokio/.cargo/config.toml, which
    cargo reads from its working directory). The target directory is
    bench/tokio/target (git-ignored, so rebuilds are incremental), CARGO_HOME
    a fresh one under work_dir. The binary is copied into work_dir, so a later
    build cannot change it mid-report. Returns (path, error)."""
    if not os.path.isfile(os.path.join(crate, "Cargo.toml")):
        return None, "%s/Cargo.toml not found" % os.path.relpath(crate, ROOT)
    if not os.access(cargo, os.X_OK):
        return None, ("%s not found (install Debian's cargo, rustc and librust-tokio-dev; "
                      "./harness setup does)" % cargo)
    target = os.environ.get("GMPLAB_TOKIO_TARGET_DIR") or os.path.join(crate, "target")
    env = dict(os.environ, CARGO_HOME=os.path.join(work_dir, "cargo-home"),
               CARGO_TARGET_DIR=target, CARGO_NET_OFFLINE="true")
    r = subprocess.run([cargo, "build", "--offline", "--release", "--quiet"], cwd=crate, env=env,
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        err = next((l.strip() for l in lines if l.lstrip().startswith("error")), None)
        return None, "cargo build failed: %s" % (err or _last_line(r.stdout))[:300]
    built = os.path.join(target, "release", "tokio_bench")
    if not os.access(built, os.X_OK):
        return None, "cargo build produced no %s" % built
    out = os.path.join(work_dir, "tokio_bench")
    shutil.copy2(built, out)
    return out, None


def go_version():
    try:
        return subprocess.run(["go", "version"], text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.strip()
    except OSError:
        return "go not found"


# --- one process per (system, workload) ---------------------------------------

def gbench_argvs(binary, workload, procs, settings, peer=None):
    """The argv lists of one sample of a workload on a Google Benchmark binary
    (one process, or one per procs value for peers that need it)."""
    common = ["--benchmark_min_time=%g" % settings["min_time"], "--benchmark_repetitions=1"]
    mode = catalog.MODE.get(workload, "sweep")
    filt = "--benchmark_filter=^%s(/|$)" % re.escape(workload)
    if mode == "default":
        return [[binary, filt, "--million=%d" % settings["million"]] + common]
    plist = catalog.procs_for(workload, procs)
    if not plist:
        return []
    if peer == "boost_fiber":  # its scheduler is set up once per thread: a process per procs
        return [[binary, filt, "--procs=%d" % p] + common for p in plist]
    return [[binary, filt, "--procs=" + ",".join(map(str, plist))] + common]


def go_argvs(binary, workload, procs, settings, hardware_threads):
    """The argv lists of one sample of a workload on the Go test binary."""
    base = [binary, "-test.run", "^$", "-test.bench", "^Benchmark%s$" % workload,
            "-test.count", "1"]
    mode = catalog.MODE.get(workload, "sweep")
    if mode == "default":
        return [base + ["-test.benchtime", "1x", "-test.cpu", str(hardware_threads)]]
    plist = catalog.procs_for(workload, procs)
    if not plist:
        return []
    bt = ("%dx" % settings["hog_ops"] if workload == "PingPongHog"
          else "%dms" % max(1, int(settings["min_time"] * 1000)))
    return [base + ["-test.benchtime", bt, "-test.cpu", ",".join(map(str, plist))]]


def describe(binary):
    try:
        r = subprocess.run([binary, "--describe"], text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return r.stdout.strip() if r.returncode == 0 else "(--describe failed: %s)" % _last_line(r.stderr)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "(--describe failed: %s)" % e
