"""The runtime test suite, instantiated once per variant by gmp_variant.

Each entry names a test source beside its module in runtime/ (without .cc)
and its Bazel size. Every test runs once per variant, as
//variants:<variant>_<name>, and can be asked for by its name:

  bazel test //runtime:chan_test            go_default's (test_suite)
  bazel test //runtime/...                  all of go_default's runtime tests
  bazel test //variants:runq16_chan_test    one other variant's
  bazel test //variants:chan_test           every variant's (test_suite)

The test_suites only name tests that already exist, so `bazel test //...`
still runs each test once.

A test that reads the variant's policies (any of runtime/policy/*.h, or a
header that depends on a GMP_* define: context.h, stack.h, runq.h, p.h,
sched.h) says "per_variant": True and is compiled once per variant. Every
other test is compiled once, as //runtime:<name>_lib, and linked into every
variant's suite: that is what keeps `./harness test` within CI's time.
"""

RUNTIME_TESTS = [
    {"name": "context_test", "size": "small", "per_variant": True},
    {"name": "stack_test", "size": "medium", "per_variant": True},
    {"name": "runq_test", "size": "small", "per_variant": True},
    {"name": "steal_order_test", "size": "small", "per_variant": True},
    {"name": "chan_test", "size": "small"},
    {"name": "select_test", "size": "small"},
    {"name": "mutex_test", "size": "small"},
    {"name": "waitgroup_test", "size": "small"},
    {"name": "proc_test", "size": "medium", "per_variant": True},
    {"name": "procresize_test", "size": "medium"},
    {"name": "lockosthread_test", "size": "medium"},
    {"name": "syscall_test", "size": "small"},
    {"name": "time_test", "size": "small"},
    {"name": "timer_test", "size": "small"},
    {"name": "checkdead_test", "size": "small"},
    {"name": "trace_test", "size": "small"},
    {"name": "thread_state_test", "size": "small"},
    {"name": "signal_test", "size": "small"},
    {"name": "exit_test", "size": "small"},
    {"name": "query_test", "size": "small"},
    {"name": "thread_pool_test", "size": "small"},
]

# The tag gmp_variant puts on every variant's copy of runtime test <name>.
RUNTIME_TEST_TAG = "runtime_test=%s"

def gmp_shared_runtime_tests():
    """Declares, in //runtime, for every runtime test <name>:

    //runtime:<name>      a test_suite: go_default's copy of the test;
    //runtime:<name>_lib  the test compiled once, for every test that is not
                          per_variant.
    """
    for test in RUNTIME_TESTS:
        native.test_suite(
            name = test["name"],
            tests = ["//variants:go_default_" + test["name"]],
        )
        if test.get("per_variant", False):
            continue
        native.cc_library(
            name = test["name"] + "_lib",
            testonly = True,
            srcs = [test["name"] + ".cc"],
            # Linked into each variant's copy of the test (//variants, and
            # the mutant schema's in //fuzz/mutate).
            visibility = ["//fuzz/mutate:__pkg__", "//variants:__pkg__"],
            deps = [
                ":headers",
                "//third_party/system:absl",
                "//third_party/system:gtest",
            ],
            alwayslink = True,
        )

def gmp_runtime_test_suites():
    """Declares //variants:<name>: every variant's copy of runtime test <name>.

    Called once in variants/BUILD.bazel. Each suite collects the tests of its
    package that carry RUNTIME_TEST_TAG for <name>; canary variants' tests are
    manual and so left out.
    """
    for test in RUNTIME_TESTS:
        native.test_suite(
            name = test["name"],
            tags = [RUNTIME_TEST_TAG % test["name"]],
        )
