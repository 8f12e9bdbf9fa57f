// runtime/policy/steal_amount.h — how much a thief takes from a victim.
//
// Take(n) returns how many of the victim's n queued goroutines one steal
// moves; it must be 0 for n == 0 and at most n/2 rounded up. A variant picks
// one by its kName (GMP_STEAL_AMOUNT, default StealHalf).
#ifndef GMPLAB_RUNTIME_POLICY_STEAL_AMOUNT_H_
#define GMPLAB_RUNTIME_POLICY_STEAL_AMOUNT_H_

#include <cstdint>

#include "runtime/policy/variant_guard.h"

#ifndef GMP_STEAL_AMOUNT
#define GMP_STEAL_AMOUNT StealHalf
#endif

namespace gmp::internal::policy {

// StealHalf is Go's choice: half, rounded up.
struct StealHalf {
  static constexpr const char* kName = "StealHalf";
  static constexpr uint32_t Take(uint32_t n) { return n - n / 2; }
};

// StealOne moves a single goroutine per steal.
struct StealOne {
  static constexpr const char* kName = "StealOne";
  static constexpr uint32_t Take(uint32_t n) { return n == 0 ? 0 : 1; }
};

// StealAmount is the variant's steal amount.
using StealAmount = GMP_STEAL_AMOUNT;

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_STEAL_AMOUNT_H_
