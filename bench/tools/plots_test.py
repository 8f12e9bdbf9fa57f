"""Tests for plots.py's "Plots" section and palette (//bench:plots_test); the
figures themselves are drawn by report_test's test_paired_tables_aa_and_files
and test_latency_table_and_cdf."""

import os
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import plots  # noqa: E402
from markdown import Writer  # noqa: E402


class SectionTest(unittest.TestCase):
    def section(self, figs):
        w = Writer(tempfile.gettempdir())
        with mock.patch.object(plots, "make_all", return_value=figs) as make_all:
            plots.section(w, "OUT", "AN", "ERRORS", "HIST", "META")
        make_all.assert_called_once_with("OUT", "AN", "ERRORS", "HIST", "META")
        return w.lines

    def test_every_figure_is_linked_under_its_title(self):
        lines = self.section([("Heat", "plots/heat.png"), ("CDF", "plots/cdf.png")])
        self.assertEqual(lines, ["## Plots", "", "### Heat", "", "![Heat](plots/heat.png)", "",
                                 "### CDF", "", "![CDF](plots/cdf.png)", ""])

    def test_no_matplotlib_is_said(self):
        self.assertEqual(self.section([]),
                         ["## Plots", "", "matplotlib is not available: no plots.", ""])


class PaletteTest(unittest.TestCase):
    def test_stable_and_distinct(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        systems = ["s%d" % i for i in range(30)] + ["go_default", "go"]
        colors = plots.palette(systems, plt)
        self.assertEqual(colors["go_default"], ("black", "o"))
        self.assertEqual(len({colors["s%d" % i] for i in range(30)}), 30)
        self.assertEqual(plots.palette(systems, plt), colors)


if __name__ == "__main__":
    unittest.main()
