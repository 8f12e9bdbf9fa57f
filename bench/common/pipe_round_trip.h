// bench/common/pipe_round_trip.h — the Syscall workload's body on plain
// threads: a one-byte round trip through two pipes per iteration, a
// blocking write(2) and read(2) on each side. The thread peer and the floor
// run it under their own CPU pinning.
#ifndef GMPLAB_BENCH_COMMON_PIPE_ROUND_TRIP_H_
#define GMPLAB_BENCH_COMMON_PIPE_ROUND_TRIP_H_

#include <unistd.h>

#include <thread>

#include "benchmark/benchmark.h"

namespace gmplab_bench {

// PipeRoundTrips times one pipe round trip with a partner thread per
// iteration of `state`; a failed pipe or i/o ends the benchmark with an
// error.
inline void PipeRoundTrips(benchmark::State& state) {
  int to_partner[2], to_main[2];
  if (pipe(to_partner) != 0 || pipe(to_main) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  std::thread partner([&] {
    // The partner echoes until it reads EOF.
    char c;
    while (read(to_partner[0], &c, 1) == 1) {
      if (write(to_main[1], &c, 1) != 1) break;
    }
  });
  char c = 'x';
  for (auto _ : state) {
    if (write(to_partner[1], &c, 1) != 1 || read(to_main[0], &c, 1) != 1) {
      state.SkipWithError("pipe i/o failed");
      break;
    }
  }
  close(to_partner[1]);
  partner.join();
  close(to_partner[0]);
  close(to_main[0]);
  close(to_main[1]);
}

}  // namespace gmplab_bench

#endif  // GMPLAB_BENCH_COMMON_PIPE_ROUND_TRIP_H_
