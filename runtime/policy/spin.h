// runtime/policy/spin.h — how many Ms may spin looking for work.
//
// MaySpin(nmspinning, nprocs, npidle) is asked by an M that found no local
// work before it starts spinning (stealing); `nmspinning` is the number of
// Ms spinning now. Spinning Ms make wake-ups cheap; too many burn CPU.
// kAllowsSpinning is false for a limit under which no M ever spins: then an
// M that found no work makes one stealing pass itself before it parks, since
// no spinner will (findrunnable).
//
// A variant picks a limit by its kName (GMP_SPIN_LIMIT, default GoSpinLimit);
// GMP_SPIN_FIXED is FixedSpin's cap (default 1) and GMP_SPIN_ROUNDS
// (kSpinRounds, default 4) how many stealing passes over all Ps a spinner
// makes.
#ifndef GMPLAB_RUNTIME_POLICY_SPIN_H_
#define GMPLAB_RUNTIME_POLICY_SPIN_H_

#include <cstdint>

#include "runtime/policy/variant_guard.h"

#ifndef GMP_SPIN_LIMIT
#define GMP_SPIN_LIMIT GoSpinLimit
#endif
#ifndef GMP_SPIN_FIXED
#define GMP_SPIN_FIXED 1
#endif
#ifndef GMP_SPIN_ROUNDS
#define GMP_SPIN_ROUNDS 4
#endif

namespace gmp::internal::policy {

// GoSpinLimit: spinning Ms stay at most half the busy Ps
// (2*nmspinning < nprocs - npidle).
struct GoSpinLimit {
  static constexpr const char* kName = "GoSpinLimit";
  static constexpr bool kAllowsSpinning = true;
  static bool MaySpin(int32_t nmspinning, int32_t nprocs, int32_t npidle) {
    return 2 * nmspinning < nprocs - npidle;
  }
};

// NoSpin: an M never spins; it makes one stealing pass and parks.
struct NoSpin {
  static constexpr const char* kName = "NoSpin";
  static constexpr bool kAllowsSpinning = false;
  static bool MaySpin(int32_t, int32_t, int32_t) { return false; }
};

// UnboundedSpin: every idle M spins.
struct UnboundedSpin {
  static constexpr const char* kName = "UnboundedSpin";
  static constexpr bool kAllowsSpinning = true;
  static bool MaySpin(int32_t, int32_t, int32_t) { return true; }
};

// FixedSpin: at most GMP_SPIN_FIXED Ms spin at once.
struct FixedSpin {
  static constexpr const char* kName = "FixedSpin";
  static constexpr bool kAllowsSpinning = true;
  static bool MaySpin(int32_t nmspinning, int32_t, int32_t) {
    return nmspinning < GMP_SPIN_FIXED;
  }
};

// TokioSpinLimit: searching workers stay at most half of all workers.
struct TokioSpinLimit {
  static constexpr const char* kName = "TokioSpinLimit";
  static constexpr bool kAllowsSpinning = true;
  static bool MaySpin(int32_t nmspinning, int32_t nprocs, int32_t) {
    return 2 * nmspinning < nprocs;
  }
};

// SpinLimit is the variant's spinning limit.
using SpinLimit = GMP_SPIN_LIMIT;

// kSpinRounds is how many stealing passes over all Ps a spinning M makes
// before it gives up.
inline constexpr int kSpinRounds = GMP_SPIN_ROUNDS;
static_assert(kSpinRounds >= 1, "GMP_SPIN_ROUNDS must be at least 1");

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_SPIN_H_
