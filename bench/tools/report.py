#!/usr/bin/python3
"""bench/tools/report.py — writes REPORT.md, its CSV/JSON tables and plots.

Input is the uniform samples of parse.py, each tagged by runner.py with its
block, layout copy, phase and process record. Comparisons are paired within
blocks (stats.Paired); every table is one family of tests with a named
multiplicity correction; every comparison of every table is also a row of
verdicts.csv, which `--compare` reads. Every markdown table is also written
as <name>.csv beside REPORT.md.

This file only composes the report, section by section, in the order a
reader meets them:

  analysis.py             cells, families of paired tests, the A/A result, the
                          floor's excesses, best-policy candidates, load records
  report_files.py         samples.json, aa_control.json, summary.csv, verdicts.csv
  markdown.py             the Writer (REPORT.md and each table's CSV), cell formats
  sections_run.py         the opening, counters, load, failures, peers, policies,
                          machine, fuzzing
  sections_verdicts.py    A/A, headline, peers, variants, best policy, latency,
                          slower than Go
  sections_floor_tokio.py the time above the floor; tokio_like vs Tokio
  plots.py                the figures and the "Plots" section

As a command it rewrites a report from its samples.json (what
`./harness report --from-json` does):

  bench/tools/report.py DIR/samples.json [--out DIR] [--fuzz-summary PATH]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import analysis  # noqa: E402
import plots  # noqa: E402
import report_files  # noqa: E402
import sections_floor_tokio  # noqa: E402
import sections_run  # noqa: E402
import sections_verdicts  # noqa: E402
from analysis import METRICS  # noqa: E402
from markdown import Writer  # noqa: E402


def write_report(out_dir, samples, errors, notes, meta, fuzz_summary=None, latency=None):
    """Writes the whole report into out_dir. meta: dict (see run_report.py).
    Returns the Analysis it wrote."""
    os.makedirs(out_dir, exist_ok=True)
    # Raw latency records from a run, or the histograms of a samples.json.
    hist = (latency if isinstance(latency, dict)
            else report_files.latency_histograms(latency or []))
    # Compute from what samples.json will hold, so every table recomputes
    # exactly from it.
    samples = report_files.unpack_samples(json.loads(json.dumps(
        report_files.pack_samples(samples, errors, notes, meta, hist), default=str)))
    an = analysis.Analysis(samples, meta["variants"], meta["peers"])
    w = Writer(out_dir)
    report_files.write_samples_json(out_dir, samples, errors, notes, meta, hist)

    aa, aa_rows = analysis.aa_result(an)
    report_files.write_aa_json(out_dir, aa)
    contended = analysis.contention(samples)

    sections_run.opening(w, aa, meta, contended)
    sections_verdicts.aa_section(w, an, aa, aa_rows, meta)
    sections_verdicts.steal_at_one(w, an)
    sections_verdicts.headline(w, an)
    sections_floor_tokio.floor(w, an)
    for metric, title in METRICS:
        sections_verdicts.peer_table(w, an, metric, title)
    sections_verdicts.cpu_wall(w, an)
    for metric, title in METRICS:
        sections_verdicts.variant_table(w, an, metric, title)
    sections_floor_tokio.tokio_like(w, an)
    sections_verdicts.best_policy(w, an, meta)
    sections_verdicts.latency(w, an)
    sections_run.counters(w, an)
    sections_verdicts.slower_than_go(w, an)
    sections_run.load(w, samples, meta, contended)
    sections_run.failures(w, errors, notes, an)
    sections_run.peer_coverage(w, meta)
    sections_run.policies(w, meta)
    sections_run.machine(w, meta)
    sections_run.fuzz(w, fuzz_summary, meta)
    report_files.summary_csv(out_dir, an)
    report_files.verdicts_csv(out_dir, an)
    plots.section(w, out_dir, an, errors, hist, meta)
    w.save()
    return an


def rewrite(samples_json, out_dir=None, fuzz_summary=None):
    """Rewrites a report from its samples.json into out_dir (default: the
    directory samples.json is in), without measuring. The fuzz summary is
    fuzz_summary, else the one the report's meta names (relative to the
    repository root), when it exists. Returns the REPORT.md written."""
    import runner  # its ROOT: the repository root that meta's fuzz_path is relative to
    with open(samples_json) as f:
        d = json.load(f)
    out_dir = out_dir or os.path.dirname(os.path.abspath(samples_json))
    fuzz = None
    fuzz_path = fuzz_summary or os.path.join(runner.ROOT, d["meta"].get("fuzz_path", ""))
    if os.path.isfile(fuzz_path):
        with open(fuzz_path) as f:
            fuzz = json.load(f)
    d["meta"]["fuzz_path"] = os.path.relpath(fuzz_path, runner.ROOT)
    write_report(out_dir, report_files.unpack_samples(d), [tuple(e) for e in d["errors"]],
                 d["notes"], d["meta"], fuzz, d.get("latency", []))
    return os.path.join(out_dir, "REPORT.md")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="report.py", allow_abbrev=False,
        description="Rewrites a report (REPORT.md, its CSV/JSON tables and plots) from its "
                    "samples.json, without measuring; `./harness report --from-json` does "
                    "the same.")
    ap.add_argument("samples_json", metavar="DIR/samples.json",
                    help="the samples.json of a report")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: the directory samples.json is in)")
    ap.add_argument("--fuzz-summary", metavar="PATH",
                    help="fuzz campaign summary to include (default: the one the report's "
                         "meta names, relative to the repository root)")
    return ap.parse_args(argv)


def main(argv):
    a = parse_args(argv)
    print("report rewritten: %s" % rewrite(a.samples_json, a.out, a.fuzz_summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
