"""bench/tools/sections_verdicts.py — REPORT.md's sections that compare
systems with a verdict: the A/A banner and control, the steal-only check at
procs 1, the headline (go_default vs Go, MillionParked and SpawnPark memory),
the peer, CPU/wall and variant tables, the confirmed best policy, wake-up
latency and where go_default is slower than Go. One function per section;
each registers its family of tests on the Analysis (analysis.py) and writes
through a markdown.Writer.
"""

from collections import defaultdict

import catalog
import stats
from analysis import AA, BASE, FLOOR, GO, METRICS, STEAL_ONLY, key_label
from markdown import fmt_cell, num


def aa_section(w, an, aa, rows, meta):
    """## A/A control: aa_control vs go_default in every cell (family aa_control,
    Holm), the flagged share and the chance of that many by luck."""
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
           stats.binom_sf(aa["flagged"], aa["comparisons"], aa["alpha"])))
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


def steal_at_one(w, an):
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


def headline(w, an):
    """## Headline: go_default vs Go, wall and CPU (family headline, Holm), then
    MillionParked's memory table and SpawnPark's profile."""
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
                rows.append([s, key[1], len(c.real), num(cnt.get("goroutines"), "%.0f"),
                             num(cnt.get("spawn_s"), "%.3f"), num(cnt.get("release_s"), "%.3f"),
                             num(cnt.get("rss_mb"), "%.0f"),
                             num(cnt.get("rss_bytes_per_g"), "%.0f")])
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
        spawn_park_profile(w, an, sp)


# The SpawnPark counters every system reports (bench/workloads/spawn_park.cc,
# bench/go, bench/tokio), in the profile table's order.
SPAWN_PARK_COUNTERS = ["spawn_ns", "release_ns", "faults", "rss_parked_mb", "rss_after_mb"]


def spawn_park_profile(w, an, keys):
    """SpawnPark's profile: where a spawned-and-parked goroutine's time and
    memory go, per system (medians over its samples)."""
    rows = []
    csv_rows = [["system", "procs", "n", "ns_per_g"] + SPAWN_PARK_COUNTERS]
    for key in keys:
        for s in an.systems:
            c = an.cell(s, key)
            if c is None or not c.real:
                continue
            cnt = c.counters
            per_g = stats.median(c.real)
            rows.append([s, key[1], len(c.real), num(per_g, "%.0f"),
                         num(cnt.get("spawn_ns"), "%.0f"), num(cnt.get("release_ns"), "%.0f"),
                         num(cnt.get("faults"), "%.2f"), num(cnt.get("rss_parked_mb"), "%.0f"),
                         num(cnt.get("rss_after_mb"), "%.0f")])
            csv_rows.append([s, key[1], len(c.real), per_g]
                            + [cnt.get(k) for k in SPAWN_PARK_COUNTERS])
    w.p("SpawnPark profile (medians over its samples, one process each). A goroutine is "
        "spawned, parks on a channel and is released by its close, in batches of up to "
        "100,000 parked at once. *spawn* is the wall time per goroutine from the batch's "
        "first spawn until every goroutine has parked, *release* from the close until every "
        "one has finished (the rest of an op is the RSS reading); *faults* the process's "
        "minor page faults per goroutine over the timed run (pages made resident, prefaulted "
        "ones included: a fresh stack's first page is one); RSS is the whole process's, with "
        "the last batch parked and after it finished, still inside the runtime. Where the "
        "CPU time goes inside go_default: bench/README.md, \"SpawnPark\" (perf).")
    w.p()
    w.table("spawn_park", ["system", "procs", "samples", "ns/G", "spawn ns/G", "release ns/G",
                           "faults/G", "RSS parked MB", "RSS after MB"], rows, csv_rows)


def peer_table(w, an, metric, title):
    """## <metric>: gmplab and peers: per-system medians and go_default/peer ratios
    (family peers_<metric>, Benjamini-Hochberg)."""
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


def cpu_wall(w, an):
    """## CPU time / wall time: the ratio of the medians per system and cell."""
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


def variant_table(w, an, metric, title):
    """## Variants against go_default: <metric>: every variant's paired ratio (family
    variants_<metric>, Benjamini-Hochberg) with geomean rows."""
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


def best_policy(w, an, meta):
    """## Best policy per workload, confirmed: the main blocks' fastest variant per
    cell, confirmed by a one-sided test on fresh blocks (family
    best_policy_confirm, Holm)."""
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


_PCTS = [("p50_ns", "p50"), ("p90_ns", "p90"), ("p99_ns", "p99"), ("p999_ns", "p99.9"),
         ("max_ns", "max")]


def latency(w, an):
    """## Wake-up latency: per-process percentiles' medians and the paired p99
    ratio to go_default (family latency_p99, Benjamini-Hochberg)."""
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


def slower_than_go(w, an):
    """## Where go_default is slower than Go: the headline's wall cells above 1, with
    the counters that point at a cause (likely_cause)."""
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


