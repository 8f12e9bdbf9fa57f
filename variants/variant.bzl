"""gmp_variant: one policy combination of the gmplab runtime.

A variant is the runtime's sources compiled with one set of policy choices.
One macro call produces, from the same sources:

  //variants:<name>               the runtime library (cc_library)
  //variants:<name>_<test>        every runtime test (see runtime/tests.bzl;
                                  //variants:<test> runs it in every variant)
  //variants:<name>_bench         the benchmark binary (see bench/defs.bzl)
  //variants:<name>_fuzz_<t>      fuzz-target libraries and corpus replay tests
                                  (see fuzz/defs.bzl)

Policies reach the sources as preprocessor defines that the headers of
runtime/policy/ turn into types and constants, so no hot path pays a virtual
call or a runtime branch for a policy. Those headers are also the only home
of each policy's default (Go's choice): a knob left at None here passes no
define, and the header's fallback applies.
"""

load("//runtime:tests.bzl", "RUNTIME_TESTS", "RUNTIME_TEST_TAG")
load("//bench:defs.bzl", "gmp_variant_benchmarks")
load("//fuzz:defs.bzl", "gmp_variant_fuzzers")

# The policy classes each axis header declares (their kName), so that a typo
# in a variant fails when BUILD files load rather than in the compiler.
# //tools:policy_defaults_test checks each list against its header.
_STEAL_ORDERS = ["CoprimeWalk", "SequentialOrder", "RandomStart", "RandomVictim", "LongestQueue"]  # steal_order.h
_STEAL_AMOUNTS = ["StealHalf", "StealOne"]  # steal_amount.h
_SPIN_LIMITS = ["GoSpinLimit", "NoSpin", "UnboundedSpin", "FixedSpin", "TokioSpinLimit"]  # spin.h
_STACKS = ["GuardedStacks", "CompactStacks"]  # stacks.h
_CONTEXTS = {"asm": 0, "ucontext": 1}  # context_switch.h: GMP_CONTEXT_UCONTEXT

# The variants whose runtime is also compiled file by file, besides the one
# unity translation unit every variant is built from (see gmp_variant): one is
# enough to check that every file compiles on its own.
_FILE_BY_FILE = ["go_default"]

def _check(what, value, allowed):
    if value != None and value not in allowed:
        fail("gmp_variant: %s = %r; expected one of %s" % (what, value, allowed))

def _define(defines, macro, value, fmt = "%s"):
    """Appends MACRO=value to defines unless value is None (the default)."""
    if value != None:
        defines.append(("%s=" + fmt) % (macro, value))

def gmp_variant(
        name,
        runq_size = None,
        steal_order = None,
        steal_amount = None,
        spin_limit = None,
        spin_fixed = None,
        spin_rounds = None,
        runnext = None,
        lifo_cap = None,
        fairness = None,
        stack = None,
        stack_size = None,
        context = None,
        inline_switch = None,
        canary = "",
        canary_one_in = 1,
        asan = False,
        bench_only = False,
        layout_pad = 0,
        runtime_srcs = "//runtime:cc_srcs",
        forced_include = None,
        benchmarks = True,
        tags = []):
    """Declares one runtime variant with its tests, benchmark and fuzzers.

    Every policy knob defaults to None: the default of its header in
    runtime/policy/ (given in brackets below), which is Go's choice.

    Args:
      name: the variant's name, e.g. "go_default".
      runq_size: local run-queue capacity, a power of two from 4 to 4096
        [runq_policy.h: 256].
      steal_order: the order in which a thief visits victims, a class of
        steal_order.h [CoprimeWalk].
      steal_amount: how much a thief takes: StealHalf or StealOne
        [steal_amount.h: StealHalf].
      spin_limit: how many Ms may spin looking for work, a class of spin.h
        [GoSpinLimit].
      spin_fixed: the cap when spin_limit is FixedSpin [spin.h: 1].
      spin_rounds: stealing passes over all Ps before an M gives up
        [spin.h: 4].
      runnext: whether a spawned or readied G takes P.runnext
        [runq_policy.h: True].
      lifo_cap: consecutive runnext runs allowed before the slot is bypassed
        (0 = unlimited, as in Go; Tokio caps its LIFO slot at 3)
        [runq_policy.h: 0].
      fairness: every how many schedule ticks the global queue goes first
        (0 = never) [fairness.h: 61].
      stack: GuardedStacks (mmap + guard page) or CompactStacks (slab, canary)
        [stacks.h: GuardedStacks].
      stack_size: default goroutine stack size in bytes (0 = the kind's own)
        [stacks.h: 0].
      context: "asm" (hand-written x86-64 switch) or "ucontext"
        [context_switch.h: asm].
      inline_switch: whether the scheduler's switches between g0 and a
        goroutine (execute, mcall) are inlined (SwitchContextFast) or a call
        (SwitchContext) [context_switch.h: True].
      canary: the name of a deliberately planted bug, or "". Canary variants
        are tagged manual: `bazel test //...` never runs them.
      canary_one_in: the planted bug strikes at one chance in this many (1 =
        at every chance, the defect exactly as it was; policy::CanaryFires
        in runtime/policy/config.h). Canaries that pick their own fraction
        in code ignore it.
      asan: whether this variant's tests also run under the asan config.
      bench_only: declare only the library and the benchmark binaries (no
        test suite, fuzzers or smoke test): for a variant whose code is
        another's, such as the A/A control.
      layout_pad: bytes of padding linked first into the benchmark binaries
        (see bench/defs.bzl); only the A/A control uses it.
      runtime_srcs: the runtime's C++ sources the unity source is made of;
        the memory-order mutant schema (fuzz/mutate/defs.bzl) passes one
        generated source in which every site's order is chosen at run time.
      forced_include: a generated header (label) that every translation
        unit compiled for this variant includes first: the mutant schema
        (fuzz/mutate/defs.bzl) passes the rewritten headers, so that the
        per-variant tests and fuzzers instantiate the same inline functions
        as the runtime (otherwise the linker may keep either copy).
      benchmarks: whether to declare the benchmark binaries (the mutants
        do not, which keeps loading their package quick).
      tags: extra tags for every generated target.
    """
    if runq_size != None and (runq_size < 4 or runq_size > 4096 or (runq_size & (runq_size - 1)) != 0):
        fail("gmp_variant: runq_size = %d; expected a power of two in [4, 4096]" % runq_size)
    _check("steal_order", steal_order, _STEAL_ORDERS)
    _check("steal_amount", steal_amount, _STEAL_AMOUNTS)
    _check("spin_limit", spin_limit, _SPIN_LIMITS)
    _check("stack", stack, _STACKS)
    _check("context", context, _CONTEXTS)

    defines = ["GMP_VARIANT_NAME=\\\"%s\\\"" % name]
    _define(defines, "GMP_RUNQ_SIZE", runq_size, "%d")
    _define(defines, "GMP_STEAL_ORDER", steal_order)
    _define(defines, "GMP_STEAL_AMOUNT", steal_amount)
    _define(defines, "GMP_SPIN_LIMIT", spin_limit)
    _define(defines, "GMP_SPIN_FIXED", spin_fixed, "%d")
    _define(defines, "GMP_SPIN_ROUNDS", spin_rounds, "%d")
    _define(defines, "GMP_RUNNEXT", None if runnext == None else (1 if runnext else 0), "%d")
    _define(defines, "GMP_LIFO_CAP", lifo_cap, "%d")
    _define(defines, "GMP_FAIRNESS", fairness, "%d")
    _define(defines, "GMP_STACK_KIND", stack)
    _define(defines, "GMP_STACK_SIZE", stack_size, "%d")
    _define(defines, "GMP_CONTEXT_UCONTEXT", None if context == None else _CONTEXTS[context], "%d")
    _define(defines, "GMP_INLINE_SWITCH", None if inline_switch == None else (1 if inline_switch else 0), "%d")
    if canary:
        if canary_one_in < 1:
            fail("gmp_variant: canary_one_in = %d; expected at least 1" % canary_one_in)
        defines.append("GMP_CANARY_%s=1" % canary.upper())
        defines.append("GMP_CANARY_ONE_IN=%d" % canary_one_in)
        tags = tags + ["manual", "canary"]
    test_tags = tags + ([] if asan or canary else ["no_asan"])

    # The runtime's C++ sources as one unity translation unit: each variant
    # recompiles the whole runtime, and the shared headers dominate its cost.
    # #line directives keep diagnostics and debug info on the real files.
    native.genrule(
        name = name + "_unity",
        srcs = [runtime_srcs],
        outs = [name + "_unity.cc"],
        cmd = "for f in $(SRCS); do echo \"#line 1 \\\"$$f\\\"\"; cat $$f; done > $@",
        tags = tags,
    )

    # The lock annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED)
    # are checked: a runtime that reads a guarded field without its lock does
    # not build. clang only; g++ has no such analysis.
    copts = select({
        "//tools:clang": ["-Wthread-safety", "-Werror=thread-safety"],
        "//conditions:default": [],
    })

    # Bind the program's own imports at load: lazy binding resolves a symbol
    # on the stack of whatever first calls it, and the resolver saves the
    # whole XSAVE area there (about 3 KiB with AVX-512), which overruns a
    # one-page compact goroutine stack. Shared libraries bind their own calls
    # lazily unless LD_BIND_NOW is set (runtime/stack.h).
    linkopts = ["-lpthread", "-ldl", "-Wl,-z,now"]

    # What the variant's library and its file-by-file twin (below) share.
    forced = []
    if forced_include:
        forced = ["-include", _package_path(forced_include)]
    runtime_lib = dict(
        hdrs = ["//runtime:hdrs"] + ([forced_include] if forced_include else []),
        defines = defines,
        copts = copts,
        deps = ["//third_party/system:absl"],
        linkopts = linkopts,
        tags = tags,
    )

    native.cc_library(
        name = name,
        srcs = [":" + name + "_unity", "//runtime:asm_srcs"],
        visibility = ["//visibility:public"],
        **runtime_lib
    )

    # The variants of _FILE_BY_FILE also compile the runtime file by file, as
    # <name>_standalone, linked into <name>_standalone_test (select_test, so
    # channels, select and timers run on it): `bazel test //...` then proves
    # each file stands alone (it includes what it uses and needs no other
    # file's file-local names). The variant itself, which its benchmarks and
    # tests use, stays one unity translation unit like every other variant,
    # so that comparisons between variants never compare build modes.
    if name in _FILE_BY_FILE:
        native.cc_library(
            name = name + "_standalone",
            srcs = [runtime_srcs, "//runtime:asm_srcs"],
            **runtime_lib
        )
        native.cc_test(
            name = name + "_standalone_test",
            deps = [
                ":" + name + "_standalone",
                "//runtime:select_test_lib",
                "//third_party/system:gtest_main",
            ],
            size = "small",
            tags = test_tags,
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
            copts = forced if per_variant else [],
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

    if benchmarks:
        gmp_variant_benchmarks(
            name = name,
            lib = ":" + name,
            tags = test_tags,
            layout_pad = layout_pad,
        )
    gmp_variant_fuzzers(name = name, lib = ":" + name, tags = test_tags, copts = forced)

def _package_path(label):
    """The path of a generated file in this package, as the compiler finds
    it through Bazel's include roots: "pkg/file" for ":file"."""
    if not label.startswith(":"):
        fail("gmp_variant: forced_include must be a label in the variant's package, got " + label)
    pkg = native.package_name()
    return (pkg + "/" if pkg else "") + label[1:]
