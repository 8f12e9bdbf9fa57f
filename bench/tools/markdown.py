"""bench/tools/markdown.py — REPORT.md's writer and its cell formats.

Writer accumulates the Markdown and writes every table's CSV beside it;
fmt_cell and num format one value of a table.
"""

import csv
import os

import stats


def fmt_cell(cell, metric):
    """A cell's median ± its CI's half-width in percent, or '' without data."""
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


def num(x, fmt="%.4g"):
    """x formatted with fmt, or '' for None."""
    return "" if x is None else fmt % x


