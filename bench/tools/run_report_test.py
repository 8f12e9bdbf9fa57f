"""Tests for run_report.py's checks before it measures (//bench:run_report_test)."""

import io
import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run_report  # noqa: E402
import runner  # noqa: E402


class RunReportChecksTest(unittest.TestCase):
    def run_main(self, argv, busy=0.0):
        err, out = io.StringIO(), io.StringIO()
        with mock.patch.object(runner, "quiet_check", return_value=(busy, 0.0, 0.1)), \
                mock.patch.object(runner, "variant_names",
                                  return_value=(["go_default", "aa_control", "runq4"],
                                                ["canary_x"])), \
                mock.patch.object(runner.Bazel, "run", side_effect=AssertionError("no bazel")), \
                mock.patch.object(sys, "stderr", err), mock.patch.object(sys, "stdout", out):
            rc = run_report._main(argv)
        return rc, err.getvalue(), out.getvalue()

    def test_unknown_million_variant_is_a_clear_error(self):
        rc, err, _ = self.run_main(["--million-variants=go_default,nope"])
        self.assertEqual(rc, 2)
        self.assertIn("--million-variants: unknown variant(s) nope", err)
        self.assertIn("known: go_default,aa_control,runq4", err)

    def test_unknown_variant_is_a_clear_error(self):
        rc, err, _ = self.run_main(["--variants=go_default,typo"])
        self.assertEqual(rc, 2)
        self.assertIn("--variants: unknown variant(s) typo", err)

    def test_a_busy_machine_is_refused(self):
        rc, err, _ = self.run_main(["--variants=go_default"], busy=1.4)
        self.assertEqual(rc, 3)
        self.assertIn("the machine is busy", err)
        self.assertIn("--allow-load", err)

    def test_help_needs_nothing(self):
        rc, _, out = self.run_main(["--help"], busy=2.0)
        self.assertEqual(rc, 0)
        self.assertIn("--compare A B", out)

    def test_quick_defaults(self):
        a = run_report.parse_args(["--quick"])
        self.assertEqual(a.variants, ["go_default", "aa_control"])
        self.assertEqual(a.blocks, 16)
        self.assertGreaterEqual(a.blocks, 6)  # enough blocks for a verdict at 0.05
        a = run_report.parse_args(["--reps", "12"])
        self.assertEqual(a.blocks, 12)

    def test_floor_is_on_unless_asked(self):
        self.assertFalse(run_report.parse_args([]).no_floor)
        self.assertTrue(run_report.parse_args(["--no-floor"]).no_floor)



class TokioPeerTest(unittest.TestCase):
    """The Tokio peer's build step, without cargo (CI does not install it)."""

    def test_tokio_is_a_peer(self):
        self.assertIn("tokio", run_report.parse_args([]).peers)
        self.assertEqual(run_report.parse_args(["--peers=tokio,go"]).peers, ["tokio", "go"])

    def test_missing_cargo_is_a_clear_error(self):
        import tempfile
        crate = tempfile.mkdtemp()  # bench/tokio is not among the test's runfiles
        open(os.path.join(crate, "Cargo.toml"), "w").close()
        path, err = runner.tokio_binary(tempfile.mkdtemp(), cargo="/nonexistent/cargo",
                                        crate=crate)
        self.assertIsNone(path)
        self.assertIn("/nonexistent/cargo not found", err)
        self.assertIn("librust-tokio-dev", err)

    def test_missing_crate_is_a_clear_error(self):
        import tempfile
        path, err = runner.tokio_binary(tempfile.mkdtemp(), crate="/nonexistent/crate")
        self.assertIsNone(path)
        self.assertIn("Cargo.toml not found", err)

    def test_missing_tokio_becomes_a_note(self):
        with mock.patch.object(runner, "tokio_binary", return_value=(None, "cargo missing")):
            system, err = run_report.tokio_system("/tmp")
        self.assertIsNone(system)
        self.assertEqual(err, "cargo missing")
        with mock.patch.object(runner, "tokio_binary", return_value=("/w/tokio_bench", None)):
            system, err = run_report.tokio_system("/tmp")
        self.assertEqual((system.name, system.kind, system.binary),
                         ("tokio", "peer", "/w/tokio_bench"))

    def test_tokio_argvs_are_gbench_ones(self):
        import design
        settings = {"min_time": 0.03, "million": 1000, "blocks": 1, "timeout": 9,
                    "million_variants": [], "hog_ops": 10}
        s = design.System("tokio", "peer", "/w/tokio_bench")
        self.assertTrue(s.runs("Fib", []))
        self.assertTrue(s.runs("MillionParked", []))
        self.assertFalse(s.runs("Syscall", []))
        self.assertFalse(s.runs("PingPongHog", []))
        jobs = design._jobs_for(s, "Fib", [1, 2], settings, 2, 0, None, "main")
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs[0].fmt, "gbench")
        self.assertEqual(jobs[0].argv, ["/w/tokio_bench", "--benchmark_filter=^Fib(/|$)",
                                        "--procs=1,2", "--benchmark_min_time=0.03",
                                        "--benchmark_repetitions=1"])


if __name__ == "__main__":
    unittest.main()
