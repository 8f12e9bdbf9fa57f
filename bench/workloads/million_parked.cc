// bench/workloads/million_parked.cc — a million parked goroutines.
//
// One op starts --million goroutines (default 1,000,000) that each park on
// one unbuffered channel, records the resident set while they are all parked,
// then closes the channel and waits until every one has finished. Counters:
// spawn_s (until all are parked), release_s, rss_mb while parked and
// rss_bytes_per_g (growth over the process before). Runs on the default procs
// (the hardware threads), one iteration per repetition.
#include <chrono>
#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/common/util.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void BM_MillionParked(benchmark::State& state, int procs, int64_t count) {
  gmp::Run(
      [&] {
        StatsDelta delta;
        for (auto _ : state) {
          int64_t rss_before = ResidentBytes();
          gmp::Chan<bool> release;
          gmp::WaitGroup parked, finished;
          parked.Add(static_cast<int>(count));
          finished.Add(static_cast<int>(count));
          auto t0 = std::chrono::steady_clock::now();
          for (int64_t i = 0; i < count; ++i) {
            gmp::Go([&] {
              parked.Done();
              release.Recv();
              finished.Done();
            });
          }
          parked.Wait();
          auto t1 = std::chrono::steady_clock::now();
          int64_t rss = ResidentBytes();
          release.Close();
          finished.Wait();
          auto t2 = std::chrono::steady_clock::now();
          state.counters["goroutines"] = static_cast<double>(count);
          state.counters["spawn_s"] = Seconds(t0, t1);
          state.counters["release_s"] = Seconds(t1, t2);
          state.counters["rss_mb"] = static_cast<double>(rss) / (1 << 20);
          state.counters["rss_bytes_per_g"] =
              static_cast<double>(rss - rss_before) / static_cast<double>(count);
        }
        delta.Report(state);
      },
      ProcsOptions(procs));
}

void Register(const BenchConfig& config) {
  int p = config.hardware_threads;
  benchmark::RegisterBenchmark(BenchName("MillionParked", p).c_str(),
                               BM_MillionParked, p, config.million)
      ->UseRealTime()
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1);
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
