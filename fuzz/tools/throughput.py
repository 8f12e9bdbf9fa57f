#!/usr/bin/env python3
"""Interleaved A/B measurement of two libFuzzer binaries' throughput.

Runs binary A and binary B alternately, in a fresh random order per round
(a burst of outside load then hits both alike), each for a fixed time over
the same starting corpus (empty by default) with the same -seed, and reads
`stat::number_of_executed_units` from -print_final_stats. Prints each
round's executions per second and the ratio B/A, then the median ratio and
the geometric mean, with the load (`/proc/loadavg`, `/proc/pressure/cpu`)
before and after every sample.

    fuzz/tools/throughput.py A_BINARY B_BINARY [--time=20] [--rounds=5]
        [--seed=1] [--corpus=DIR] [--json=OUT]

Example (before/after a change, TSan fuzz builds copied out of bazel-bin):

    fuzz/tools/throughput.py /tmp/before/go_default_fuzz_spawn_lock \\
        /tmp/after/go_default_fuzz_spawn_lock --time=20 --rounds=5

Each sample is one process: the ratio within a round is the comparison;
rounds repeat it. New inputs a run finds are written to a scratch directory
that is thrown away, so every sample starts from the same corpus.
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TSAN_OPTIONS = "halt_on_error=1:report_signal_unsafe=0"
UNITS = re.compile(r"stat::number_of_executed_units:\s*(\d+)")


def load():
    """Returns (1-min load average, cpu 'some avg10') now."""
    try:
        la = float(open("/proc/loadavg").read().split()[0])
    except OSError:
        la = float("nan")
    avg10 = float("nan")
    try:
        for line in open("/proc/pressure/cpu"):
            if line.startswith("some"):
                avg10 = float(line.split()[1].split("=")[1])
    except OSError:
        pass
    return la, avg10


def sample(binary, seconds, seed, corpus, timeout):
    """Runs `binary` for `seconds`; returns a dict with executions/s."""
    scratch = tempfile.mkdtemp(prefix="throughput-")
    try:
        cmd = [binary, "-max_total_time=%d" % seconds, "-seed=%d" % seed,
               "-print_final_stats=1", "-timeout=%d" % timeout,
               "-rss_limit_mb=4096", "-artifact_prefix=%s/" % scratch,
               scratch]
        if corpus:
            cmd.append(corpus)
        env = dict(os.environ)
        env.setdefault("TSAN_OPTIONS", TSAN_OPTIONS)
        before = load()
        start = time.monotonic()
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, errors="replace",
                           cwd=scratch)
        wall = time.monotonic() - start
        after = load()
        m = UNITS.findall(p.stdout)
        units = int(m[-1]) if m else 0
        return {"binary": binary, "rc": p.returncode, "units": units,
                "wall_s": wall, "exec_per_s": units / wall if wall else 0,
                "load_before": before, "load_after": after,
                "tail": "" if m and p.returncode == 0 else p.stdout[-2000:]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("a", help="baseline fuzzer binary (A)")
    ap.add_argument("b", help="candidate fuzzer binary (B)")
    ap.add_argument("--time", type=int, default=20,
                    help="seconds per sample (-max_total_time; default 20)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds; each runs A and B once (default 5)")
    ap.add_argument("--seed", type=int, default=1,
                    help="libFuzzer -seed for every sample (default 1)")
    ap.add_argument("--corpus", default="",
                    help="read-only starting corpus (default: empty)")
    ap.add_argument("--timeout", type=int, default=10,
                    help="libFuzzer -timeout per input (default 10)")
    ap.add_argument("--order-seed", type=int, default=0,
                    help="seed of the per-round order shuffle (default 0)")
    ap.add_argument("--json", default="", help="write every sample here")
    args = ap.parse_args(argv)
    for b in (args.a, args.b):
        if not os.access(b, os.X_OK):
            ap.error("not an executable: %s" % b)
    rng = random.Random(args.order_seed)
    rows, ratios = [], []
    print("round  order  A exec/s  B exec/s  B/A    load(1m) before->after  "
          "cpu some avg10 before->after")
    for r in range(args.rounds):
        order = [("A", args.a), ("B", args.b)]
        rng.shuffle(order)
        got = {}
        for name, binary in order:
            s = sample(binary, args.time, args.seed, args.corpus,
                       args.timeout)
            s["round"], s["which"] = r, name
            rows.append(s)
            got[name] = s
            if s["tail"]:
                sys.stderr.write("%s (round %d) exited %d:\n%s\n" % (
                    name, r, s["rc"], s["tail"]))
        a, b = got["A"]["exec_per_s"], got["B"]["exec_per_s"]
        ratio = b / a if a > 0 else float("nan")
        ratios.append(ratio)
        first, last = got[order[0][0]], got[order[1][0]]
        print("%5d  %-5s  %8.1f  %8.1f  %5.2f  %5.2f->%-5.2f             "
              "%6.2f->%-6.2f" % (
                  r, "".join(n for n, _ in order), a, b, ratio,
                  first["load_before"][0], last["load_after"][0],
                  first["load_before"][1], last["load_after"][1]),
              flush=True)
    good = [x for x in ratios if x > 0 and not math.isnan(x)]
    if good:
        gm = math.exp(sum(math.log(x) for x in good) / len(good))
        print("median B/A %.2f, geometric mean %.2f, min %.2f, max %.2f "
              "(%d rounds, %d s each)" % (statistics.median(good), gm,
                                          min(good), max(good), len(good),
                                          args.time))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "samples": rows,
                       "ratios": ratios}, f, indent=1)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
