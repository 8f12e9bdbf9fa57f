#!/usr/bin/python3
"""gmplab memory-order mutation testing: `./harness mutate ...` runs this.

    ./harness mutate [--sites=ID,...] [--files=proc.cc,...] [--budget=S]
                     [--jobs=N] [--no-tests] [--rerun] [--group=K]
                     [--list] [--out=DIR]

For each selected site of fuzz/mutate/sites.json (default: all of them),
`bazel test --config=fuzz //fuzz/mutate:<mutant>_check`: go_default built
once as a mutant schema (every site's order chosen when a process starts),
its TSan fuzzers started with that one memory order weakened and run from
the committed corpus for --budget seconds (default 30; all three targets at
once, a finding counts only if go_default passes the same input), then, if
they found nothing, its runtime tests.

--group=K runs the pass here, without a Bazel test per mutant, K mutants
at a time (fuzz/mutate/groups.py): the runtime tests with K mutants
selected at once, then the fuzzers over the tests' survivors; a run that
finds nothing clears its K mutants (each was weakened for the whole run),
and a run that finds something is attributed to one mutant by rerunning
the failed test cases or replaying the finding's input with each mutant
alone. --budget is then the fuzzers' time per group run. Verdicts:

  caught     a fuzzer or a runtime test failed: which one, how (TSan data
             race, invariant or test failure, runtime fatal error, timeout,
             crash) and after how many seconds;
  survived   nothing failed within the budget;
  survived (needs a model checker)
             the site is seq_cst in a StoreLoad (Dekker) pattern or a
             fence: ThreadSanitizer sees missing happens-before edges, not
             store buffering, and ignores fences, so no budget can catch
             its weakening. Not evidence that the order can be weakened.

Bazel caches each check's verdict per (runtime sources, site, order,
budget), so a rerun or an interrupted pass picks up where it stopped, and
--jobs runs checks in parallel (--config=remote fans them out; see
.bazelrc). Results: <out>/mutation-<commit>.json (merged with earlier runs
of the same commit, keyed by site and order) and mutation-<commit>.md.
--list prints the sites and exits.

Exit status: 0 = every selected check ran (whatever the verdicts);
1 = a check failed to build or run; 2 = bad arguments.
"""

import argparse
import datetime
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import sites as sites_mod  # noqa: E402
import check_mutant  # noqa: E402
import groups  # noqa: E402
from bazel_cli import Bazel  # noqa: E402  (tools/bazel_cli.py)

PACKAGE = "fuzz/mutate"
VERDICT_RE = re.compile(r"^MUTANT_VERDICT (\{.*\})\s*$", re.MULTILINE)


class UsageError(Exception):
    pass


def log(msg):
    print("mutate: " + msg, flush=True)


def load_sites(path=None):
    path = path or os.path.join(ROOT, sites_mod.SITES_JSON)
    with open(path) as f:
        return json.load(f)


def select(result, site_ids=None, files=None):
    """[(mutant name, site, order)] for the chosen sites, in file order."""
    rows = sites_mod.mutants(result)
    known = {s["id"] for s in result["sites"]}
    if site_ids:
        unknown = [i for i in site_ids if i not in known]
        if unknown:
            raise UsageError("unknown site id(s): %s (see ./harness mutate --list)"
                             % ", ".join(unknown))
        rows = [r for r in rows if r[1]["id"] in site_ids]
    if files:
        have = {os.path.basename(s["file"]) for s in result["sites"]}
        unknown = [f for f in files if os.path.basename(f) not in have]
        if unknown:
            raise UsageError("no sites in file(s): %s; files with sites: %s" % (
                ", ".join(unknown), ", ".join(sorted(have))))
        names = {os.path.basename(f) for f in files}
        rows = [r for r in rows if os.path.basename(r[1]["file"]) in names]
    return rows


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "runtime", "fuzz"],
                               cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def bazel_cmd():
    return Bazel().cmd()


def check_args(args):
    """The check's own flags, passed with --test_arg."""
    a = ["--budget=%d" % args.budget]
    if args.no_tests:
        a.append("--no-tests")
    return a


def test_timeout(args):
    # Fuzzing, up to 10 control replays of a finding, the runtime tests
    # (check_mutant.py caps them at 900 s together) and some slack.
    return args.budget + 300 + (0 if args.no_tests else 900)


def run_checks(args, rows):
    labels = ["//%s:%s_check" % (PACKAGE, name) for name, _, _ in rows]
    cmd = bazel_cmd() + [
        "test", "--config=fuzz", "--keep_going",
        "--jobs=%d" % args.jobs, "--local_test_jobs=%d" % args.jobs,
        "--test_output=summary", "--test_timeout=%d" % test_timeout(args),
    ] + ["--test_arg=" + a for a in check_args(args)]
    if args.rerun:
        cmd.append("--nocache_test_results")
    cmd += ["--"] + labels
    log("$ " + " ".join(shlex.quote(c) for c in cmd[:len(cmd) - len(labels)]) +
        " %s (%d checks)" % (" ".join(labels[:3]) + (" ..." if len(labels) > 3 else ""),
                             len(labels)))
    return subprocess.run(cmd, cwd=ROOT).returncode


def entry(name, site, order):
    e = {"site": site["id"], "file": site["file"], "line": site["line"],
         "op": site["op"], "order_before": site["order"], "order": order,
         "mutant": name, "verdict": "survived"}
    if site.get("needs_model_checker"):
        e["needs_model_checker"] = site["needs_model_checker"]
    return e


def run_groups(args, rows):
    """--group: builds the schema and runs the pass here, K mutants per run
    (groups.py). Returns (entries, group records, exit status); entries is
    None when the pass could not run."""
    tests = runtime_tests()
    targets = check_mutant.TARGETS
    labels = (["//%s:%s_fuzz_%s" % (PACKAGE, check_mutant.SCHEMA, t) for t in targets] +
              ["//variants:go_default_fuzz_" + t for t in targets] +
              ["//%s:%s_%s" % (PACKAGE, check_mutant.SCHEMA, t) for t in tests] +
              ["//variants:go_default_" + t for t in tests])
    bazel = Bazel(root=ROOT)
    log("building the schema: " + bazel.for_humans("build", "--config=fuzz", "<%d targets>"
                                                    % len(labels)))
    if subprocess.run(bazel.cmd("build", "--config=fuzz", "--") + labels, cwd=ROOT).returncode:
        print("harness mutate: error: the build failed", file=sys.stderr)
        return None, [], 1
    try:
        bindir = bazel.bin_dir("fuzz")
    except RuntimeError as e:
        print("harness mutate: error: %s" % e, file=sys.stderr)
        return None, [], 1
    mine = lambda n: os.path.join(bindir, PACKAGE, "%s_%s" % (check_mutant.SCHEMA, n))
    control = lambda n: os.path.join(bindir, "variants", "go_default_" + n)
    entries = [entry(name, site, order) for name, site, order in rows]
    work = tempfile.mkdtemp(prefix="mutate-")
    t0, cpu0 = time.time(), children_cpu()
    log("%d mutants, %d per run; runtime tests first" % (len(entries), args.group))
    records = groups.test_groups(entries, args.group, {t: mine(t) for t in tests},
                                 {t: control(t) for t in tests}, args.test_cap,
                                 args.tests_total)
    log("fuzzers over the tests' %d survivors, budget %d s per run" % (
        len(groups.survivors(entries)), args.budget))
    records += groups.fuzz_groups(entries, args.group,
                                  {t: mine("fuzz_" + t) for t in targets},
                                  {t: control("fuzz_" + t) for t in targets},
                                  args.budget, 10, work)
    wall, cpu = round(time.time() - t0, 1), round(children_cpu() - cpu0, 1)
    for e in entries:
        if e["verdict"] == "survived" and e.get("needs_model_checker"):
            e["verdict"] = "survived (needs a model checker)"
        e["pass"] = {"group": args.group, "wall_s": wall, "cpu_s": cpu}
    log("pass done: %.0f s wall, %.0f s CPU (tests and fuzzers); findings' inputs in %s"
        % (wall, cpu, work))
    return entries, records, 0


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def runtime_tests():
    """The names in RUNTIME_TESTS of runtime/tests.bzl, read from its text."""
    with open(os.path.join(ROOT, "runtime", "tests.bzl")) as f:
        return re.findall(r'\{"name": "(\w+)"', f.read())


def testlogs_dir():
    p = subprocess.run(bazel_cmd() + ["info", "--config=fuzz", "bazel-testlogs"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise UsageError("bazel info failed: %s" % p.stderr.strip()[-500:])
    return p.stdout.strip()


def read_verdict(logs, name):
    path = os.path.join(logs, PACKAGE, name + "_check", "test.log")
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return None
    m = VERDICT_RE.findall(text)
    if not m:
        return None
    v = json.loads(m[-1])
    v["log"] = path
    return v


def verdict_label(site, v):
    if v is None:
        return "error"
    if v["verdict"] == "survived" and site.get("needs_model_checker"):
        return "survived (needs a model checker)"
    return v["verdict"]


def merge_results(path, commit_id, entries):
    data = {"commit": commit_id, "results": {}}
    if os.path.exists(path):
        try:
            old = json.load(open(path))
            if old.get("commit") == commit_id:
                data = old
        except (OSError, ValueError):
            pass
    for e in entries:
        data["results"]["%s|%s" % (e["site"], e["order"])] = e
    data["generated"] = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    return data


def reach(e):
    """'fuzz', 'tests', 'both', 'no' or '–': which runs executed the weakened
    operation."""
    f, t = e.get("reached_fuzz"), e.get("reached_tests")
    if f is None and t is None:
        return "–"
    return {(True, True): "both", (True, False): "fuzz", (False, True): "tests"}.get(
        (bool(f), bool(t)), "no")


def markdown(data):
    rows = sorted(data["results"].values(), key=lambda e: (e["file"], e["line"], e["site"]))
    out = ["# Memory-order mutation results (commit %s)" % data["commit"], "",
           "Generated %s by `./harness mutate`; fuzz/README.md, \"Mutation testing\", "
           "says what a verdict means. Time: seconds from the start of the run to the "
           "failure (caught; for a mutant found in a group run, that run's time to the "
           "finding) or of the whole check (survived). Reached: which runs executed the "
           "weakened operation (fuzz, tests, both, no)." % data["generated"], "",
           "| site | file:line | op | order → weakened | verdict | detector | how | "
           "time (s) | reached |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in rows:
        out.append("| `%s` | %s:%d | %s | %s → %s | %s | %s | %s | %s | %s |" % (
            e["site"], e["file"], e["line"], e["op"], e["order_before"], e["order"],
            e["verdict"], e.get("detector", "–"), e.get("how", "–"),
            e.get("after_s", e.get("total_s", "–")), reach(e)))
    counts = {}
    for e in rows:
        counts[e["verdict"]] = counts.get(e["verdict"], 0) + 1
    out += ["", "Totals: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())), ""]
    unreached = [e for e in rows if e["verdict"].startswith("survived") and reach(e) == "no"]
    if unreached:
        out += ["Survivors no run executed (%d): a test that runs them is missing; "
                "their verdict says nothing about the order." % len(unreached), ""]
    passes = {json.dumps(e["pass"], sort_keys=True) for e in rows if e.get("pass")}
    for p in sorted(passes):
        p = json.loads(p)
        out.append("Pass: %d mutants per run, %.0f s wall, %.0f s CPU of the tests and "
                   "fuzzers it ran." % (p["group"], p["wall_s"], p["cpu_s"]))
    if passes:
        out.append("")
    notes = [e for e in rows if e.get("reason")]
    if notes:
        out += ["Reasons:", ""]
        out += ["- `%s` → %s: %s%s" % (e["site"], e["order"], e["reason"],
                                        " (at %s)" % e["where"] if e.get("where") else "")
                for e in notes]
        out.append("")
    return "\n".join(out)


def print_sites(result):
    print("%-46s %-28s %-24s %-8s %-8s %s" % ("site", "file:line", "op", "order",
                                             "weakened", "note"))
    for s in result["sites"]:
        note = "needs a model checker: " + s["needs_model_checker"] if \
            s.get("needs_model_checker") else ("implicit seq_cst" if not s["explicit"] else "")
        print("%-46s %-28s %-24s %-8s %-8s %s" % (
            s["id"], "%s:%d" % (os.path.basename(s["file"]), s["line"]), s["op"], s["order"],
            ",".join(s["weakened"]), note))
    print("%d sites, %d mutants; %d operator forms and %d dynamic orders not mutated "
          "(fuzz/mutate/sites.json)" % (len(result["sites"]), len(sites_mod.mutants(result)),
                                        len(result["operator_forms"]),
                                        len(result["dynamic_orders"])))


def positive_int(what):
    def parse(s):
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError("%s must be a whole number, got %r" % (what, s))
        if v <= 0:
            raise argparse.ArgumentTypeError("%s must be positive, got %d" % (what, v))
        return v
    return parse


def csv(s):
    return [x for x in (p.strip() for p in s.split(",")) if x]


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="harness mutate", description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sites", type=csv, default=None, metavar="ID,...",
                   help="site ids (see --list); default: every site")
    p.add_argument("--files", type=csv, default=None, metavar="FILE,...",
                   help="only sites in these runtime files, e.g. proc.cc,runq.h")
    p.add_argument("--budget", type=positive_int("--budget"), default=30, metavar="SECONDS",
                   help="fuzzing seconds per site (default 30)")
    p.add_argument("--jobs", type=positive_int("--jobs"), default=1, metavar="N",
                   help="checks (and build actions) run in parallel (default 1)")
    p.add_argument("--no-tests", action="store_true",
                   help="fuzz only; skip the runtime tests of survivors")
    p.add_argument("--group", type=positive_int("--group"), default=0, metavar="K",
                   help="run here, K mutants per run (group testing; default: one "
                   "Bazel test per mutant)")
    p.add_argument("--test-cap", type=positive_int("--test-cap"), default=240,
                   metavar="SECONDS", help="with --group: seconds one test binary "
                   "may run (default 240)")
    p.add_argument("--tests-total", type=positive_int("--tests-total"), default=900,
                   metavar="SECONDS", help="with --group: seconds one group's "
                   "tests may run together (default 900)")
    p.add_argument("--rerun", action="store_true",
                   help="ignore Bazel's cached verdicts (--nocache_test_results)")
    p.add_argument("--list", action="store_true", help="print the sites and exit")
    p.add_argument("--out", default=os.path.join(ROOT, "reports", "mutation"),
                   help="results directory (default reports/mutation)")
    args = p.parse_args(argv)
    if args.sites is not None and not args.sites:
        p.error("--sites needs at least one site id")
    if args.files is not None and not args.files:
        p.error("--files needs at least one file name")
    if args.group and (args.jobs != 1 or args.rerun):
        p.error("--group runs here, one run at a time: no --jobs or --rerun")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        result = load_sites()
        if args.list:
            rows = select(result, args.sites, args.files)
            chosen = {r[1]["id"] for r in rows}
            print_sites(dict(result, sites=[s for s in result["sites"] if s["id"] in chosen]))
            return 0
        stale = subprocess.run([sys.executable, os.path.join(HERE, "sites.py"), "check"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
        if stale.returncode != 0:
            raise UsageError(stale.stderr.strip())
        rows = select(result, args.sites, args.files)
        if not rows:
            raise UsageError("no sites selected")
    except UsageError as e:
        print("harness mutate: error: %s" % e, file=sys.stderr)
        return 2
    if args.group:
        entries, groups_run, rc = run_groups(args, rows)
        if entries is None:
            return rc
        missing = []
    else:
        log("%d mutants, budget %d s each, %d at a time" % (len(rows), args.budget, args.jobs))
        rc = run_checks(args, rows)
        try:
            logs = testlogs_dir()
        except UsageError as e:
            print("harness mutate: error: %s" % e, file=sys.stderr)
            return 1
        entries, missing, groups_run = [], [], []
        for name, site, order in rows:
            v = read_verdict(logs, name)
            e = entry(name, site, order)
            e["verdict"] = verdict_label(site, v)
            if v is None:
                missing.append(name)
                e["reason"] = "no verdict (the check did not build or run; see Bazel's output)"
            else:
                for k in ("detector", "how", "reason", "where", "after_s", "total_s", "budget_s",
                          "fuzz_s", "tests", "rejected_findings", "log", "reached_fuzz",
                          "reached_tests", "note"):
                    if k in v:
                        e[k] = v[k]
            entries.append(e)
    cid = commit()
    os.makedirs(args.out, exist_ok=True)
    jpath = os.path.join(args.out, "mutation-%s.json" % cid)
    data = merge_results(jpath, cid, entries)
    if groups_run:
        data.setdefault("group_runs", []).extend(groups_run)
    with open(jpath, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    mpath = os.path.join(args.out, "mutation-%s.md" % cid)
    with open(mpath, "w") as f:
        f.write(markdown(data))
    print()
    print("%-46s %-10s %-32s %-16s %-14s %s" % ("site", "order", "verdict", "detector",
                                               "how", "time (s)"))
    for e in entries:
        print("%-46s %-10s %-32s %-16s %-14s %s" % (
            e["site"], e["order"], e["verdict"], e.get("detector", "-"), e.get("how", "-"),
            e.get("after_s", e.get("total_s", "-"))))
    log("results: %s, %s" % (os.path.relpath(jpath, ROOT), os.path.relpath(mpath, ROOT)))
    if missing:
        log("no verdict for %d mutant(s): %s (bazel exit %d)" % (
            len(missing), ", ".join(missing), rc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
