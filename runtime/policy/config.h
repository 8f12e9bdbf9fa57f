// runtime/policy/config.h — the policy choices this variant is built with.
//
// A variant (variants/variant.bzl) passes each choice it makes as a define
// (GMP_STEAL_ORDER=RandomStart, ...). Each axis header below turns its
// defines into compile-time types and constants, so no hot path pays a
// virtual call or a branch for a policy, and holds the axis's default: the
// define's fallback, which is Go's choice. Those fallbacks are the only place
// a default is written; variant.bzl passes only what a variant changes, and
// //tools:policy_defaults_test keeps it and .clusterfuzzlite/build.sh so.
// The scheduler reads only the names below:
//
//   policy::StealOrder   steal_order.h   (CoprimeWalk, SequentialOrder, ...)
//   policy::StealAmount  steal_amount.h  (StealHalf, StealOne)
//   policy::SpinLimit    spin.h          (GoSpinLimit, NoSpin, ...)
//   policy::kSpinRounds  spin.h: stealing passes over all Ps per findrunnable
//   policy::kRunqSize, kRunnext, kLifoCap   runq_policy.h
//   policy::kFairness    fairness.h
//   policy::Stacks, kStackSize   stacks.h (through runtime/stack.h)
//   policy::kUcontext    context_switch.h: ucontext instead of asm
//   policy::kInlineSwitch context_switch.h: the scheduler's switches inlined
//   policy::CanaryFires()  canary variants only (GMP_CANARY_<NAME>): whether
//                        the planted bug strikes at this chance
#ifndef GMPLAB_RUNTIME_POLICY_CONFIG_H_
#define GMPLAB_RUNTIME_POLICY_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "runtime/policy/context_switch.h"
#include "runtime/policy/fairness.h"
#include "runtime/policy/runq_policy.h"
#include "runtime/policy/spin.h"
#include "runtime/policy/stacks.h"
#include "runtime/policy/steal_amount.h"
#include "runtime/policy/steal_order.h"
#include "runtime/policy/variant_guard.h"

#if defined(GMP_CANARY_ONE_IN)
#include <atomic>
#endif

namespace gmp::internal::policy {

inline constexpr const char* kVariantName = GMP_VARIANT_NAME;

#if defined(GMP_CANARY_ONE_IN)
// CanaryFires says whether a canary variant's planted bug strikes at this
// chance: at one chance in GMP_CANARY_ONE_IN (gmp_variant's canary_one_in;
// 1 = every time, the defect exactly as it was), counted over the whole
// process. Defined in canary variants only; the other variants never
// compile it.
inline bool CanaryFires() {
  static_assert(GMP_CANARY_ONE_IN >= 1, "GMP_CANARY_ONE_IN must be positive");
  if constexpr (GMP_CANARY_ONE_IN == 1) {
    return true;
  } else {
    static std::atomic<uint32_t> chances{0};
    return chances.fetch_add(1, std::memory_order_relaxed) %
               GMP_CANARY_ONE_IN ==
           0;
  }
}
#endif

// DescribeVariant lists every policy choice, e.g. "go_default: runq=256
// runnext=on lifo_cap=0 steal_order=CoprimeWalk ...". It is Stats::variant.
inline std::string DescribeVariant() {
  std::string s = kVariantName;
  s += ": runq=" + std::to_string(kRunqSize);
  s += std::string(" runnext=") + (kRunnext ? "on" : "off");
  s += " lifo_cap=" + std::to_string(kLifoCap);
  s += std::string(" steal_order=") + StealOrder::kName;
  s += std::string(" steal_amount=") + StealAmount::kName;
  s += std::string(" spin_limit=") + SpinLimit::kName;
  if constexpr (std::is_same_v<SpinLimit, FixedSpin>) {
    s += "(" + std::to_string(GMP_SPIN_FIXED) + ")";
  }
  s += " spin_rounds=" + std::to_string(kSpinRounds);
  s += " fairness=" + std::to_string(kFairness);
  s += std::string(" stacks=") + Stacks::kName;
  s += " stack_size=" +
       (kStackSize == 0 ? std::string("default") : std::to_string(kStackSize));
  s += std::string(" context=") + (kUcontext ? "ucontext" : "asm");
  s += std::string(" inline_switch=") + (kInlineSwitch ? "on" : "off");
#if defined(GMP_CANARY_STEAL_NO_ACQUIRE)
  s += " canary=STEAL_NO_ACQUIRE";
#elif defined(GMP_CANARY_LOST_WAKEUP)
  s += " canary=LOST_WAKEUP";
#elif defined(GMP_CANARY_LOCKED_FOREIGN)
  s += " canary=LOCKED_FOREIGN";
#elif defined(GMP_CANARY_DOUBLE_RUN)
  s += " canary=DOUBLE_RUN";
#elif defined(GMP_CANARY_RUNNEXT_NOT_CLEARED)
  s += " canary=RUNNEXT_NOT_CLEARED";
#elif defined(GMP_CANARY_EXC_STATE_NOT_SWITCHED)
  s += " canary=EXC_STATE_NOT_SWITCHED";
#elif defined(GMP_CANARY_ERRNO_NOT_PRESERVED)
  s += " canary=ERRNO_NOT_PRESERVED";
#elif defined(GMP_CANARY_EXIT_PREEMPT_ONCE)
  s += " canary=EXIT_PREEMPT_ONCE";
#elif defined(GMP_CANARY_LOCKED_EXIT_NOT_REAPED)
  s += " canary=LOCKED_EXIT_NOT_REAPED";
#elif defined(GMP_CANARY_QUERY_UNSYNCHRONIZED)
  s += " canary=QUERY_UNSYNCHRONIZED";
#endif
#if defined(GMP_CANARY_ONE_IN)
  if constexpr (GMP_CANARY_ONE_IN > 1) {
    s += "(1/" + std::to_string(GMP_CANARY_ONE_IN) + ")";
  }
#endif
  return s;
}

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_CONFIG_H_
