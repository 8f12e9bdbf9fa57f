// bench/peers/tbb_bench.cc — the gmplab workloads that fit oneTBB's
// task_group, run in a task_arena of `procs` threads.
//
// Left out, with the reason (see bench/README.md): Gosched, PingPong*,
// PingPongHog, WakeupParallelSpinning, LockOSThreadPingPong, Syscall and
// MillionParked. TBB tasks run to completion: they cannot yield, park on a
// channel or hand their thread off, and blocking inside one stalls a worker.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/version.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

#include "bench/common/bench_main.h"
#include "bench/common/util.h"

namespace gmplab_bench {
namespace {

// Chain runs as a task: starts the next link in the same group.
void Chain(int64_t n, tbb::task_group* tg) {
  if (n == 0) return;
  tg->run([n, tg] { Chain(n - 1, tg); });
}

void RunChains(benchmark::State& state, int procs, int chains) {
  tbb::task_arena arena(procs);
  const int64_t n = state.max_iterations;
  arena.execute([&] {
    while (state.KeepRunningBatch(n)) {
      tbb::task_group tg;
      for (int i = 0; i < chains; ++i) tg.run([n, chains, &tg] { Chain(n / chains, &tg); });
      tg.wait();
    }
  });
}

void BM_CreateGoroutines(benchmark::State& s, int p) { RunChains(s, p, 1); }
void BM_CreateGoroutinesParallel(benchmark::State& s, int p) { RunChains(s, p, p); }

void BM_CreateGoroutinesSingle(benchmark::State& state, int procs) {
  tbb::task_arena arena(procs);
  const int64_t n = state.max_iterations;
  std::atomic<int64_t> count{0};
  arena.execute([&] {
    while (state.KeepRunningBatch(n)) {
      tbb::task_group tg;
      for (int64_t i = 0; i < n; ++i) {
        tg.run([&count] { count.fetch_add(1, std::memory_order_relaxed); });
      }
      tg.wait();
    }
  });
}

int64_t Fib(int n) {
  if (n < kFibCutoff) return SerialFib(n);
  int64_t x = 0;
  tbb::task_group tg;
  tg.run([&x, n] { x = Fib(n - 1); });
  int64_t y = Fib(n - 2);
  tg.wait();
  return x + y;
}

void BM_Fib(benchmark::State& state, int procs) {
  tbb::task_arena arena(procs);
  arena.execute([&] {
    for (auto _ : state) {
      int64_t r = Fib(kFibN);
      if (r != 6765) state.SkipWithError("wrong fib(20)");
    }
  });
}

void BM_SkewedLoad(benchmark::State& state, int procs) {
  tbb::task_arena arena(procs);
  std::atomic<uint64_t> sink{0};
  arena.execute([&] {
    for (auto _ : state) {
      tbb::task_group tg;
      for (int i = 0; i < kSkewTasks; ++i) {
        tg.run([i, &sink] {
          sink.fetch_add(BusyWork(SkewUnits(i)), std::memory_order_relaxed);
        });
      }
      tg.wait();
    }
  });
  benchmark::DoNotOptimize(sink.load());
}

void Register(const BenchConfig& config) {
  // TBB caps its workers at the hardware threads minus one; let arenas of
  // more procs (the sweep goes to 2x the cores) really get them.
  int max_procs = 1;
  for (int p : config.procs) max_procs = std::max(max_procs, p);
  static auto* control = new tbb::global_control(
      tbb::global_control::max_allowed_parallelism, max_procs);
  (void)control;
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutines", p).c_str(),
                                       BM_CreateGoroutines, p));
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutinesParallel", p).c_str(),
                                       BM_CreateGoroutinesParallel, p));
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutinesSingle", p).c_str(),
                                       BM_CreateGoroutinesSingle, p));
    Setup(benchmark::RegisterBenchmark(BenchName("Fib", p).c_str(), BM_Fib, p));
    Setup(benchmark::RegisterBenchmark(BenchName("SkewedLoad", p).c_str(),
                                       BM_SkewedLoad, p));
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench

int main(int argc, char** argv) {
  return gmplab_bench::BenchMain(argc, argv, "tbb", [] {
    return std::string("oneTBB ") + TBB_VERSION_STRING +
           " task_group in a task_arena(procs); work stealing by TBB";
  });
}
