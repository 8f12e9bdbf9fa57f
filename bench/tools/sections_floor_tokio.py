"""bench/tools/sections_floor_tokio.py — REPORT.md's two sections that
measure against an outside reference: the time above the floor (plain
threads doing only a workload's unavoidable part) and tokio_like against
Tokio itself, with the Tokio differences that could explain a disagreement.
"""

import catalog
import stats
from analysis import (BASE, FLOOR, FLOOR_MIN_BLOCKS, FLOOR_TARGET, GO, TOKIO, TOKIO_LIKE,
                      ci_side, floor_excess, floor_keys, floor_ratio, key_label)
from markdown import fmt_cell


def _fmt_excess(e):
    """An Excess as a floor-table cell: median [CI], or 'at the floor'."""
    if e is None:
        return ""
    if e.state == "at":
        return "at the floor (%s)" % stats.format_ns(e.median)
    body = "%s [%s – %s]" % (stats.format_ns(e.median), stats.format_ns(e.low),
                             stats.format_ns(e.high))
    return body + (" ≈ floor" if e.state == "near" else "")


def _fmt_floor_ratio(r):
    """A FloorRatio as a floor-table cell: ×ratio [CI], ×ratio (n=N) or —."""
    if r is None:
        return ""
    if r.ratio is None:
        return "—"
    if r.low is None:
        return "×%.2f (n=%d)" % (r.ratio, r.n)
    hi = "∞" if r.high == float("inf") else "%.2f" % r.high
    return "×%.2f [%.2f–%s]" % (r.ratio, r.low, hi)


def floor(w, an):
    """## Time above the floor: each system's excess over the floor per cell, go_default's
    over Go's, and the verdict on FLOOR_TARGET (family floor_excess, uncorrected)."""
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



# --- tokio_like vs Tokio -------------------------------------------------------

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
            "runnext, stealable, capped at 128 in a row like the budget)",
    "searching": "searching workers (the same 2*searching < workers limit and one steal "
                 "pass in both; the parking protocol after it is Go's in tokio_like)",
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


def tokio_explanations(workload):
    """The Tokio/tokio_like differences that could explain a disagreement."""
    keys = _TOKIO_EXPLAIN.get(workload.split("/")[0], ["stackless", "lifo"])
    return [TOKIO_DIFFERENCES[k] for k in keys]


def tokio_like(w, an):
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


