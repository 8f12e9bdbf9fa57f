"""Tests for bench/tools/stats.py (run by //bench:tools_test)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import stats  # noqa: E402


class MedianTest(unittest.TestCase):
    def test_odd_and_even(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)

    def test_empty_raises(self):
        with self.assertRaises(ValueError):
            stats.median([])


class MedianCITest(unittest.TestCase):
    def test_ten_samples_use_order_statistics(self):
        # n=10 at 95%: k=1 gives coverage 1 - 2*P(B<=1) = 0.9785; k=2 gives
        # 0.891 < 0.95, so the interval is [x_(1), x_(8)] (0-based).
        xs = list(range(1, 11))
        m, lo, hi, cov = stats.median_ci(xs)
        self.assertEqual(m, 5.5)
        self.assertEqual((lo, hi), (2, 9))
        self.assertAlmostEqual(cov, 0.978515625)

    def test_small_sample_falls_back_to_range(self):
        m, lo, hi, cov = stats.median_ci([5, 1, 3])
        self.assertEqual((m, lo, hi), (3, 1, 5))
        self.assertAlmostEqual(cov, 0.75)

    def test_single_sample(self):
        self.assertEqual(stats.median_ci([7])[:3], (7, 7, 7))

    def test_interval_contains_median(self):
        xs = [10, 12, 11, 50, 9, 10, 11, 13, 10, 12, 11, 10]
        m, lo, hi, _ = stats.median_ci(xs)
        self.assertLessEqual(lo, m)
        self.assertLessEqual(m, hi)

    def test_ci_percent(self):
        self.assertAlmostEqual(stats.ci_percent([1, 2, 3]), 50.0)


class MannWhitneyTest(unittest.TestCase):
    def test_separated_samples_are_significant(self):
        a = [1.0, 1.1, 1.2, 1.05, 1.15, 1.08, 1.12, 1.02, 1.18, 1.01]
        b = [2.0, 2.1, 2.2, 2.05, 2.15, 2.08, 2.12, 2.02, 2.18, 2.01]
        p = stats.mann_whitney_p(a, b)
        self.assertLess(p, 0.001)

    def test_same_distribution_is_not(self):
        a = [1, 3, 5, 7, 9, 11]
        b = [2, 4, 6, 8, 10, 12]
        self.assertGreater(stats.mann_whitney_p(a, b), 0.05)

    def test_identical_constant_samples(self):
        self.assertEqual(stats.mann_whitney_p([1, 1, 1], [1, 1, 1]), 1.0)

    def test_too_small(self):
        self.assertIsNone(stats.mann_whitney_p([1], [2, 3]))

    def test_three_vs_three_can_never_reach_alpha(self):
        self.assertAlmostEqual(stats.min_possible_p(3, 3), 0.1)
        self.assertLess(stats.min_possible_p(10, 10), 0.001)


class RatioTest(unittest.TestCase):
    def test_ratio_and_geomean(self):
        self.assertEqual(stats.ratio(50, 100), 0.5)
        self.assertIsNone(stats.ratio(1, 0))
        self.assertAlmostEqual(stats.geomean([0.5, 2.0]), 1.0)
        self.assertAlmostEqual(stats.geomean([2, 8, None]), 4.0)
        self.assertIsNone(stats.geomean([]))

    def test_verdict(self):
        self.assertEqual(stats.verdict(0.5, 0.001), "×0.50 (p=0.001)")
        self.assertEqual(stats.verdict(0.9, 0.4), "~ ×0.90 (p=0.400)")
        self.assertEqual(stats.verdict(None, 0.1), "")

    def test_format_ns(self):
        self.assertEqual(stats.format_ns(130.4), "130 ns")
        self.assertEqual(stats.format_ns(2500), "2.5 µs")
        self.assertEqual(stats.format_ns(6.6e9), "6.6 s")


if __name__ == "__main__":
    unittest.main()
