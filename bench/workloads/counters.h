// bench/workloads/counters.h — scheduler counters per benchmark op.
//
// StatsDelta snapshots gmp::ReadStats() before a timed loop and, after it,
// reports what the scheduler did per op (steals, parks, spins, ...) as Google
// Benchmark user counters: the counters of GMP_SCHED_COUNTERS
// (runtime/sched_counters.h)
// whose per_op is 1. Call both ends from inside gmp::Run.
#ifndef GMPLAB_BENCH_WORKLOADS_COUNTERS_H_
#define GMPLAB_BENCH_WORKLOADS_COUNTERS_H_

#include "benchmark/benchmark.h"
#include "runtime/gmp.h"

namespace gmplab_bench {

class StatsDelta {
 public:
  // StatsDelta takes the starting snapshot. Must run inside gmp::Run.
  StatsDelta() : before_(gmp::ReadStats()) {}

  // Report sets per-op counters on `state` for everything since construction.
  void Report(benchmark::State &state) const {
    gmp::Stats after = gmp::ReadStats();
    auto per_op = [&](const char *name, int64_t a, int64_t b) {
      state.counters[name] = benchmark::Counter(
          static_cast<double>(a - b), benchmark::Counter::kAvgIterations);
    };
#define GMPLAB_PER_OP(Enum, field, report, meaning) \
  if (report) per_op(#field, after.field, before_.field);
    GMP_SCHED_COUNTERS(GMPLAB_PER_OP)
#undef GMPLAB_PER_OP
    // Not "threads": Google Benchmark's JSON has a field of that name.
    state.counters["ms_created"] = static_cast<double>(after.threads);
  }

 private:
  gmp::Stats before_;
};

// Options returns gmp::Options for `procs` processors.
inline gmp::Options ProcsOptions(int procs) {
  gmp::Options o;
  o.procs = procs;
  return o;
}

}  // namespace gmplab_bench

#endif  // GMPLAB_BENCH_WORKLOADS_COUNTERS_H_
