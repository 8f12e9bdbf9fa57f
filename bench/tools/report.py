"""bench/tools/report.py — writes REPORT.md, its CSV/JSON tables and plots.

Input is the uniform samples of parse.py plus what the runner noted. Every
markdown table is also written as <name>.csv beside REPORT.md.
"""

import csv
import json
import math
import os
import re
from collections import OrderedDict, defaultdict

import catalog
import stats

BASE = "go_default"
GO = "go"


class Cell:
    """The samples of one (system, workload, procs)."""

    def __init__(self, samples):
        self.samples = samples
        self.real = [s["real_ns"] for s in samples]
        self.cpu = [s["cpu_ns"] for s in samples if s.get("cpu_ns") is not None]
        counters = defaultdict(list)
        for s in samples:
            for k, v in s.get("counters", {}).items():
                counters[k].append(v)
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


class Analysis:
    def __init__(self, samples, variants, peers):
        cells = defaultdict(list)
        for s in samples:
            cells[(s["system"], s["workload"], s["procs"])].append(s)
        self.cells = {k: Cell(v) for k, v in cells.items()}
        present = {s for s, _, _ in self.cells}
        self.variants = [v for v in variants if v in present]
        self.peers = [p for p in peers if p in present]
        self.systems = self.variants + self.peers
        self.keys = sorted({(w, p) for _, w, p in self.cells}, key=_key_order)

    def cell(self, system, key):
        return self.cells.get((system, key[0], key[1]))

    def compare(self, system, base, key, metric):
        """Returns (ratio, p) of system against base for one key."""
        a, b = self.cell(system, key), self.cell(base, key)
        if a is None or b is None or not a.values(metric) or not b.values(metric):
            return None, None
        r = stats.ratio(a.median(metric), b.median(metric))
        return r, stats.mann_whitney_p(a.values(metric), b.values(metric))


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


def write_report(out_dir, samples, errors, notes, meta, fuzz_summary=None):
    """Writes the whole report into out_dir. meta: dict (see run_report.py)."""
    os.makedirs(out_dir, exist_ok=True)
    an = Analysis(samples, meta["variants"], meta["peers"])
    w = Writer(out_dir)
    with open(os.path.join(out_dir, "samples.json"), "w") as f:
        json.dump({"samples": samples, "errors": errors, "notes": notes,
                   "meta": meta}, f, indent=1, default=str)

    w.p("# gmplab benchmark report — %s" % meta.get("title", ""))
    w.p()
    w.p("Command: `%s`" % meta.get("command", ""))
    w.p()
    w.p("%d repetitions per cell (MillionParked: %d of %s goroutines, one cold process "
        "each, on go_default's stack-policy variants only: %s), "
        "min time %gs per repetition, procs %s. Times are per op: the **median ± "
        "half-width of its 95%% confidence interval** (order statistics; with fewer "
        "than 6 samples the interval is min–max and covers less than 95%%). Ratios "
        "are medians divided by the baseline's; the p-value is a two-sided "
        "Mann–Whitney U test, and `~` marks p > %.2f (no significant difference)."
        % (meta["reps"], meta["million_reps"], "{:,}".format(meta.get("million", 1000000)),
           meta.get("million_variants", "go_default"), meta["min_time"], meta["procs"],
           stats.ALPHA))
    if meta["reps"] < 4:
        w.p()
        w.p("**Note:** with %d samples per side the smallest possible U-test p-value is "
            "%.2f, so no difference can be significant at %.2f: read the ratios, not the "
            "verdicts. Run without `--quick` for tests that can decide."
            % (meta["reps"], stats.min_possible_p(meta["reps"], meta["reps"]), stats.ALPHA))
    if meta.get("interrupted"):
        w.p()
        w.p("**Interrupted (Ctrl-C): this report holds only what was measured before.**")
    w.p()
    w.p("Contents: [headline](#headline-gmplab-go_default-vs-go) · "
        "[peers](#wall-time-gmplab-and-peers) · [variants](#variants-against-go_default-wall-time) · "
        "[best policy](#best-policy-per-workload) · [counters](#scheduler-counters-per-op-go_default) · "
        "[slower than Go](#where-go_default-is-slower-than-go) · [failures](#failures-and-missing-cells) · "
        "[policies](#variants-and-their-policies) · [machine](#machine) · [fuzzing](#fuzz-campaign)")
    w.p()

    _headline(w, an)
    for metric, title in (("wall", "Wall time"), ("cpu", "CPU time")):
        _peer_table(w, an, metric, title)
    _cpu_wall(w, an)
    for metric, title in (("wall", "wall time"), ("cpu", "CPU time")):
        _variant_table(w, an, metric, title)
    _best_policy(w, an)
    _counters(w, an)
    _slower_than_go(w, an)
    _failures(w, errors, notes, an)
    _peer_coverage(w, meta)
    _policies(w, meta)
    _machine(w, meta)
    _fuzz(w, fuzz_summary, meta)
    _summary_csv(out_dir, an)
    plots = _plots(out_dir, an)
    if plots:
        w.p("## Plots")
        w.p()
        for title, path in plots:
            w.p("### %s" % title)
            w.p()
            w.p("![%s](%s)" % (title, path))
            w.p()
    w.save()
    return an


def _headline(w, an):
    w.p("## Headline: gmplab go_default vs Go")
    w.p()
    if BASE not in an.systems or GO not in an.systems:
        w.p("Needs both go_default and the Go peer; one of them has no data.")
        w.p()
        return
    rows, csv_rows = [], [["workload", "procs", "go_default_wall_ns", "go_wall_ns",
                           "ratio", "p", "go_default_cpu_ns", "go_cpu_ns", "cpu_ratio", "cpu_p"]]
    for key in an.keys:
        if key[0].split("/")[0] not in catalog.HEADLINE:
            continue
        a, g = an.cell(BASE, key), an.cell(GO, key)
        if a is None or g is None:
            continue
        r, p = an.compare(BASE, GO, key, "wall")
        rc, pc = an.compare(BASE, GO, key, "cpu")
        rows.append([key_label(key), fmt_cell(a, "wall"), fmt_cell(g, "wall"),
                     stats.verdict(r, p), fmt_cell(a, "cpu"), fmt_cell(g, "cpu"),
                     stats.verdict(rc, pc)])
        csv_rows.append([key[0], key[1], a.median("wall"), g.median("wall"), r, p,
                         a.median("cpu"), g.median("cpu"), rc, pc])
    w.table("headline", ["workload", "go_default wall", "Go wall", "go_default/Go",
                         "go_default CPU", "Go CPU", "CPU go_default/Go"], rows, csv_rows)
    mp = [k for k in an.keys if k[0] == "MillionParked"]
    if mp:
        rows, csv_rows = [], [["system", "procs", "goroutines", "spawn_s", "release_s",
                               "rss_mb", "rss_bytes_per_g"]]
        for key in mp:
            for s in an.systems:
                c = an.cell(s, key)
                if c is None:
                    continue
                cnt = c.counters
                rows.append([s, key[1], _num(cnt.get("goroutines"), "%.0f"),
                             _num(cnt.get("spawn_s"), "%.3f"), _num(cnt.get("release_s"), "%.3f"),
                             _num(cnt.get("rss_mb"), "%.0f"),
                             _num(cnt.get("rss_bytes_per_g"), "%.0f")])
                csv_rows.append([s, key[1], cnt.get("goroutines"), cnt.get("spawn_s"),
                                 cnt.get("release_s"), cnt.get("rss_mb"),
                                 cnt.get("rss_bytes_per_g")])
        w.p("MillionParked (medians over repetitions; RSS is the whole process's, read "
            "from /proc/self/statm while every goroutine is parked):")
        w.p()
        w.table("million_parked", ["system", "procs", "goroutines", "spawn s", "release s",
                                   "RSS MB", "RSS bytes/G"], rows, csv_rows)


def _peer_table(w, an, metric, title):
    systems = ([BASE] if BASE in an.systems else []) + an.peers
    w.p("## %s: gmplab and peers" % title)
    w.p()
    if not systems:
        w.p("No data.")
        w.p()
        return
    header = ["workload"] + systems
    if BASE in an.systems and GO in an.systems:
        header.append("go_default/Go")
    rows, csv_rows = [], [["workload", "procs"] + sum(
        [[s + "_median_ns", s + "_ci_lo", s + "_ci_hi", s + "_n"] for s in systems], [])
        + ["ratio_go_default_go", "p"]]
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
        if len(header) > len(systems) + 1:
            r, p = an.compare(BASE, GO, key, metric)
            row.append(stats.verdict(r, p))
            crow += [r, p]
        if any(row[1:]):
            rows.append(row)
            csv_rows.append(crow)
    w.table("%s_peers" % metric, header, rows, csv_rows)


def _cpu_wall(w, an):
    w.p("## CPU time / wall time")
    w.p()
    w.p("Whole-process CPU per op divided by wall time per op: 1.0 is one busy "
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


def _variant_table(w, an, metric, title):
    others = [v for v in an.variants if v != BASE]
    w.p("## Variants against go_default: %s" % title)
    w.p()
    if BASE not in an.variants or not others:
        w.p("Needs go_default and at least one other variant.")
        w.p()
        return
    w.p("Each cell: the variant's median / go_default's median (U-test p). "
        "Geomean rows take every workload both have, significant or not.")
    w.p()
    rows = []
    csv_rows = [["workload", "procs", "variant", "median_ns", "ratio_go_default", "p_go_default",
                 "ratio_go", "p_go"]]
    ratios = defaultdict(list)
    ratios_go = defaultdict(list)
    for key in an.keys:
        row = [key_label(key), fmt_cell(an.cell(BASE, key), metric)]
        for v in others:
            r, p = an.compare(v, BASE, key, metric)
            rg, pg = an.compare(v, GO, key, metric)
            row.append(stats.verdict(r, p))
            if r is not None:
                ratios[v].append(r)
                c = an.cell(v, key)
                csv_rows.append([key[0], key[1], v, c.median(metric), r, p, rg, pg])
            if rg is not None:
                ratios_go[v].append(rg)
        rows.append(row)
    rows.append(["**geomean vs go_default**", ""] +
                ["×%.3f" % stats.geomean(ratios[v]) if ratios[v] else "" for v in others])
    if GO in an.systems:
        base_go = [an.compare(BASE, GO, k, metric)[0] for k in an.keys]
        rows.append(["**geomean vs Go**",
                     "×%.3f" % stats.geomean(base_go) if stats.geomean(base_go) else ""] +
                    ["×%.3f" % stats.geomean(ratios_go[v]) if ratios_go[v] else "" for v in others])
    w.table("%s_variants" % metric, ["workload", "go_default"] + others, rows, csv_rows)


def _best_policy(w, an):
    w.p("## Best policy per workload")
    w.p()
    w.p("The variant with the lowest median wall time per workload; it counts as "
        "better only when the U-test against go_default says so.")
    w.p()
    rows = []
    for key in an.keys:
        cands = [(an.cell(v, key).median("wall"), v) for v in an.variants
                 if an.cell(v, key) is not None and an.cell(v, key).real]
        if not cands:
            continue
        best_ns, best = min(cands)
        if best == BASE:
            rows.append([key_label(key), BASE, stats.format_ns(best_ns), "", "baseline is fastest"])
            continue
        r, p = an.compare(best, BASE, key, "wall")
        rc, pc = an.compare(best, BASE, key, "cpu")
        sig = p is not None and p <= stats.ALPHA
        rows.append([key_label(key), best, stats.format_ns(best_ns), stats.verdict(r, p),
                     ("significantly faster than go_default" if sig else
                      "not significantly different from go_default") +
                     ("; CPU %s" % stats.verdict(rc, pc) if rc else "")])
    w.table("best_policy", ["workload", "fastest variant", "median wall", "vs go_default",
                            "verdict"], rows)


_COUNTERS = ["steals", "stolen_gs", "spins", "parks", "wakeups", "handoffs", "gopark",
             "preempts", "global_puts", "ms_created"]


def _counters(w, an):
    w.p("## Scheduler counters per op (go_default)")
    w.p()
    w.p("Medians over repetitions of gmp::ReadStats() deltas divided by ops "
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
    if BASE not in an.systems or GO not in an.systems:
        w.p("Needs both go_default and Go.")
        w.p()
        return
    rows = []
    for key in an.keys:
        r, p = an.compare(BASE, GO, key, "wall")
        if r is None or r <= 1.0:
            continue
        c = an.cell(BASE, key)
        cnt = ", ".join("%s %.3g" % (k, c.counters[k]) for k in
                        ("steals", "spins", "parks", "wakeups", "handoffs", "gopark")
                        if c.counters.get(k))
        rows.append([key_label(key), stats.verdict(r, p),
                     "yes" if p is not None and p <= stats.ALPHA else "no", cnt,
                     likely_cause(key[0], c.counters)])
    if rows:
        w.p("Every cell where go_default's median wall time is above Go's, with its "
            "counters per op (the cause is discussed in the closing notes of the "
            "issues; the counters show where the time goes: parks/wakeups are thread "
            "sleeps and wake-ups, spins are Ms looking for work).")
        w.p()
        w.table("slower_than_go", ["workload", "go_default/Go", "significant",
                                   "go_default counters/op", "what the counters point at"], rows)
    else:
        w.p("None: go_default's median is at or below Go's everywhere both ran.")
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
        w.p("- **%s**: %s. %s" % (p, catalog.PEER_DESCRIPTIONS.get(p, ""),
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
                              if d.startswith("GMP_") and not d.startswith("GMP_VARIANT_NAME"))])
    w.table("policies", ["variant", "--describe (gmp::ReadStats().variant)", "build defines"], rows)


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
    w.p("From `%s`." % meta.get("fuzz_path"))
    w.p()
    known = ("campaigns", "canaries")
    if not isinstance(summary, dict) or not any(
            isinstance(summary.get(k), list) for k in known):
        _render_json(w, summary, 0)  # a summary of some other shape: show it as it is
        w.p()
        return
    for k, v in summary.items():
        if k not in known and not isinstance(v, (dict, list)):
            w.p("- **%s**: %s" % (k, v))
    w.p()
    campaigns = [c for c in summary.get("campaigns") or [] if isinstance(c, dict)]
    if campaigns:
        w.p("### Campaigns")
        w.p()
        w.table("fuzz_campaigns", ["target", "variant", "sanitizer", "time (s)", "executions", "exec/s",
                 "coverage", "features", "corpus", "findings"],
                [[c.get("target", ""), c.get("variant", ""), c.get("sanitizer", ""),
                  c.get("time_s", ""), c.get("executions", ""), c.get("exec_per_sec", ""),
                  c.get("coverage", ""), c.get("features", ""), c.get("corpus_size", ""),
                  len(c.get("findings") or [])] for c in campaigns])
        found = [(c, f) for c in campaigns for f in c.get("findings") or []
                 if isinstance(f, dict)]
        if found:
            w.p("Findings (artifacts stay on the machine that ran the campaign; "
                "`fuzz/FINDINGS.md` says what each became):")
            w.p()
            for c, f in found:
                w.p("- %s/%s/%s: %s `%s` — %s" % (
                    c.get("target", "?"), c.get("variant", "?"), c.get("sanitizer", "?"),
                    f.get("kind", "finding"), os.path.basename(str(f.get("artifact", ""))),
                    f.get("reason", "")))
            w.p()
    canaries = [c for c in summary.get("canaries") or [] if isinstance(c, dict)]
    if canaries:
        w.p("### Planted-bug canaries")
        w.p()
        w.table("fuzz_canaries", ["canary", "caught", "seconds to detection", "target", "cap (s)",
                 "what the fuzzer reported", "control"],
                [[c.get("canary", c.get("variant", "")), c.get("caught", ""),
                  c.get("time_to_detection_s", ""), c.get("target", ""), c.get("cap_s", ""),
                  str(c.get("reason", "")).replace("|", "/"), c.get("control", "")]
                 for c in canaries])


def _render_json(w, obj, depth):
    if isinstance(obj, dict):
        scalars = [(k, v) for k, v in obj.items() if not isinstance(v, (dict, list))]
        for k, v in scalars:
            w.p("- **%s**: %s" % (k, v))
        for k, v in obj.items():
            if isinstance(v, (dict, list)):
                w.p()
                w.p("%s %s" % ("#" * min(6, 3 + depth), k))
                w.p()
                _render_json(w, v, depth + 1)
    elif isinstance(obj, list):
        if obj and all(isinstance(x, dict) for x in obj):
            cols = list(OrderedDict((k, None) for x in obj for k in x))
            w.lines.append("| " + " | ".join(cols) + " |")
            w.lines.append("|" + "|".join("---" for _ in cols) + "|")
            for x in obj:
                w.lines.append("| " + " | ".join(
                    json.dumps(x.get(c)) if isinstance(x.get(c), (dict, list)) else str(x.get(c, ""))
                    for c in cols) + " |")
            w.p()
        else:
            for x in obj:
                w.p("- %s" % (x,))


def _summary_csv(out_dir, an):
    with open(os.path.join(out_dir, "summary.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        cw.writerow(["system", "workload", "procs", "n", "wall_median_ns", "wall_ci_lo",
                     "wall_ci_hi", "cpu_median_ns", "cpu_ci_lo", "cpu_ci_hi", "cpu_per_wall",
                     "wall_ratio_go_default", "wall_p_go_default", "wall_ratio_go", "wall_p_go",
                     "cpu_ratio_go_default", "cpu_p_go_default", "cpu_ratio_go", "cpu_p_go"])
        for s in an.systems:
            for key in an.keys:
                c = an.cell(s, key)
                if c is None or not c.real:
                    continue
                m, lo, hi, _ = stats.median_ci(c.real)
                cm = clo = chi = None
                if c.cpu:
                    cm, clo, chi, _ = stats.median_ci(c.cpu)
                row = [s, key[0], key[1], len(c.real), m, lo, hi, cm, clo, chi,
                       cm / m if cm is not None and m else None]
                for metric in ("wall", "cpu"):
                    for base in (BASE, GO):
                        r, p = an.compare(s, base, key, metric) if s != base else (None, None)
                        row += [r, p]
                cw.writerow(row)


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _plots(out_dir, an):
    """Per-workload bars with CI whiskers, and scaling over procs."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    plot_dir = os.path.join(out_dir, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    out = []
    workloads = []
    for wl, _ in an.keys:
        if wl not in workloads:
            workloads.append(wl)
    colors = {}
    cmap = plt.get_cmap("tab20")
    for i, s in enumerate(an.systems):
        colors[s] = cmap(i % 20)
    for wl in workloads:
        procs = sorted({p for w2, p in an.keys if w2 == wl})
        systems = [s for s in an.systems if any(an.cell(s, (wl, p)) for p in procs)]
        if not systems:
            continue
        fig, ax = plt.subplots(figsize=(max(6, 1.0 + 0.35 * len(systems) * len(procs)), 4))
        width = 0.8 / len(systems)
        for i, s in enumerate(systems):
            xs, ys, lo, hi = [], [], [], []
            for j, p in enumerate(procs):
                c = an.cell(s, (wl, p))
                if c is None or not c.real:
                    continue
                m, l, h, _ = stats.median_ci(c.real)
                xs.append(j + i * width)
                ys.append(m)
                lo.append(m - l)
                hi.append(h - m)
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=s, color=colors[s])
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(procs))])
        ax.set_xticklabels(["procs=%d" % p for p in procs])
        ax.set_yscale("log")
        ax.set_ylabel("wall ns/op (median, 95% CI)")
        ax.set_title(wl)
        ax.legend(fontsize=6, ncol=max(1, len(systems) // 10 + 1), loc="best")
        fig.tight_layout()
        path = os.path.join("plots", "bars_%s.png" % _safe(wl))
        fig.savefig(os.path.join(out_dir, path), dpi=80)
        plt.close(fig)
        out.append((wl, path))
    sweep = [wl for wl in workloads if len({p for w2, p in an.keys if w2 == wl}) > 1]
    if sweep:
        cols = 3
        rows_n = int(math.ceil(len(sweep) / cols))
        fig, axes = plt.subplots(rows_n, cols, figsize=(5 * cols, 3.2 * rows_n), squeeze=False)
        for idx, wl in enumerate(sweep):
            ax = axes[idx // cols][idx % cols]
            procs = sorted({p for w2, p in an.keys if w2 == wl})
            for s in an.systems:
                pts = [(p, an.cell(s, (wl, p)).median("wall")) for p in procs
                       if an.cell(s, (wl, p)) and an.cell(s, (wl, p)).real]
                if len(pts) >= 2:
                    style = "-" if s in (BASE, GO) or s in an.peers else ":"
                    ax.plot([p for p, _ in pts], [m for _, m in pts], style, marker="o",
                            markersize=3, label=s, color=colors[s],
                            linewidth=2 if s in (BASE, GO) else 1)
            ax.set_xscale("log", base=2)
            ax.set_xticks(procs)
            ax.set_xticklabels([str(p) for p in procs])
            ax.set_yscale("log")
            ax.set_title(wl, fontsize=9)
            ax.set_xlabel("procs")
            ax.set_ylabel("wall ns/op")
        for idx in range(len(sweep), rows_n * cols):
            axes[idx // cols][idx % cols].axis("off")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(8, max(1, len(labels))), fontsize=7)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        path = os.path.join("plots", "scaling.png")
        fig.savefig(os.path.join(out_dir, path), dpi=70)
        plt.close(fig)
        out.insert(0, ("Scaling over procs (wall ns/op, median)", path))
    return out
