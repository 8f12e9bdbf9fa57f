"""gmp_mutants: one go_default variant per memory-order mutant.

fuzz/mutate/sites.py writes mutants.bzl (MUTANTS: one row per site and
weakened order) from the runtime's sources; gmp_mutants declares, in
//fuzz/mutate, for each row NAME:

  NAME_src     a genrule: the runtime's sources as one unity source with
               that one site's memory order weakened (sites.py apply; a
               site in a header is applied to a copy of the header put
               first, whose include guard keeps the original out)
  NAME         go_default's runtime built from NAME_src (gmp_variant with
               runtime_srcs), with every target gmp_variant declares: the
               runtime tests NAME_<test>, the fuzzers NAME_fuzz_<target>, ...
  NAME_check   an sh_test that runs the TSan fuzzers on the committed corpus
               for a budget (--budget=S, default 30) and, if they find
               nothing, the runtime tests of NAME (a failure counts only if
               go_default's copy passes the same tests), and prints the verdict
               (fuzz/mutate/check_mutant.py). It passes whatever the verdict
               (only a broken check fails), so Bazel caches the verdict per
               (sources, site, order, budget); run it with --config=fuzz.

Every target is tagged manual and mutant: `bazel test //...` builds none.
`./harness mutate` (fuzz/mutate/run.py) picks and runs them.
"""

load("//fuzz:defs.bzl", "FUZZ_TARGETS")
load("//runtime:tests.bzl", "RUNTIME_TESTS")
load("//variants:variant.bzl", "gmp_variant")

MUTANT_TAGS = ["manual", "mutant"]

def gmp_mutant(name, site, order):
    """Declares one mutant: NAME_src, the variant NAME and NAME_check."""
    native.genrule(
        name = name + "_src",
        srcs = ["//runtime:cc_srcs", "//runtime:hdrs"],
        outs = [name + "_mutated.cc"],
        tools = [":sites.py"],
        cmd = ("/usr/bin/python3 $(location :sites.py) apply --site '%s' " +
               "--order %s --out $@ $(SRCS)") % (site, order),
        tags = MUTANT_TAGS,
    )
    gmp_variant(
        name = name,
        runtime_srcs = ":" + name + "_src",
        benchmarks = False,
        tags = MUTANT_TAGS,
    )
    native.sh_test(
        name = name + "_check",
        srcs = [":check_mutant.sh"],
        args = [
            "--mutant=" + name,
            "--site='%s'" % site,
            "--order=" + order,
            "--runtime-tests=" + ",".join([t["name"] for t in RUNTIME_TESTS]),
        ],
        data = [
            ":check_mutant.py",
            "//fuzz:tools/campaign.py",
            "//fuzz:corpora",
            "//fuzz:dicts",
        ] + [":%s_fuzz_%s" % (name, t) for t in FUZZ_TARGETS] +
               ["//variants:go_default_fuzz_" + t for t in FUZZ_TARGETS] +
               [":%s_%s" % (name, t["name"]) for t in RUNTIME_TESTS] +
               ["//variants:go_default_" + t["name"] for t in RUNTIME_TESTS],
        # The check keeps its own time (budget, per-test caps); this is the
        # backstop. ./harness mutate raises it with --test_timeout.
        timeout = "long",
        tags = MUTANT_TAGS + ["no_asan"],
    )

def gmp_mutants(mutants):
    """Declares gmp_mutant for every (name, site, order, file) row."""
    for name, site, order, _file in mutants:
        gmp_mutant(name = name, site = site, order = order)
