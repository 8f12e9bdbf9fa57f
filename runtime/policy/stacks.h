// runtime/policy/stacks.h — the goroutine stack kind of a variant.
//
// GuardedStacks: one mapping per stack with a guard page below it, so an
// overflow faults and is reported. CompactStacks: stacks carved from a slab
// with a canary word, denser but overflow is only caught at switch-out.
// The kind maps to gmp::internal::StackKind in runtime/stack.h.
#ifndef GMPLAB_RUNTIME_POLICY_STACKS_H_
#define GMPLAB_RUNTIME_POLICY_STACKS_H_

namespace gmp::internal::policy {

struct GuardedStacks {
  static constexpr const char* kName = "GuardedStacks";
  static constexpr bool kGuarded = true;
};

struct CompactStacks {
  static constexpr const char* kName = "CompactStacks";
  static constexpr bool kGuarded = false;
};

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_STACKS_H_
