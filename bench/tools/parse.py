"""bench/tools/parse.py — turns benchmark output into uniform samples.

Every sample is a dict:
  system    "go_default", "go", "boost_fiber", ...
  workload  "CreateGoroutines", "WakeupParallelSpinning/delay_us:5", ...
  procs     int
  real_ns   wall time per op (ns)
  cpu_ns    whole-process CPU time per op (ns), or None
  counters  {name: value} (per op unless the name says otherwise)
"""

import json
import re

_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
_DROP = re.compile(r"^(process_time|real_time|manual_time|threads:\d+|"
                   r"iterations:\d+|repeats:\d+|min_time:.*|min_warmup_time:.*)$")
_GBENCH_FIXED = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time",
    "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "error_occurred",
    "error_message", "label",
}


def split_name(name):
    """'PingPongHog/procs:1/iterations:100000/real_time' -> ('PingPongHog', 1)."""
    parts = [p for p in name.split("/") if not _DROP.match(p)]
    procs = None
    rest = []
    for p in parts:
        if p.startswith("procs:"):
            procs = int(p[len("procs:"):])
        else:
            rest.append(p)
    return "/".join(rest), procs


def salvage_gbench_json(text):
    """Closes the JSON of a benchmark process that died mid-run, keeping every
    benchmark entry it finished. Returns the repaired text or None."""
    cut = text.rfind("\n    }")
    if cut < 0 or '"benchmarks"' not in text[:cut]:
        return None
    return text[:cut] + "\n    }\n  ]\n}\n"


def parse_gbench_json(text, system):
    """Parses Google Benchmark JSON. Returns (samples, errors, context).

    Aggregate rows are skipped (we aggregate ourselves); rows with
    error_occurred are returned as (workload, procs, message) errors.
    """
    data = json.loads(text)
    samples, errors = [], []
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        workload, procs = split_name(b.get("run_name") or b["name"])
        if b.get("error_occurred"):
            errors.append((workload, procs, b.get("error_message", "error")))
            continue
        scale = _UNIT_NS.get(b.get("time_unit", "ns"), 1.0)
        counters = {k: v for k, v in b.items()
                    if k not in _GBENCH_FIXED and isinstance(v, (int, float))}
        samples.append({
            "system": system,
            "workload": workload,
            "procs": procs if procs is not None else 1,
            "real_ns": b["real_time"] * scale,
            "cpu_ns": b["cpu_time"] * scale,
            "counters": counters,
        })
    return samples, errors, data.get("context", {})


_GO_LINE = re.compile(r"^Benchmark(\S+?)(?:-(\d+))?\s+(\d+)\s+([0-9.eE+-]+) ns/op(.*)$")
_GO_METRIC = re.compile(r"([0-9.eE+-]+) (\S+)")


def parse_go_bench(text, system="go"):
    """Parses `go test -bench` output. Returns (samples, errors).

    Go names no -N suffix when GOMAXPROCS is 1. cpu-ns/op (reported by the
    gmplab Go files from getrusage) becomes cpu_ns; other metrics counters,
    with "-" read as "_" so Go's p99-ns is gmplab's p99_ns.
    """
    samples, errors = [], []
    current = None
    for line in text.splitlines():
        line = line.rstrip()
        m = _GO_LINE.match(line)
        if m:
            workload = m.group(1)
            procs = int(m.group(2)) if m.group(2) else 1
            counters = {}
            cpu = None
            for value, unit in _GO_METRIC.findall(m.group(5)):
                v = float(value)
                if unit == "cpu-ns/op":
                    cpu = v
                elif unit.endswith("/op") and unit not in ("B/op", "allocs/op"):
                    counters[unit[:-3]] = v
                else:
                    counters[unit.replace("-", "_")] = v
            samples.append({
                "system": system, "workload": workload, "procs": procs,
                "real_ns": float(m.group(4)), "cpu_ns": cpu, "counters": counters,
            })
            continue
        if line.startswith("--- FAIL: Benchmark"):
            current = line.split()[2][len("Benchmark"):]
            errors.append((current, None, line.strip()))
    return samples, errors
