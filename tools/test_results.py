#!/usr/bin/python3
"""Reads test results from a Bazel build event file.

`bazel test --build_event_json_file=FILE` writes the build event protocol
(BEP) as one JSON object per line. This tool reads, from such a file:

  * the test targets the run set out to test: one `targetConfigured` event
    whose `configured.testSize` is set, per test rule (test_suites are
    expanded by Bazel before this point; --test_tag_filters has already
    removed the filtered tests);
  * the outcome of each: its `testSummary` event's `overallStatus` (PASSED,
    FLAKY, FAILED, TIMEOUT, ...), or, for a test that never ran, a failed
    `targetCompleted` or an `aborted` event (FAILED_TO_BUILD, or the abort
    reason), or NO_STATUS when nothing was reported.

A test passed when its overall status is PASSED (cached results included);
every other status, FLAKY too, counts as failed.

Usage:
  test_results.py count BEP_FILE    prints the number of test targets
  test_results.py summary BEP_FILE  prints "PASSED FAILED" on the first line,
                                    then "LABEL STATUS" for each test that
                                    did not pass

`./harness test` uses both. A file that Bazel is still writing may end in a
partial line; it is ignored. The run must use --build_tests_only, as the
harness does: without it, a test that a tag filter left out but that was
named explicitly (or through a test_suite) is still configured and built,
and would count here as a test that never ran.
"""

import argparse
import json
import sys

PASSED = "PASSED"


class Results:
    """The test targets of one `bazel test` run and their outcomes."""

    def __init__(self):
        self.tests = []       # test labels, in the order Bazel configured them
        self.summary = {}     # label -> overallStatus of its testSummary
        self.not_built = {}   # label -> why it was not built or not run

    def _add_test(self, label):
        if label not in self.summary and label not in self.not_built and \
                label not in self.tests:
            self.tests.append(label)

    def status(self, label):
        """Returns the outcome of one test: a BEP overall status."""
        if label in self.summary:
            return self.summary[label]
        return self.not_built.get(label, "NO_STATUS")

    def passed(self):
        return [t for t in self.tests if self.status(t) == PASSED]

    def failed(self):
        return [t for t in self.tests if self.status(t) != PASSED]


def parse(lines):
    """Parses BEP JSON lines into Results. Lines that are not complete JSON
    objects (the tail of a file still being written) are skipped."""
    results = Results()
    test_labels = set()
    pending_failures = {}  # label -> status, for targets not (yet) known tests
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        event_id = event.get("id", {})
        if "targetConfigured" in event_id:
            label = event_id["targetConfigured"].get("label")
            if "testSize" in event.get("configured", {}):
                test_labels.add(label)
                results._add_test(label)
        elif "testSummary" in event_id:
            label = event_id["testSummary"]["label"]
            test_labels.add(label)
            results._add_test(label)
            results.summary[label] = event.get("testSummary", {}).get(
                "overallStatus", "NO_STATUS")
        elif "targetCompleted" in event_id:
            label = event_id["targetCompleted"]["label"]
            if "aborted" in event:
                pending_failures[label] = event["aborted"].get("reason", "ABORTED")
            elif not event.get("completed", {}).get("success", False):
                pending_failures[label] = "FAILED_TO_BUILD"
        elif "configured" not in event and "aborted" in event:
            # A target aborted before it was configured (e.g. a dependency
            # failed analysis under --keep_going).
            for key in ("targetConfigured", "targetCompleted"):
                if key in event_id and "label" in event_id[key]:
                    pending_failures[event_id[key]["label"]] = \
                        event["aborted"].get("reason", "ABORTED")
    for label, status in pending_failures.items():
        if label in test_labels:
            results.not_built[label] = status
    return results


def parse_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse(f)


def parser():
    """The command line: test_results.py count|summary BEP_FILE."""
    ap = argparse.ArgumentParser(
        prog="test_results.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("count", "summary"),
                    help="count: the test targets in the file; summary: passed "
                         "and failed counts, then each failed label and status")
    ap.add_argument("bep_file", metavar="BEP_FILE", help="the build event JSON file")
    return ap


def main(argv):
    a = parser().parse_args(argv[1:])
    try:
        results = parse_file(a.bep_file)
    except OSError as e:
        sys.stderr.write("test_results: %s\n" % e)
        return 1
    if a.command == "count":
        print(len(results.tests))
    else:
        failed = results.failed()
        print(len(results.passed()), len(failed))
        for label in failed:
            print(label, results.status(label))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
