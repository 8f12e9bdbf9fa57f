// bench/workloads/fork_join.cc — fork/join work that needs stealing.
//
//   Fib         fib(20) with a goroutine and a WaitGroup per fork (op = one
//               fib(20), ~11k forks)
//   SkewedLoad  one goroutine starts 256 CPU-bound tasks of skewed sizes
//               (every 16th is 16x longer) on its own P; the other Ps only get
//               work by stealing (op = one batch)
#include <atomic>
#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/common/util.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

int64_t Fib(int n) {
  if (n < kFibCutoff) return SerialFib(n);
  int64_t x = 0;
  gmp::WaitGroup wg;
  wg.Add(1);
  gmp::Go([&x, &wg, n] {
    x = Fib(n - 1);
    wg.Done();
  });
  int64_t y = Fib(n - 2);
  wg.Wait();
  return x + y;
}

void BM_Fib(benchmark::State& state, int procs) {
  gmp::Run(
      [&] {
        StatsDelta delta;
        for (auto _ : state) {
          int64_t r = Fib(kFibN);
          if (r != 6765) state.SkipWithError("wrong fib(20)");
          benchmark::DoNotOptimize(r);
        }
        delta.Report(state);
      },
      ProcsOptions(procs));
}

void BM_SkewedLoad(benchmark::State& state, int procs) {
  gmp::Run(
      [&] {
        StatsDelta delta;
        std::atomic<uint64_t> sink{0};
        for (auto _ : state) {
          gmp::WaitGroup wg;
          wg.Add(kSkewTasks);
          for (int i = 0; i < kSkewTasks; ++i) {
            gmp::Go([i, &wg, &sink] {
              sink.fetch_add(BusyWork(SkewUnits(i)), std::memory_order_relaxed);
              wg.Done();
            });
          }
          wg.Wait();
        }
        delta.Report(state);
        benchmark::DoNotOptimize(sink.load());
      },
      ProcsOptions(procs));
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("Fib", p).c_str(), BM_Fib, p));
    Setup(benchmark::RegisterBenchmark(BenchName("SkewedLoad", p).c_str(),
                                       BM_SkewedLoad, p));
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
