// runtime/policy/spin.h — how many Ms may spin looking for work.
//
// MaySpin(nmspinning, nprocs, npidle) is asked by an M that found no local
// work before it starts spinning (stealing); `nmspinning` is the number of
// Ms spinning now. Spinning Ms make wake-ups cheap; too many burn CPU.
// kRounds (config.h) is how many stealing passes over all Ps a spinner makes.
#ifndef GMPLAB_RUNTIME_POLICY_SPIN_H_
#define GMPLAB_RUNTIME_POLICY_SPIN_H_

#include <cstdint>

#ifndef GMP_SPIN_FIXED
#define GMP_SPIN_FIXED 1
#endif

namespace gmp::internal::policy {

// GoSpinLimit: spinning Ms stay at most half the busy Ps
// (2*nmspinning < nprocs - npidle).
struct GoSpinLimit {
  static constexpr const char* kName = "GoSpinLimit";
  static bool MaySpin(int32_t nmspinning, int32_t nprocs, int32_t npidle) {
    return 2 * nmspinning < nprocs - npidle;
  }
};

// NoSpin: an M never spins; it makes one stealing pass and parks.
struct NoSpin {
  static constexpr const char* kName = "NoSpin";
  static bool MaySpin(int32_t, int32_t, int32_t) { return false; }
};

// UnboundedSpin: every idle M spins.
struct UnboundedSpin {
  static constexpr const char* kName = "UnboundedSpin";
  static bool MaySpin(int32_t, int32_t, int32_t) { return true; }
};

// FixedSpin: at most GMP_SPIN_FIXED Ms spin at once.
struct FixedSpin {
  static constexpr const char* kName = "FixedSpin";
  static bool MaySpin(int32_t nmspinning, int32_t, int32_t) {
    return nmspinning < GMP_SPIN_FIXED;
  }
};

// TokioSpinLimit: searching workers stay at most half of all workers.
struct TokioSpinLimit {
  static constexpr const char* kName = "TokioSpinLimit";
  static bool MaySpin(int32_t nmspinning, int32_t nprocs, int32_t) {
    return 2 * nmspinning < nprocs;
  }
};

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_SPIN_H_
