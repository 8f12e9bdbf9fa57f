"""bench/tools/stats.py — the statistics behind gmplab's reports.

A report's samples come from randomized interleaved blocks: block k runs
every compared system once, in a fresh random order, each in its own process
(and, for a gmplab variant, in a layout copy no other block of that workload
uses). Two systems are therefore compared *within* blocks:

- the per-block log-ratio d_k = ln(a_k) - ln(b_k) removes whatever load the
  block shared;
- the ratio's point estimate is exp(Hodges-Lehmann estimate of the d_k), the
  median of their Walsh averages;
- its 95% confidence interval is the exact one that inverts the Wilcoxon
  signed-rank test (order statistics of the Walsh averages), so a CI that
  excludes 1 and a p < 0.05 say the same thing;
- the p-value is scipy's two-sided Wilcoxon signed-rank test of the d_k.

Multiplicity: every table is one family; `holm` (family-wise error) and
`benjamini_hochberg` (false discovery rate) adjust its p-values. scipy 1.10
(Debian 12) has neither, so both are written here; each is a few lines.

Per-system summaries (a cell's median and its distribution-free CI) keep the
order-statistic interval benchstat uses.

Time above a floor (report.py's "Time above the floor"): a ratio of two
systems' excesses over the floor, whose per-block values may be zero or
negative, so no log-ratio applies; `median_ratio` gives the ratio of their
medians with a paired bootstrap interval over blocks.
"""

import math
import statistics

ALPHA = 0.05  # significance level of every verdict


def median(xs):
    """Returns the median of a non-empty sequence (statistics.median; an empty
    one raises statistics.StatisticsError, a ValueError)."""
    return statistics.median(xs)


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
    from scipy.stats import binom  # imported late: the rest needs no scipy
    # cdf[k] = P(B <= k). Exact integer sums (this module's first version)
    # pick the same k for every n up to 1023, and overflow past it; the
    # coverages differ in the 15th digit, and no report prints them.
    cdf = [float(p) for p in binom.cdf(range(n), n, 0.5)]
    best = None
    for k in range(0, n // 2):
        coverage = cdf[n - 1 - k] - cdf[k]
        if coverage >= confidence:
            best = (k, coverage)
        else:
            break
    if best is None:
        coverage = cdf[n - 1] - cdf[0]
        return m, s[0], s[-1], coverage
    k, coverage = best
    return m, s[k], s[n - 1 - k], coverage


def ci_percent(xs, confidence=0.95):
    """Returns the CI's half-width as a percentage of the median (benchstat's ±)."""
    m, lo, hi, _ = median_ci(xs, confidence)
    if m == 0:
        return 0.0
    return 100.0 * max(m - lo, hi - m) / abs(m)


def _signed_rank_cdf(n):
    """The exact null distribution of the Wilcoxon signed-rank statistic T+
    for n untied pairs: returns cdf with cdf[t] = P(T+ <= t).

    By hand: scipy 1.10 computes the test's p-value (wilcoxon_p uses it) but
    exposes no signed-rank distribution or quantile to invert it into the
    Hodges-Lehmann interval, and this one is exact (counts over 2**n), so the
    `cdf[c] <= tail` boundary of every committed interval stays where it is."""
    top = n * (n + 1) // 2
    counts = [1] + [0] * top
    for r in range(1, n + 1):
        for t in range(top, r - 1, -1):
            counts[t] += counts[t - r]
    total = 2.0 ** n
    cdf, acc = [], 0
    for c in counts:
        acc += c
        cdf.append(acc / total)
    return cdf


def walsh_averages(d):
    """All (d_i + d_j) / 2 for i <= j, sorted."""
    n = len(d)
    return sorted((d[i] + d[j]) / 2.0 for i in range(n) for j in range(i, n))


def hodges_lehmann(d, confidence=0.95):
    """Returns (estimate, low, high, coverage) of the pseudo-median of d.

    The interval is [W_(c), W_(M-1-c)] of the M sorted Walsh averages, with c
    the largest count whose two tails keep P(T+ < c) <= (1 - confidence) / 2:
    the set of shifts the two-sided signed-rank test does not reject. With
    n <= 5 no such c exists at 95%; the interval is then [min, max] of the
    Walsh averages and `coverage` says what it really covers.
    """
    n = len(d)
    if n == 0:
        raise ValueError("hodges_lehmann of an empty sample")
    w = walsh_averages(d)
    est = median(w)
    if n == 1:
        return est, w[0], w[0], 0.0
    cdf = _signed_rank_cdf(n)
    tail = (1.0 - confidence) / 2.0
    # c: how many values t of T+ the test rejects in the lower tail
    # (P(T+ <= c-1) <= tail). A shift below the c-th smallest Walsh average
    # leaves T+ >= M - c + 1 and is rejected; so is one above the c-th
    # largest. The interval keeps the rest.
    c = 0
    while c < len(cdf) and cdf[c] <= tail:
        c += 1
    if c == 0:
        return est, w[0], w[-1], 1.0 - 2.0 * cdf[0]
    return est, w[c - 1], w[len(w) - c], 1.0 - 2.0 * cdf[c - 1]


def wilcoxon_p(d, alternative="two-sided"):
    """scipy's Wilcoxon signed-rank p-value for paired differences d, or None
    when there are fewer than 2 of them. All-zero differences give 1.0."""
    if len(d) < 2:
        return None
    if all(x == 0 for x in d):
        return 1.0
    import warnings
    from scipy.stats import wilcoxon  # imported late: the rest needs no scipy
    try:
        with warnings.catch_warnings():
            # Zero differences switch scipy to its normal approximation and say so.
            warnings.simplefilter("ignore", UserWarning)
            return float(wilcoxon(d, alternative=alternative).pvalue)
    except ValueError:
        return None


def binom_sf(k, n, p):
    """P(X >= k) for X ~ Binomial(n, p) (scipy.stats.binom)."""
    from scipy.stats import binom  # imported late: the rest needs no scipy
    return float(binom.sf(k - 1, n, p))


def min_signed_rank_p(n):
    """The smallest two-sided exact signed-rank p-value with n pairs."""
    return min(1.0, 2.0 / 2.0 ** n) if n >= 1 else 1.0


class Paired:
    """A within-block comparison of system A against baseline B.

    ratio, low, high: A/B as exp(Hodges-Lehmann) and its exact 95% CI.
    p: two-sided Wilcoxon signed-rank p (None below 2 blocks); p_adj: after
    the family's correction (set by the table that owns it).
    """

    def __init__(self, a, b):
        blocks = sorted(set(a) & set(b))
        self.blocks = blocks
        self.n = len(blocks)
        self.d = [math.log(a[k]) - math.log(b[k]) for k in blocks
                  if a[k] > 0 and b[k] > 0]
        self.ratio = self.low = self.high = self.p = self.coverage = None
        self.p_adj = None
        if self.d:
            est, lo, hi, cov = hodges_lehmann(self.d)
            self.ratio, self.low, self.high = math.exp(est), math.exp(lo), math.exp(hi)
            self.coverage = cov
            self.p = wilcoxon_p(self.d)

    @property
    def significant(self):
        """Significant after the family's correction (p_adj), else unadjusted."""
        p = self.p_adj if self.p_adj is not None else self.p
        return p is not None and p < ALPHA

    @property
    def significant_raw(self):
        return self.p is not None and self.p < ALPHA

    def direction(self):
        """'faster', 'slower' or 'same' (lower is faster), after correction."""
        if not self.significant or self.ratio is None:
            return "same"
        return "faster" if self.ratio < 1 else "slower"


# A bootstrap ratio at or above this stands for "unbounded": a resample
# whose denominator median is at or below zero.
_UNBOUNDED = 1e12


def median_ratio(x, y, confidence=0.95, n_resamples=9999, seed=0):
    """Returns (ratio, low, high) for median(x) / median(y) of paired samples.

    x[i] and y[i] come from the same block. The interval is scipy's paired
    percentile bootstrap over blocks (blocks resampled with replacement, both
    medians recomputed from the same resample), from a generator seeded with
    `seed` so that a report regenerates identically. A resample whose
    median(y) is at or below zero has no finite ratio; it counts as +inf, so
    a denominator that may vanish widens the interval upwards, never hides.
    ratio is None when median(y) <= 0; low and high are None below 3 pairs
    (a bootstrap of two blocks is no interval), and high is math.inf when
    the upper percentile falls on such resamples.
    """
    if len(x) != len(y) or not x:
        raise ValueError("median_ratio needs paired, non-empty samples")
    mx, my = median(x), median(y)
    ratio = mx / my if my > 0 else None
    if len(x) < 3:
        return ratio, None, None
    import numpy as np
    from scipy.stats import bootstrap  # imported late: the rest needs no scipy

    def statistic(a, b, axis=-1):
        num = np.median(a, axis=axis)
        den = np.median(b, axis=axis)
        safe = np.where(den > 0, den, 1.0)
        return np.where(den > 0, num / safe, _UNBOUNDED)

    res = bootstrap((np.asarray(x, float), np.asarray(y, float)), statistic, paired=True,
                    vectorized=True, n_resamples=n_resamples, confidence_level=confidence,
                    method="percentile", random_state=np.random.default_rng(seed))
    lo, hi = (float(v) for v in (res.confidence_interval.low, res.confidence_interval.high))
    bound = _UNBOUNDED / 1e3
    return ratio, (math.inf if lo >= bound else lo), (math.inf if hi >= bound else hi)


def holm(ps):
    """Holm-Bonferroni adjusted p-values (None entries stay None).

    By hand: neither scipy 1.10 nor the standard library has it (statsmodels'
    multipletests does; it is not a dependency)."""
    idx = [i for i, p in enumerate(ps) if p is not None]
    m = len(idx)
    out = list(ps)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: ps[i])):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        out[i] = running
    return out


def benjamini_hochberg(ps):
    """Benjamini-Hochberg adjusted p-values (None entries stay None).

    By hand: scipy.stats.false_discovery_control arrives in scipy 1.11;
    Debian 12 has 1.10. BenjaminiHochbergTest checks this against it where
    it exists."""
    idx = [i for i, p in enumerate(ps) if p is not None]
    m = len(idx)
    out = list(ps)
    running = 1.0
    for rank, i in reversed(list(enumerate(sorted(idx, key=lambda i: ps[i])))):
        running = min(running, ps[i] * m / (rank + 1))
        out[i] = min(1.0, running)
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}
CORRECTION_NAMES = {"holm": "Holm–Bonferroni (family-wise error)",
                    "bh": "Benjamini–Hochberg (false discovery rate)"}


def adjust(comparisons, method):
    """Sets p_adj on every Paired in a family with the named correction."""
    adj = CORRECTIONS[method]([c.p for c in comparisons])
    for c, p in zip(comparisons, adj):
        c.p_adj = p


def geomean(xs):
    """Geometric mean of the positive values in xs, or None if there are none."""
    vals = [x for x in xs if x is not None and x > 0]
    if not vals:
        return None
    return statistics.geometric_mean(vals)


def verdict(c):
    """Formats a Paired: '×0.82 [0.79–0.85]*' when significant after the
    family's correction, '~ ×0.97 [0.90–1.05]' when not; '' without data."""
    if c is None or c.ratio is None:
        return ""
    body = "×%.2f [%.2f–%.2f]" % (c.ratio, c.low, c.high)
    if c.p is None:
        return body + " (n=%d)" % c.n
    return body + "*" if c.significant else "~ " + body


def format_p(p):
    return "" if p is None else ("<0.001" if p < 0.001 else "%.3f" % p)


def format_ns(ns):
    """Formats a duration in ns with a unit that keeps 3-4 significant digits."""
    if ns is None:
        return ""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return "%.3g %s" % (ns / scale, unit) if ns / scale < 100 else "%.0f %s" % (ns / scale, unit)
    return "%.3g ns" % ns if ns < 100 else "%.0f ns" % ns
