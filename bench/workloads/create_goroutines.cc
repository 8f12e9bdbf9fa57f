// bench/workloads/create_goroutines.cc — goroutine creation, after Go's
// proc_test.go:
//
//   CreateGoroutines          one chain: each goroutine starts the next, the
//                             last one signals (op = one goroutine)
//   CreateGoroutinesParallel  one such chain per proc
//   CreateGoroutinesSingle    one producer starts every goroutine, each calls
//                             WaitGroup.Done, so other Ps must steal
#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

// Chain runs as a goroutine: starts the next link, or signals at the end.
void Chain(int64_t n, gmp::Chan<bool>* done) {
  if (n == 0) {
    done->Send(true);
    return;
  }
  gmp::Go([n, done] { Chain(n - 1, done); });
}

void RunChains(benchmark::State& state, int procs, int chains) {
  gmp::Run(
      [&] {
        gmp::Chan<bool> done;
        StatsDelta delta;
        const int64_t n = state.max_iterations;
        while (state.KeepRunningBatch(n)) {
          for (int i = 0; i < chains; ++i) {
            int64_t len = n / chains;
            gmp::Go([len, &done] { Chain(len, &done); });
          }
          for (int i = 0; i < chains; ++i) done.Recv();
        }
        delta.Report(state);
      },
      ProcsOptions(procs));
}

void BM_CreateGoroutines(benchmark::State& state, int procs) {
  RunChains(state, procs, 1);
}

void BM_CreateGoroutinesParallel(benchmark::State& state, int procs) {
  RunChains(state, procs, procs);
}

void BM_CreateGoroutinesSingle(benchmark::State& state, int procs) {
  gmp::Run(
      [&] {
        StatsDelta delta;
        const int64_t n = state.max_iterations;
        while (state.KeepRunningBatch(n)) {
          gmp::WaitGroup wg;
          wg.Add(static_cast<int>(n));
          for (int64_t i = 0; i < n; ++i) gmp::Go([&wg] { wg.Done(); });
          wg.Wait();
        }
        delta.Report(state);
      },
      ProcsOptions(procs));
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutines", p).c_str(),
                                       BM_CreateGoroutines, p));
    Setup(benchmark::RegisterBenchmark(
        BenchName("CreateGoroutinesParallel", p).c_str(),
        BM_CreateGoroutinesParallel, p));
    Setup(benchmark::RegisterBenchmark(
        BenchName("CreateGoroutinesSingle", p).c_str(),
        BM_CreateGoroutinesSingle, p));
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
