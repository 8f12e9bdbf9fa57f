// runtime/policy/variant_guard.h — policy headers compile only inside a
// variant.
//
// Every header of runtime/policy/ turns a variant's GMP_* defines into types
// and constants, and falls back to Go's choice when a define is missing.
// Code compiled once and linked against every variant (the shared runtime
// tests, the benchmark workloads, the peers; they depend on
// //runtime:headers, not on a variant) sees no variant's defines: if it
// included a policy header it would silently read the defaults, and an
// inline function or class layout that depends on a policy would differ
// between it and the variant it links with (an ODR violation no linker
// reports). gmp_variant (variants/variant.bzl) defines GMP_VARIANT_NAME for
// the variant and everything that depends on it; without it, including any
// policy header (directly, or through sched.h, p.h, runq.h, context.h,
// stack.h) is a compile error.
// //runtime:policy_guard_test checks that it is.
#ifndef GMPLAB_RUNTIME_POLICY_VARIANT_GUARD_H_
#define GMPLAB_RUNTIME_POLICY_VARIANT_GUARD_H_

#ifndef GMP_VARIANT_NAME
#error "policy header in code compiled once for all variants; see runtime/policy/variant_guard.h"
#endif

#endif  // GMPLAB_RUNTIME_POLICY_VARIANT_GUARD_H_
