// runtime/policy/fairness.h — the global-queue fairness interval.
//
// Every kFairness-th schedule tick of a P looks at the global run queue
// before its local one, so goroutines there cannot starve behind two
// goroutines that keep readying each other (Go: 61; 0 = never).
#ifndef GMPLAB_RUNTIME_POLICY_FAIRNESS_H_
#define GMPLAB_RUNTIME_POLICY_FAIRNESS_H_

#include <cstdint>

#include "runtime/policy/variant_guard.h"

#ifndef GMP_FAIRNESS
#define GMP_FAIRNESS 61
#endif

namespace gmp::internal::policy {

inline constexpr uint32_t kFairness = GMP_FAIRNESS;

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_FAIRNESS_H_
