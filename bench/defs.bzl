"""gmp_variant_benchmarks: the benchmark binaries of one runtime variant.

Called by gmp_variant (variants/variant.bzl) for every variant. It builds the
workloads in bench/workloads/ against that variant's runtime library:

  //variants:<name>_bench   Google Benchmark binary; `--describe` prints the
                            variant's policies, `--procs=1,2,4` picks the
                            processor counts (see bench/README.md)
  //variants:<name>_bench_layout<i>, i = 1..LAYOUT_COPIES
                            the same objects linked with lld's
                            --shuffle-sections under seed i (and the
                            functions in their own sections, --config=opt):
                            one random code layout each. `./harness report`
                            samples a copy per block, so that layout is a
                            random effect of the design and a verdict means
                            "this policy", not "this binary" (Mytkowicz et
                            al., ASPLOS 2009; Curtsinger and Berger,
                            ASPLOS 2013). Tagged manual: only the report
                            builds them.
  //variants:<name>_bench_smoke_test  every workload once, at tiny sizes
"""

# Layout copies per variant: the number of blocks a full report runs, so
# every block of a workload draws a copy no other block of it uses.
LAYOUT_COPIES = 16

def gmp_variant_benchmarks(name, lib, tags = [], layout_pad = 0, smoke_test = True):
    """Declares //variants:<name>_bench and its layout copies.

    Args:
      name: the variant's name.
      lib: the variant's runtime library label.
      tags: tags for the binaries (canary variants pass "manual").
      layout_pad: bytes of an extra never-called function linked first, so
        the binary's default layout differs from an otherwise identical
        variant's (the A/A control); 0 for none.
      smoke_test: whether to declare the smoke test.
    """

    # The workloads first: a static link resolves left to right.
    deps = ["//bench:workloads", lib]
    if layout_pad:
        native.cc_library(
            name = name + "_layout_pad",
            srcs = ["//bench:common/layout_pad.cc"],
            copts = ["-DGMPLAB_LAYOUT_PAD_BYTES=%d" % layout_pad],
            alwayslink = True,
            tags = tags,
        )
        deps = [":" + name + "_layout_pad"] + deps
    native.cc_binary(
        name = name + "_bench",
        deps = deps,
        tags = tags + ["benchmark"],
        visibility = ["//visibility:public"],
    )

    # Seeds differ between variants, so copy i of two variants is not the
    # same permutation of two nearly identical object sets.
    base = hash(name) % 1000003
    for i in range(1, LAYOUT_COPIES + 1):
        native.cc_binary(
            name = "%s_bench_layout%d" % (name, i),
            deps = deps,
            linkopts = [
                "-fuse-ld=lld",
                "-Wl,--shuffle-sections=.text*=%d" % (base * 100 + i),
            ],
            tags = tags + ["benchmark", "manual"],
            visibility = ["//visibility:public"],
        )

    if not smoke_test:
        return

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
