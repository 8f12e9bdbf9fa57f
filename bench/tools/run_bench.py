#!/usr/bin/python3
"""bench/tools/run_bench.py — `./harness bench`: run one benchmark binary.

Builds a variant's (or a C++ peer's) benchmark binary with --config=opt and
runs it with Google Benchmark's console output; anything after `--` goes to
the binary unchanged. For comparisons with statistics use `./harness report`.
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

import arg_types  # noqa: E402  (tools/arg_types.py)
import bazel_cli  # noqa: E402  (tools/bazel_cli.py)
import runner  # noqa: E402

PEERS = ("boost_fiber", "tbb", "thread", "go", "tokio")


def reps(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("bad --reps %r" % text)
    return text


def seconds(text):
    try:
        float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("bad --min-time %r (want seconds)" % text)
    return text


def parser():
    ap = argparse.ArgumentParser(
        prog="./harness bench", allow_abbrev=False,
        usage="%(prog)s [--variant=NAME | --peer=boost_fiber|tbb|thread|go|tokio]\n"
              "                      [--procs=1,2,4] [--filter=REGEX] [--reps=N] "
              "[--min-time=S]\n"
              "                      [--describe] [--bazel-output-base=DIR] "
              "[-- BENCHMARK_FLAGS...]",
        description="Builds a variant's (or a C++ peer's) benchmark binary with "
                    "--config=opt and runs it with Google Benchmark's console output; "
                    "anything after `--` goes to the binary unchanged. For comparisons "
                    "with statistics use `./harness report`.")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--variant", metavar="NAME",
                       help="gmplab variant (default go_default); see variants/BUILD.bazel")
    which.add_argument("--peer", metavar="NAME", choices=PEERS,
                       help="run a peer instead: %(choices)s (go runs `go test -bench` in "
                            "bench/go; tokio builds bench/tokio with /usr/bin/cargo --offline)")
    ap.add_argument("--procs", metavar="LIST", type=arg_types.procs_list,
                    help="processor counts (default 1,2,4,... up to 2x the CPUs)")
    ap.add_argument("--filter", metavar="REGEX",
                    help="--benchmark_filter (Go: -test.bench)")
    ap.add_argument("--reps", metavar="N", type=reps, default="1",
                    help="repetitions (default 1)")
    ap.add_argument("--min-time", metavar="S", type=seconds,
                    help="minimum seconds per repetition (default: Google Benchmark's)")
    ap.add_argument("--describe", action="store_true",
                    help="print the variant's policies and exit")
    ap.add_argument("--bazel-output-base", metavar="DIR",
                    default=bazel_cli.env_setting(bazel_cli.OUTPUT_BASE_ENV),
                    help="Bazel --output_base (default $%s)" % bazel_cli.OUTPUT_BASE_ENV)
    return ap


def parse_args(argv):
    """Returns (options, the flags after `--` for the binary). A bad flag
    prints the usage and exits 2."""
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    return parser().parse_args(argv), extra


def main(argv):
    a, extra = parse_args(argv)
    procs = ",".join(map(str, a.procs)) if a.procs else None
    opts = {"variant": a.variant, "peer": a.peer, "procs": procs, "filter": a.filter,
            "reps": a.reps, "min-time": a.min_time}
    describe = a.describe
    bazel = runner.Bazel(a.bazel_output_base)
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
    elif peer is not None:  # boost_fiber, tbb or thread (argparse checked the name)
        target = "//bench:%s_bench" % peer
    else:
        variant = opts["variant"] or "go_default"
        try:
            known, canaries = runner.variant_names(bazel)
        except RuntimeError as e:
            sys.stderr.write("run_bench: %s\n" % e)
            return 1
        if variant not in known + canaries:
            parser().error("unknown variant %r; known: %s" % (variant, ",".join(known + canaries)))
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
