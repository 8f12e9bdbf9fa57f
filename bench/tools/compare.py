"""bench/tools/compare.py — `./harness report --compare DIR_A DIR_B`.

Reads both reports' verdicts.csv (every test of every table, after its
family's correction) and lists each cell whose verdict differs: significant
in one report and not in the other, or significant in both with opposite
directions (a flipped sign). Cells only one report measured are counted
apart. Prints a summary and the differing cells; writes nothing.

  bench/tools/compare.py DIR_A DIR_B   (what `./harness report --compare` runs)
"""

import argparse
import csv
import os
import sys

KEY = ("family", "system", "baseline", "workload", "procs", "metric")


def load(path):
    f = path if path.endswith(".csv") else os.path.join(path, "verdicts.csv")
    if not os.path.isfile(f):
        raise FileNotFoundError("%s has no verdicts.csv (a report from an older harness?)" % path)
    with open(f, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {tuple(r[k] for k in KEY): r for r in rows}


def diff(a, b):
    """Returns (common, differing, flipped, only_a, only_b); differing and
    flipped are lists of (key, row_a, row_b)."""
    common = sorted(set(a) & set(b))
    differing, flipped = [], []
    for k in common:
        va, vb = a[k]["verdict"], b[k]["verdict"]
        if va == vb:
            continue
        differing.append((k, a[k], b[k]))
        if {va, vb} == {"faster", "slower"}:
            flipped.append((k, a[k], b[k]))
    return common, differing, flipped, sorted(set(a) - set(b)), sorted(set(b) - set(a))


def _fmt(r):
    try:
        return "%s ×%.3f [%.3f–%.3f] p_adj=%s" % (
            r["verdict"], float(r["ratio"]), float(r["ci_lo"]), float(r["ci_hi"]),
            ("%.3g" % float(r["p_adj"])) if r["p_adj"] not in ("", "None") else "n/a")
    except ValueError:
        return r["verdict"]


def main(dir_a, dir_b, out=sys.stdout):
    try:
        a, b = load(dir_a), load(dir_b)
    except (OSError, FileNotFoundError) as e:
        sys.stderr.write("run_report: --compare: %s\n" % e)
        return 2
    common, differing, flipped, only_a, only_b = diff(a, b)
    n = len(common)
    sig_a = sum(1 for k in common if a[k]["verdict"] != "same")
    sig_b = sum(1 for k in common if b[k]["verdict"] != "same")
    out.write("compare: A = %s\n         B = %s\n" % (dir_a, dir_b))
    out.write("verdicts in both: %d (significant: %d in A, %d in B)\n" % (n, sig_a, sig_b))
    out.write("differing: %d (%.1f%%); flipped sign: %d\n" % (
        len(differing), 100.0 * len(differing) / n if n else 0.0, len(flipped)))
    if only_a or only_b:
        out.write("only in A: %d; only in B: %d (not compared)\n" % (len(only_a), len(only_b)))
    by_family = {}
    for k, _, _ in differing:
        by_family[k[0]] = by_family.get(k[0], 0) + 1
    if by_family:
        out.write("differing per table: %s\n" % ", ".join(
            "%s %d" % kv for kv in sorted(by_family.items())))
    for k, ra, rb in differing:
        out.write("  %s%s %s vs %s %s/procs:%s %s\n      A: %s\n      B: %s\n" % (
            "FLIPPED " if (k, ra, rb) in flipped else "", k[0], k[1], k[2], k[3], k[4], k[5],
            _fmt(ra), _fmt(rb)))
    return 0


def cli(argv):
    """compare.py DIR_A DIR_B: main() on the command line (a bad flag exits 2)."""
    ap = argparse.ArgumentParser(
        prog="compare.py",
        description="Lists every test whose verdict (faster / slower / same, after its "
                    "family's correction) differs between two reports' verdicts.csv, and the "
                    "flipped signs among them. `./harness report --compare A B` does the same.")
    ap.add_argument("dir_a", metavar="DIR_A", help="a report directory (or its verdicts.csv)")
    ap.add_argument("dir_b", metavar="DIR_B", help="the report to compare it with")
    a = ap.parse_args(argv)
    return main(a.dir_a, a.dir_b)


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
