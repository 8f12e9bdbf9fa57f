"""Tests for bench/tools/report.py on synthetic samples (//bench:tools_test)."""

import csv
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402


def samples(system, workload, procs, values, cpu_factor=1.0, counters=None):
    return [{"system": system, "workload": workload, "procs": procs, "real_ns": v,
             "cpu_ns": v * cpu_factor, "counters": dict(counters or {})} for v in values]


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, data, errors=(), notes=(), variants=("go_default", "steal_one")):
        meta = {"variants": list(variants), "peers": ["go"], "procs": "1,2", "reps": 10,
                "million_reps": 10, "min_time": 0.05, "command": "test",
                "describe": {"go_default": "runq=256 steal=half"},
                "defines": {"go_default": ["GMP_RUNQ_SIZE=256"]}, "machine": {"cpu": "x"}}
        report.write_report(self.dir, data, list(errors), list(notes), meta, None)
        with open(os.path.join(self.dir, "REPORT.md")) as f:
            return f.read()

    def test_tables_verdicts_and_csv(self):
        base = [100 + i for i in range(10)]
        data = (samples("go_default", "PingPongUnbuffered", 1, base, counters={"steals": 0.5})
                + samples("steal_one", "PingPongUnbuffered", 1, [50 + i for i in range(10)])
                + samples("go", "PingPongUnbuffered", 1, [200 + i for i in range(10)])
                + samples("go_default", "Fib", 2, base)
                + samples("steal_one", "Fib", 2, [100.5 + i for i in range(10)])
                + samples("go", "Fib", 2, [80 + i for i in range(10)])
                + samples("go_default", "MillionParked", 2, [1e9],
                          counters={"spawn_s": 0.5, "rss_mb": 900, "goroutines": 1e6}))
        md = self.write(data, errors=[("go", "Syscall", 1, "exit status 1")])
        # go_default is half of Go on ping-pong: significant.
        self.assertRegex(md, r"\| PingPongUnbuffered/procs:1 \| 104 ns ±\d+% \| 204 ns ±\d+% \| ×0\.51 \(p=0\.000\)")
        # steal_one vs go_default on Fib: same distribution shifted by 0.5 -> "~".
        self.assertRegex(md, r"\| Fib/procs:2 \| 104 ns ±\d+% \| ~ ×1\.00 \(p=0\.\d+\)")
        self.assertIn("**geomean vs go_default**", md)
        self.assertIn("| Fib/procs:2 | ×1.24 (p=0.000) | yes |", md)  # slower than Go
        self.assertIn("**go** Syscall/procs:1: exit status 1", md)
        self.assertIn("| go_default | 2 | 1000000 | 0.500 |", md)
        self.assertIn("runq=256 steal=half", md)
        for name in ("headline", "wall_peers", "cpu_peers", "wall_variants", "cpu_variants",
                     "best_policy", "summary", "counters", "million_parked"):
            self.assertTrue(os.path.exists(os.path.join(self.dir, name + ".csv")), name)
        with open(os.path.join(self.dir, "summary.csv")) as f:
            rows = list(csv.DictReader(f))
        row = [r for r in rows if r["system"] == "steal_one" and r["workload"] == "PingPongUnbuffered"][0]
        self.assertAlmostEqual(float(row["wall_ratio_go_default"]), 54.5 / 104.5)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "plots", "bars_Fib.png")))

    def test_best_policy_needs_significance(self):
        data = (samples("go_default", "Fib", 1, [100 + i for i in range(10)])
                + samples("steal_one", "Fib", 1, [99.5 + i for i in range(10)]))
        md = self.write(data)
        self.assertIn("not significantly different from go_default", md)

    def test_likely_cause(self):
        self.assertIn("thread sleeps", report.likely_cause("Syscall", {"parks": 2, "wakeups": 2}))
        self.assertIn("creating Gs", report.likely_cause("CreateGoroutinesSingle", {}))
        self.assertIn("fast path", report.likely_cause("PingPongUnbuffered", {"parks": 0.001}))

    def test_empty_input_still_writes(self):
        md = self.write([], notes=["peer **go** missing: go not found"], variants=())
        self.assertIn("go not found", md)
        self.assertIn("Needs both go_default and the Go peer", md)


if __name__ == "__main__":
    unittest.main()
