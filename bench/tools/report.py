"""bench/tools/report.py — writes REPORT.md, its CSV/JSON tables and plots.

Input is the uniform samples of parse.py, each tagged by runner.py with its
block, layout copy, phase and process record. Comparisons are paired within
blocks (stats.Paired); every table is one family of tests with a named
multiplicity correction; every comparison of every table is also a row of
verdicts.csv, which `--compare` reads. Every markdown table is also written
as <name>.csv beside REPORT.md.
"""

import csv
import json
import os
import re
from collections import defaultdict

import catalog
import plots
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


def _key_order(key):
    workload, procs = key
    top = workload.split("/")[0]
    idx = catalog.WORKLOAD_NAMES.index(top) if top in catalog.WORKLOAD_NAMES else 999
    sub = workload[len(top):]
    m = re.search(r"(\d+)$", sub)
    return (idx, top, int(m.group(1)) if m else -1, sub, procs)


def key_label(key):
    return "%s/procs:%d" % key


def _index(samples):
    cells = defaultdict(list)
    for s in samples:
        cells[(s["system"], s["workload"], s["procs"])].append(s)
    return {k: Cell(v) for k, v in cells.items()}


class Analysis:
    def __init__(self, samples, variants, peers):
        main = [s for s in samples if s.get("phase", "main") in ("main", "million")]
        self.cells = _index(main)
        self.confirm_cells = _index([s for s in samples if s.get("phase") == "confirm"])
        present = {s for s, _, _ in self.cells}
        self.variants = [v for v in variants if v in present]
        self.peers = [p for p in peers if p in present]
        self.systems = self.variants + self.peers
        self.keys = sorted({(w, p) for _, w, p in self.cells}, key=_key_order)
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


def fmt_cell(cell, metric):
    if cell is None or not cell.values(metric):
        return ""
    vals = cell.values(metric)
    m = stats.median(vals)
    return "%s ±%.0f%%" % (stats.format_ns(m), stats.ci_percent(vals))


class Writer:
    """Accumulates REPORT.md and writes each table's CSV beside it."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.lines = []

    def p(self, text=""):
        self.lines.append(text)

    def table(self, name, header, rows, csv_rows=None):
        """Writes a markdown table and <name>.csv (csv_rows, else rows)."""
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            self.lines.append("| " + " | ".join(str(c) for c in r) + " |")
        self.lines.append("")
        self.lines.append("Data: [`%s.csv`](%s.csv)" % (name, name))
        self.lines.append("")
        with open(os.path.join(self.out_dir, name + ".csv"), "w", newline="") as f:
            w = csv.writer(f)
            if csv_rows is None:
                w.writerow(header)
                w.writerows(rows)
            else:
                w.writerows(csv_rows)

    def save(self):
        with open(os.path.join(self.out_dir, "REPORT.md"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def _num(x, fmt="%.4g"):
    return "" if x is None else fmt % x


# --- samples.json ---------------------------------------------------------------

def _sig(x, digits):
    """x rounded to `digits` significant digits (ints and None unchanged)."""
    if not isinstance(x, float) or x == 0 or x != x:
        return x
    return float("%.*g" % (digits, x))


def pack_samples(samples, errors, notes, meta, hist):
    """The JSON document of a report: each process record once (samples refer
    to it by index), times to 7 significant digits, counters to 6. Every
    table is computed from exactly what this holds (write_report packs,
    then unpacks, before it computes anything)."""
    procs, index, out = [], {}, []
    for s in samples:
        s = dict(s)
        p = s.get("process")
        if isinstance(p, dict):
            key = json.dumps(p, sort_keys=True)
            if key not in index:
                index[key] = len(procs)
                procs.append(p)
            s["process"] = index[key]
        for k in ("real_ns", "cpu_ns"):
            s[k] = _sig(s.get(k), 7)
        s["counters"] = {k: _sig(v, 6) for k, v in (s.get("counters") or {}).items()}
        out.append(s)
    return {"format": 2, "samples": out, "processes": procs, "errors": errors,
            "notes": notes, "meta": meta, "latency": hist}


def unpack_samples(doc):
    """The samples of a samples.json, with their process records inlined."""
    procs = doc.get("processes") or []
    out = []
    for s in doc["samples"]:
        s = dict(s)
        if isinstance(s.get("process"), int):
            s["process"] = procs[s["process"]]
        out.append(s)
    return out


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


def _binom_sf(k, n, p):
    """P(X >= k) for X ~ Binomial(n, p)."""
    from scipy.stats import binom
    return float(binom.sf(k - 1, n, p))


def _aa_section(w, an, aa, rows, meta):
    w.p("## A/A control: is this report's significance honest?")
    w.p()
    if aa["comparisons"] == 0:
        w.p("**No A/A control in this run** (`%s` was not measured beside `%s`): nothing "
            "calibrates this report's verdicts; read them as unverified." % (AA, BASE))
        w.p()
        return
    w.p("`%s` is go_default's code at another layout (a pad linked first, other layout-copy "
        "seeds): any difference from go_default is noise. It is compared with go_default in "
        "every cell like any variant: %d comparisons (wall and CPU). At α = %.2f about %.0f%% "
        "should be flagged by chance."
        % (AA, aa["comparisons"], aa["alpha"], 100 * aa["alpha"]))
    w.p()
    w.p("- flagged at p < %.2f before correction: **%d of %d (%.1f%%)**; the chance of that "
        "many or more if every p-value were honest: %.3f"
        % (aa["alpha"], aa["flagged"], aa["comparisons"], 100 * aa["flagged_rate"],
           _binom_sf(aa["flagged"], aa["comparisons"], aa["alpha"])))
    w.p("- flagged after Holm–Bonferroni over the family: **%d**" % aa["flagged_corrected"])
    w.p()
    flagged = [(r, c) for r, c in rows if c.p is not None and c.p < stats.ALPHA]
    if flagged:
        w.p("Flagged cells: " + "; ".join("%s/procs:%d %s %s (p=%s)" % (
            r["workload"], r["procs"], r["metric"], stats.verdict(c), stats.format_p(c.p))
            for r, c in flagged))
        w.p()
    w.table("aa_control", ["workload", "metric", "aa_control/go_default [95% CI]", "p",
                           "p (Holm)", "blocks"],
            [[key_label((r["workload"], r["procs"])), r["metric"], stats.verdict(c),
              stats.format_p(c.p), stats.format_p(c.p_adj), c.n] for r, c in rows])


def _verdict_banner(w, aa, meta, contended):
    rate = aa["flagged_rate"]
    if aa["comparisons"] == 0:
        w.p("> **Uncalibrated:** no A/A control was measured in this run.")
    elif rate > aa["alpha"] or aa["flagged_corrected"] > 0:
        w.p("> **Verdicts unreliable on this machine:** the A/A control flagged %d of %d "
            "(%.1f%%) comparisons at p < %.2f, above the nominal %.0f%%%s. Differences "
            "this report calls significant may be noise." % (
                aa["flagged"], aa["comparisons"], 100 * rate, aa["alpha"], 100 * aa["alpha"],
                ", and %d after correction" % aa["flagged_corrected"]
                if aa["flagged_corrected"] else ""))
    else:
        w.p("> **A/A control passed:** %d of %d (%.1f%%) comparisons flagged at p < %.2f "
            "before correction (nominal %.0f%%), %d after." % (
                aa["flagged"], aa["comparisons"], 100 * rate, aa["alpha"], 100 * aa["alpha"],
                aa["flagged_corrected"]))
    w.p()
    if meta.get("allow_load"):
        w.p("> **Measured with --allow-load:** the machine was busy when this run started.")
        w.p()
    if contended["total"]:
        share = contended["contended"] / contended["total"]
        if share > 0.05:
            w.p("> **Contention:** %d of %d samples (%.0f%%) ran while other processes used "
                "more than %.2f CPUs." % (contended["contended"], contended["total"],
                                           100 * share, meta.get("contention_cpus", 0.25)))
            w.p()


# --- tables -----------------------------------------------------------------

def write_report(out_dir, samples, errors, notes, meta, fuzz_summary=None, latency=None):
    """Writes the whole report into out_dir. meta: dict (see run_report.py)."""
    os.makedirs(out_dir, exist_ok=True)
    # Raw latency records from a run, or the histograms of a samples.json.
    hist = latency if isinstance(latency, dict) else _latency_histograms(latency or [])
    # Compute from what samples.json will hold, so every table recomputes
    # exactly from it.
    samples = unpack_samples(json.loads(json.dumps(
        pack_samples(samples, errors, notes, meta, hist), default=str)))
    an = Analysis(samples, meta["variants"], meta["peers"])
    w = Writer(out_dir)
    with open(os.path.join(out_dir, "samples.json"), "w") as f:
        json.dump(pack_samples(samples, errors, notes, meta, hist), f, indent=None,
                  separators=(",", ":"), default=str)

    aa, aa_rows = aa_result(an)
    with open(os.path.join(out_dir, "aa_control.json"), "w") as f:
        json.dump({k: aa[k] for k in ("comparisons", "flagged", "flagged_corrected", "alpha",
                                      "flagged_rate", "correction", "test", "min_possible_p")},
                  f, indent=1)
        f.write("\n")
    contended = _contention(samples)

    w.p("# gmplab benchmark report — %s" % meta.get("title", ""))
    w.p()
    _verdict_banner(w, aa, meta, contended)
    w.p("Command: `%s`" % meta.get("command", ""))
    w.p()
    blocks = meta.get("blocks", meta.get("reps"))
    w.p("**Method.** Every sample is one process. %s randomized blocks: block k runs every "
        "system once per workload, in a fresh random order, each gmplab variant in a layout "
        "copy (its functions shuffled by another lld seed) that no other block of that "
        "workload uses; blocks of all workloads are interleaved over the whole run "
        "(MillionParked: %d blocks of one cold process per system, %s goroutines). Each "
        "process runs a benchmark for at least %gs at every procs value (%s) and reports one "
        "value per benchmark. Two systems are compared within blocks: the ratio is "
        "exp(Hodges–Lehmann) of the per-block log-ratios with its exact 95%% CI, "
        "`[low–high]`; the test is the two-sided Wilcoxon signed-rank test. `*` marks a "
        "ratio significant after the table's multiplicity correction (named under each "
        "table); `~` marks one that is not. Per-system times are medians ± the half-width of "
        "their order-statistic 95%% CI. Seed %s."
        % (blocks, meta.get("million_reps", 0), "{:,}".format(meta.get("million", 0)),
           meta.get("min_time", 0), meta.get("procs", ""), meta.get("seed", "?")))
    w.p()
    if blocks is not None and blocks < 6:
        w.p("**Note:** with %d blocks the smallest possible signed-rank p-value is %.3f, so "
            "no comparison can be significant at %.2f." % (
                blocks, stats.min_signed_rank_p(blocks), stats.ALPHA))
        w.p()
    if meta.get("interrupted"):
        w.p("**Interrupted (Ctrl-C): this report holds only what was measured before.**")
        w.p()
    w.p("Contents: [A/A control](#aa-control-is-this-reports-significance-honest) · "
        "[headline](#headline-gmplab-go_default-vs-go) · [floor](#time-above-the-floor) · "
        "[peers](#wall-time-gmplab-and-peers) · "
        "[variants](#variants-against-go_default-wall-time) · "
        "[tokio_like vs Tokio](#tokio_like-vs-tokio-does-the-model-move-like-the-real-thing) · "
        "[best policy](#best-policy-per-workload-confirmed) · [latency](#wake-up-latency) · "
        "[counters](#scheduler-counters-per-op-go_default) · "
        "[slower than Go](#where-go_default-is-slower-than-go) · "
        "[load](#load-while-measuring) · [failures](#failures-and-missing-cells) · "
        "[policies](#variants-and-their-policies) · [machine](#machine) · "
        "[fuzzing](#fuzz-campaign) · [plots](#plots)")
    w.p()

    _aa_section(w, an, aa, aa_rows, meta)
    _steal_at_one(w, an)
    _headline(w, an)
    _floor(w, an)
    for metric, title in METRICS:
        _peer_table(w, an, metric, title)
    _cpu_wall(w, an)
    for metric, title in METRICS:
        _variant_table(w, an, metric, title)
    _tokio_like(w, an)
    _best_policy(w, an, meta)
    _latency(w, an)
    _counters(w, an)
    _slower_than_go(w, an)
    _load(w, samples, meta, contended)
    _failures(w, errors, notes, an)
    _peer_coverage(w, meta)
    _policies(w, meta)
    _machine(w, meta)
    _fuzz(w, fuzz_summary, meta)
    _summary_csv(out_dir, an)
    _verdicts_csv(out_dir, an)
    figs = plots.make_all(out_dir, an, errors, hist, meta)
    w.p("## Plots")
    w.p()
    if not figs:
        w.p("matplotlib is not available: no plots.")
        w.p()
    for title, path in figs:
        w.p("### %s" % title)
        w.p()
        w.p("![%s](%s)" % (title, path))
        w.p()
    w.save()
    return an


def _steal_at_one(w, an):
    """A second, built-in A/A: steal-only policies at procs 1."""
    rows = an.paired_family("steal_at_procs1", "holm", [
        (v, BASE, key, metric) for v in STEAL_ONLY if v in an.variants
        for key in an.keys if key[1] == 1 for metric, _ in METRICS])
    if not rows:
        return
    ps = [c.p for _, c in rows if c.p is not None]
    flagged = sum(1 for p in ps if p < stats.ALPHA)
    w.p("A second check of the same kind: at procs 1 the steal-only variants (%s) never "
        "steal, yet their code is compiled differently (inlining, sizes), so their binaries "
        "differ beyond layout. Of their %d comparisons with go_default at procs 1, %d "
        "(%.1f%%) are flagged at p < %.2f before correction and %d after Holm–Bonferroni."
        % (", ".join(v for v in STEAL_ONLY if v in an.variants), len(ps), flagged,
           100.0 * flagged / len(ps) if ps else 0, stats.ALPHA,
           sum(1 for _, c in rows if c.p_adj is not None and c.p_adj < stats.ALPHA)))
    w.p()


def _headline(w, an):
    w.p("## Headline: gmplab go_default vs Go")
    w.p()
    if BASE not in an.systems or GO not in an.systems:
        w.p("Needs both go_default and the Go peer; one of them has no data.")
        w.p()
        return
    fam = an.paired_family("headline", "holm", [
        (BASE, GO, key, metric) for key in an.keys
        if key[0].split("/")[0] in catalog.HEADLINE and key[0] != "MillionParked"
        for metric, _ in METRICS])
    got = {(r["workload"], r["procs"], r["metric"]): c for r, c in fam}
    rows, csv_rows = [], [["workload", "procs", "go_default_wall_ns", "go_wall_ns", "ratio",
                           "ci_lo", "ci_hi", "p", "p_holm", "go_default_cpu_ns", "go_cpu_ns",
                           "cpu_ratio", "cpu_ci_lo", "cpu_ci_hi", "cpu_p", "cpu_p_holm"]]
    for key in an.keys:
        cw, cc = got.get((key[0], key[1], "wall")), got.get((key[0], key[1], "cpu"))
        if cw is None and cc is None:
            continue
        a, g = an.cell(BASE, key), an.cell(GO, key)
        rows.append([key_label(key), fmt_cell(a, "wall"), fmt_cell(g, "wall"),
                     stats.verdict(cw), fmt_cell(a, "cpu"), fmt_cell(g, "cpu"),
                     stats.verdict(cc)])
        row = [key[0], key[1], a.median("wall"), g.median("wall")]
        for c in (cw,):
            row += [c and c.ratio, c and c.low, c and c.high, c and c.p, c and c.p_adj]
        row += [a.median("cpu"), g.median("cpu")]
        for c in (cc,):
            row += [c and c.ratio, c and c.low, c and c.high, c and c.p, c and c.p_adj]
        csv_rows.append(row)
    w.table("headline", ["workload", "go_default wall", "Go wall", "go_default/Go",
                         "go_default CPU", "Go CPU", "CPU go_default/Go"], rows, csv_rows)
    w.p("Family: this table's %d tests, wall and CPU; correction: %s."
        % (len(fam), stats.CORRECTION_NAMES["holm"]))
    w.p()
    mp = [k for k in an.keys if k[0] == "MillionParked"]
    if mp:
        rows, csv_rows = [], [["system", "procs", "n", "goroutines", "spawn_s", "release_s",
                               "rss_mb", "rss_bytes_per_g"]]
        for key in mp:
            for s in an.systems + [FLOOR]:
                c = an.cell(s, key)
                if c is None:
                    continue
                cnt = c.counters
                rows.append([s, key[1], len(c.real), _num(cnt.get("goroutines"), "%.0f"),
                             _num(cnt.get("spawn_s"), "%.3f"), _num(cnt.get("release_s"), "%.3f"),
                             _num(cnt.get("rss_mb"), "%.0f"),
                             _num(cnt.get("rss_bytes_per_g"), "%.0f")])
                csv_rows.append([s, key[1], len(c.real), cnt.get("goroutines"),
                                 cnt.get("spawn_s"), cnt.get("release_s"), cnt.get("rss_mb"),
                                 cnt.get("rss_bytes_per_g")])
        w.p("MillionParked (medians over its blocks, one cold process each; RSS is the whole "
            "process's, read from /proc/self/statm while every goroutine is parked):")
        w.p()
        w.table("million_parked", ["system", "procs", "processes", "goroutines", "spawn s",
                                   "release s", "RSS MB", "RSS bytes/G"], rows, csv_rows)
    sp = [k for k in an.keys if k[0] == "SpawnPark"]
    if sp:
        rows, csv_rows = [], [["system", "procs", "n", "rss_parked_mb", "rss_after_mb"]]
        for key in sp:
            for s in an.systems:
                c = an.cell(s, key)
                if c is None or "rss_after_mb" not in c.counters:
                    continue
                cnt = c.counters
                rows.append([s, key[1], len(c.real), _num(cnt.get("rss_parked_mb"), "%.0f"),
                             _num(cnt.get("rss_after_mb"), "%.0f")])
                csv_rows.append([s, key[1], len(c.real), cnt.get("rss_parked_mb"),
                                 cnt.get("rss_after_mb")])
        w.p("SpawnPark memory (medians over its samples; whole-process RSS from "
            "/proc/self/statm with the last batch of up to 100,000 goroutines parked, and "
            "after it finished, still inside the runtime):")
        w.p()
        w.table("spawn_park_rss", ["system", "procs", "samples", "RSS parked MB",
                                   "RSS after MB"], rows, csv_rows)


# --- time above the floor ---------------------------------------------------------

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
    import zlib
    return FloorRatio(gd, go, seed=zlib.crc32(key_label(key).encode()))


def _fmt_excess(e):
    if e is None:
        return ""
    if e.state == "at":
        return "at the floor (%s)" % stats.format_ns(e.median)
    body = "%s [%s – %s]" % (stats.format_ns(e.median), stats.format_ns(e.low),
                             stats.format_ns(e.high))
    return body + (" ≈ floor" if e.state == "near" else "")


def _fmt_floor_ratio(r):
    if r is None:
        return ""
    if r.ratio is None:
        return "—"
    if r.low is None:
        return "×%.2f (n=%d)" % (r.ratio, r.n)
    hi = "∞" if r.high == float("inf") else "%.2f" % r.high
    return "×%.2f [%.2f–%s]" % (r.ratio, r.low, hi)


def _floor(w, an):
    w.p("## Time above the floor")
    w.p()
    keys = floor_keys(an)
    if not keys:
        w.p("No floor in this run (`--no-floor`, or none of %s measured)."
            % ", ".join(catalog.FLOOR_WORKLOADS))
        w.p()
        return
    peers = [s for s in (GO, TOKIO) if s in an.peers]
    w.p("%s cost mostly what no scheduler can remove: a spin delay, a blocking syscall, the "
        "page faults of fresh stacks. The **floor** (`//bench:floor_bench`) does only that "
        "part, with the same shape and count as gmplab's workload, on plain threads with no "
        "scheduler, and runs in the same randomized blocks as every system:"
        % ", ".join(catalog.FLOOR_WORKLOADS))
    w.p()
    for wl in catalog.FLOOR_WORKLOADS:
        w.p("- **%s**: %s." % (wl, catalog.FLOOR_DESCRIPTIONS[wl]))
    w.p()
    w.p("**Target: go_default's time above the floor is at most %.1f× Go's.**" % FLOOR_TARGET)
    w.p()
    procs = {}
    for key in keys:
        for smp in an.cell(FLOOR, key).samples:
            p = smp.get("process") or {}
            procs[(p.get("start"), key[0].split("/")[0])] = bool(p.get("contended"))
    if any(procs.values()):
        w.p("> **The floor ran under load:** %d of its %d processes were contended. A floor "
            "is only a floor on a quiet machine: its WakeupParallelSpinning threads need two "
            "CPUs at the same moment, and lose more to load than a system that blocks or "
            "runs both goroutines on one thread, so here \"at the floor\" may only mean that "
            "the floor rose." % (sum(procs.values()), len(procs)))
        w.p()
    rows = []
    csv_rows = [["workload", "procs", "floor_median_ns", "blocks"] +
                sum([[s + "_excess_ns", s + "_excess_ci_lo", s + "_excess_ci_hi",
                      s + "_state"] for s in [BASE] + peers], []) +
                ["ratio", "ci_lo", "ci_hi", "verdict", "why"]]
    fam = []
    met = decided = 0
    for key in keys:
        f = an.cell(FLOOR, key)
        ex = {s: floor_excess(an, s, key) for s in [BASE] + peers}
        if all(e is None for e in ex.values()):
            continue
        r = floor_ratio(an, key)
        if r is not None:
            fam.append(({"system": BASE, "baseline": GO, "workload": key[0], "procs": key[1],
                         "metric": "wall_above_floor"}, r))
            if r.verdict != "undecided":
                decided += 1
                met += r.verdict == "meets"
        target = ""
        if r is not None:
            target = {"meets": "**meets**", "misses": "misses"}.get(r.verdict, "undecided")
            target += " (%s)" % r.why
        rows.append([key_label(key), fmt_cell(f, "wall")] + [_fmt_excess(ex[s]) for s in
                                                            [BASE] + peers] +
                    [_fmt_floor_ratio(r), target])
        crow = [key[0], key[1], f.median("wall"), len(f.real)]
        for s in [BASE] + peers:
            e = ex[s]
            crow += [e and e.median, e and e.low, e and e.high, e and e.state]
        crow += [r and r.ratio, r and r.low, r and r.high, r and r.verdict, r and r.why]
        csv_rows.append(crow)
    an.families.append(("floor_excess", "none", fam))
    if fam and decided:
        w.p("go_default meets the target in **%d of %d** cells with a verdict (%d "
            "undecided)." % (met, decided, len(fam) - decided))
        w.p()
    elif fam:
        w.p("No cell has a verdict (%d undecided)." % len(fam))
        w.p()
    names = {BASE: "go_default", GO: "Go", TOKIO: "Tokio"}
    w.table("floor", ["cell", "floor"] + ["%s − floor [95%% CI]" % names[s]
                                         for s in [BASE] + peers] +
            ["go_default / Go above the floor [95% CI]", "target ≤ %.1f× Go" % FLOOR_TARGET],
            rows, csv_rows)
    w.p("Method. Wall time per op. In each block every system and the floor ran once, so a "
        "system's time above the floor is taken within blocks: its value minus the floor's "
        "of the same block. Each excess column gives the median of those per-block "
        "excesses with its order-statistic 95%% CI (below 6 blocks only the range of the "
        "blocks); *at the floor* when the median is at or below zero, *≈ floor* when the "
        "floor lies inside the CI. The ratio is median(go_default's per-block excesses) / "
        "median(Go's), over the blocks both ran in, with a paired percentile bootstrap 95%% "
        "CI over those blocks (scipy.stats.bootstrap, 9,999 resamples, seeded by the cell; "
        "a resample whose Go median is not above zero counts as an unbounded ratio, ∞). "
        "Excesses can be zero or negative in a block, which rules out the log-ratios the "
        "other tables use. The ratio is given only when Go's excess is clearly above the "
        "floor (its CI above zero). Verdicts: **meets** when the CI lies at or below %.1f, "
        "or go_default is at the floor; *misses* when the CI lies above %.1f, or Go is at "
        "the floor while go_default is clearly above it; otherwise undecided. A verdict is "
        "the CI's side of the target, with no correction over the table's cells; with 16 "
        "blocks (the default) a percentile bootstrap covers somewhat less than its nominal 95%%. "
        "Below %d blocks no cell gets a verdict (MillionParked's default 3 blocks never "
        "do): the excess intervals are then only the blocks' range. `verdicts.csv` "
        "lists each cell as family `floor_excess` (`same` = undecided)."
        % (FLOOR_TARGET, FLOOR_TARGET, FLOOR_MIN_BLOCKS))
    w.p()


def _peer_table(w, an, metric, title):
    systems = ([BASE] if BASE in an.systems else []) + an.peers
    w.p("## %s: gmplab and peers" % title.capitalize().replace("Cpu", "CPU"))
    w.p()
    if not systems:
        w.p("No data.")
        w.p()
        return
    others = list(an.peers)
    fam = an.paired_family("peers_" + metric, "bh", [
        (BASE, p, key, metric) for key in an.keys for p in others])
    got = {(r["baseline"], r["workload"], r["procs"]): c for r, c in fam}
    header = ["workload"] + systems + ["go_default/%s" % p for p in others]
    rows, csv_rows = [], [["workload", "procs"] + sum(
        [[s + "_median_ns", s + "_ci_lo", s + "_ci_hi", s + "_n"] for s in systems], []) +
        sum([["ratio_" + p, "ci_lo_" + p, "ci_hi_" + p, "p_" + p, "p_bh_" + p] for p in others],
            [])]
    for key in an.keys:
        row = [key_label(key)]
        crow = [key[0], key[1]]
        for s in systems:
            c = an.cell(s, key)
            row.append(fmt_cell(c, metric))
            if c is not None and c.values(metric):
                m, lo, hi, _ = stats.median_ci(c.values(metric))
                crow += [m, lo, hi, len(c.values(metric))]
            else:
                crow += ["", "", "", 0]
        for p in others:
            c = got.get((p, key[0], key[1]))
            row.append(stats.verdict(c))
            crow += [c and c.ratio, c and c.low, c and c.high, c and c.p, c and c.p_adj]
        if any(row[1:]):
            rows.append(row)
            csv_rows.append(crow)
    w.table("%s_peers" % metric, header, rows, csv_rows)
    w.p("Family: the %d go_default/peer ratios of this table; correction: %s."
        % (len(fam), stats.CORRECTION_NAMES["bh"]))
    w.p()


def _cpu_wall(w, an):
    w.p("## CPU time / wall time")
    w.p()
    w.p("Whole-process CPU per op divided by wall time per op (medians): 1.0 is one busy "
        "thread; above the useful parallelism it shows spinning or idle-worker cost.")
    w.p()
    rows = []
    for key in an.keys:
        row = [key_label(key)]
        for s in an.systems:
            c = an.cell(s, key)
            mw, mc = (c.median("wall"), c.median("cpu")) if c else (None, None)
            row.append("%.2f" % (mc / mw) if mw and mc is not None else "")
        rows.append(row)
    w.table("cpu_wall_ratio", ["workload"] + an.systems, rows)


# --- tokio_like vs Tokio -------------------------------------------------------

TOKIO_LIKE = "tokio_like"
TOKIO = "tokio"

# Where Tokio 1.24's multi-thread runtime differs from gmplab's tokio_like
# variant (runtime/policy, variants/BUILD.bazel): the candidates when the two
# move differently against go_default. Read from tokio-1.24.2/src/runtime
# (scheduler/multi_thread/{worker,idle}.rs, builder.rs, task/yield_now.rs).
# "global" is listed for completeness but maps to no workload: 1.24's
# multi-thread builder uses 61 (Builder::new(Kind::MultiThread, 61, 61)).
TOKIO_DIFFERENCES = {
    "stackless": "stackless tasks (no stacks to allocate or switch)",
    "lifo": "LIFO slot rules (1.24: every spawn and wake-up from a worker takes it, thieves "
            "cannot steal it, chains end only with the 128-poll coop budget; tokio_like: "
            "runnext, stealable, capped at 3 in a row)",
    "searching": "searching-worker limit (same 2*searching < workers rule, but a Tokio "
                 "searcher makes one steal pass then parks; tokio_like spins 4 rounds)",
    "global": "global-queue interval (31 vs 61; Tokio 1.24's multi-thread runtime uses 61, "
              "as tokio_like: 31 is its current-thread default)",
    "mpsc": "mpsc capacity 1 vs unbuffered channel (no direct hand-off to a parked receiver)",
    "yield": "yield_now defers the task until the worker would park (gmplab's Gosched puts "
             "it on the global queue)",
}
_TOKIO_EXPLAIN = {
    "CreateGoroutines": ["stackless", "lifo"],
    "CreateGoroutinesParallel": ["stackless", "lifo", "searching"],
    "CreateGoroutinesSingle": ["stackless", "lifo", "searching"],
    "Gosched": ["yield", "stackless"],
    "PingPongUnbuffered": ["mpsc", "lifo", "stackless"],
    "PingPongBuffered": ["lifo", "stackless"],
    "WakeupParallelSpinning": ["mpsc", "searching", "lifo"],
    "Fib": ["stackless", "lifo", "searching"],
    "SkewedLoad": ["lifo", "searching"],
    "WakeupLatency": ["mpsc", "lifo", "searching"],
    "MillionParked": ["stackless"],
}


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


def tokio_explanations(workload):
    """The Tokio/tokio_like differences that could explain a disagreement."""
    keys = _TOKIO_EXPLAIN.get(workload.split("/")[0], ["stackless", "lifo"])
    return [TOKIO_DIFFERENCES[k] for k in keys]


def _tokio_like(w, an):
    """Does gmplab's tokio_like variant move against go_default as Tokio does?"""
    w.p("## tokio_like vs Tokio: does the model move like the real thing?")
    w.p()
    need = [s for s in (BASE, TOKIO_LIKE, TOKIO) if s not in an.systems]
    if need:
        w.p("Needs go_default, tokio_like and the tokio peer; no data for %s."
            % ", ".join(need))
        w.p()
        return
    w.p("`tokio_like` is go_default with Tokio's scheduling policies; `tokio` is Tokio 1.24 "
        "itself. In every cell where all three ran, both are compared with go_default in the "
        "same blocks (wall time, paired ratio with its 95%% CI). They *agree* when both CIs "
        "lie on the same side of 1, or both contain 1 (below 6 blocks a CI is only the range "
        "of the blocks, so a cell is left undecided). A disagreement names the differences "
        "between the model and Tokio that could explain it. One is **inherent**: Tokio's "
        "tasks are stackless state machines (%s), which no gmplab variant can model, since "
        "every goroutine has a stack; creation and MillionParked cells may "
        "disagree for that reason alone. The others are policies a variant or a workload "
        "could still close: LIFO slot rules, the searching-worker behaviour, the global-queue "
        "interval (Tokio 1.24's multi-thread runtime uses 61, like tokio_like; 31 is its "
        "current-thread default), the channel (Tokio has no unbuffered channel: mpsc "
        "capacity 1) and yield_now's deferral." % "no stacks to allocate or switch")
    w.p()
    rows = []
    csv_rows = [["workload", "procs", "tokio_like_ratio", "tokio_like_ci_lo", "tokio_like_ci_hi",
                 "tokio_like_p", "tokio_ratio", "tokio_ci_lo", "tokio_ci_hi", "tokio_p",
                 "agree", "could_explain"]]
    agree_n = undecided = 0
    for key in an.keys:
        cl = an.paired(TOKIO_LIKE, BASE, key, "wall")
        ct = an.paired(TOKIO, BASE, key, "wall")
        sl, st = ci_side(cl), ci_side(ct)
        if sl is None or st is None:
            continue
        if "few" in (sl, st):
            agree = None
            undecided += 1
        else:
            agree = sl == st
            agree_n += agree
        why = "; ".join(tokio_explanations(key[0])) if agree is False else ""
        rows.append([key_label(key), stats.verdict(cl), stats.verdict(ct),
                     {True: "yes", False: "**no**"}.get(agree, "? (%d blocks)" % min(cl.n, ct.n)),
                     why or "—"])
        csv_rows.append([key[0], key[1], cl.ratio, cl.low, cl.high, cl.p, ct.ratio, ct.low,
                         ct.high, ct.p, agree, why])
    if not rows:
        w.p("No cell has data from all three.")
        w.p()
        return
    w.p("They agree in **%d of %d** cells%s." % (
        agree_n, len(rows) - undecided,
        "; %d more have too few blocks to tell" % undecided if undecided else ""))
    w.p()
    w.table("tokio_like_vs_tokio", ["cell", "tokio_like/go_default [95% CI]",
                                    "tokio/go_default [95% CI]", "same direction",
                                    "differences that could explain a disagreement"],
            rows, csv_rows)
    w.p("`*` and `~` as elsewhere (uncorrected here: the verdict is the CIs' side of 1, "
        "not a test).")
    w.p()


def _variant_table(w, an, metric, title):
    others = [v for v in an.variants if v != BASE]
    w.p("## Variants against go_default: %s" % title)
    w.p()
    if BASE not in an.variants or not others:
        w.p("Needs go_default and at least one other variant.")
        w.p()
        return
    fam = an.paired_family("variants_" + metric, "bh", [
        (v, BASE, key, metric) for key in an.keys for v in others])
    got = {(r["system"], r["workload"], r["procs"]): c for r, c in fam}
    w.p("Each cell: the variant / go_default %s ratio with its 95%% CI. Family: the %d "
        "comparisons of this table; correction: %s. Geomean rows take every cell both have, "
        "significant or not. The heatmap under [plots](#plots) shows the same."
        % (title, len(fam), stats.CORRECTION_NAMES["bh"]))
    w.p()
    rows = []
    csv_rows = [["workload", "procs", "variant", "median_ns", "n", "ratio_go_default", "ci_lo",
                 "ci_hi", "p", "p_bh", "ratio_go", "ci_lo_go", "ci_hi_go"]]
    ratios = defaultdict(list)
    ratios_go = defaultdict(list)
    for key in an.keys:
        row = [key_label(key), fmt_cell(an.cell(BASE, key), metric)]
        for v in others:
            c = got.get((v, key[0], key[1]))
            row.append(stats.verdict(c))
            cg = an.paired(v, GO, key, metric) if GO in an.systems else None
            if c is not None:
                ratios[v].append(c.ratio)
                cell = an.cell(v, key)
                csv_rows.append([key[0], key[1], v, cell.median(metric), c.n, c.ratio, c.low,
                                 c.high, c.p, c.p_adj, cg and cg.ratio, cg and cg.low,
                                 cg and cg.high])
            if cg is not None and cg.ratio is not None:
                ratios_go[v].append(cg.ratio)
        rows.append(row)
    rows.append(["**geomean vs go_default**", ""] +
                ["×%.3f" % stats.geomean(ratios[v]) if stats.geomean(ratios[v]) else ""
                 for v in others])
    if GO in an.systems:
        base_go = [c.ratio for c in (an.paired(BASE, GO, k, metric) for k in an.keys)
                   if c is not None and c.ratio is not None]
        rows.append(["**geomean vs Go**",
                     "×%.3f" % stats.geomean(base_go) if stats.geomean(base_go) else ""] +
                    ["×%.3f" % stats.geomean(ratios_go[v]) if ratios_go[v] else ""
                     for v in others])
    w.table("%s_variants" % metric, ["workload", "go_default"] + others, rows, csv_rows)


# --- best policy ----------------------------------------------------------------

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


def _best_policy(w, an, meta):
    w.p("## Best policy per workload, confirmed")
    w.p()
    w.p("A policy wins a cell only twice over: it is the fastest variant of the main blocks "
        "(the lowest paired wall ratio against go_default) and significantly faster there "
        "(after the variant table's correction); then it is re-measured beside go_default "
        "in a confirmation round of %d fresh blocks, and the one-sided signed-rank test of "
        "*that* data (Holm–Bonferroni over the cells that reached the round) must say it is "
        "faster too." % meta.get("confirm_blocks", 0))
    w.p()
    explore = {}
    for name, _, frows in an.families:
        if name == "variants_wall":
            explore = {(r["system"], r["workload"], r["procs"]): fc for r, fc in frows}
    rows, fam = [], []
    for key in an.keys:
        if key[0] == "MillionParked":
            continue
        best = None
        for v in an.variants:
            if v in (BASE, AA):
                continue
            c = an.paired(v, BASE, key, "wall")
            if c is None or c.ratio is None:
                continue
            if best is None or c.ratio < best[0].ratio:
                best = (c, v)
        if best is None:
            continue
        c, v = best
        ec = explore.get((v, key[0], key[1]))
        if ec is not None:
            c = ec  # the same comparison, with its family's correction
        conf = (an.paired(v, BASE, key, "wall", confirm=True)
                if c.ratio < 1 and c.significant else None)
        if conf is not None and conf.d:
            conf.p = stats.wilcoxon_p(conf.d, alternative="less")
        fam.append(({"system": v, "baseline": BASE, "workload": key[0], "procs": key[1],
                     "metric": "wall", "stage": "explore"}, c, conf))
    conf_rows = an.family("best_policy_confirm", "holm",
                          [(dict(r, stage="confirm"), cf) for r, _, cf in fam if cf is not None])
    confirmed = {(r["workload"], r["procs"]): cf for r, cf in conf_rows}
    csv_rows = [["workload", "procs", "candidate", "explore_ratio", "explore_lo", "explore_hi",
                 "confirm_ratio", "confirm_lo", "confirm_hi", "confirm_p_one_sided",
                 "confirm_p_holm", "verdict"]]
    for r, c, _ in fam:
        key = (r["workload"], r["procs"])
        cf = confirmed.get(key)
        if c.ratio >= 1:
            verdict = "go_default is fastest"
        elif not c.significant:
            verdict = "no variant significantly faster"
        elif cf is None:
            verdict = "not confirmed (no confirmation data)"
        elif cf.p_adj is not None and cf.p_adj < stats.ALPHA:
            verdict = "**confirmed faster than go_default**"
        else:
            verdict = "not confirmed"
        rows.append([key_label(key), r["system"] if c.ratio < 1 else BASE,
                     stats.verdict(c) if c.ratio < 1 else "",
                     stats.verdict(cf) if cf else "",
                     stats.format_p(cf.p_adj) if cf else "", verdict])
        csv_rows.append([key[0], key[1], r["system"], c.ratio, c.low, c.high,
                         cf and cf.ratio, cf and cf.low, cf and cf.high, cf and cf.p,
                         cf and cf.p_adj, verdict.strip("*")])
    w.table("best_policy", ["workload", "candidate", "main blocks: vs go_default",
                            "confirmation: vs go_default", "p (one-sided, Holm)", "verdict"],
            rows, csv_rows)


# --- latency ----------------------------------------------------------------

_PCTS = [("p50_ns", "p50"), ("p90_ns", "p90"), ("p99_ns", "p99"), ("p999_ns", "p99.9"),
         ("max_ns", "max")]


def _latency(w, an):
    w.p("## Wake-up latency")
    w.p()
    keys = [k for k in an.keys if k[0].split("/")[0] in catalog.LATENCY]
    if not keys:
        w.p("Not measured in this run.")
        w.p()
        return
    w.p("WakeupLatency: the time from a channel send to a parked goroutine until that "
        "goroutine runs. Each process reports its own percentiles; the table gives their "
        "medians over blocks ± CI, and the p99 ratio against go_default, paired within "
        "blocks (correction: %s over the table). The CDF plot pools the raw samples."
        % stats.CORRECTION_NAMES["bh"])
    w.p()
    fam = []
    for key in keys:
        for s in an.systems:
            if s == BASE:
                continue
            a, b = an.cell(s, key), an.cell(BASE, key)
            if a is None or b is None:
                continue
            ca = {blk: v for blk, v in zip([x.get("block", i) for i, x in enumerate(a.samples)],
                                           a.counter_values.get("p99_ns", []))}
            cb = {blk: v for blk, v in zip([x.get("block", i) for i, x in enumerate(b.samples)],
                                           b.counter_values.get("p99_ns", []))}
            c = stats.Paired(ca, cb) if ca and cb else None
            fam.append(({"system": s, "baseline": BASE, "workload": key[0], "procs": key[1],
                         "metric": "p99"}, c if c is not None and c.n else None))
    fam = an.family("latency_p99", "bh", fam)
    got = {(r["system"], r["workload"], r["procs"]): c for r, c in fam}
    rows = []
    csv_rows = [["system", "workload", "procs", "n"] + [n for n, _ in _PCTS] +
                ["p99_ratio_go_default", "ci_lo", "ci_hi", "p", "p_bh"]]
    for key in keys:
        for s in an.systems:
            c = an.cell(s, key)
            if c is None:
                continue
            vals = []
            for name, _ in _PCTS:
                v = c.counter_values.get(name)
                vals.append(stats.median(v) if v else None)
            cmp = got.get((s, key[0], key[1]))
            rows.append([key_label(key), s, len(c.samples)] +
                        [stats.format_ns(v) for v in vals] + [stats.verdict(cmp)])
            csv_rows.append([s, key[0], key[1], len(c.samples)] + vals +
                            [cmp and cmp.ratio, cmp and cmp.low, cmp and cmp.high,
                             cmp and cmp.p, cmp and cmp.p_adj])
    w.table("latency", ["cell", "system", "processes"] + [l for _, l in _PCTS] +
            ["p99 / go_default's"], rows, csv_rows)


def _latency_histograms(latency):
    """Pools raw latency samples into log-spaced histograms per (system,
    workload, procs): small enough to keep in samples.json."""
    import math
    edges = [10 * 10 ** (i / 20.0) for i in range(0, 141)]  # 10 ns .. 1 s, 20 per decade
    out = {}
    for rec in latency:
        key = "%s|%s|%d" % (rec["system"], rec["workload"], rec["procs"])
        h = out.setdefault(key, [0] * (len(edges) + 1))
        for x in rec["samples_ns"]:
            if x <= 0:
                i = 0
            else:
                i = min(len(edges), max(0, int(math.floor(20 * math.log10(x / 10.0))) + 1))
            h[i] += 1
    return {"edges_ns": edges, "histograms": out}


# --- counters, slower-than-Go, load, failures ----------------------------------

_COUNTERS = ["steals", "stolen_gs", "spins", "parks", "wakeups", "handoffs", "gopark",
             "preempts", "global_puts", "ms_created"]


def _counters(w, an):
    w.p("## Scheduler counters per op (go_default)")
    w.p()
    w.p("Medians over processes of gmp::ReadStats() deltas divided by ops "
        "(`ms_created` is the total Ms the run created). Every variant's counters are in "
        "[`counters.csv`](counters.csv).")
    w.p()
    rows = []
    cols = [k for k in _COUNTERS
            if any(an.cell(BASE, key) and k in an.cell(BASE, key).counters for key in an.keys)]
    for key in an.keys:
        c = an.cell(BASE, key)
        if c is None:
            continue
        rows.append([key_label(key)] + [_num(c.counters.get(k), "%.3g") for k in cols])
    w.table("counters_go_default", ["workload"] + cols, rows)
    with open(os.path.join(w.out_dir, "counters.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        names = sorted({k for c in an.cells.values() for k in c.counters})
        cw.writerow(["system", "workload", "procs"] + names)
        for (s, wl, p), c in sorted(an.cells.items(), key=lambda kv: (kv[0][0], _key_order(kv[0][1:]))):
            cw.writerow([s, wl, p] + [c.counters.get(n, "") for n in names])


def _slower_than_go(w, an):
    w.p("## Where go_default is slower than Go")
    w.p()
    fam = [(r, c) for name, _, rows in an.families if name == "headline" for r, c in rows]
    rows = []
    for r, c in fam:
        if r["metric"] != "wall" or c.ratio is None or c.ratio <= 1.0:
            continue
        key = (r["workload"], r["procs"])
        cell = an.cell(BASE, key)
        cnt = ", ".join("%s %.3g" % (k, cell.counters[k]) for k in
                        ("steals", "spins", "parks", "wakeups", "handoffs", "gopark")
                        if cell.counters.get(k))
        rows.append([key_label(key), stats.verdict(c), "yes" if c.significant else "no", cnt,
                     likely_cause(key[0], cell.counters)])
    if not fam:
        w.p("Needs both go_default and Go.")
        w.p()
    elif rows:
        w.p("Every headline cell where go_default's wall-time ratio to Go is above 1, "
            "significant (after Holm) or not, with its counters per op: parks/wakeups are "
            "thread sleeps and wake-ups, spins are Ms looking for work.")
        w.p()
        w.table("slower_than_go", ["workload", "go_default/Go", "significant (Holm)",
                                   "go_default counters/op", "what the counters point at"], rows)
    else:
        w.p("None: go_default's ratio to Go is at or below 1 everywhere both ran.")
        w.p()


def likely_cause(workload, counters):
    """A first reading of the counters of a cell where go_default is slower."""
    c = counters
    causes = []
    if c.get("parks", 0) >= 0.1 or c.get("wakeups", 0) >= 0.1:
        causes.append("%.2g M parks + %.2g wake-ups per op: thread sleeps/futex wake-ups "
                      "on the critical path" % (c.get("parks", 0), c.get("wakeups", 0)))
    if c.get("handoffs", 0) >= 0.1:
        causes.append("%.2g P hand-offs per op" % c["handoffs"])
    if c.get("spins", 0) >= 0.1:
        causes.append("%.2g spinning Ms per op (CPU burnt looking for work)" % c["spins"])
    if c.get("global_puts", 0) >= 0.1:
        causes.append("%.2g global-queue puts per op (lock traffic)" % c["global_puts"])
    if c.get("steals", 0) >= 0.1:
        causes.append("%.2g steals per op" % c["steals"])
    if not causes:
        if workload.startswith("CreateGoroutines") or workload == "MillionParked":
            return "no scheduler events: the cost is in creating Gs (stack allocation, first switch)"
        return "no scheduler events per op: the cost is on the fast path (switches, channel locks)"
    return "; ".join(causes)


def _contention(samples):
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


def _load(w, samples, meta, contended):
    w.p("## Load while measuring")
    w.p()
    if not contended["total"]:
        w.p("No per-process load records (a report from an older harness).")
        w.p()
        return
    recs = contended["records"]

    def med(k):
        v = [r[k] for r in recs if r.get(k) is not None]
        return stats.median(v) if v else None

    def mx(k):
        v = [r[k] for r in recs if r.get(k) is not None]
        return max(v) if v else None

    qb, qa = meta.get("quiet_before") or {}, meta.get("quiet_after") or {}
    w.p("Each process records its start, wall and CPU time, the 1-minute load average at its "
        "start, CPU pressure (`/proc/pressure/cpu`: avg10 at the start and the share of its "
        "run with some task waiting, which includes the benchmark's own threads beyond the "
        "cores), and the CPUs used meanwhile by everything else (`/proc/stat` busy time less "
        "the process's and the runner's) and stolen by the hypervisor. A sample is "
        "*contended* when others or steal took more than %.2f CPUs."
        % meta.get("contention_cpus", 0.25))
    w.p()
    w.p("- before the build: others used %s CPUs, load average %s; after it: %s CPUs, %s"
        % (_num(qb.get("busy_cpus"), "%.2f"), qb.get("loadavg", "?"),
           _num(qa.get("busy_cpus"), "%.2f"), qa.get("loadavg", "?")))
    w.p("- processes: %d; contended: **%d (%.1f%%)**" % (
        contended["total"], contended["contended"],
        100.0 * contended["contended"] / contended["total"]))
    w.p("- others' CPUs per process: median %s, max %s; steal: median %s, max %s"
        % (_num(med("foreign_cpus"), "%.3f"), _num(mx("foreign_cpus"), "%.2f"),
           _num(med("steal_cpus"), "%.3f"), _num(mx("steal_cpus"), "%.2f")))
    w.p("- load average at process start: median %s, max %s; PSI some avg10: median %s%%"
        % (_num(med("load1"), "%.2f"), _num(mx("load1"), "%.2f"),
           _num(med("psi_some_avg10"), "%.1f")))
    w.p()
    rows = [[s, n, c] for s, (n, c) in sorted(contended["per_system"].items())]
    w.table("contention", ["system", "processes", "contended"], rows)


def _failures(w, errors, notes, an):
    w.p("## Failures and missing cells")
    w.p()
    if not errors and not notes:
        w.p("None.")
        w.p()
        return
    for n in notes:
        w.p("- %s" % n)
    for e in errors:
        system, workload, procs, msg = e
        where = workload if procs is None else "%s/procs:%s" % (workload, procs)
        w.p("- **%s** %s: %s" % (system, where, msg))
    w.p()


def _peer_coverage(w, meta):
    w.p("## Peers: what each one runs")
    w.p()
    for p in meta["peers"]:
        every = catalog.PEER_NOTES.get((p, "*"))  # a note on all of its cells
        w.p("- **%s**: %s%s. %s" % (p, catalog.PEER_DESCRIPTIONS.get(p, ""),
                                     "; " + every if every else "",
                                     meta.get("describe", {}).get(p, "")))
    w.p()
    rows = []
    for wl in catalog.WORKLOAD_NAMES:
        row = [wl]
        for p in meta["peers"]:
            ok, reason = catalog.peer_supports(p, wl)
            note = catalog.PEER_NOTES.get((p, wl))
            row.append(("yes" + (" (%s)" % note if note else "")) if ok else "— " + reason)
        rows.append(row)
    w.table("peer_coverage", ["workload"] + meta["peers"], rows)


def _policies(w, meta):
    w.p("## Variants and their policies")
    w.p()
    rows = []
    for v in meta["variants"]:
        rows.append([v, meta.get("describe", {}).get(v, "").replace("|", "\\|").replace("\n", " "),
                     " ".join(d for d in meta.get("defines", {}).get(v, [])
                              if d.startswith("GMP_") and not d.startswith("GMP_VARIANT_NAME")),
                     meta.get("layout_copies", {}).get(v, "")])
    w.table("policies", ["variant", "--describe (gmp::ReadStats().variant)", "build defines",
                         "layout copies"], rows)


def _machine(w, meta):
    w.p("## Machine")
    w.p()
    for k, v in meta.get("machine", {}).items():
        w.p("- **%s**: %s" % (k, v))
    w.p()


def _fuzz(w, summary, meta):
    w.p("## Fuzz campaign")
    w.p()
    if summary is None:
        w.p("No fuzz summary found (looked for `%s`)." % meta.get("fuzz_path", "reports/fuzz-summary.json"))
        w.p()
        return
    w.p("From `%s`, written by `./harness fuzz`." % meta.get("fuzz_path"))
    w.p()
    if not isinstance(summary, dict):
        w.p("(unreadable summary)")
        w.p()
        return
    for k, v in summary.items():
        if not isinstance(v, (dict, list)):
            w.p("- **%s**: %s" % (k, v))
    w.p()
    campaigns = [c for c in summary.get("campaigns") or [] if isinstance(c, dict)]
    if campaigns:
        w.p("### Campaigns")
        w.p()
        w.table("fuzz_campaigns", ["target", "variant", "sanitizer", "time (s)", "executions",
                                   "exec/s", "coverage", "features", "corpus", "findings"],
                [[c.get("target", ""), c.get("variant", ""), c.get("sanitizer", ""),
                  c.get("time_s", ""), c.get("executions", ""), c.get("exec_per_sec", ""),
                  c.get("coverage", ""), c.get("features", ""), c.get("corpus_size", ""),
                  len(c.get("findings") or [])] for c in campaigns])
        by_variant = {}
        for c in campaigns:
            key = (c.get("variant", ""), c.get("sanitizer", ""))
            v = by_variant.setdefault(key, {"targets": [], "time": 0, "execs": 0,
                                            "findings": 0})
            v["targets"].append(str(c.get("target", "")))
            v["time"] += c.get("time_s") or 0
            v["execs"] += c.get("executions") or 0
            v["findings"] += len(c.get("findings") or [])
        if len(by_variant) > 1:
            w.p("Campaigns per variant (`./harness fuzz --all-variants` shares "
                "the time and one corpus per target among the variants):")
            w.p()
            w.table("fuzz_variants", ["variant", "sanitizer", "targets", "time (s)",
                                      "executions", "findings"],
                    [[k[0], k[1], " ".join(sorted(v["targets"])), v["time"], v["execs"],
                      v["findings"]] for k, v in sorted(by_variant.items())])
        found = [(c, f) for c in campaigns for f in c.get("findings") or []
                 if isinstance(f, dict)]
        if found:
            w.p("Findings, each replayed on the same binary for its reproduction rate:")
            w.p()
            w.table("fuzz_findings", ["variant", "target", "kind", "reason", "reproduced",
                                      "artefact"],
                    [[c.get("variant", ""), c.get("target", ""), f.get("kind", ""),
                      str(f.get("reason", "")).replace("|", "/"),
                      ("%d/%d" % (f["reproduced"], f["replays"])) if "replays" in f else "",
                      f.get("artifact", "")] for c, f in found])
    canaries = [c for c in summary.get("canaries") or [] if isinstance(c, dict)]
    if canaries:
        w.p("### Planted-bug canaries")
        w.p()
        w.table("fuzz_canaries", ["canary", "caught", "seconds to detection", "target",
                                  "cap (s)", "what the fuzzer reported", "reproduced",
                                  "control"],
                [[c.get("canary", c.get("variant", "")), c.get("caught", ""),
                  c.get("time_to_detection_s", ""), c.get("target", ""), c.get("cap_s", ""),
                  str(c.get("reason", "")).replace("|", "/"),
                  ("%d/%d" % (c["reproduced"], c["replays"])) if "replays" in c else "",
                  c.get("control", "")]
                 for c in canaries])


def _summary_csv(out_dir, an):
    with open(os.path.join(out_dir, "summary.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        cw.writerow(["system", "workload", "procs", "n", "wall_median_ns", "wall_ci_lo",
                     "wall_ci_hi", "cpu_median_ns", "cpu_ci_lo", "cpu_ci_hi", "cpu_per_wall"])
        for s in an.systems + [FLOOR]:
            for key in an.keys:
                c = an.cell(s, key)
                if c is None or not c.real:
                    continue
                m, lo, hi, _ = stats.median_ci(c.real)
                cm = clo = chi = None
                if c.cpu:
                    cm, clo, chi, _ = stats.median_ci(c.cpu)
                cw.writerow([s, key[0], key[1], len(c.real), m, lo, hi, cm, clo, chi,
                             cm / m if cm is not None and m else None])


VERDICT_FIELDS = ["family", "correction", "system", "baseline", "workload", "procs", "metric",
                  "n", "ratio", "ci_lo", "ci_hi", "p", "p_adj", "verdict"]


def _verdicts_csv(out_dir, an):
    """Every test of every family, one row each: what `--compare` reads."""
    with open(os.path.join(out_dir, "verdicts.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        cw.writerow(VERDICT_FIELDS)
        for name, method, rows in an.families:
            for r, c in rows:
                cw.writerow([name, method, r["system"], r["baseline"], r["workload"],
                             r["procs"], r["metric"], c.n, c.ratio, c.low, c.high, c.p,
                             c.p_adj, c.direction()])
