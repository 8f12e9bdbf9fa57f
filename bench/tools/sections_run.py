"""bench/tools/sections_run.py — REPORT.md's sections about the run itself:
its opening (title, A/A banner, method, contents), go_default's scheduler
counters, the load while measuring, failures, what each peer runs, the
variants' policies, the machine and the fuzz campaign.
"""

import csv
import os

import catalog
import stats
from analysis import BASE, key_label, key_order
from markdown import num


def opening(w, aa, meta, contended):
    """The title, the A/A banner, the command, the method and the contents."""
    w.p("# gmplab benchmark report — %s" % meta.get("title", ""))
    w.p()
    verdict_banner(w, aa, meta, contended)
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


def verdict_banner(w, aa, meta, contended):
    """The banners under the title: the A/A verdict, --allow-load, and contention
    above 5% of the samples."""
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


_COUNTERS = ["steals", "stolen_gs", "spins", "parks", "wakeups", "handoffs", "gopark",
             "preempts", "global_puts", "ms_created"]


def counters(w, an):
    """## Scheduler counters per op (go_default), and every system's in counters.csv."""
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
        rows.append([key_label(key)] + [num(c.counters.get(k), "%.3g") for k in cols])
    w.table("counters_go_default", ["workload"] + cols, rows)
    with open(os.path.join(w.out_dir, "counters.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        names = sorted({k for c in an.cells.values() for k in c.counters})
        cw.writerow(["system", "workload", "procs"] + names)
        for (s, wl, p), c in sorted(an.cells.items(), key=lambda kv: (kv[0][0], key_order(kv[0][1:]))):
            cw.writerow([s, wl, p] + [c.counters.get(n, "") for n in names])


def load(w, samples, meta, contended):
    """## Load while measuring: the per-process load records, summarised."""
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
        % (num(qb.get("busy_cpus"), "%.2f"), qb.get("loadavg", "?"),
           num(qa.get("busy_cpus"), "%.2f"), qa.get("loadavg", "?")))
    w.p("- processes: %d; contended: **%d (%.1f%%)**" % (
        contended["total"], contended["contended"],
        100.0 * contended["contended"] / contended["total"]))
    w.p("- others' CPUs per process: median %s, max %s; steal: median %s, max %s"
        % (num(med("foreign_cpus"), "%.3f"), num(mx("foreign_cpus"), "%.2f"),
           num(med("steal_cpus"), "%.3f"), num(mx("steal_cpus"), "%.2f")))
    w.p("- load average at process start: median %s, max %s; PSI some avg10: median %s%%"
        % (num(med("load1"), "%.2f"), num(mx("load1"), "%.2f"),
           num(med("psi_some_avg10"), "%.1f")))
    w.p()
    rows = [[s, n, c] for s, (n, c) in sorted(contended["per_system"].items())]
    w.table("contention", ["system", "processes", "contended"], rows)


def failures(w, errors, notes, an):
    """## Failures and missing cells: the run's notes and failed processes."""
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


def peer_coverage(w, meta):
    """## Peers: what each one runs, per workload (catalog.py)."""
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


def policies(w, meta):
    """## Variants and their policies: --describe, build defines, layout copies."""
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


def machine(w, meta):
    """## Machine: meta['machine'], one line per key."""
    w.p("## Machine")
    w.p()
    for k, v in meta.get("machine", {}).items():
        w.p("- **%s**: %s" % (k, v))
    w.p()


def fuzz(w, summary, meta):
    """## Fuzz campaign: reports/fuzz-summary.json's campaigns, findings and canaries."""
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


