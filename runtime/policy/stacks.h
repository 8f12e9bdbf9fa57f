// runtime/policy/stacks.h — the goroutine stack kind and size of a variant.
//
// GuardedStacks: one mapping per stack with a guard page below it, so an
// overflow faults and is reported. CompactStacks: stacks carved from a slab
// with a canary word, denser but overflow is only caught at switch-out.
// A variant picks a kind by its kName (GMP_STACK_KIND, default GuardedStacks)
// and a default stack size in bytes (GMP_STACK_SIZE, default 0: the kind's
// own). runtime/stack.h turns them into kDefaultStackKind and
// DefaultStackSize(), which the runtime's stack pool uses.
#ifndef GMPLAB_RUNTIME_POLICY_STACKS_H_
#define GMPLAB_RUNTIME_POLICY_STACKS_H_

#include <cstddef>

#include "runtime/policy/variant_guard.h"

#ifndef GMP_STACK_KIND
#define GMP_STACK_KIND GuardedStacks
#endif
#ifndef GMP_STACK_SIZE
#define GMP_STACK_SIZE 0
#endif

namespace gmp::internal::policy {

struct GuardedStacks {
  static constexpr const char* kName = "GuardedStacks";
  static constexpr bool kGuarded = true;
};

struct CompactStacks {
  static constexpr const char* kName = "CompactStacks";
  static constexpr bool kGuarded = false;
};

// Stacks is the variant's stack kind; kStackSize its default stack size
// (0 = the kind's own).
using Stacks = GMP_STACK_KIND;
inline constexpr size_t kStackSize = GMP_STACK_SIZE;

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_STACKS_H_
