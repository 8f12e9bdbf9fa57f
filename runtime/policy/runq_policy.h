// runtime/policy/runq_policy.h — local run-queue shape: capacity, runnext,
// and the LIFO cap.
//
// kRunqSize: ring capacity (power of two, 4..4096; Go: 256).
// kRunnext: whether a spawned or readied G takes P.runnext (Go: yes).
// kLifoCap: after this many consecutive runs from runnext, the next pick
//   bypasses runnext and takes the ring's head (0 = unlimited as in Go,
//   which bounds runnext chains by time-slice inheritance instead; Tokio: 3).
#ifndef GMPLAB_RUNTIME_POLICY_RUNQ_POLICY_H_
#define GMPLAB_RUNTIME_POLICY_RUNQ_POLICY_H_

#include <cstdint>

#include "runtime/policy/variant_guard.h"

#ifndef GMP_RUNQ_SIZE
#define GMP_RUNQ_SIZE 256
#endif
#ifndef GMP_RUNNEXT
#define GMP_RUNNEXT 1
#endif
#ifndef GMP_LIFO_CAP
#define GMP_LIFO_CAP 0
#endif

namespace gmp::internal::policy {

inline constexpr uint32_t kRunqSize = GMP_RUNQ_SIZE;
inline constexpr bool kRunnext = GMP_RUNNEXT != 0;
inline constexpr uint32_t kLifoCap = GMP_LIFO_CAP;

static_assert(kRunqSize >= 4 && kRunqSize <= 4096 &&
                  (kRunqSize & (kRunqSize - 1)) == 0,
              "GMP_RUNQ_SIZE must be a power of two in [4, 4096]");

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_RUNQ_POLICY_H_
