"""bench/tools/stats.py — the statistics behind gmplab's reports.

Small, dependency-light helpers (scipy only for the U-test), in the spirit of
benchstat: a distribution-free confidence interval for the median, the
Mann-Whitney U test, ratios and geometric means.
"""

import math

ALPHA = 0.05  # significance level for the U-test verdicts


def median(xs):
    """Returns the median of a non-empty sequence."""
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("median of an empty sample")
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def _binom_cdf(k, n):
    """P(B <= k) for B ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2.0 ** n


def median_ci(xs, confidence=0.95):
    """Returns (median, low, high, coverage) for a sample.

    The interval is [x_(k), x_(n-1-k)] of the sorted sample with the largest k
    whose coverage P(k < B <= n-1-k), B ~ Binomial(n, 1/2), still reaches
    `confidence` (the order-statistic interval benchstat uses). Samples too
    small for that (n < 6 at 95%) get [min, max] and the coverage they have.
    """
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("median_ci of an empty sample")
    m = median(s)
    if n == 1:
        return m, s[0], s[0], 0.0
    best = None
    for k in range(0, n // 2):
        coverage = _binom_cdf(n - 1 - k, n) - _binom_cdf(k, n)
        if coverage >= confidence:
            best = (k, coverage)
        else:
            break
    if best is None:
        coverage = _binom_cdf(n - 1, n) - _binom_cdf(0, n)
        return m, s[0], s[-1], coverage
    k, coverage = best
    return m, s[k], s[n - 1 - k], coverage


def ci_percent(xs, confidence=0.95):
    """Returns the CI's half-width as a percentage of the median (benchstat's ±)."""
    m, lo, hi, _ = median_ci(xs, confidence)
    if m == 0:
        return 0.0
    return 100.0 * max(m - lo, hi - m) / abs(m)


def mann_whitney_p(a, b):
    """Two-sided Mann-Whitney U p-value, or None when a test is impossible."""
    if len(a) < 2 or len(b) < 2:
        return None
    if len(set(a)) == 1 and len(set(b)) == 1 and a[0] == b[0]:
        return 1.0
    from scipy.stats import mannwhitneyu  # imported late: the rest needs no scipy
    try:
        return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    except ValueError:
        return None


def min_possible_p(n_a, n_b):
    """The smallest two-sided exact U-test p-value for sample sizes n_a, n_b."""
    if n_a < 1 or n_b < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def ratio(new, base):
    """new / base, or None when base is not positive."""
    if base is None or new is None or base <= 0:
        return None
    return new / base


def geomean(xs):
    """Geometric mean of the positive values in xs, or None if there are none."""
    vals = [x for x in xs if x is not None and x > 0]
    if not vals:
        return None
    return math.exp(sum(math.log(x) for x in vals) / len(vals))


def verdict(ratio_value, p, alpha=ALPHA):
    """Formats a comparison like benchstat: '×0.82 (p=0.000)', or '~ ×0.97 (p=0.31)'
    when not significant (benchstat prints only '~'; the ratio stays visible here
    because --quick samples are too small to ever be significant)."""
    if ratio_value is None:
        return ""
    if p is None:
        return "×%.2f (p=n/a)" % ratio_value
    if p > alpha:
        return "~ ×%.2f (p=%.3f)" % (ratio_value, p)
    return "×%.2f (p=%.3f)" % (ratio_value, p)


def format_ns(ns):
    """Formats a duration in ns with a unit that keeps 3-4 significant digits."""
    if ns is None:
        return ""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return "%.3g %s" % (ns / scale, unit) if ns / scale < 100 else "%.0f %s" % (ns / scale, unit)
    return "%.3g ns" % ns if ns < 100 else "%.0f ns" % ns
