"""gmp_variant_benchmarks: the benchmark binary of one runtime variant.

Called by gmp_variant (variants/variant.bzl) for every variant. It builds the
workloads in bench/workloads/ against that variant's runtime library:

  //variants:<name>_bench   Google Benchmark binary; `--describe` prints the
                            variant's policies, `--procs=1,2,4` picks the
                            processor counts (see bench/README.md)
  //variants:<name>_bench_smoke_test  every workload once, at tiny sizes
"""

def gmp_variant_benchmarks(name, lib, tags = []):
    """Declares //variants:<name>_bench.

    Args:
      name: the variant's name.
      lib: the variant's runtime library label.
      tags: tags for the binary (canary variants pass "manual").
    """
    native.cc_binary(
        name = name + "_bench",
        # The workloads first: a static link resolves left to right.
        deps = [
            "//bench:workloads",
            lib,
        ],
        tags = tags + ["benchmark"],
        visibility = ["//visibility:public"],
    )

    # Runs every workload once at tiny sizes: proves the workloads terminate
    # and finish without errors on this variant (never a timing assertion).
    native.sh_test(
        name = name + "_bench_smoke_test",
        size = "small",
        srcs = ["//bench:smoke_test.sh"],
        args = ["$(location :%s_bench)" % name],
        data = [":%s_bench" % name],
        tags = tags + ["benchmark"],
    )
