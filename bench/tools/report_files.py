"""bench/tools/report_files.py — the files of a report besides REPORT.md and
its tables: samples.json (pack_samples / unpack_samples, with the latency
histograms it keeps), aa_control.json, summary.csv and verdicts.csv (every
test of every family: what `--compare` reads).
"""

import csv
import json
import math
import os

import analysis
import stats


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



AA_FIELDS = ("comparisons", "flagged", "flagged_corrected", "alpha", "flagged_rate",
             "correction", "test", "min_possible_p")


def write_aa_json(out_dir, aa):
    """aa_control.json: the A/A control's result (analysis.aa_result)."""
    with open(os.path.join(out_dir, "aa_control.json"), "w") as f:
        json.dump({k: aa[k] for k in AA_FIELDS}, f, indent=1)
        f.write("\n")


def write_samples_json(out_dir, samples, errors, notes, meta, hist):
    """samples.json: pack_samples's document, compact."""
    with open(os.path.join(out_dir, "samples.json"), "w") as f:
        json.dump(pack_samples(samples, errors, notes, meta, hist), f, indent=None,
                  separators=(",", ":"), default=str)


def latency_histograms(latency):
    """Pools raw latency samples into log-spaced histograms per (system,
    workload, procs): small enough to keep in samples.json."""
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


def summary_csv(out_dir, an):
    """summary.csv: every system's median and CI per cell, wall and CPU."""
    with open(os.path.join(out_dir, "summary.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        cw.writerow(["system", "workload", "procs", "n", "wall_median_ns", "wall_ci_lo",
                     "wall_ci_hi", "cpu_median_ns", "cpu_ci_lo", "cpu_ci_hi", "cpu_per_wall"])
        for s in an.systems + [analysis.FLOOR]:
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


def verdicts_csv(out_dir, an):
    """Every test of every family, one row each: what `--compare` reads."""
    with open(os.path.join(out_dir, "verdicts.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        cw.writerow(VERDICT_FIELDS)
        for name, method, rows in an.families:
            for r, c in rows:
                cw.writerow([name, method, r["system"], r["baseline"], r["workload"],
                             r["procs"], r["metric"], c.n, c.ratio, c.low, c.high, c.p,
                             c.p_adj, c.direction()])
