#!/usr/bin/python3
"""Tests of policy_defaults.py: the real tree passes, and each kind of
second home for a default, or list out of step with a header, is found."""

import os
import unittest

import policy_defaults as pd

ROOT = os.environ.get("GMPLAB_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")


class PolicyDefaultsTest(unittest.TestCase):

    def setUp(self):
        self.files = pd.read_tree(ROOT)

    def edit(self, path, old, new):
        self.assertIn(old, self.files[path])
        self.files[path] = self.files[path].replace(old, new, 1)

    def problems(self):
        return "\n".join(pd.check(self.files))

    def test_tree_has_one_home_per_default(self):
        self.assertIn(pd.VARIANT_BZL, self.files)
        self.assertIn(pd.BUILD_SH, self.files)
        self.assertEqual(pd.check(self.files), [])

    def test_reads_every_knob(self):
        macros = pd.policy_macros(self.files[pd.VARIANT_BZL])
        for m in ["GMP_RUNQ_SIZE", "GMP_STEAL_ORDER", "GMP_STEAL_AMOUNT", "GMP_SPIN_LIMIT",
                  "GMP_SPIN_FIXED", "GMP_SPIN_ROUNDS", "GMP_RUNNEXT", "GMP_LIFO_CAP",
                  "GMP_FAIRNESS", "GMP_STACK_KIND", "GMP_STACK_SIZE", "GMP_CONTEXT_UCONTEXT"]:
            self.assertIn(m, macros)
        self.assertEqual(macros["GMP_RUNNEXT"], {"runnext"})

    def test_default_restated_in_bzl(self):
        self.edit(pd.VARIANT_BZL, "runq_size = None,", "runq_size = 256,")
        self.assertIn("gmp_variant(runq_size = 256) restates GMP_RUNQ_SIZE", self.problems())

    def test_fallback_outside_policy_headers(self):
        self.files["runtime/context.h"] += "\n#ifndef GMP_CONTEXT_UCONTEXT\n" \
                                           "#define GMP_CONTEXT_UCONTEXT 0\n#endif\n"
        self.assertIn("runtime/context.h: a fallback for GMP_CONTEXT_UCONTEXT", self.problems())

    def test_defined_outside_policy_headers(self):
        self.files["runtime/stack.h"] += "\n#ifdef GMP_STACK_KIND\n#endif\n#if defined(GMP_STACK_SIZE)\n#endif\n"
        out = self.problems()
        self.assertIn("runtime/stack.h: tests defined(GMP_STACK_SIZE)", out)

    def test_missing_fallback(self):
        self.edit("runtime/policy/fairness.h", "#ifndef GMP_FAIRNESS\n#define GMP_FAIRNESS 61\n#endif\n", "")
        self.assertIn("GMP_FAIRNESS: 0 fallbacks", self.problems())

    def test_two_fallbacks(self):
        self.files["runtime/policy/config.h"] += "\n#ifndef GMP_FAIRNESS\n#define GMP_FAIRNESS 61\n#endif\n"
        self.assertIn("GMP_FAIRNESS: 2 fallbacks", self.problems())

    def test_new_class_not_allowed(self):
        self.edit("runtime/policy/steal_order.h", "}  // namespace gmp::internal::policy",
                  "class Reverse {\n public:\n  static constexpr const char* kName = \"Reverse\";\n};\n"
                  "}  // namespace gmp::internal::policy")
        self.assertIn("_STEAL_ORDERS = ", self.problems())
        self.assertIn("'Reverse'", self.problems())

    def test_allowed_name_without_class(self):
        self.edit(pd.VARIANT_BZL, '_STEAL_AMOUNTS = ["StealHalf", "StealOne"]',
                  '_STEAL_AMOUNTS = ["StealHalf", "StealOne", "StealAll"]')
        self.assertIn("_STEAL_AMOUNTS = ", self.problems())

    def test_default_not_a_class(self):
        self.edit("runtime/policy/spin.h", "#define GMP_SPIN_LIMIT GoSpinLimit",
                  "#define GMP_SPIN_LIMIT GoSpin")
        self.assertIn("GMP_SPIN_LIMIT's default GoSpin is not in _SPIN_LIMITS", self.problems())

    def test_context_default(self):
        self.edit("runtime/policy/context_switch.h", "#define GMP_CONTEXT_UCONTEXT 0",
                  "#define GMP_CONTEXT_UCONTEXT 2")
        self.assertIn("GMP_CONTEXT_UCONTEXT's default 2", self.problems())

    def test_spin_limit_without_trait(self):
        self.edit("runtime/policy/spin.h", "  static constexpr bool kAllowsSpinning = false;\n", "")
        self.assertIn("NoSpin has no kAllowsSpinning", self.problems())

    def test_build_sh_define(self):
        self.edit(pd.BUILD_SH, "  -DGMP_FUZZ_HOOKS=1", "  -DGMP_RUNQ_SIZE=256\n  -DGMP_FUZZ_HOOKS=1")
        self.assertIn("passes -DGMP_RUNQ_SIZE", self.problems())


if __name__ == "__main__":
    unittest.main()
