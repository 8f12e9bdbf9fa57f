// bench/workloads/spawn_park.cc — goroutines spawned, parked and released.
//
// SpawnPark: op = one goroutine that is spawned, runs a little (a
// WaitGroup.Done), parks on an unbuffered channel, is released by the
// channel's Close and finishes (a second WaitGroup.Done). The ops come in
// batches of up to kSpawnParkBatch goroutines all parked at once, so every
// goroutine of a batch holds its own stack: this is the cost of a goroutine
// that outlives its spawner's time slice, where CreateGoroutines* measure
// ones that finish at once and reuse one stack. Counters, the same in the Go
// and Tokio versions: rss_parked_mb (whole process, /proc/self/statm, with
// the last batch parked) and rss_after_mb (after the last batch finished,
// still inside gmp::Run: what the runtime keeps once the goroutines are
// gone); spawn_ns and release_ns, the wall time per goroutine of the two
// halves of each batch (spawning until every goroutine has parked, and
// closing the channel until every goroutine has finished); faults, the
// process's minor page faults per goroutine (pages made resident).
#include <algorithm>
#include <chrono>
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
        int64_t spawn_ns = 0, release_ns = 0;
        const int64_t n = state.max_iterations;
        const int64_t faults0 = MinorFaults();
        while (state.KeepRunningBatch(n)) {
          for (int64_t done = 0; done < n;) {
            const auto t0 = std::chrono::steady_clock::now();
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
            const auto t1 = std::chrono::steady_clock::now();
            if (done + batch == n) rss_parked = ResidentBytes();
            const auto t2 = std::chrono::steady_clock::now();
            release.Close();
            finished.Wait();
            const auto t3 = std::chrono::steady_clock::now();
            spawn_ns += std::chrono::nanoseconds(t1 - t0).count();
            release_ns += std::chrono::nanoseconds(t3 - t2).count();
            done += batch;
          }
        }
        const double per_g = 1.0 / static_cast<double>(n);
        state.counters["spawn_ns"] = static_cast<double>(spawn_ns) * per_g;
        state.counters["release_ns"] = static_cast<double>(release_ns) * per_g;
        state.counters["faults"] =
            static_cast<double>(MinorFaults() - faults0) * per_g;
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
