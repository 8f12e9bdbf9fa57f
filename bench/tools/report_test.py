"""Tests for report.py, design.py and compare.py on synthetic samples
(//bench:report_test)."""

import csv
import io
import json
import os
import random
import shutil
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import analysis  # noqa: E402
import compare  # noqa: E402
import design  # noqa: E402
import plots  # noqa: E402
import report  # noqa: E402
import report_files  # noqa: E402
import sections_floor_tokio  # noqa: E402
import sections_verdicts  # noqa: E402


def process(rng, contended=False):
    return {"start": rng.random(), "wall_s": 0.3, "cpu_s": 0.3, "load1": 0.3,
            "foreign_cpus": 0.5 if contended else 0.01, "steal_cpus": 0.0,
            "contended": contended}


def blocks(factors, workloads=("PingPongUnbuffered", "Fib"), procs=(1, 2), n=10, seed=1,
           noise=0.01, phase="main", first=0, load_spread=0.5):
    """Samples of n blocks: each block has a shared load factor; system s
    runs at base * factors[s] * load * noise."""
    rng = random.Random(seed)
    out = []
    for k in range(first, first + n):
        load = rng.uniform(1, 1 + load_spread)
        for wl in workloads:
            for p in procs:
                for s, f in factors.items():
                    v = 100 * f * load * rng.gauss(1, noise)
                    out.append({"system": s, "workload": wl, "procs": p, "real_ns": v,
                                "cpu_ns": v * 1.1, "counters": {"steals": 0.1},
                                "block": k, "layout": k + 1, "phase": phase,
                                "process": process(rng)})
    return out


# Tests that look at the figures; the others skip drawing (it is most of the time).
_DRAWS = {"test_paired_tables_aa_and_files", "test_latency_table_and_cdf"}


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        if self._testMethodName not in _DRAWS:
            patcher = mock.patch.object(plots, "make_all", return_value=[])
            patcher.start()
            self.addCleanup(patcher.stop)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, data, errors=(), notes=(), variants=("go_default", "aa_control", "steal_one"),
              peers=("go",), latency=None):
        meta = {"variants": list(variants), "peers": list(peers), "procs": "1,2", "blocks": 10,
                "confirm_blocks": 8, "million_reps": 3, "million": 1000, "min_time": 0.03,
                "seed": 5, "command": "test", "describe": {"go_default": "runq=256 steal=half"},
                "defines": {"go_default": ["GMP_RUNQ_SIZE=256"]}, "machine": {"cpu": "x"},
                "hardware_threads": 2}
        report.write_report(self.dir, data, list(errors), list(notes), meta, None, latency)
        with open(os.path.join(self.dir, "REPORT.md")) as f:
            return f.read()

    def aa(self):
        with open(os.path.join(self.dir, "aa_control.json")) as f:
            return json.load(f)

    def test_paired_tables_aa_and_files(self):
        data = blocks({"go_default": 1.0, "aa_control": 1.0, "steal_one": 0.8, "go": 2.0})
        md = self.write(data, errors=[("go", "Syscall", 1, "exit status 1")])
        aa = self.aa()
        self.assertEqual(aa["comparisons"], 8)  # 2 workloads x 2 procs x wall, CPU
        self.assertEqual(aa["alpha"], 0.05)
        for k in ("flagged", "flagged_corrected"):
            self.assertIn(k, aa)
        self.assertIn("A/A control passed", md)
        # go_default is half of Go in every block: significant, with a CI.
        self.assertRegex(md, r"\| PingPongUnbuffered/procs:1 \| [^|]+ \| [^|]+ \| "
                             r"×0\.50 \[0\.\d\d–0\.\d\d\]\* \|")
        self.assertIn("**go** Syscall/procs:1: exit status 1", md)
        self.assertIn("Holm–Bonferroni", md)
        self.assertIn("Benjamini–Hochberg", md)
        for name in ("headline", "wall_peers", "cpu_peers", "wall_variants", "cpu_variants",
                     "best_policy", "summary", "counters", "verdicts", "aa_control",
                     "contention"):
            self.assertTrue(os.path.exists(os.path.join(self.dir, name + ".csv")), name)
        for plot in ("heatmap_wall.png", "heatmap_cpu.png", "scaling.png", "bars_Fib.png"):
            self.assertTrue(os.path.exists(os.path.join(self.dir, "plots", plot)), plot)
        with open(os.path.join(self.dir, "verdicts.csv")) as f:
            rows = list(csv.DictReader(f))
        steal = [r for r in rows if r["family"] == "variants_wall" and r["system"] == "steal_one"]
        self.assertEqual(len(steal), 4)
        self.assertTrue(all(r["verdict"] == "faster" for r in steal))
        aa_rows = [r for r in rows if r["family"] == "aa_control"]
        self.assertTrue(all(r["verdict"] == "same" for r in aa_rows))

    def test_a_layout_bias_is_flagged_and_the_report_says_unreliable(self):
        # aa_control 5% slower in every block (a fixed layout effect).
        data = blocks({"go_default": 1.0, "aa_control": 1.05, "go": 2.0})
        md = self.write(data, variants=("go_default", "aa_control"))
        aa = self.aa()
        self.assertEqual(aa["flagged"], aa["comparisons"])
        self.assertGreater(aa["flagged_corrected"], 0)
        self.assertIn("Verdicts unreliable on this machine", md.split("\n## ")[0])

    def test_missing_aa_control_is_said(self):
        md = self.write(blocks({"go_default": 1.0, "go": 2.0}), variants=("go_default",))
        self.assertIn("Uncalibrated", md)
        self.assertEqual(self.aa()["comparisons"], 0)

    def test_best_policy_must_be_confirmed_on_fresh_blocks(self):
        # steal_one looks 10% faster in the main blocks, but the confirmation
        # round shows no difference: not a winner.
        main = blocks({"go_default": 1.0, "steal_one": 0.9}, workloads=("Fib",), procs=(1,))
        conf = blocks({"go_default": 1.0, "steal_one": 1.0}, workloads=("Fib",), procs=(1,),
                      n=8, seed=2, phase="confirm", first=10)
        md = self.write(main + conf, variants=("go_default", "steal_one"), peers=())
        row = [l for l in md.splitlines() if l.startswith("| Fib/procs:1 | steal_one")][0]
        self.assertIn("| not confirmed |", row)
        # ... and confirmed when the round agrees.
        conf = blocks({"go_default": 1.0, "steal_one": 0.9}, workloads=("Fib",), procs=(1,),
                      n=8, seed=2, phase="confirm", first=10)
        md = self.write(main + conf, variants=("go_default", "steal_one"), peers=())
        self.assertIn("**confirmed faster than go_default**", md)
        self.assertEqual(analysis.choose_candidates(main, ["go_default", "steal_one"]),
                         {"Fib": ["steal_one"]})

    def test_a_best_policy_must_first_be_significant(self):
        # Fastest by a hair, within the noise: no candidate, no confirmation.
        main = blocks({"go_default": 1.0, "steal_one": 0.995}, workloads=("Fib",), procs=(1,),
                      noise=0.05)
        self.assertEqual(analysis.choose_candidates(main, ["go_default", "steal_one"]), {})
        md = self.write(main, variants=("go_default", "steal_one"), peers=())
        self.assertIn("| no variant significantly faster |", md)

    def test_contended_samples_are_counted(self):
        data = blocks({"go_default": 1.0, "go": 2.0})
        for s in data[:len(data) // 2]:
            s["process"] = dict(s["process"], contended=True, start=s["process"]["start"])
        md = self.write(data, variants=("go_default",))
        self.assertRegex(md, r"contended: \*\*\d+ \(\d+\.\d%\)\*\*")
        self.assertIn("**Contention:**", md)

    def test_latency_table_and_cdf(self):
        data = blocks({"go_default": 1.0, "go": 2.0}, workloads=("WakeupLatency",))
        for s in data:
            s["counters"].update(p50_ns=s["real_ns"], p90_ns=2 * s["real_ns"],
                                 p99_ns=5 * s["real_ns"], p999_ns=9 * s["real_ns"],
                                 max_ns=20 * s["real_ns"])
        lat = [{"system": s, "workload": "WakeupLatency", "procs": p,
                "samples_ns": [100 + i for i in range(500)]} for s in ("go_default", "go")
               for p in (1, 2)]
        md = self.write(data, variants=("go_default",), latency=lat)
        self.assertIn("## Wake-up latency", md)
        self.assertRegex(md, r"\| WakeupLatency/procs:1 \| go \| 10 \| [^|]+ \| [^|]+ \| "
                             r"[^|]+ \| [^|]+ \| [^|]+ \| ×(1\.99|2\.0[01]) ")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "plots", "latency_cdf.png")))
        with open(os.path.join(self.dir, "samples.json")) as f:
            hist = json.load(f)["latency"]
        self.assertEqual(sum(hist["histograms"]["go|WakeupLatency|1"]), 500)

    def test_rewrite_from_samples_json(self):
        data = blocks({"go_default": 1.0, "aa_control": 1.0, "go": 2.0})
        md1 = self.write(data, variants=("go_default", "aa_control"))
        with open(os.path.join(self.dir, "samples.json")) as f:
            d = json.load(f)
        self.assertIsInstance(d["samples"][0]["process"], int)  # records stored once
        report.write_report(self.dir, report_files.unpack_samples(d), d["errors"], d["notes"],
                            d["meta"], None, d["latency"])
        with open(os.path.join(self.dir, "REPORT.md")) as f:
            self.assertEqual(f.read(), md1)

    def test_tokio_like_vs_tokio(self):
        # Fib: both faster than go_default (agree). PingPongUnbuffered:
        # tokio_like faster, Tokio slower (disagree). SkewedLoad: both the same.
        data = (blocks({"go_default": 1.0, "tokio_like": 0.8, "tokio": 0.7}, workloads=("Fib",))
                + blocks({"go_default": 1.0, "tokio_like": 0.8, "tokio": 1.3},
                         workloads=("PingPongUnbuffered",), seed=2)
                + blocks({"go_default": 1.0, "tokio_like": 1.0, "tokio": 1.0},
                         workloads=("SkewedLoad",), seed=3, noise=0.05))
        md = self.write(data, variants=("go_default", "tokio_like"), peers=("tokio",))
        sec = md.split("## tokio_like vs Tokio")[1].split("\n## ")[0]
        self.assertIn("They agree in **4 of 6** cells.", sec)
        self.assertIn("inherent", sec)
        fib = [l for l in sec.splitlines() if l.startswith("| Fib/procs:1 |")][0]
        self.assertRegex(fib, r"×0\.80 \[[^]]+\]\* \| ×0\.70 \[[^]]+\]\* \| yes \| — \|")
        pp = [l for l in sec.splitlines() if l.startswith("| PingPongUnbuffered/procs:2 |")][0]
        self.assertIn("| **no** |", pp)
        self.assertIn("mpsc capacity 1 vs unbuffered channel", pp)
        skew = [l for l in sec.splitlines() if l.startswith("| SkewedLoad/procs:1 |")][0]
        self.assertIn("| yes |", skew)
        with open(os.path.join(self.dir, "tokio_like_vs_tokio.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 6)
        self.assertEqual({r["agree"] for r in rows if r["workload"] == "PingPongUnbuffered"},
                         {"False"})
        # Tokio appears as a peer like any other.
        self.assertIn("go_default/tokio", md)
        self.assertIn("stackless tasks: a task is a heap-allocated state machine", md)
        self.assertIn("mpsc capacity 1: Tokio has no rendezvous channel", md)

    def test_tokio_like_too_few_blocks_is_undecided(self):
        data = blocks({"go_default": 1.0, "tokio_like": 0.8, "tokio": 1.3}, workloads=("Fib",),
                      procs=(1,), n=3)
        md = self.write(data, variants=("go_default", "tokio_like"), peers=("tokio",))
        sec = md.split("## tokio_like vs Tokio")[1].split("\n## ")[0]
        self.assertIn("They agree in **0 of 0** cells; 1 more have too few blocks to tell.", sec)
        self.assertIn("| ? (3 blocks) | — |", sec)

    def test_tokio_like_section_needs_all_three(self):
        md = self.write(blocks({"go_default": 1.0, "tokio_like": 0.9}),
                        variants=("go_default", "tokio_like"), peers=())
        self.assertIn("no data for tokio.", md)

    def test_ci_side_and_explanations(self):
        class P:  # a stand-in for stats.Paired
            def __init__(self, lo, hi, coverage=0.95):
                self.ratio, self.low, self.high = (lo + hi) / 2, lo, hi
                self.coverage = coverage
        self.assertEqual(analysis.ci_side(P(0.7, 0.9)), "below")
        self.assertEqual(analysis.ci_side(P(1.1, 1.3)), "above")
        self.assertEqual(analysis.ci_side(P(0.9, 1.1)), "contains")
        self.assertIsNone(analysis.ci_side(None))
        self.assertEqual(analysis.ci_side(P(0.7, 0.9, coverage=0.75)), "few")
        self.assertIn(sections_floor_tokio.TOKIO_DIFFERENCES["stackless"],
                      sections_floor_tokio.tokio_explanations("MillionParked"))
        self.assertIn(sections_floor_tokio.TOKIO_DIFFERENCES["yield"],
                      sections_floor_tokio.tokio_explanations("Gosched"))
        self.assertTrue(
            sections_floor_tokio.tokio_explanations("WakeupParallelSpinning/delay_us:5"))

    def test_likely_cause(self):
        cause = sections_verdicts.likely_cause
        self.assertIn("thread sleeps", cause("Syscall", {"parks": 2, "wakeups": 2}))
        self.assertIn("creating Gs", cause("CreateGoroutinesSingle", {}))
        self.assertIn("fast path", cause("PingPongUnbuffered", {"parks": 0.001}))

    def test_fuzz_campaigns_per_variant_and_reproduction(self):
        def camp(variant, target, findings=()):
            return {"variant": variant, "target": target, "sanitizer": "tsan",
                    "time_s": 35, "executions": 1000, "exec_per_sec": 28,
                    "coverage": 9, "features": 10, "corpus_size": 5,
                    "findings": list(findings)}
        finding = {"kind": "crash", "reason": "WARNING: ThreadSanitizer: data race",
                   "artifact": "fuzz/results/x/crash-1", "replays": 20, "reproduced": 13}
        summary = {"campaigns": [camp("go_default", "block"), camp("go_default", "runq"),
                                 camp("steal_one", "block", [finding])],
                   "canaries": [{"canary": "LOST_WAKEUP", "caught": True,
                                 "time_to_detection_s": 2.5, "target": "block",
                                 "cap_s": 300, "reason": "fatal error: all goroutines are asleep",
                                 "replays": 20, "reproduced": 20}]}
        meta = {"variants": [], "peers": [], "procs": "1", "blocks": 2, "confirm_blocks": 2,
                "million_reps": 1, "million": 10, "min_time": 0.01, "seed": 1,
                "command": "test", "describe": {}, "defines": {}, "machine": {},
                "hardware_threads": 2, "fuzz_path": "reports/fuzz-summary.json"}
        report.write_report(self.dir, [], [], [], meta, summary, None)
        with open(os.path.join(self.dir, "REPORT.md")) as f:
            md = f.read()
        self.assertIn("Campaigns per variant", md)
        self.assertRegex(md, r"\| go_default \| tsan \| block runq \| 70 \| 2000 \| 0 \|")
        self.assertRegex(md, r"\| steal_one \| tsan \| block \| 35 \| 1000 \| 1 \|")
        self.assertRegex(md, r"data race \| 13/20 \|")
        self.assertRegex(md, r"asleep \| 20/20 \|")
        summary["campaigns"] = summary["campaigns"][:2]
        report.write_report(self.dir, [], [], [], meta, summary, None)
        with open(os.path.join(self.dir, "REPORT.md")) as f:
            md = f.read()
        self.assertNotIn("Campaigns per variant", md)

    def floor_section(self, md):
        return md.split("## Time above the floor")[1].split("\n## ")[0]

    def floor_rows(self):
        with open(os.path.join(self.dir, "floor.csv")) as f:
            return {(r["workload"], r["procs"]): r for r in csv.DictReader(f)}

    def test_floor_ratio_on_known_data(self):
        # No noise: per block the floor is 100*L, go_default 115*L and Go
        # 160*L, so go_default's excess is 15*L, Go's 60*L: exactly 0.25.
        wls = ("Syscall", "WakeupParallelSpinning/delay_us:5")
        data = blocks({"go_default": 1.15, "go": 1.6, "floor": 1.0}, workloads=wls, noise=0.0)
        md = self.write(data, variants=("go_default",))
        sec = self.floor_section(md)
        self.assertIn("Target: go_default's time above the floor is at most 0.5× Go's", sec)
        self.assertIn("go_default meets the target in **4 of 4** cells", sec)
        row = [l for l in sec.splitlines() if l.startswith("| Syscall/procs:1 |")][0]
        self.assertIn("| ×0.25 [0.25–0.25] | **meets** (CI at or below 0.5) |", row)
        rows = self.floor_rows()
        r = rows[("Syscall", "1")]
        self.assertAlmostEqual(float(r["ratio"]), 0.25, places=5)  # 7 digits stored
        floor_med = float(r["floor_median_ns"])
        self.assertAlmostEqual(float(r["go_default_excess_ns"]), 0.15 * floor_med, delta=1e-3)
        self.assertAlmostEqual(float(r["go_excess_ns"]), 0.6 * floor_med, delta=1e-3)
        self.assertEqual(r["verdict"], "meets")
        with open(os.path.join(self.dir, "verdicts.csv")) as f:
            v = [x for x in csv.DictReader(f) if x["family"] == "floor_excess"]
        self.assertEqual(len(v), 4)
        self.assertTrue(all(x["verdict"] == "meets" and x["baseline"] == "go" for x in v))
        # The floor is no peer: it is in no other table.
        self.assertNotIn("go_default/floor", md)
        self.assertNotIn("floor", md.split("## Wall time: gmplab and peers")[1]
                         .split("## Variants against")[0])

    def test_floor_in_the_million_parked_table(self):
        data = blocks({"go_default": 1.5, "go": 1.4, "floor": 1.0}, workloads=("MillionParked",),
                      procs=(2,), n=3)
        md = self.write(data, variants=("go_default",))
        self.assertIn("| floor | 2 | 3 |", md)
        sec = self.floor_section(md)
        self.assertIn("| MillionParked/procs:2 |", sec)
        self.assertIn("undecided (3 blocks: a verdict needs 6)", sec)

    def test_floor_ratio_with_noise_and_a_miss(self):
        wls = ("Syscall",)
        # Excesses 20 vs 80 per 100 of floor: ratio about 0.25, CI below 0.5.
        data = blocks({"go_default": 1.2, "go": 1.8, "floor": 1.0}, workloads=wls, n=16)
        self.write(data, variants=("go_default",))
        r = self.floor_rows()[("Syscall", "2")]
        self.assertAlmostEqual(float(r["ratio"]), 0.25, delta=0.04)
        self.assertLess(float(r["ci_hi"]), 0.5)
        self.assertLess(float(r["ci_lo"]), float(r["ratio"]))
        self.assertEqual(r["verdict"], "meets")
        # Excesses 70 vs 80: about 0.875, a clear miss.
        data = blocks({"go_default": 1.7, "go": 1.8, "floor": 1.0}, workloads=wls, n=16)
        md = self.write(data, variants=("go_default",))
        r = self.floor_rows()[("Syscall", "2")]
        self.assertAlmostEqual(float(r["ratio"]), 0.875, delta=0.06)
        self.assertGreater(float(r["ci_lo"]), 0.5)
        self.assertEqual(r["verdict"], "misses")
        self.assertIn("go_default meets the target in **0 of 2** cells", md)

    def test_floor_excess_at_or_below_zero(self):
        wls = ("Syscall",)
        # go_default below the floor: at the floor, and the target is met.
        data = blocks({"go_default": 0.98, "go": 1.5, "floor": 1.0}, workloads=wls)
        sec = self.floor_section(self.write(data, variants=("go_default",)))
        row = [l for l in sec.splitlines() if l.startswith("| Syscall/procs:1 |")][0]
        self.assertIn("at the floor (-", row)
        self.assertIn("| — | **meets** (go_default at the floor) |", row)
        data = blocks({"go_default": 0.98, "go": 0.99, "floor": 1.0}, workloads=wls)
        sec = self.floor_section(self.write(data, variants=("go_default",)))
        self.assertIn("| — | **meets** (both at the floor) |", sec)
        self.assertEqual(self.floor_rows()[("Syscall", "1")]["go_default_state"], "at")
        # Go at the floor, go_default clearly above: no ratio, a miss.
        data = blocks({"go_default": 1.3, "go": 0.99, "floor": 1.0}, workloads=wls)
        sec = self.floor_section(self.write(data, variants=("go_default",)))
        row = [l for l in sec.splitlines() if l.startswith("| Syscall/procs:1 |")][0]
        self.assertIn("| — | misses (Go at the floor, go_default above it) |", row)
        # Go's excess within the noise of the floor: no ratio, undecided.
        data = blocks({"go_default": 1.3, "go": 1.002, "floor": 1.0}, workloads=wls,
                      noise=0.02)
        self.write(data, variants=("go_default",))
        r = self.floor_rows()[("Syscall", "1")]
        self.assertIn(r["go_state"], ("near", "at"))
        self.assertEqual(r["ratio"], "")
        self.assertEqual(r["verdict"], "misses" if r["go_state"] == "at" else "undecided")

    def test_floor_under_load_is_said(self):
        data = blocks({"go_default": 1.2, "go": 1.8, "floor": 1.0}, workloads=("Syscall",))
        sec = self.floor_section(self.write(data, variants=("go_default",)))
        self.assertNotIn("The floor ran under load", sec)
        # (blocks() gives each procs value its own process record: 2 per block.)
        for smp in data:
            if smp["system"] == "floor" and smp["block"] < 3:
                smp["process"] = dict(smp["process"], contended=True)
        sec = self.floor_section(self.write(data, variants=("go_default",)))
        self.assertIn("The floor ran under load:** 6 of its 20 processes were contended", sec)

    def test_too_few_blocks_reach_no_verdict(self):
        for n in (2, 5):
            data = blocks({"go_default": 1.2, "go": 1.8, "floor": 1.0}, workloads=("Syscall",),
                          procs=(1,), n=n)
            sec = self.floor_section(self.write(data, variants=("go_default",)))
            self.assertRegex(sec, r"\| ×0\.2\d \(n=%d\) \| undecided \(%d blocks: a verdict "
                                  r"needs 6\) \|" % (n, n))
            self.assertIn("No cell has a verdict (1 undecided).", sec)
            # Not even go_default at the floor, or Go at it, decides so few blocks.
            for f in ({"go_default": 0.98, "go": 1.5}, {"go_default": 1.3, "go": 0.99}):
                data = blocks(dict(f, floor=1.0), workloads=("Syscall",), procs=(1,), n=n)
                sec = self.floor_section(self.write(data, variants=("go_default",)))
                self.assertIn("undecided (%d blocks: a verdict needs 6) |" % n, sec)
        data = blocks({"go_default": 1.2, "go": 1.8, "floor": 1.0}, workloads=("Syscall",),
                      procs=(1,), n=6)
        sec = self.floor_section(self.write(data, variants=("go_default",)))
        self.assertIn("| **meets** (CI at or below 0.5) |", sec)

    def test_no_floor_is_said(self):
        md = self.write(blocks({"go_default": 1.0, "go": 2.0}, workloads=("Syscall",)),
                        variants=("go_default",))
        self.assertIn("No floor in this run", self.floor_section(md))

    def test_empty_input_still_writes(self):
        md = self.write([], notes=["peer **go** missing: go not found"], variants=())
        self.assertIn("go not found", md)
        self.assertIn("Needs both go_default and the Go peer", md)


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.dirs = [tempfile.mkdtemp(), tempfile.mkdtemp()]
        patcher = mock.patch.object(plots, "make_all", return_value=[])
        patcher.start()
        self.addCleanup(patcher.stop)

    def tearDown(self):
        for d in self.dirs:
            shutil.rmtree(d)

    def write(self, d, factors, seed):
        meta = {"variants": ["go_default", "steal_one"], "peers": [], "procs": "1,2",
                "blocks": 10, "seed": seed, "command": "t", "machine": {}}
        report.write_report(d, blocks(factors, seed=seed), [], [], meta, None, None)

    def test_flipped_and_differing_verdicts(self):
        self.write(self.dirs[0], {"go_default": 1.0, "steal_one": 0.8}, 1)
        self.write(self.dirs[1], {"go_default": 1.0, "steal_one": 1.25}, 2)
        out = io.StringIO()
        self.assertEqual(compare.main(self.dirs[0], self.dirs[1], out), 0)
        text = out.getvalue()
        self.assertRegex(text, r"differing: 12 \(100\.0%\); flipped sign: 12")
        self.assertIn("FLIPPED variants_wall steal_one vs go_default Fib/procs:1 wall", text)

    def test_same_reports_agree(self):
        self.write(self.dirs[0], {"go_default": 1.0, "steal_one": 0.8}, 1)
        self.write(self.dirs[1], {"go_default": 1.0, "steal_one": 0.8}, 3)
        out = io.StringIO()
        compare.main(self.dirs[0], self.dirs[1], out)
        self.assertIn("differing: 0 (0.0%); flipped sign: 0", out.getvalue())

    def test_missing_verdicts_is_a_clear_error(self):
        err = io.StringIO()
        old, sys.stderr = sys.stderr, err
        try:
            self.assertEqual(compare.main(self.dirs[0], self.dirs[1]), 2)
        finally:
            sys.stderr = old
        self.assertIn("has no verdicts.csv", err.getvalue())


class DesignTest(unittest.TestCase):
    def systems(self):
        return [design.System("go_default", "variant", "/b/gd",
                              [(i, "/b/gd%d" % i) for i in range(1, 11)]),
                design.System("aa_control", "variant", "/b/aa",
                              [(i, "/b/aa%d" % i) for i in range(1, 11)]),
                design.System("go", "go", "/b/go"),
                design.System("tbb", "peer", "/b/tbb")]

    def settings(self, blocks=10):
        return {"blocks": blocks, "confirm_blocks": 4, "min_time": 0.03, "million": 1000,
                "million_reps": 3, "timeout": 60, "million_variants": ["go_default"],
                "hog_ops": 1000}

    def test_blocks_run_every_system_once_per_workload_on_fresh_layouts(self):
        wls = ["Fib", "Gosched", "PingPongUnbuffered", "MillionParked"]
        jobs = design.plan_main(self.systems(), wls, [1, 2], self.settings(), 2,
                                design.new_rng(3))
        main = [j for j in jobs if j.phase == "main"]
        for k in range(10):
            got = sorted(j.system for j in main if j.block == k and j.workload == "Fib")
            self.assertEqual(got, ["aa_control", "go", "go_default", "tbb"])
            got = sorted(j.system for j in main if j.block == k and j.workload == "Gosched")
            self.assertEqual(got, ["aa_control", "go", "go_default"])
            # tbb cannot yield: it has no Gosched, and no PingPong.
            self.assertFalse([j for j in main if j.block == k and j.system == "tbb" and
                              j.workload == "PingPongUnbuffered"])
        for s in ("go_default", "aa_control"):
            for wl in ("Fib", "Gosched"):
                layouts = [j.layout for j in main if j.system == s and j.workload == wl]
                self.assertEqual(sorted(layouts), list(range(1, 11)))
        orders = {tuple(j.system for j in main if j.block == k and j.workload == "Fib")
                  for k in range(10)}
        self.assertGreater(len(orders), 3)  # a fresh random order per block
        # MillionParked: 3 blocks of the variants that run it and Go, spread out.
        mp = [i for i, j in enumerate(jobs) if j.phase == "million"]
        self.assertEqual(sorted(j.system for j in jobs if j.phase == "million"),
                         ["go"] * 3 + ["go_default"] * 3)
        self.assertGreater(mp[0], len(jobs) // 10)
        self.assertLess(mp[-1], len(jobs) - 1)

    def test_floor_runs_only_in_its_workloads(self):
        systems = self.systems() + [design.System("floor", "floor", "/b/floor")]
        wls = ["Fib", "Syscall", "WakeupParallelSpinning", "PingPongUnbuffered",
               "MillionParked"]
        jobs = design.plan_main(systems, wls, [1, 2], self.settings(), 2, design.new_rng(4))
        floor = [j for j in jobs if j.system == "floor"]
        self.assertEqual(sorted({j.workload for j in floor}),
                         ["MillionParked", "Syscall", "WakeupParallelSpinning"])
        for wl in ("Syscall", "WakeupParallelSpinning"):
            # Once in every block, beside the others of that block.
            self.assertEqual(sorted(j.block for j in floor if j.workload == wl), list(range(10)))
        self.assertEqual(sorted(j.block for j in floor if j.workload == "MillionParked"),
                         [0, 1, 2])
        self.assertTrue(all(j.fmt == "gbench" and j.layout is None for j in floor))
        wake = [j for j in floor if j.workload == "WakeupParallelSpinning"][0]
        self.assertIn("--procs=2", wake.argv)  # the procs gmplab's workload runs at
        sysc = [j for j in floor if j.workload == "Syscall"][0]
        self.assertIn("--procs=1,2", sysc.argv)
        mp = [j for j in floor if j.workload == "MillionParked"][0]
        self.assertIn("--million=1000", mp.argv)
        self.assertEqual(mp.phase, "million")

    def test_seed_reproduces_the_plan(self):
        a = design.plan_main(self.systems(), ["Fib"], [1], self.settings(3), 2, design.new_rng(9))
        b = design.plan_main(self.systems(), ["Fib"], [1], self.settings(3), 2, design.new_rng(9))
        self.assertEqual([(j.system, j.layout, j.argv) for j in a],
                         [(j.system, j.layout, j.argv) for j in b])

    def test_confirmation_round(self):
        s = self.systems()
        jobs = design.plan_confirm({"Fib": [s[1]]}, s[0], [1], self.settings(), 2,
                                   design.new_rng(1), first_block=10)
        self.assertEqual(len(jobs), 8)
        self.assertEqual({j.block for j in jobs}, {10, 11, 12, 13})
        self.assertTrue(all(j.phase == "confirm" for j in jobs))


if __name__ == "__main__":
    unittest.main()
