#!/usr/bin/python3
"""bench/tools/run_bench.py — `./harness bench`: run one benchmark binary.

Builds a variant's (or a C++ peer's) benchmark binary with --config=opt and
runs it with Google Benchmark's console output; anything after `--` goes to
the binary unchanged. For comparisons with statistics use `./harness report`.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import runner  # noqa: E402

USAGE = """usage: ./harness bench [--variant=NAME | --peer=boost_fiber|tbb|thread|go|tokio]
                      [--procs=1,2,4] [--filter=REGEX] [--reps=N] [--min-time=S]
                      [--describe] [--bazel-output-base=DIR] [-- BENCHMARK_FLAGS...]

  --variant=NAME  gmplab variant (default go_default); see variants/BUILD.bazel
  --peer=NAME     run a peer instead (go runs `go test -bench` in bench/go; tokio builds
                  bench/tokio with /usr/bin/cargo --offline)
  --procs=LIST    processor counts (default 1,2,4,... up to 2x the CPUs)
  --filter=REGEX  --benchmark_filter (Go: -test.bench)
  --reps=N        repetitions (default 1)
  --min-time=S    minimum seconds per repetition (default: Google Benchmark's)
  --describe      print the variant's policies and exit
"""


def fail(msg):
    sys.stderr.write("run_bench: %s\n\n%s" % (msg, USAGE))
    return 2


def main(argv):
    opts = {"variant": None, "peer": None, "procs": None, "filter": None, "reps": "1",
            "min-time": None, "bazel-output-base": os.environ.get("GMPLAB_BAZEL_OUTPUT_BASE")}
    describe = False
    extra = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            extra = argv[i + 1:]
            break
        if a in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        if a == "--describe":
            describe = True
        elif a.startswith("--") and "=" in a and a[2:].split("=", 1)[0] in opts:
            k, v = a[2:].split("=", 1)
            opts[k] = v
        else:
            return fail("unknown argument %r" % a)
        i += 1
    if opts["variant"] and opts["peer"]:
        return fail("give --variant or --peer, not both")
    if opts["procs"] is not None:
        items = opts["procs"].split(",")
        if not all(x.isdigit() and 1 <= int(x) <= 1024 for x in items):
            return fail("bad --procs list %r (want e.g. 1,2,4)" % opts["procs"])
    if not opts["reps"].isdigit() or int(opts["reps"]) < 1:
        return fail("bad --reps %r" % opts["reps"])
    bazel = runner.Bazel(opts["bazel-output-base"])
    peer = opts["peer"]
    if peer == "go":
        import tempfile
        binary, err = runner.go_test_binary(tempfile.mkdtemp(prefix="gmplab_bench_"))
        if err:
            sys.stderr.write("run_bench: %s\n" % err)
            return 1
        cmd = [binary, "-test.run", "^$", "-test.bench", opts["filter"] or ".",
               "-test.count", opts["reps"]]
        if opts["procs"]:
            cmd += ["-test.cpu", opts["procs"]]
        if opts["min-time"]:
            cmd += ["-test.benchtime", "%gs" % float(opts["min-time"])]
        return subprocess.call(cmd + extra)
    binary = None
    if peer == "tokio":
        import tempfile
        binary, err = runner.tokio_binary(tempfile.mkdtemp(prefix="gmplab_bench_"))
        if err:
            sys.stderr.write("run_bench: %s\n" % err)
            return 1
    elif peer is not None:
        if peer not in ("boost_fiber", "tbb", "thread"):
            return fail("unknown peer %r" % peer)
        target = "//bench:%s_bench" % peer
    else:
        variant = opts["variant"] or "go_default"
        try:
            known, canaries = runner.variant_names(bazel)
        except RuntimeError as e:
            sys.stderr.write("run_bench: %s\n" % e)
            return 1
        if variant not in known + canaries:
            return fail("unknown variant %r; known: %s" % (variant, ",".join(known + canaries)))
        target = "//variants:%s_bench" % variant
    if binary is None:
        if not bazel.build([target]).get(target):
            sys.stderr.write("run_bench: build of %s failed\n" % target)
            return 1
        pkg, name = target[2:].split(":")
        binary = os.path.join(bazel.bin_dir(), pkg, name)
    if describe:
        return subprocess.call([binary, "--describe"])
    cmd = [binary, "--benchmark_repetitions=" + opts["reps"]]
    if opts["procs"]:
        cmd.append("--procs=" + opts["procs"])
    if opts["filter"]:
        cmd.append("--benchmark_filter=" + opts["filter"])
    if opts["min-time"]:
        cmd.append("--benchmark_min_time=%g" % float(opts["min-time"]))
    return subprocess.call(cmd + extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
