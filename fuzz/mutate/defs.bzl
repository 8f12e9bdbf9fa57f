"""gmp_mutants: the memory-order mutant schema and one check per mutant.

fuzz/mutate/sites.py writes mutants.bzl (MUTANTS: one row per site and
weakened order) from the runtime's sources. gmp_mutants declares, in
//fuzz/mutate:

  m_schema_src  a genrule: the runtime's sources as one unity source in
                which every site's memory order is a call of
                gmp_mutate::Order (sites.py schema): the original order,
                unless the process was started with that mutant named in
                GMP_MUTATE_SITE. A mutant schema (Untch, Offutt and Harrold,
                1993): one build holds every mutant, so a mutant costs its
                run, not a build. Under ThreadSanitizer nothing is lost: the
                compiler turns an order known only at run time into a switch
                over the constant orders, and TSan instruments each arm.
  m_schema      go_default's runtime built from m_schema_src (gmp_variant
                with runtime_srcs): its runtime tests m_schema_<test> and
                fuzzers m_schema_fuzz_<target>. The sources of its
                per-variant tests and fuzzers include m_schema_headers.h
                first (the rewritten headers), so that every copy of an
                inline function with a site is the schema's.
  NAME_check    for each mutant NAME, an sh_test that runs m_schema's TSan
                fuzzers with NAME selected on the committed corpus for a
                budget (--budget=S, default 30) and, if they find nothing,
                m_schema's runtime tests (a failure counts only if
                go_default's copy passes the same tests), and prints the
                verdict (fuzz/mutate/check_mutant.py). It passes whatever the
                verdict (only a broken check fails), so Bazel caches the
                verdict per (sources, mutant, budget); run it with
                --config=fuzz.

Every target is tagged manual and mutant: `bazel test //...` builds none.
`./harness mutate` (fuzz/mutate/run.py) picks and runs them.
"""

load("//fuzz:defs.bzl", "FUZZ_TARGETS")
load("//runtime:tests.bzl", "RUNTIME_TESTS")
load("//variants:variant.bzl", "gmp_variant")

MUTANT_TAGS = ["manual", "mutant"]
SCHEMA = "m_schema"

def gmp_mutant_schema():
    """Declares m_schema_src and the variant m_schema."""
    native.genrule(
        name = SCHEMA + "_src",
        srcs = ["//runtime:cc_srcs", "//runtime:hdrs"],
        outs = [SCHEMA + "_mutated.cc", SCHEMA + "_headers.h"],
        tools = [":sites.py"],
        cmd = ("/usr/bin/python3 $(location :sites.py) schema " +
               "--out $(location %s_mutated.cc) --header-out $(location %s_headers.h) " +
               "$(SRCS)") % (SCHEMA, SCHEMA),
        tags = MUTANT_TAGS,
    )
    native.filegroup(
        name = SCHEMA + "_unity_src",
        srcs = [SCHEMA + "_mutated.cc"],
        tags = MUTANT_TAGS,
    )
    gmp_variant(
        name = SCHEMA,
        runtime_srcs = ":" + SCHEMA + "_unity_src",
        forced_include = ":" + SCHEMA + "_headers.h",
        benchmarks = False,
        tags = MUTANT_TAGS,
    )

def gmp_mutant_check(name, site, order):
    """Declares NAME_check: mutant NAME of m_schema, fuzzed and tested."""
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
            "//fuzz:defs.bzl",
            "//tools:shared_py",
            "//fuzz:corpora",
            "//fuzz:dicts",
        ] + [":%s_fuzz_%s" % (SCHEMA, t) for t in FUZZ_TARGETS] +
               ["//variants:go_default_fuzz_" + t for t in FUZZ_TARGETS] +
               [":%s_%s" % (SCHEMA, t["name"]) for t in RUNTIME_TESTS] +
               ["//variants:go_default_" + t["name"] for t in RUNTIME_TESTS],
        # The check keeps its own time (budget, per-test caps); this is the
        # backstop. ./harness mutate raises it with --test_timeout.
        timeout = "long",
        tags = MUTANT_TAGS + ["no_asan"],
    )

def gmp_mutants(mutants):
    """Declares the schema and gmp_mutant_check for every (name, site,
    order, file) row."""
    gmp_mutant_schema()
    for name, site, order, _file in mutants:
        gmp_mutant_check(name = name, site = site, order = order)
