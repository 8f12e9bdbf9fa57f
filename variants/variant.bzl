"""gmp_variant: one policy combination of the gmplab runtime.

A variant is the runtime's sources compiled with one set of policy choices.
One macro call produces, from the same sources:

  //variants:<name>               the runtime library (cc_library)
  //variants:<name>_<test>        every runtime test (see runtime/tests.bzl;
                                  //variants:<test> runs it in every variant)
  //variants:<name>_bench         the benchmark binary (see bench/defs.bzl)
  //variants:<name>_fuzz_<t>      fuzz-target libraries and corpus replay tests
                                  (see fuzz/defs.bzl)

Policies reach the sources as preprocessor defines that runtime/policy/
config.h turns into types and constants, so no hot path pays a virtual call
or a runtime branch for a policy.
"""

load("//runtime:tests.bzl", "RUNTIME_TESTS", "RUNTIME_TEST_TAG")
load("//bench:defs.bzl", "gmp_variant_benchmarks")
load("//fuzz:defs.bzl", "gmp_variant_fuzzers")

_STEAL_ORDERS = ["CoprimeWalk", "SequentialOrder", "RandomStart", "RandomVictim", "LongestQueue"]
_STEAL_AMOUNTS = ["StealHalf", "StealOne"]
_SPIN_LIMITS = ["GoSpinLimit", "NoSpin", "UnboundedSpin", "FixedSpin", "TokioSpinLimit"]
_STACKS = ["GuardedStacks", "CompactStacks"]
_CONTEXTS = ["asm", "ucontext"]

def _check(what, value, allowed):
    if value not in allowed:
        fail("gmp_variant: %s = %r; expected one of %s" % (what, value, allowed))

def gmp_variant(
        name,
        runq_size = 256,
        steal_order = "CoprimeWalk",
        steal_amount = "StealHalf",
        spin_limit = "GoSpinLimit",
        spin_fixed = 1,
        spin_rounds = 4,
        runnext = True,
        lifo_cap = 0,
        fairness = 61,
        stack = "GuardedStacks",
        stack_size = 0,
        context = "asm",
        canary = "",
        asan = False,
        bench_only = False,
        layout_pad = 0,
        tags = []):
    """Declares one runtime variant with its tests, benchmark and fuzzers.

    Args:
      name: the variant's name, e.g. "go_default".
      runq_size: local run-queue capacity, a power of two from 4 to 4096.
      steal_order: the order in which a thief visits victims.
      steal_amount: how much a thief takes: StealHalf or StealOne.
      spin_limit: how many Ms may spin looking for work.
      spin_fixed: the cap when spin_limit is FixedSpin.
      spin_rounds: stealing passes over all Ps before an M gives up.
      runnext: whether a spawned or readied G takes P.runnext.
      lifo_cap: consecutive runnext runs allowed before the slot is bypassed
        (0 = unlimited, as in Go; Tokio caps its LIFO slot at 3).
      fairness: every how many schedule ticks the global queue goes first
        (0 = never).
      stack: GuardedStacks (mmap + guard page) or CompactStacks (slab, canary).
      stack_size: default goroutine stack size in bytes (0 = the kind's own).
      context: "asm" (hand-written x86-64 switch) or "ucontext".
      canary: the name of a deliberately planted bug, or "". Canary variants
        are tagged manual: `bazel test //...` never runs them.
      asan: whether this variant's tests also run under the asan config.
      bench_only: declare only the library and the benchmark binaries (no
        test suite, fuzzers or smoke test): for a variant whose code is
        another's, such as the A/A control.
      layout_pad: bytes of padding linked first into the benchmark binaries
        (see bench/defs.bzl); only the A/A control uses it.
      tags: extra tags for every generated target.
    """
    if runq_size < 4 or runq_size > 4096 or (runq_size & (runq_size - 1)) != 0:
        fail("gmp_variant: runq_size = %d; expected a power of two in [4, 4096]" % runq_size)
    _check("steal_order", steal_order, _STEAL_ORDERS)
    _check("steal_amount", steal_amount, _STEAL_AMOUNTS)
    _check("spin_limit", spin_limit, _SPIN_LIMITS)
    _check("stack", stack, _STACKS)
    _check("context", context, _CONTEXTS)

    defines = [
        "GMP_VARIANT_NAME=\\\"%s\\\"" % name,
        "GMP_RUNQ_SIZE=%d" % runq_size,
        "GMP_STEAL_ORDER=%s" % steal_order,
        "GMP_STEAL_AMOUNT=%s" % steal_amount,
        "GMP_SPIN_LIMIT=%s" % spin_limit,
        "GMP_SPIN_FIXED=%d" % spin_fixed,
        "GMP_SPIN_ROUNDS=%d" % spin_rounds,
        "GMP_RUNNEXT=%d" % (1 if runnext else 0),
        "GMP_LIFO_CAP=%d" % lifo_cap,
        "GMP_FAIRNESS=%d" % fairness,
        "GMP_STACK_KIND=%s" % stack,
        "GMP_STACK_SIZE=%d" % stack_size,
        "GMP_CONTEXT_UCONTEXT=%d" % (1 if context == "ucontext" else 0),
    ]
    if canary:
        defines.append("GMP_CANARY_%s=1" % canary.upper())
        tags = tags + ["manual", "canary"]
    test_tags = tags + ([] if asan or canary else ["no_asan"])

    # The runtime's C++ sources as one unity translation unit: each variant
    # recompiles the whole runtime, and the shared headers dominate its cost.
    # #line directives keep diagnostics and debug info on the real files.
    native.genrule(
        name = name + "_unity",
        srcs = ["//runtime:cc_srcs"],
        outs = [name + "_unity.cc"],
        cmd = "for f in $(SRCS); do echo \"#line 1 \\\"$$f\\\"\"; cat $$f; done > $@",
        tags = tags,
    )

    native.cc_library(
        name = name,
        srcs = [":" + name + "_unity", "//runtime:asm_srcs"],
        hdrs = ["//runtime:hdrs"],
        defines = defines,
        deps = ["//third_party/system:absl"],
        # Bind the program's own imports at load: lazy binding resolves a
        # symbol on the stack of whatever first calls it, and the resolver
        # saves the whole XSAVE area there (about 3 KiB with AVX-512), which
        # overruns a one-page compact goroutine stack. Shared libraries bind
        # their own calls lazily unless LD_BIND_NOW is set (runtime/stack.h).
        linkopts = ["-lpthread", "-ldl", "-Wl,-z,now"],
        tags = tags,
        visibility = ["//visibility:public"],
    )

    if bench_only:
        gmp_variant_benchmarks(
            name = name,
            lib = ":" + name,
            tags = tags,
            layout_pad = layout_pad,
            smoke_test = False,
        )
        return

    for test in RUNTIME_TESTS:
        per_variant = test.get("per_variant", False)
        native.cc_test(
            name = "%s_%s" % (name, test["name"]),
            srcs = ["//runtime:%s.cc" % test["name"]] if per_variant else [],
            deps = [
                ":" + name,
                "//third_party/system:absl",
                "//third_party/system:gtest_main",
            ] + ([] if per_variant else ["//runtime:%s_lib" % test["name"]]),
            size = test.get("size", "small"),
            timeout = test.get("timeout", None),
            shard_count = test.get("shard_count", None),
            tags = test_tags + test.get("tags", []) + [RUNTIME_TEST_TAG % test["name"]],
        )

    gmp_variant_benchmarks(
        name = name,
        lib = ":" + name,
        tags = test_tags,
        layout_pad = layout_pad,
    )
    gmp_variant_fuzzers(name = name, lib = ":" + name, tags = test_tags)
