"""bench/tools/plots.py — the report's figures (matplotlib, Agg).

- one colour and marker per system, stable across every figure, from 60
  distinct colours (tab20, tab20b, tab20c) so that more than 20 systems stay
  apart;
- per workload: wall and CPU time side by side, bars with 95% CI whiskers;
  a cell that failed is drawn as a red "failed" mark, not dropped;
- heatmaps of every variant / go_default ratio (wall and CPU), workloads x
  variants, coloured by log2 ratio; cells not significant after correction
  are grey, failed or missing ones are hatched;
- scaling over procs with CI error bars and a line at the hardware threads;
- the wake-up latency CDF per procs value, pooled over processes.
"""

import math
import os
import re

import stats


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


_MARKERS = "osD^v<>phX*P"


def palette(systems, plt):
    cols = []
    for name in ("tab20", "tab20b", "tab20c"):
        cmap = plt.get_cmap(name)
        cols += [cmap(i) for i in range(20)]
    # Strong colours first: even indices of tab20 are the darker shades.
    order = [c for i, c in enumerate(cols[:20]) if i % 2 == 0] + \
            [c for i, c in enumerate(cols[:20]) if i % 2 == 1] + cols[20:]
    out = {}
    for i, s in enumerate(systems):
        out[s] = (order[i % len(order)], _MARKERS[i % len(_MARKERS)])
    if "go_default" in out:
        out["go_default"] = ("black", "o")
    if "go" in out:
        out["go"] = ((0.0, 0.6, 0.8), "s")
    return out


def make_all(out_dir, an, errors, latency, meta):
    """Draws every figure; returns [(title, relative path)]."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    plot_dir = os.path.join(out_dir, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    for f in os.listdir(plot_dir):
        if f.endswith(".png"):
            os.unlink(os.path.join(plot_dir, f))
    colors = palette(an.systems, plt)
    failed = {}
    for system, workload, procs, msg in errors:
        failed.setdefault((system, workload.split("/")[0]), []).append(procs)
    out = []
    for metric in ("wall", "cpu"):
        p = _heatmap(out_dir, an, metric, plt)
        if p:
            out.append(("Variants / go_default, %s (grey: not significant after correction; "
                        "hatched: failed or missing)" % ("wall time" if metric == "wall"
                                                         else "CPU time"), p))
    p = _scaling(out_dir, an, colors, meta, plt)
    if p:
        out.append(("Scaling over procs, go_default and the peers: wall and CPU ns/op "
                    "(median, 95% CI), dashed line at the hardware threads", p))
    p = _latency_cdf(out_dir, an, latency, colors, plt)
    if p:
        out.append(("Wake-up latency CDF (pooled raw samples)", p))
    workloads = []
    for wl, _ in an.keys:
        if wl not in workloads:
            workloads.append(wl)
    for wl in workloads:
        p = _bars(out_dir, an, wl, colors, failed, plt)
        if p:
            out.append((wl + ": wall and CPU time", p))
    return out


def section(w, out_dir, an, errors, hist, meta):
    """REPORT.md's "Plots" section: draws every figure (make_all) and links it."""
    figs = make_all(out_dir, an, errors, hist, meta)
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


def _bars(out_dir, an, wl, colors, failed, plt):
    procs = sorted({p for w2, p in an.keys if w2 == wl})
    systems = [s for s in an.systems if any(an.cell(s, (wl, p)) for p in procs) or
               (s, wl.split("/")[0]) in failed]
    if not systems:
        return None
    fig, axes = plt.subplots(2, 1, figsize=(min(15, max(7, 2 + 0.22 * len(systems) * len(procs))),
                                            7.5))
    width = 0.8 / len(systems)
    for ax, metric in zip(axes, ("wall", "cpu")):
        ymin = None
        for i, s in enumerate(systems):
            xs, ys, lo, hi = [], [], [], []
            for j, p in enumerate(procs):
                c = an.cell(s, (wl, p))
                if c is None or not c.values(metric):
                    continue
                m, l, h, _ = stats.median_ci(c.values(metric))
                xs.append(j + i * width)
                ys.append(m)
                lo.append(m - l)
                hi.append(h - m)
                ymin = m if ymin is None else min(ymin, m)
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=s, color=colors[s][0])
        for i, s in enumerate(systems):
            for j, p in enumerate(procs):
                c = an.cell(s, (wl, p))
                fails = failed.get((s, wl.split("/")[0]), [])
                if (c is None or not c.values(metric)) and (p in fails or None in fails):
                    ax.text(j + i * width, ymin or 1, "failed", rotation=90, color="red",
                            fontsize=6, ha="center", va="bottom")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(procs))])
        ax.set_xticklabels(["procs=%d" % p for p in procs])
        ax.set_yscale("log")
        ax.set_ylabel("%s ns/op (median, 95%% CI)" % ("wall" if metric == "wall" else "CPU"))
        ax.set_title("%s — %s" % (wl, "wall time" if metric == "wall" else "CPU time"),
                     fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(8, max(1, len(labels))),
               fontsize=7)
    fig.tight_layout(rect=(0, 0.03 + 0.025 * ((len(labels) + 7) // 8), 1, 1))
    path = os.path.join("plots", "bars_%s.png" % _safe(wl))
    fig.savefig(os.path.join(out_dir, path), dpi=70)
    plt.close(fig)
    return path


def _heatmap(out_dir, an, metric, plt):
    import numpy as np
    others = [v for v in an.variants if v != "go_default"]
    if "go_default" not in an.variants or not others:
        return None
    fam = {}
    for name, _, rows in an.families:
        if name == "variants_" + metric:
            for r, c in rows:
                fam[(r["system"], r["workload"], r["procs"])] = c
    keys = [k for k in an.keys if k[0] != "MillionParked"]
    data = np.full((len(keys), len(others)), np.nan)
    sig = np.zeros((len(keys), len(others)), dtype=bool)
    for i, k in enumerate(keys):
        for j, v in enumerate(others):
            c = fam.get((v, k[0], k[1]))
            if c is not None and c.ratio is not None:
                data[i, j] = math.log2(c.ratio)
                sig[i, j] = c.significant
    fig, ax = plt.subplots(figsize=(2 + 0.55 * len(others), 1.5 + 0.28 * len(keys)))
    lim = max(0.1, float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0)
    lim = min(lim, 2.0)
    shown = np.where(sig, data, np.nan)
    ax.imshow(np.where(np.isnan(data), np.nan, 0.0), cmap="Greys", vmin=-1, vmax=4,
              aspect="auto")  # grey under every measured cell
    im = ax.imshow(shown, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(len(keys)):
        for j in range(len(others)):
            if np.isnan(data[i, j]):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xx",
                                           edgecolor="red", linewidth=0))
            else:
                ax.text(j, i, "%.2f" % (2 ** data[i, j]), ha="center", va="center",
                        fontsize=5, color="black")
    ax.set_xticks(range(len(others)))
    ax.set_xticklabels(others, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels(["%s/procs:%d" % k for k in keys], fontsize=6)
    cb = fig.colorbar(im, ax=ax, fraction=0.03)
    cb.set_label("log2(variant / go_default), %s; red = slower" % metric, fontsize=7)
    ax.set_title("variant / go_default, %s" % ("wall time" if metric == "wall" else "CPU time"),
                 fontsize=9)
    fig.tight_layout()
    path = os.path.join("plots", "heatmap_%s.png" % metric)
    fig.savefig(os.path.join(out_dir, path), dpi=80)
    plt.close(fig)
    return path


def _scaling(out_dir, an, colors, meta, plt):
    workloads = []
    for wl, _ in an.keys:
        if wl not in workloads and len({p for w2, p in an.keys if w2 == wl}) > 1:
            workloads.append(wl)
    if not workloads:
        return None
    hw = meta.get("hardware_threads") or os.cpu_count() or 1
    rows_n = len(workloads)
    # go_default and the peers: every variant's ratio to go_default at each
    # procs value is in the heatmaps, where 20 lines would be a tangle.
    shown = [s for s in an.systems if s in ("go_default", "tokio_like") or s in an.peers]
    fig, axes = plt.subplots(rows_n, 2, figsize=(12, 2.8 * rows_n), squeeze=False)
    for idx, wl in enumerate(workloads):
        procs = sorted({p for w2, p in an.keys if w2 == wl})
        for col, metric in enumerate(("wall", "cpu")):
            ax = axes[idx][col]
            for s in shown:
                xs, ys, lo, hi = [], [], [], []
                for p in procs:
                    c = an.cell(s, (wl, p))
                    if c is None or not c.values(metric):
                        continue
                    m, l, h, _ = stats.median_ci(c.values(metric))
                    xs.append(p)
                    ys.append(m)
                    lo.append(m - l)
                    hi.append(h - m)
                if len(xs) >= 2:
                    bold = s in ("go_default", "go")
                    ax.errorbar(xs, ys, yerr=[lo, hi], color=colors[s][0], marker=colors[s][1],
                                markersize=3, capsize=2, label=s, linewidth=2 if bold else 0.8,
                                linestyle="-" if bold or s in an.peers else ":")
            ax.axvline(hw, color="grey", linestyle="--", linewidth=1)
            ax.set_xscale("log", base=2)
            ax.set_xticks(procs)
            ax.set_xticklabels([str(p) for p in procs])
            ax.set_yscale("log")
            ax.set_title("%s — %s" % (wl, "wall" if metric == "wall" else "CPU"), fontsize=8)
            ax.set_xlabel("procs")
            ax.set_ylabel("ns/op")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(7, max(1, len(labels))),
               fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (2.8 * rows_n)))
    path = os.path.join("plots", "scaling.png")
    fig.savefig(os.path.join(out_dir, path), dpi=70)
    plt.close(fig)
    return path


def _latency_cdf(out_dir, an, hist, colors, plt):
    """CDFs from the pooled log-spaced histograms (report_files.latency_histograms)."""
    if not hist or not hist.get("histograms"):
        return None
    edges = hist["edges_ns"]
    per = {}
    for key, counts in hist["histograms"].items():
        system, workload, procs = key.rsplit("|", 2)
        per.setdefault(int(procs), {})[system] = counts
    procs = sorted(per)
    fig, axes = plt.subplots(1, len(procs), figsize=(5 * len(procs), 3.8), squeeze=False)
    for ax, p in zip(axes[0], procs):
        for s in [x for x in an.systems if x in per[p]] + sorted(set(per[p]) - set(an.systems)):
            counts = per[p][s]
            n = float(sum(counts))
            if not n:
                continue
            xs, ys, acc = [], [], 0
            # Bucket i holds values below edges[i] (and at least edges[i-1]).
            for i, c in enumerate(counts):
                acc += c
                if c:
                    xs.append(edges[min(i, len(edges) - 1)])
                    ys.append(acc / n)
            col = colors.get(s, ("grey", "o"))[0]
            ax.step(xs, ys, where="post", label=s, color=col,
                    linewidth=2 if s in ("go_default", "go") else 0.8)
        ax.set_xscale("log")
        ax.set_xlabel("wake-up latency (ns, bucket upper edge)")
        ax.set_ylabel("fraction of wake-ups")
        ax.set_title("procs=%d" % p, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, max(1, len(labels))),
               fontsize=6)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    path = os.path.join("plots", "latency_cdf.png")
    fig.savefig(os.path.join(out_dir, path), dpi=70)
    plt.close(fig)
    return path
