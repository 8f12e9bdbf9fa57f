"""Tests of fuzz/mutate/run.py (`./harness mutate`): site selection, flag
errors, verdict labels, merging and the Markdown table."""

import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402

RESULT = {
    "sites": [
        {"id": "a.cc:F#0", "file": "runtime/a.cc", "line": 3, "function": "F", "op": "load",
         "kind": "load", "object": "x", "order": "acquire", "explicit": True,
         "weakened": ["relaxed"]},
        {"id": "b.h:G#0", "file": "runtime/b.h", "line": 9, "function": "G", "op": "fetch_add",
         "kind": "rmw", "object": "n", "order": "seq_cst", "explicit": False,
         "weakened": ["acq_rel"], "needs_model_checker": "in StoreLoad"},
    ],
    "operator_forms": [], "dynamic_orders": [],
}


def usage_error(argv):
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try:
            run.parse_args(argv)
        except SystemExit as e:
            return e.code, err.getvalue()
    return 0, err.getvalue()


class SelectTest(unittest.TestCase):
    def test_all_sites_by_id_and_file(self):
        self.assertEqual([r[0] for r in run.select(RESULT)],
                         ["m_a_cc_F_0_relaxed", "m_b_h_G_0_acq_rel"])
        self.assertEqual([r[1]["id"] for r in run.select(RESULT, ["b.h:G#0"])], ["b.h:G#0"])
        self.assertEqual([r[1]["id"] for r in run.select(RESULT, files=["a.cc"])], ["a.cc:F#0"])

    def test_unknown_site_or_file(self):
        with self.assertRaisesRegex(run.UsageError, "unknown site"):
            run.select(RESULT, ["nope#0"])
        with self.assertRaisesRegex(run.UsageError, "no sites in file"):
            run.select(RESULT, files=["proc.cc"])


class FlagsTest(unittest.TestCase):
    def test_bad_flags_exit_2_with_a_message(self):
        for argv, words in ((["--budget=0"], "--budget must be positive"),
                            (["--budget=abc"], "whole number"),
                            (["--jobs=-1"], "--jobs must be positive"),
                            (["--sites="], "at least one site"),
                            (["--bogus"], "unrecognized arguments")):
            code, err = usage_error(argv)
            self.assertEqual(code, 2, argv)
            self.assertIn(words, err, argv)

    def test_defaults(self):
        a = run.parse_args([])
        self.assertEqual((a.budget, a.jobs, a.sites, a.files), (30, 1, None, None))
        self.assertEqual(run.parse_args(["--files=proc.cc,runq.h"]).files, ["proc.cc", "runq.h"])


class ResultsTest(unittest.TestCase):
    def test_verdict_labels(self):
        a, b = RESULT["sites"]
        self.assertEqual(run.verdict_label(a, {"verdict": "survived"}), "survived")
        self.assertEqual(run.verdict_label(b, {"verdict": "survived"}),
                         "survived (needs a model checker)")
        self.assertEqual(run.verdict_label(b, {"verdict": "caught"}), "caught")
        self.assertEqual(run.verdict_label(a, None), "error")

    def test_read_verdict_takes_the_last_line(self):
        with tempfile.TemporaryDirectory() as logs:
            d = os.path.join(logs, run.PACKAGE, "m_x_check")
            os.makedirs(d)
            with open(os.path.join(d, "test.log"), "w") as f:
                f.write("noise\nMUTANT_VERDICT {\"verdict\": \"survived\"}\n"
                        "MUTANT_VERDICT {\"verdict\": \"caught\", \"how\": \"tsan-race\"}\n")
            self.assertEqual(run.read_verdict(logs, "m_x")["how"], "tsan-race")
            self.assertIsNone(run.read_verdict(logs, "m_y"))

    def test_merge_keeps_the_same_commit_only(self):
        e1 = {"site": "a.cc:F#0", "order": "relaxed", "file": "runtime/a.cc", "line": 3,
              "op": "load", "order_before": "acquire", "verdict": "caught",
              "detector": "fuzz:runq", "how": "tsan-race", "after_s": 1.5, "budget_s": 30}
        e2 = dict(e1, site="b.h:G#0", order="acq_rel", verdict="survived (needs a model checker)")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.json")
            with open(path, "w") as f:
                json.dump(run.merge_results(path, "abc", [e1]), f)
            data = run.merge_results(path, "abc", [e2])
            self.assertEqual(len(data["results"]), 2)
            self.assertEqual(len(run.merge_results(path, "def", [e2])["results"]), 1)
        md = run.markdown(data)
        self.assertIn("| `a.cc:F#0` | runtime/a.cc:3 | load | acquire → relaxed | caught | "
                      "fuzz:runq | tsan-race | 1.5 | – |", md)
        self.assertIn("survived (needs a model checker) 1", md)


if __name__ == "__main__":
    unittest.main()


class CheckMutantTest(unittest.TestCase):
    """check_mutant.py's classification of what caught a mutant."""

    def setUp(self):
        import check_mutant
        self.cm = check_mutant

    def test_classify(self):
        c = self.cm.classify
        self.assertEqual(c("WARNING: ThreadSanitizer: data race (pid=1)"), "tsan-race")
        self.assertEqual(c("WARNING: ThreadSanitizer: lock-order-inversion"), "tsan-other")
        self.assertEqual(c("fuzz invariant violated: program finishes within 6 s"), "timeout")
        self.assertEqual(c("fuzz invariant violated: every G ran exactly once"), "check-failure")
        self.assertEqual(c("[  FAILED  ] ChanTest.Close"), "check-failure")
        self.assertEqual(c("fatal error: SwitchContext to a context that is not suspended"),
                         "runtime-fatal")
        self.assertEqual(c("ERROR: libFuzzer: deadly signal"), "crash")

    def test_report_excerpt_names_the_top_frame(self):
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            f.write("INFO: seed\nWARNING: ThreadSanitizer: data race (pid=3525)\n"
                    "  Write of size 8 at 0x7 by thread T34:\n"
                    "    #0 load /usr/include/c++/12/bits/atomic_base.h:820:9 (m+0x1)\n"
                    "    #1 execute /proc/self/cwd/runtime/proc.cc:1380:9 "
                    "(m_fuzz_block+0x163a3e) (BuildId: 1426)\n\n"
                    "  Previous read of size 8 at 0x7 by thread T3:\n"
                    "    #0 other /proc/self/cwd/runtime/proc.cc:1:1 (m+0x2)\n")
        self.addCleanup(os.unlink, f.name)
        excerpt, frame = self.cm.report_excerpt(f.name, "WARNING: ThreadSanitizer: data race "
                                                        "(pid=3525)")
        self.assertEqual(frame, "execute runtime/proc.cc:1380:9")
        self.assertTrue(excerpt.startswith("WARNING: ThreadSanitizer: data race"))

    def test_test_failure_reason(self):
        r = self.cm.test_reason("[ RUN ] A.B\nx.cc:3: Failure\n[  FAILED  ] A.B (3 ms)\n", 1,
                                False, 240)
        self.assertEqual(r, "[  FAILED  ] A.B (3 ms)")
        self.assertEqual(self.cm.test_reason("", -9, True, 240), "timeout: ran past 240 s")


class ControlTest(unittest.TestCase):
    """A runtime test failure counts only if go_default's copy passes."""

    def script(self, d, name, rc):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\necho '[  FAILED  ] Timers.Tick (5 ms)'\necho \"$@\" >> %s.args\n"
                    "exit %d\n" % (path, rc))
        os.chmod(path, 0o755)
        return path

    def test_counted_only_when_the_control_passes(self):
        import check_mutant as cm
        with tempfile.TemporaryDirectory() as d:
            mutant = self.script(d, "mutant_time_test", 1)
            good = self.script(d, "go_default_time_test", 0)
            bad = self.script(d, "go_default_time_test_flaky", 1)
            with redirect_stdout(io.StringIO()):
                res, first = cm.run_tests({"time_test": mutant}, 30, 1e12,
                                          {"time_test": good}, control_runs=2)
            self.assertEqual(first["test"], "time_test")
            self.assertEqual(res[0]["control"], "go_default failed 0 of 2 runs")
            with open(good + ".args") as f:
                self.assertEqual(f.read().split(), ["--gtest_filter=Timers.Tick"] * 2)
            with redirect_stdout(io.StringIO()):
                res, first = cm.run_tests({"time_test": mutant}, 30, 1e12,
                                          {"time_test": bad}, control_runs=2)
            self.assertIsNone(first)
            self.assertIn("Timers.Tick", res[0]["rejected"])
