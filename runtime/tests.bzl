"""The runtime test suite, instantiated once per variant by gmp_variant.

Each entry names a test source beside its module in runtime/ (without .cc)
and its Bazel size. Tests may read the variant's policies from
runtime/policy/config.h to skip what a variant does not have.
"""

RUNTIME_TESTS = [
    {"name": "context_test", "size": "small"},
    {"name": "stack_test", "size": "small"},
    {"name": "runq_test", "size": "small"},
    {"name": "steal_order_test", "size": "small"},
    {"name": "chan_test", "size": "small"},
    {"name": "mutex_test", "size": "small"},
    {"name": "waitgroup_test", "size": "small"},
    {"name": "proc_test", "size": "medium"},
]
