// bench/peers/boost_fiber_bench.cc — the gmplab workloads on Boost.Fiber with
// its work_stealing algorithm on `procs` threads (the main thread is one).
//
// work_stealing keeps its scheduler table in statics sized on first use, so a
// process serves exactly one procs value: run it once per --procs=N. Idle
// workers spin (suspend = false): with suspend = true a sleeping thread is
// never woken to steal new work. Fibers get 32 KiB stacks (fixedsize_stack).
//
// Left out, with the reason (see bench/README.md):
//   PingPongHog           no preemption: the hog would own its thread forever
//   LockOSThreadPingPong  no per-fiber thread pinning in work_stealing
//   Syscall               no hand-off: a blocking read stops the whole thread
//                         and every fiber queued on it (deadlocks on 1 proc)
//   MillionParked         a million 32 KiB fiber stacks (>= 32 GB) do not fit
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <boost/fiber/all.hpp>
#include <boost/version.hpp>

#include "bench/common/bench_main.h"
#include "bench/common/latency.h"
#include "bench/common/util.h"

namespace gmplab_bench {
namespace {

namespace fibers = boost::fibers;
constexpr size_t kStackSize = 32 * 1024;

// Go starts `fn` as a detached fiber.
template <class F>
void Go(F&& fn) {
  fibers::fiber(std::allocator_arg, fibers::fixedsize_stack(kStackSize),
                std::forward<F>(fn))
      .detach();
}

// FiberWaitGroup is sync.WaitGroup for fibers.
class FiberWaitGroup {
 public:
  void Add(int64_t n) {
    std::unique_lock<fibers::mutex> l(mu_);
    count_ += n;
    if (count_ == 0) cv_.notify_all();
  }
  void Done() { Add(-1); }
  void Wait() {
    std::unique_lock<fibers::mutex> l(mu_);
    cv_.wait(l, [&] { return count_ == 0; });
  }

 private:
  fibers::mutex mu_;
  fibers::condition_variable cv_;
  int64_t count_ = 0;
};

// Pool is the process's work_stealing thread pool.
struct Pool {
  int procs = 0;
  std::vector<std::thread> workers;
  fibers::mutex mu;
  fibers::condition_variable cv;
  bool stop = false;
};
Pool* pool = nullptr;

void StartPool(int procs) {
  pool = new Pool;
  pool->procs = procs;
  for (int i = 1; i < procs; ++i) {
    pool->workers.emplace_back([procs] {
      fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(procs, false);
      std::unique_lock<fibers::mutex> l(pool->mu);
      pool->cv.wait(l, [] { return pool->stop; });
    });
  }
  // Joins the barrier in work_stealing's constructor with the workers.
  fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(procs, false);
}

void Chain(int64_t n, FiberWaitGroup* done) {
  if (n == 0) {
    done->Done();
    return;
  }
  Go([n, done] { Chain(n - 1, done); });
}

void RunChains(benchmark::State& state, int chains) {
  const int64_t n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    FiberWaitGroup done;
    done.Add(chains);
    for (int i = 0; i < chains; ++i) Go([n, chains, &done] { Chain(n / chains, &done); });
    done.Wait();
  }
}

void BM_CreateGoroutines(benchmark::State& s) { RunChains(s, 1); }
void BM_CreateGoroutinesParallel(benchmark::State& s) { RunChains(s, pool->procs); }

void BM_CreateGoroutinesSingle(benchmark::State& state) {
  const int64_t n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    FiberWaitGroup wg;
    wg.Add(n);
    for (int64_t i = 0; i < n; ++i) Go([&wg] { wg.Done(); });
    wg.Wait();
  }
}

template <class Ch>
void PingPong(benchmark::State& state, Ch& ping, Ch& pong) {
  FiberWaitGroup wg;
  wg.Add(1);
  Go([&] {
    int v;
    while (ping.pop(v) == fibers::channel_op_status::success) pong.push(v);
    wg.Done();
  });
  int v = 0;
  for (auto _ : state) {
    ping.push(1);
    pong.pop(v);
  }
  ping.close();
  wg.Wait();
}

void BM_PingPongUnbuffered(benchmark::State& state) {
  fibers::unbuffered_channel<int> ping, pong;
  PingPong(state, ping, pong);
}

void BM_PingPongBuffered(benchmark::State& state) {
  fibers::buffered_channel<int> ping(2), pong(2);  // 2: Boost's minimum
  PingPong(state, ping, pong);
}

void BM_Gosched(benchmark::State& state) {
  const int64_t n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    FiberWaitGroup wg;
    wg.Add(2);
    for (int k = 0; k < 2; ++k) {
      int64_t calls = n / 2 + (k == 0 ? n % 2 : 0);
      Go([calls, &wg] {
        for (int64_t i = 0; i < calls; ++i) boost::this_fiber::yield();
        wg.Done();
      });
    }
    wg.Wait();
  }
}

void BM_WakeupParallelSpinning(benchmark::State& state, int delay_us) {
  const int64_t delay = int64_t{delay_us} * 1000;
  const int64_t n = state.max_iterations;
  fibers::unbuffered_channel<bool> ping, pong, start;
  FiberWaitGroup wg;
  wg.Add(2);
  Go([&] {
    bool b;
    start.pop(b);
    for (int64_t i = 0; i < n; ++i) {
      SpinFor(delay + kWakeDelayNs);
      ping.push(true);
      SpinFor(delay);
      pong.pop(b);
    }
    wg.Done();
  });
  Go([&] {
    bool b;
    for (int64_t i = 0; i < n; ++i) {
      SpinFor(delay);
      ping.pop(b);
      SpinFor(delay + kWakeDelayNs);
      pong.push(true);
    }
    wg.Done();
  });
  while (state.KeepRunningBatch(n)) {
    start.push(true);
    wg.Wait();
  }
}

// WakeupLatency as bench/workloads/wakeup_latency.cc: the receiver fiber acks
// and parks in pop on an unbuffered channel; the main fiber takes the ack,
// spins the gap, sends a CLOCK_MONOTONIC reading; a sample is the receiver's
// reading after pop minus the sent one.
void BM_WakeupLatency(benchmark::State& state) {
  const int64_t n = state.max_iterations;
  std::vector<int64_t> samples(static_cast<size_t>(n));
  fibers::unbuffered_channel<int64_t> data;
  fibers::unbuffered_channel<bool> ack;
  FiberWaitGroup wg;
  wg.Add(1);
  Go([&] {
    int64_t sent = 0;
    for (int64_t i = 0; i < n; ++i) {
      ack.push(true);
      data.pop(sent);
      samples[static_cast<size_t>(i)] = MonotonicNs() - sent;
    }
    wg.Done();
  });
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  bool b;
  for (auto _ : state) {
    ack.pop(b);
    SpinFor(WakeGap(&rng));
    data.push(MonotonicNs());
  }
  wg.Wait();
  ReportLatencies(state, "WakeupLatency", pool->procs, samples);
}

int64_t Fib(int n) {
  if (n < kFibCutoff) return SerialFib(n);
  int64_t x = 0;
  fibers::fiber left(std::allocator_arg, fibers::fixedsize_stack(kStackSize),
                     [&x, n] { x = Fib(n - 1); });
  int64_t y = Fib(n - 2);
  left.join();
  return x + y;
}

void BM_Fib(benchmark::State& state) {
  for (auto _ : state) {
    int64_t r = Fib(kFibN);
    if (r != 6765) state.SkipWithError("wrong fib(20)");
  }
}

void BM_SkewedLoad(benchmark::State& state) {
  std::atomic<uint64_t> sink{0};
  for (auto _ : state) {
    FiberWaitGroup wg;
    wg.Add(kSkewTasks);
    for (int i = 0; i < kSkewTasks; ++i) {
      Go([i, &wg, &sink] {
        sink.fetch_add(BusyWork(SkewUnits(i)), std::memory_order_relaxed);
        wg.Done();
      });
    }
    wg.Wait();
  }
  benchmark::DoNotOptimize(sink.load());
}

void Register(const BenchConfig& config) {
  if (config.procs.size() != 1) {
    std::fprintf(stderr,
                 "boost_fiber_bench: give exactly one --procs=N per process "
                 "(work_stealing's scheduler table is process-global)\n");
    std::exit(2);
  }
  const int p = config.procs[0];
  StartPool(p);
  Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutines", p).c_str(),
                                     BM_CreateGoroutines));
  Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutinesParallel", p).c_str(),
                                     BM_CreateGoroutinesParallel));
  Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutinesSingle", p).c_str(),
                                     BM_CreateGoroutinesSingle));
  Setup(benchmark::RegisterBenchmark(BenchName("PingPongUnbuffered", p).c_str(),
                                     BM_PingPongUnbuffered));
  Setup(benchmark::RegisterBenchmark(BenchName("PingPongBuffered", p).c_str(),
                                     BM_PingPongBuffered));
  if (p == 1) {
    Setup(benchmark::RegisterBenchmark(BenchName("Gosched", 1).c_str(), BM_Gosched));
  } else {
    for (int d : kWakeupDelaysUs) {
      std::string w = "WakeupParallelSpinning/delay_us:" + std::to_string(d);
      Setup(benchmark::RegisterBenchmark(BenchName(w, p).c_str(),
                                         BM_WakeupParallelSpinning, d));
    }
  }
  Setup(benchmark::RegisterBenchmark(BenchName("Fib", p).c_str(), BM_Fib));
  Setup(benchmark::RegisterBenchmark(BenchName("SkewedLoad", p).c_str(), BM_SkewedLoad));
  Setup(benchmark::RegisterBenchmark(BenchName("WakeupLatency", p).c_str(),
                                     BM_WakeupLatency));
}
GMPLAB_BENCH_REGISTER(Register);

void StopPool() {
  if (pool == nullptr) return;
  {
    std::unique_lock<fibers::mutex> l(pool->mu);
    pool->stop = true;
  }
  pool->cv.notify_all();
  for (auto& t : pool->workers) t.join();
}

}  // namespace
}  // namespace gmplab_bench

int main(int argc, char** argv) {
  int rc = gmplab_bench::BenchMain(argc, argv, "boost_fiber", [] {
    return std::string("Boost.Fiber ") + std::to_string(BOOST_VERSION / 100000) + "." +
           std::to_string(BOOST_VERSION / 100 % 1000) +
           " algo::work_stealing(procs, suspend=false), 32 KiB fixedsize stacks";
  });
  gmplab_bench::StopPool();
  return rc;
}
