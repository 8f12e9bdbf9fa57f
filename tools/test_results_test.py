#!/usr/bin/python3
"""Tests of test_results.py against a recorded build event file.

testdata/bep_sample.json was recorded from a real run over the tests of
testdata/bep/ (the second of two, so that the passing test is cached):

  bazel test --keep_going --build_event_json_file=tools/testdata/bep_sample.json \
    //tools/testdata/bep:passes //tools/testdata/bep:fails //tools/testdata/bep:broken

which Bazel summed up as "1 test passes, 1 fails to build and 1 fails
locally".
"""

import io
import json
import os
import unittest
from contextlib import redirect_stdout

import test_results

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "testdata", "bep_sample.json")
PKG = "//tools/testdata/bep:"


def sample_lines():
    with open(SAMPLE, encoding="utf-8") as f:
        return f.read().splitlines()


class ParseTest(unittest.TestCase):

    def test_recorded_run(self):
        r = test_results.parse(sample_lines())
        self.assertEqual(sorted(r.tests), [PKG + "broken", PKG + "fails", PKG + "passes"])
        self.assertEqual(r.passed(), [PKG + "passes"])
        self.assertEqual(sorted(r.failed()), [PKG + "broken", PKG + "fails"])
        self.assertEqual(r.status(PKG + "fails"), "FAILED")
        self.assertEqual(r.status(PKG + "broken"), "FAILED_TO_BUILD")

    def test_non_test_targets_are_not_counted(self):
        # The genrule //tools/testdata/bep:broken_data fails too; it is not a
        # test, so it is neither a result nor a failure.
        r = test_results.parse(sample_lines())
        self.assertNotIn(PKG + "broken_data", r.tests)
        self.assertEqual(len(r.passed()) + len(r.failed()), 3)

    def test_file_still_being_written(self):
        # Cut the file in the middle of the first testSummary event: the
        # partial line is skipped and the tests so far have no status yet.
        text = "\n".join(sample_lines())
        cut = text.index('{"id":{"testSummary"') + 40
        r = test_results.parse(io.StringIO(text[:cut]))
        self.assertEqual(len(r.tests), 3)
        self.assertEqual(r.passed(), [])
        self.assertEqual(r.status(PKG + "passes"), "NO_STATUS")

    def test_flaky_counts_as_failed(self):
        lines = [l for l in sample_lines() if PKG + "passes" not in l or
                 '"testSummary"' not in l.split(",", 1)[0]]
        summary = {"id": {"testSummary": {"label": PKG + "passes"}},
                   "testSummary": {"overallStatus": "FLAKY"}}
        r = test_results.parse(lines + [json.dumps(summary)])
        self.assertEqual(r.status(PKG + "passes"), "FLAKY")
        self.assertEqual(r.passed(), [])
        self.assertEqual(len(r.failed()), 3)

    def test_empty_file(self):
        r = test_results.parse([])
        self.assertEqual((r.tests, r.passed(), r.failed()), ([], [], []))


class MainTest(unittest.TestCase):

    def run_main(self, *args):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = test_results.main(["test_results.py"] + list(args))
        return rc, out.getvalue().splitlines()

    def test_summary(self):
        rc, out = self.run_main("summary", SAMPLE)
        self.assertEqual(rc, 0)
        self.assertEqual(out[0], "1 2")
        self.assertEqual(sorted(out[1:]),
                         [PKG + "broken FAILED_TO_BUILD", PKG + "fails FAILED"])

    def test_count(self):
        self.assertEqual(self.run_main("count", SAMPLE), (0, ["3"]))

    def test_missing_file(self):
        rc, out = self.run_main("summary", os.path.join(HERE, "no such file"))
        self.assertEqual((rc, out), (1, []))


if __name__ == "__main__":
    unittest.main()
