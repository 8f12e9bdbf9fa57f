"""bench/tools/analysis.py — what a report computes from its samples.

Cells (one system, workload and procs in one phase), the families of paired
comparisons that every table registers (stats.Paired, each family with its
multiplicity correction), the A/A control's result, the time above the floor
(Excess, FloorRatio), where a paired CI lies (ci_side), the best-policy
candidates and the load records. Nothing here writes a file or Markdown: the
sections_*.py modules format what this computes, report.py composes them.
"""

import re
import zlib
from collections import defaultdict

import catalog
import stats

BASE = "go_default"
GO = "go"
AA = "aa_control"
FLOOR = catalog.FLOOR
# The target where a floor applies: go_default's time above the floor is at
# most this share of Go's.
FLOOR_TARGET = 0.5
# Fewer blocks than this reach no verdict on it: below 6, a median's
# order-statistic interval covers under 95% and a bootstrap of so few blocks
# is no interval.
FLOOR_MIN_BLOCKS = 6
METRICS = (("wall", "wall time"), ("cpu", "CPU time"))
# Variants whose policies differ from go_default's only in stealing, which a
# single P never does: at procs 1 they run go_default's paths.
STEAL_ONLY = ("steal_sequential", "steal_random_start", "steal_random_victim", "steal_longest",
              "steal_one")

TOKIO_LIKE = "tokio_like"
TOKIO = "tokio"


class Cell:
    """The samples of one (system, workload, procs) in one phase."""

    def __init__(self, samples):
        self.samples = samples
        self.real = [s["real_ns"] for s in samples]
        self.cpu = [s["cpu_ns"] for s in samples if s.get("cpu_ns") is not None]
        self.by_block = {"wall": {}, "cpu": {}}
        for i, s in enumerate(samples):
            b = s.get("block", i)
            self.by_block["wall"][b] = s["real_ns"]
            if s.get("cpu_ns") is not None:
                self.by_block["cpu"][b] = s["cpu_ns"]
        counters = defaultdict(list)
        for s in samples:
            for k, v in s.get("counters", {}).items():
                counters[k].append(v)
        self.counter_values = dict(counters)
        self.counters = {k: stats.median(v) for k, v in counters.items()}

    def values(self, metric):
        return self.real if metric == "wall" else self.cpu

    def median(self, metric):
        v = self.values(metric)
        return stats.median(v) if v else None


def key_order(key):
    """Sort key of a (workload, procs) cell: catalog order, then the workload's
    trailing number, then procs."""
    workload, procs = key
    top = workload.split("/")[0]
    idx = catalog.WORKLOAD_NAMES.index(top) if top in catalog.WORKLOAD_NAMES else 999
    sub = workload[len(top):]
    m = re.search(r"(\d+)$", sub)
    return (idx, top, int(m.group(1)) if m else -1, sub, procs)


def key_label(key):
    """'Workload/procs:N'."""
    return "%s/procs:%d" % key


def _index(samples):
    """{(system, workload, procs): Cell} of samples."""
    cells = defaultdict(list)
    for s in samples:
        cells[(s["system"], s["workload"], s["procs"])].append(s)
    return {k: Cell(v) for k, v in cells.items()}


class Analysis:
    """Every cell of a report's main and confirmation phases, and the families of
    tests its tables register (name, correction, [(row, comparison)]), in the
    order the tables are written: verdicts.csv lists them so."""
    def __init__(self, samples, variants, peers):
        main = [s for s in samples if s.get("phase", "main") in ("main", "million")]
        self.cells = _index(main)
        self.confirm_cells = _index([s for s in samples if s.get("phase") == "confirm"])
        present = {s for s, _, _ in self.cells}
        self.variants = [v for v in variants if v in present]
        self.peers = [p for p in peers if p in present]
        self.systems = self.variants + self.peers
        self.keys = sorted({(w, p) for _, w, p in self.cells}, key=key_order)
        self.families = []  # (name, method, [(row dict, Paired)])

    def cell(self, system, key, confirm=False):
        return (self.confirm_cells if confirm else self.cells).get((system, key[0], key[1]))

    def paired(self, system, base, key, metric, confirm=False):
        a, b = self.cell(system, key, confirm), self.cell(base, key, confirm)
        if a is None or b is None:
            return None
        c = stats.Paired(a.by_block[metric], b.by_block[metric])
        return c if c.n else None

    def paired_family(self, name, method, triples):
        """A family of within-block comparisons, one per (system, baseline,
        key, metric) of `triples`: registered, corrected, returned as rows."""
        return self.family(name, method, [
            ({"system": a, "baseline": b, "workload": key[0], "procs": key[1],
              "metric": metric}, self.paired(a, b, key, metric))
            for a, b, key, metric in triples])

    def family(self, name, method, rows):
        """Registers a family: rows of (dict, Paired); adjusts its p-values."""
        rows = [(r, c) for r, c in rows if c is not None]
        stats.adjust([c for _, c in rows], method)
        self.families.append((name, method, rows))
        return rows


# --- the A/A control ----------------------------------------------------------

def aa_result(an):
    """The A/A family (aa_control vs go_default, every cell, wall and CPU)."""
    rows = an.paired_family("aa_control", "holm", [
        (AA, BASE, key, metric) for key in an.keys for metric, _ in METRICS])
    comparisons = [c for _, c in rows if c.p is not None]
    flagged = sum(1 for c in comparisons if c.p < stats.ALPHA)
    flagged_corr = sum(1 for c in comparisons if c.p_adj is not None and c.p_adj < stats.ALPHA)
    return {"comparisons": len(comparisons), "flagged": flagged,
            "flagged_corrected": flagged_corr, "alpha": stats.ALPHA,
            "flagged_rate": (flagged / len(comparisons)) if comparisons else None,
            "correction": "holm",
            "test": "two-sided Wilcoxon signed-rank over per-block log-ratios",
            "min_possible_p": (stats.min_signed_rank_p(min(c.n for c in comparisons))
                               if comparisons else None)}, rows



# --- time above the floor -----------------------------------------------------

class Excess:
    """A system's wall time above the floor in one cell, paired within blocks.

    by_block: {block: system's ns per op - the floor's}; median, low, high:
    their median and its order-statistic 95% CI (coverage says what it really
    covers below 6 blocks). state: 'above' when the CI lies above zero,
    'at' when the median is at or below zero (no time above the floor was
    measured), 'near' in between (above zero, but the floor is inside the CI).
    """

    def __init__(self, system_by_block, floor_by_block):
        self.blocks = sorted(set(system_by_block) & set(floor_by_block))
        self.by_block = {k: system_by_block[k] - floor_by_block[k] for k in self.blocks}
        self.n = len(self.blocks)
        self.median = self.low = self.high = self.coverage = self.state = None
        if self.n:
            self.median, self.low, self.high, self.coverage = stats.median_ci(
                list(self.by_block.values()))
            if self.median <= 0:
                self.state = "at"
            elif self.low > 0:
                self.state = "above"
            else:
                self.state = "near"


class FloorRatio:
    """go_default's time above the floor over Go's in one cell: the ratio of
    their per-block excesses' medians with a paired bootstrap 95% CI over the
    blocks both ran in, and the verdict on the target (FLOOR_TARGET).

    verdict: 'meets', 'misses' or 'undecided'; why: the reason in words.
    Below FLOOR_MIN_BLOCKS blocks it is always undecided, and the ratio (when
    there is one) has no interval.
    Written to verdicts.csv like a stats.Paired (direction() is the verdict,
    'same' standing for undecided; p and p_adj are empty: the verdict is the
    CI's side of the target, not a test).
    """

    def __init__(self, gd, go, seed):
        self.n = 0
        self.ratio = self.low = self.high = None
        self.p = self.p_adj = None
        self.verdict, self.why = "undecided", ""
        blocks = sorted(set(gd.by_block) & set(go.by_block))
        self.n = len(blocks)
        if not blocks:
            self.why = "no block with both"
            return
        x = [gd.by_block[k] for k in blocks]
        y = [go.by_block[k] for k in blocks]
        if self.n < FLOOR_MIN_BLOCKS:
            if go.state == "above":
                self.ratio = stats.median_ratio(x, y)[0]
            self.why = "%d blocks: a verdict needs %d" % (self.n, FLOOR_MIN_BLOCKS)
            return
        if gd.state == "at":
            self.verdict = "meets"
            self.why = "both at the floor" if go.state == "at" else "go_default at the floor"
            return
        if go.state != "above":
            if go.state == "at" and gd.state == "above":
                self.verdict, self.why = "misses", "Go at the floor, go_default above it"
            else:
                self.why = "Go not clearly above the floor: no ratio"
            return
        self.ratio, self.low, self.high = stats.median_ratio(x, y, seed=seed)
        if self.high <= FLOOR_TARGET:
            self.verdict, self.why = "meets", "CI at or below %.1f" % FLOOR_TARGET
        elif self.low > FLOOR_TARGET:
            self.verdict, self.why = "misses", "CI above %.1f" % FLOOR_TARGET
        else:
            self.why = "CI spans %.1f" % FLOOR_TARGET

    def direction(self):
        return "same" if self.verdict == "undecided" else self.verdict


def floor_keys(an):
    """The cells where the floor and at least one other system ran."""
    return [k for k in an.keys if catalog.floor_runs(k[0]) and an.cell(FLOOR, k) is not None]


def floor_excess(an, system, key):
    """The Excess of `system` over the floor in cell `key`, or None."""
    a, f = an.cell(system, key), an.cell(FLOOR, key)
    if a is None or f is None:
        return None
    e = Excess(a.by_block["wall"], f.by_block["wall"])
    return e if e.n else None


def floor_ratio(an, key):
    """go_default's excess over Go's in cell `key` (a FloorRatio), or None."""
    gd, go = floor_excess(an, BASE, key), floor_excess(an, GO, key)
    if gd is None or go is None:
        return None
    return FloorRatio(gd, go, seed=zlib.crc32(key_label(key).encode()))



def ci_side(c):
    """Where a Paired's 95% CI lies: 'below' 1, 'above' 1, 'contains' 1, or None
    (no data). 'few' when the interval is only the range of too few blocks
    (n <= 5: its real coverage is under 95%) and so places nothing."""
    if c is None or c.ratio is None:
        return None
    coverage = getattr(c, "coverage", None)
    if coverage is not None and coverage < 0.949:
        return "few"
    if c.high < 1.0:
        return "below"
    if c.low > 1.0:
        return "above"
    return "contains"



def choose_candidates(samples, variants):
    """From the main blocks: per workload, the variants that are fastest (lowest
    paired wall ratio against go_default) at some procs value and significantly
    faster there, after the variant table's correction (Benjamini-Hochberg over
    every variant and cell, as the report computes it).
    Returns {workload: [variant]}; aa_control is never a candidate."""
    an = Analysis(samples, variants, [])
    others = [v for v in an.variants if v != BASE]
    fam = [((v, key), an.paired(v, BASE, key, "wall")) for key in an.keys for v in others]
    fam = [(k, c) for k, c in fam if c is not None]
    stats.adjust([c for _, c in fam], "bh")
    got = dict(fam)
    out = defaultdict(list)
    for key in an.keys:
        if key[0] == "MillionParked":
            continue
        best = None
        for v in others:
            c = got.get((v, key))
            if v == AA or c is None or c.ratio is None:
                continue
            if best is None or c.ratio < best[0].ratio:
                best = (c, v)
        if best is None or best[0].ratio >= 1.0 or not best[0].significant:
            continue
        top = key[0].split("/")[0]
        if best[1] not in out[top]:
            out[top].append(best[1])
    return dict(out)


def contention(samples):
    """The process records of the samples (each once) and how many were contended,
    in all and per system."""
    seen = {}
    for s in samples:
        p = s.get("process")
        if not p:
            continue
        seen[(p.get("start"), s["system"])] = (s["system"], p)
    total = len(seen)
    cont = sum(1 for _, p in seen.values() if p.get("contended"))
    per = defaultdict(lambda: [0, 0])
    for sysname, p in seen.values():
        per[sysname][0] += 1
        per[sysname][1] += 1 if p.get("contended") else 0
    return {"total": total, "contended": cont, "per_system": dict(per),
            "records": [p for _, p in seen.values()]}


