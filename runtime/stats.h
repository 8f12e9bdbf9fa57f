// runtime/stats.h — the scheduler's counters behind gmp::ReadStats.
//
// Hot counters (spawned, completed, ...) live in each P and are bumped only
// by the M that holds the P, with a relaxed load + store (no locked
// instruction, no shared cache line). Rare counters and those bumped without
// a P live in Sched and use fetch_add. ReadStats sums both; a read while the
// runtime runs is a racy-but-atomic snapshot.
#ifndef GMPLAB_RUNTIME_STATS_H_
#define GMPLAB_RUNTIME_STATS_H_

#include <atomic>
#include <cstdint>

#include "runtime/sched_counters.h"

namespace gmp::internal {

// One enumerator per counter of GMP_SCHED_COUNTERS
// (runtime/sched_counters.h), in its order.
enum Counter : int {
#define GMP_COUNTER_ENUM(Enum, field, per_op, meaning) Enum,
  GMP_SCHED_COUNTERS(GMP_COUNTER_ENUM)
#undef GMP_COUNTER_ENUM
      kNumCounters,
};

struct Counters {
  std::atomic<int64_t> v[kNumCounters] = {};

  // Bump adds `n` to counter `c`. Only the single owner of this Counters
  // (the M holding the P) may call it.
  void Bump(Counter c, int64_t n = 1) {
    v[c].store(v[c].load(std::memory_order_relaxed) + n,
               std::memory_order_relaxed);
  }
  // Add adds `n` to counter `c` atomically. Any thread.
  void Add(Counter c, int64_t n = 1) {
    v[c].fetch_add(n, std::memory_order_relaxed);
  }
  int64_t Get(Counter c) const { return v[c].load(std::memory_order_relaxed); }
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_STATS_H_
