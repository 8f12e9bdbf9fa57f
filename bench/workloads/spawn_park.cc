// bench/workloads/spawn_park.cc — goroutines spawned, parked and released.
//
// SpawnPark: op = one goroutine that is spawned, runs a little (a
// WaitGroup.Done), parks on an unbuffered channel, is released by the
// channel's Close and finishes (a second WaitGroup.Done). The ops come in
// batches of up to kSpawnParkBatch goroutines all parked at once, so every
// goroutine of a batch holds its own stack: this is the cost of a goroutine
// that outlives its spawner's time slice, where CreateGoroutines* measure
// ones that finish at once and reuse one stack. Counters: rss_parked_mb
// (whole process, /proc/self/statm, with the last batch parked) and
// rss_after_mb (after the last batch finished, still inside gmp::Run: what
// the runtime keeps once the goroutines are gone).
#include <algorithm>
#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/common/util.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

void BM_SpawnPark(benchmark::State& state, int procs) {
  gmp::Run(
      [&] {
        StatsDelta delta;
        int64_t rss_parked = 0;
        const int64_t n = state.max_iterations;
        while (state.KeepRunningBatch(n)) {
          for (int64_t done = 0; done < n;) {
            const int64_t batch = std::min(n - done, kSpawnParkBatch);
            gmp::Chan<bool> release;
            gmp::WaitGroup parked, finished;
            parked.Add(static_cast<int>(batch));
            finished.Add(static_cast<int>(batch));
            for (int64_t i = 0; i < batch; ++i) {
              gmp::Go([&] {
                parked.Done();
                release.Recv();
                finished.Done();
              });
            }
            parked.Wait();
            if (done + batch == n) rss_parked = ResidentBytes();
            release.Close();
            finished.Wait();
            done += batch;
          }
        }
        state.counters["rss_parked_mb"] =
            static_cast<double>(rss_parked) / (1 << 20);
        state.counters["rss_after_mb"] =
            static_cast<double>(ResidentBytes()) / (1 << 20);
        delta.Report(state);
      },
      ProcsOptions(procs));
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("SpawnPark", p).c_str(),
                                       BM_SpawnPark, p));
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
