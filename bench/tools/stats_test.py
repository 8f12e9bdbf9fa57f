"""Tests for bench/tools/stats.py (//bench:stats_test)."""

import math
import os
import random
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


class HodgesLehmannTest(unittest.TestCase):
    def test_ten_pairs_use_the_exact_signed_rank_interval(self):
        # n=10: P(T+ <= 8) = 0.0244 <= 0.025 < P(T+ <= 9) = 0.0322, so the
        # 8 lowest and 8 highest of the 55 Walsh averages fall outside.
        d = list(range(1, 11))
        est, lo, hi, cov = stats.hodges_lehmann(d)
        w = stats.walsh_averages(d)
        self.assertEqual(est, 5.5)
        self.assertEqual((lo, hi), (w[8], w[-9]))
        self.assertAlmostEqual(cov, 1 - 2 * 25 / 1024.0)

    def test_five_pairs_cannot_reach_95_percent(self):
        est, lo, hi, cov = stats.hodges_lehmann([1, 2, 3, 4, 5])
        self.assertEqual((lo, hi), (1, 5))
        self.assertLess(cov, 0.95)

    def test_interval_and_test_agree_under_the_null(self):
        # The CI excludes 0 about as often as the test rejects, ~5% each.
        rng = random.Random(7)
        miss = rej = 0
        trials = 1500
        for _ in range(trials):
            d = [rng.gauss(0, 1) for _ in range(10)]
            _, lo, hi, _ = stats.hodges_lehmann(d)
            miss += not (lo <= 0 <= hi)
            rej += stats.wilcoxon_p(d) < 0.05
        self.assertLess(abs(miss / trials - 0.05), 0.02)
        self.assertLess(abs(rej / trials - 0.05), 0.02)


class PairedTest(unittest.TestCase):
    def test_shared_block_load_cancels(self):
        # Block loads vary by 2x, but A is always 10% faster than B in its block.
        rng = random.Random(1)
        a, b = {}, {}
        for k in range(10):
            load = rng.uniform(1, 2)
            a[k] = 90 * load * rng.uniform(0.995, 1.005)
            b[k] = 100 * load * rng.uniform(0.995, 1.005)
        c = stats.Paired(a, b)
        self.assertEqual(c.n, 10)
        self.assertAlmostEqual(c.ratio, 0.9, delta=0.01)
        self.assertLess(c.high, 1.0)
        self.assertLess(c.p, 0.01)
        self.assertEqual(c.direction(), "faster")

    def test_only_common_blocks_are_paired(self):
        c = stats.Paired({0: 1.0, 1: 2.0, 5: 3.0}, {1: 2.0, 5: 3.0, 6: 1.0})
        self.assertEqual(c.blocks, [1, 5])
        self.assertEqual(c.ratio, 1.0)
        self.assertEqual(c.p, 1.0)

    def test_layout_as_a_random_effect_keeps_the_false_positive_rate(self):
        # Two binaries of the same code: every block draws a fresh layout for
        # each, with a +-4% layout effect and 1% run noise. Pairing within
        # blocks must not turn the layout spread into significance.
        rng = random.Random(11)
        flagged = 0
        trials = 600
        for _ in range(trials):
            a, b = {}, {}
            for k in range(10):
                load = rng.uniform(1, 1.5)
                a[k] = 100 * load * rng.gauss(1, 0.04) * rng.gauss(1, 0.01)
                b[k] = 100 * load * rng.gauss(1, 0.04) * rng.gauss(1, 0.01)
            flagged += stats.Paired(a, b).p < stats.ALPHA
        self.assertLess(flagged / trials, 0.075)

    def test_one_fixed_layout_per_binary_is_what_fails(self):
        # The design this replaces: each binary keeps one layout for all its
        # samples. The same +-4% layout spread is then flagged far too often.
        rng = random.Random(12)
        flagged = 0
        trials = 300
        for _ in range(trials):
            la, lb = rng.gauss(1, 0.04), rng.gauss(1, 0.04)
            a = {k: 100 * la * rng.gauss(1, 0.01) for k in range(10)}
            b = {k: 100 * lb * rng.gauss(1, 0.01) for k in range(10)}
            flagged += stats.Paired(a, b).p < stats.ALPHA
        self.assertGreater(flagged / trials, 0.3)


class CorrectionTest(unittest.TestCase):
    def test_holm(self):
        self.assertEqual(stats.holm([0.01, 0.04, 0.03, None]), [0.03, 0.06, 0.06, None])

    def test_benjamini_hochberg(self):
        adj = stats.benjamini_hochberg([0.01, 0.04, 0.03, None])
        self.assertEqual(adj[3], None)
        for x, want in zip(adj[:3], [0.03, 0.04, 0.04]):
            self.assertAlmostEqual(x, want)

    def test_adjust_marks_significance_after_correction(self):
        cs = [stats.Paired({k: 1.0 + 0.1 * (k % 2) for k in range(6)}, {k: 1.0 for k in range(6)})
              for _ in range(4)]
        for c in cs:
            c.p = 0.02
        stats.adjust(cs, "holm")
        self.assertTrue(all(c.significant_raw for c in cs))
        self.assertFalse(any(c.significant for c in cs))


class MedianRatioTest(unittest.TestCase):
    def test_known_ratio_and_a_narrow_interval(self):
        x = [10.0 + 0.1 * k for k in range(16)]
        y = [4 * v for v in x]
        r, lo, hi = stats.median_ratio(x, y)
        self.assertAlmostEqual(r, 0.25)
        self.assertAlmostEqual(lo, 0.25)
        self.assertAlmostEqual(hi, 0.25)

    def test_interval_covers_the_noise_and_is_reproducible(self):
        import random
        rng = random.Random(7)
        x = [20 + rng.gauss(0, 2) for _ in range(16)]
        y = [80 + rng.gauss(0, 8) for _ in range(16)]
        r, lo, hi = stats.median_ratio(x, y, seed=3)
        self.assertLess(lo, r)
        self.assertLess(r, hi)
        self.assertLess(hi, 0.5)
        self.assertGreater(lo, 0.1)
        self.assertEqual(stats.median_ratio(x, y, seed=3), (r, lo, hi))

    def test_vanishing_denominator(self):
        x = [10.0] * 8
        y = [-3.0, -2.0, -1.0, 0.5, 1.0, 2.0, 3.0, 4.0]  # median 0.75; resamples below 0
        r, lo, hi = stats.median_ratio(x, y)
        self.assertAlmostEqual(r, 10.0 / 0.75)
        self.assertEqual(hi, math.inf)
        r, lo, hi = stats.median_ratio(x, [-1.0] * 8)
        self.assertIsNone(r)
        self.assertEqual((lo, hi), (math.inf, math.inf))

    def test_too_few_blocks(self):
        self.assertEqual(stats.median_ratio([1.0, 3.0], [4.0, 4.0]), (0.5, None, None))
        with self.assertRaises(ValueError):
            stats.median_ratio([1.0], [1.0, 2.0])


class FormatTest(unittest.TestCase):
    def test_geomean(self):
        self.assertAlmostEqual(stats.geomean([0.5, 2.0]), 1.0)
        self.assertAlmostEqual(stats.geomean([2, 8, None]), 4.0)
        self.assertIsNone(stats.geomean([]))

    def test_verdict(self):
        c = stats.Paired({k: 50.0 + k * 0.01 for k in range(10)},
                         {k: 100.0 for k in range(10)})
        self.assertRegex(stats.verdict(c), r"^×0\.50 \[0\.50–0\.50\]\*$")
        c.p_adj = 0.2
        self.assertTrue(stats.verdict(c).startswith("~ ×0.50"))
        self.assertEqual(stats.verdict(None), "")

    def test_format_ns(self):
        self.assertEqual(stats.format_ns(130.4), "130 ns")
        self.assertEqual(stats.format_ns(2500), "2.5 µs")
        self.assertEqual(stats.format_ns(6.6e9), "6.6 s")


class LibraryAgreementTest(unittest.TestCase):
    """What stats.py still computes by hand agrees with the libraries."""

    def test_median_ci_picks_the_exact_binomial_order_statistics(self):
        # median_ci's coverages come from scipy.stats.binom; integer sums over
        # 2**n pick the same interval.
        for n in range(2, 120):
            exact = [sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n for k in range(n)]
            k = 0
            while k < n // 2 and exact[n - 1 - k] - exact[k] >= 0.95:
                k += 1
            xs = list(range(n))
            _, lo, hi, cov = stats.median_ci(xs)
            want = (0, n - 1) if k == 0 else (k - 1, n - k)
            self.assertEqual((lo, hi), want, n)
            if k:
                self.assertAlmostEqual(cov, exact[n - k] - exact[k - 1], places=12)

    def test_median_ci_beyond_a_float_power_of_two(self):
        m, lo, hi, cov = stats.median_ci(range(1100))
        self.assertEqual(m, 549.5)
        self.assertLess(lo, m)
        self.assertGreaterEqual(cov, 0.95)

    def test_signed_rank_distribution_is_scipys_exact_one(self):
        from scipy.stats import wilcoxon
        rng = random.Random(3)
        for n in (3, 6, 10, 17):
            cdf = stats._signed_rank_cdf(n)
            self.assertAlmostEqual(cdf[-1], 1.0)
            for _ in range(5):
                d = [rng.choice((-1, 1)) * (i + 1 + rng.random() / 2) for i in range(n)]
                t_plus = sum(i + 1 for i, x in enumerate(d) if x > 0)
                p = wilcoxon(d, alternative="less", method="exact").pvalue
                self.assertAlmostEqual(cdf[t_plus], p, places=12)

    @unittest.skipUnless(hasattr(__import__("scipy.stats").stats, "false_discovery_control"),
                         "scipy.stats.false_discovery_control arrives in scipy 1.11")
    def test_benjamini_hochberg_is_scipys(self):
        from scipy.stats import false_discovery_control
        ps = [0.001, 0.02, 0.03, 0.04, 0.3, 0.5, 0.049]
        for x, want in zip(stats.benjamini_hochberg(ps), false_discovery_control(ps)):
            self.assertAlmostEqual(x, want, places=12)

    def test_geomean_is_the_statistics_one(self):
        import statistics
        xs = [0.8, 1.25, 0.97, 1.1]
        self.assertAlmostEqual(stats.geomean(xs + [None, 0, -1]), statistics.geometric_mean(xs))
        self.assertAlmostEqual(stats.geomean([1e-300, 1e300]), 1.0)


if __name__ == "__main__":
    unittest.main()
