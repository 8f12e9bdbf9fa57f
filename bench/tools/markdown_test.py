"""Tests for markdown.py: the Writer's tables and their CSVs, and the cell
formats (//bench:markdown_test)."""

import csv
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import markdown  # noqa: E402
from analysis import Cell  # noqa: E402


class WriterTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)

    def read_csv(self, name):
        with open(os.path.join(self.dir, name + ".csv"), newline="") as f:
            return list(csv.reader(f))

    def test_table_writes_markdown_and_its_csv(self):
        w = markdown.Writer(self.dir)
        w.p("# t")
        w.table("tab", ["a", "b"], [[1, "x"], [2, None]])
        self.assertEqual(w.lines, ["# t", "| a | b |", "|---|---|", "| 1 | x |", "| 2 | None |",
                                   "", "Data: [`tab.csv`](tab.csv)", ""])
        self.assertEqual(self.read_csv("tab"), [["a", "b"], ["1", "x"], ["2", ""]])
        w.save()
        with open(os.path.join(self.dir, "REPORT.md")) as f:
            self.assertEqual(f.read(), "\n".join(w.lines) + "\n")

    def test_csv_rows_replace_the_shown_rows(self):
        w = markdown.Writer(self.dir)
        w.table("t2", ["shown"], [["1.5 ms"]], csv_rows=[["ns"], [1500000.0]])
        self.assertIn("| 1.5 ms |", w.lines)
        self.assertEqual(self.read_csv("t2"), [["ns"], ["1500000.0"]])


class FormatTest(unittest.TestCase):
    def test_num(self):
        self.assertEqual(markdown.num(None), "")
        self.assertEqual(markdown.num(3.14159), "3.142")
        self.assertEqual(markdown.num(2.5, "%.0f"), "2")

    def test_fmt_cell(self):
        c = Cell([{"real_ns": float(v), "cpu_ns": None} for v in range(100, 110)])
        self.assertEqual(markdown.fmt_cell(c, "wall"), "104 ns ±3%")
        self.assertEqual(markdown.fmt_cell(c, "cpu"), "")
        self.assertEqual(markdown.fmt_cell(None, "wall"), "")


class CounterListTest(unittest.TestCase):
    """The report's counter columns are the runtime's per-op counters."""

    def test_report_counters_match_sched_counters_h(self):
        import os
        import re
        import sections_run
        here = os.path.dirname(os.path.abspath(__file__))
        header = None
        for root in (os.path.join(here, "..", ".."), os.path.join(here, "..", "..", "..")):
            path = os.path.join(root, "runtime", "sched_counters.h")
            if os.path.exists(path):
                with open(path) as f:
                    header = f.read()
                break
        self.assertIsNotNone(header, "runtime/sched_counters.h not found")
        per_op = re.findall(r"X\(k\w+,\s*(\w+),\s*1,", header)
        self.assertGreater(len(per_op), 5)
        self.assertEqual(sorted(per_op + ["ms_created"]),
                         sorted(sections_run._COUNTERS),
                         "bench/workloads/counters.h reports the per-op counters of "
                         "runtime/sched_counters.h and ms_created")


if __name__ == "__main__":
    unittest.main()
