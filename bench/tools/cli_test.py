"""Tests for the command lines of report.py, compare.py and run_bench.py
(argparse: generated --help, exit 2 on a bad flag) and for report.py's
rewrite from samples.json (//bench:cli_test)."""

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compare  # noqa: E402
import plots  # noqa: E402
import report  # noqa: E402
import run_bench  # noqa: E402
from report_test import blocks  # noqa: E402


def exits(fn, argv):
    """Runs fn(argv); returns (exit code, stdout, stderr), SystemExit included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = fn(argv)
        except SystemExit as e:
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


class UsageTest(unittest.TestCase):
    def assertUsageError(self, fn, argv, message):
        rc, _, err = exits(fn, argv)
        self.assertEqual(rc, 2, err)
        self.assertIn("usage:", err)
        self.assertIn(message, err)

    def test_help_is_generated(self):
        for fn, flag in ((report.main, "--fuzz-summary"), (compare.cli, "DIR_B"),
                         (run_bench.main, "--min-time")):
            rc, out, _ = exits(fn, ["--help"])
            self.assertEqual(rc, 0)
            self.assertTrue(out.startswith("usage:"), out)
            self.assertIn(flag, out)

    def test_bad_flags_exit_2(self):
        self.assertUsageError(report.main, ["--bogus", "x.json"], "unrecognized arguments")
        self.assertUsageError(report.main, [], "required")
        self.assertUsageError(compare.cli, ["onlyone"], "required")
        self.assertUsageError(run_bench.main, ["--bogus-flag"], "unrecognized arguments")
        self.assertUsageError(run_bench.main, ["--procs=,"], "bad --procs list")
        self.assertUsageError(run_bench.main, ["--procs=0"], "bad --procs list")
        self.assertUsageError(run_bench.main, ["--reps=0"], "bad --reps")
        self.assertUsageError(run_bench.main, ["--peer=erlang"], "invalid choice")
        self.assertUsageError(run_bench.main, ["--variant=a", "--peer=go"], "not allowed")
        # run_bench took only --flag=value names in full; it still does.
        self.assertUsageError(run_bench.main, ["--filt=Fib"], "unrecognized arguments")

    def test_run_bench_keeps_its_syntax(self):
        a, extra = run_bench.parse_args(["--variant=runq16", "--procs=1,2,4", "--filter=Fib",
                                         "--reps=3", "--min-time=0.5", "--describe", "--",
                                         "--benchmark_format=json", "--help"])
        self.assertEqual((a.variant, a.procs, a.filter, a.reps, a.min_time, a.describe),
                         ("runq16", [1, 2, 4], "Fib", "3", "0.5", True))
        self.assertEqual(extra, ["--benchmark_format=json", "--help"])
        a, extra = run_bench.parse_args(["--peer=tokio"])
        self.assertEqual((a.peer, a.variant, a.reps, extra), ("tokio", None, "1", []))


class RewriteTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        patcher = mock.patch.object(plots, "make_all", return_value=[])
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_rewrite_from_samples_json_is_identical(self):
        meta = {"variants": ["go_default", "aa_control"], "peers": ["go"], "procs": "1,2",
                "blocks": 10, "seed": 1, "command": "t", "machine": {},
                "fuzz_path": "no/such/fuzz-summary.json"}
        data = blocks({"go_default": 1.0, "aa_control": 1.0, "go": 1.5})
        report.write_report(self.dir, data, [], ["a note"], meta, None, None)
        files = {}
        for name in os.listdir(self.dir):
            with open(os.path.join(self.dir, name)) as f:
                files[name] = f.read()
        out = os.path.join(self.dir, "again")
        rc, stdout, _ = exits(report.main, [os.path.join(self.dir, "samples.json"),
                                            "--out", out])
        self.assertEqual(rc, 0)
        self.assertIn(os.path.join(out, "REPORT.md"), stdout)
        for name, text in files.items():
            with open(os.path.join(out, name)) as f:
                again = f.read()
            if name == "samples.json":  # meta.fuzz_path is rewritten relative to the root
                again, text = json.loads(again), json.loads(text)
                again["meta"].pop("fuzz_path"), text["meta"].pop("fuzz_path")
            self.assertEqual(again, text, name)


if __name__ == "__main__":
    unittest.main()
