"""Tests for bench/tools/parse.py (//bench:parse_test)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import parse  # noqa: E402


class SplitNameTest(unittest.TestCase):
    def test_names(self):
        self.assertEqual(parse.split_name(
            "CreateGoroutines/procs:2/process_time/real_time"), ("CreateGoroutines", 2))
        self.assertEqual(parse.split_name(
            "PingPongHog/procs:1/iterations:100000/process_time/real_time"),
            ("PingPongHog", 1))
        self.assertEqual(parse.split_name(
            "WakeupParallelSpinning/delay_us:5/procs:4/process_time/real_time"),
            ("WakeupParallelSpinning/delay_us:5", 4))


class GbenchTest(unittest.TestCase):
    def test_iterations_kept_aggregates_and_errors_split(self):
        doc = {
            "context": {"gmplab_policy": "go_default: ..."},
            "benchmarks": [
                {"name": "Fib/procs:2/process_time/real_time",
                 "run_name": "Fib/procs:2/process_time/real_time",
                 "run_type": "iteration", "iterations": 10, "real_time": 2.5,
                 "cpu_time": 4.0, "time_unit": "ms", "steals": 12.5},
                {"name": "Fib/procs:2/process_time/real_time_median",
                 "run_name": "Fib/procs:2/process_time/real_time",
                 "run_type": "aggregate", "real_time": 2.5, "cpu_time": 4.0,
                 "time_unit": "ms"},
                {"name": "Syscall/procs:1/process_time/real_time",
                 "run_name": "Syscall/procs:1/process_time/real_time",
                 "run_type": "iteration", "error_occurred": True,
                 "error_message": "pipe failed", "real_time": 0, "cpu_time": 0},
            ],
        }
        samples, errors, ctx = parse.parse_gbench_json(json.dumps(doc), "go_default")
        self.assertEqual(len(samples), 1)
        s = samples[0]
        self.assertEqual((s["workload"], s["procs"]), ("Fib", 2))
        self.assertEqual(s["real_ns"], 2.5e6)
        self.assertEqual(s["cpu_ns"], 4.0e6)
        self.assertEqual(s["counters"], {"steals": 12.5})
        self.assertEqual(errors, [("Syscall", 1, "pipe failed")])
        self.assertEqual(ctx["gmplab_policy"], "go_default: ...")


class SalvageTest(unittest.TestCase):
    def test_truncated_json_keeps_finished_entries(self):
        text = ('{\n  "context": {},\n  "benchmarks": [\n    {\n'
                '      "name": "Fib/procs:1/real_time",\n      "run_type": "iteration",\n'
                '      "real_time": 1.0,\n      "cpu_time": 1.0,\n      "time_unit": "ns"\n'
                '    },\n    {\n      "name": "Fib/procs:2/real_ti')
        samples, _, _ = parse.parse_gbench_json(parse.salvage_gbench_json(text), "x")
        self.assertEqual([(s["workload"], s["procs"]) for s in samples], [("Fib", 1)])
        self.assertIsNone(parse.salvage_gbench_json("garbage"))


class GoTest(unittest.TestCase):
    def test_go_lines(self):
        text = "\n".join([
            "goos: linux",
            "BenchmarkCreateGoroutines             \t   68407\t       332.6 ns/op\t       339.9 cpu-ns/op",
            "BenchmarkCreateGoroutines-2           \t   71726\t       321.4 ns/op\t       327.2 cpu-ns/op",
            "BenchmarkWakeupParallelSpinning/delay_us:5-2 \t 679\t 34768 ns/op\t 42529 cpu-ns/op",
            "BenchmarkMillionParked-2 \t 1\t9146309580 ns/op\t1.3e+10 cpu-ns/op\t 1000000 goroutines\t 0.476 release_s\t 2619 rss_mb",
            "BenchmarkWakeupLatency-2 \t 2000\t 6641 ns/op\t 6667 cpu-ns/op\t 66485 max-ns\t"
            " 162.0 p50-ns\t 373.0 p90-ns\t 14502 p99-ns\t 34189 p999-ns",
            "--- FAIL: BenchmarkFib-2",
            "PASS",
        ])
        samples, errors = parse.parse_go_bench(text)
        self.assertEqual([(s["workload"], s["procs"]) for s in samples], [
            ("CreateGoroutines", 1), ("CreateGoroutines", 2),
            ("WakeupParallelSpinning/delay_us:5", 2), ("MillionParked", 2),
            ("WakeupLatency", 2)])
        self.assertEqual(samples[0]["real_ns"], 332.6)
        self.assertEqual(samples[0]["cpu_ns"], 339.9)
        self.assertEqual(samples[3]["counters"]["rss_mb"], 2619)
        self.assertEqual(samples[3]["cpu_ns"], 1.3e10)
        self.assertEqual(samples[4]["counters"], {
            "max_ns": 66485, "p50_ns": 162, "p90_ns": 373, "p99_ns": 14502, "p999_ns": 34189})
        self.assertEqual(len(errors), 1)


if __name__ == "__main__":
    unittest.main()
