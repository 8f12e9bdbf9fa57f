// bench/peers/thread_bench.cc — the gmplab workloads on plain OS threads,
// one std::thread per task, at most kMaxThreads alive at once.
//
// "procs" is the number of CPUs the process may run on (sched_setaffinity on
// the first min(procs, CPUs) CPUs); threads beyond that time-share. Left out,
// with the reason (see bench/README.md):
//   MillionParked  a million OS threads exceed the thread and mapping limits.
// LockOSThreadPingPong is PingPongUnbuffered: every task already owns its
// thread.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_main.h"
#include "bench/common/latency.h"
#include "bench/common/pipe_round_trip.h"
#include "bench/common/util.h"
#include "bench/peers/thread_chan.h"

namespace gmplab_bench {
namespace {

constexpr int kMaxThreads = 256;

// PinToProcs restricts the calling thread (and threads it creates) to the
// first `procs` CPUs, and restores the old mask when destroyed.
class PinToProcs {
 public:
  explicit PinToProcs(int procs) {
    sched_getaffinity(0, sizeof(old_), &old_);
    cpu_set_t set;
    CPU_ZERO(&set);
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < procs; ++cpu) {
      if (CPU_ISSET(cpu, &old_)) {
        CPU_SET(cpu, &set);
        ++n;
      }
    }
    sched_setaffinity(0, sizeof(set), &set);
  }
  ~PinToProcs() { sched_setaffinity(0, sizeof(old_), &old_); }

 private:
  cpu_set_t old_;
};

std::counting_semaphore<kMaxThreads>& Slots() {
  static auto* slots = new std::counting_semaphore<kMaxThreads>(kMaxThreads);
  return *slots;
}

// Spawn starts `fn` on a new detached thread once a slot is free.
template <class F>
void Spawn(F fn) {
  Slots().acquire();
  std::thread([fn = std::move(fn)]() mutable {
    fn();
    Slots().release();
  }).detach();
}

// TrySpawn starts `fn` on a new thread if a slot is free now.
template <class F>
bool TrySpawn(F& fn) {
  if (!Slots().try_acquire()) return false;
  std::thread([fn = std::move(fn)]() mutable {
    fn();
    Slots().release();
  }).detach();
  return true;
}

void Chain(int64_t n, ThreadWaitGroup* done) {
  if (n == 0) {
    done->Done();
    return;
  }
  Spawn([n, done] { Chain(n - 1, done); });
}

void RunChains(benchmark::State& state, int procs, int chains) {
  PinToProcs pin(procs);
  const int64_t n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    ThreadWaitGroup done;
    done.Add(chains);
    for (int i = 0; i < chains; ++i) Spawn([n, chains, &done] { Chain(n / chains, &done); });
    done.Wait();
  }
}

void BM_CreateGoroutines(benchmark::State& s, int p) { RunChains(s, p, 1); }
void BM_CreateGoroutinesParallel(benchmark::State& s, int p) { RunChains(s, p, p); }

void BM_CreateGoroutinesSingle(benchmark::State& state, int procs) {
  PinToProcs pin(procs);
  const int64_t n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    ThreadWaitGroup wg;
    wg.Add(n);
    for (int64_t i = 0; i < n; ++i) Spawn([&wg] { wg.Done(); });
    wg.Wait();
  }
}

void PingPong(benchmark::State& state, int procs, size_t cap) {
  PinToProcs pin(procs);
  ThreadChan<int> ping(cap), pong(cap);
  std::thread partner([&] {
    while (auto v = ping.Recv()) pong.Send(*v);
  });
  for (auto _ : state) {
    ping.Send(1);
    pong.Recv();
  }
  ping.Close();
  partner.join();
}

void BM_PingPongUnbuffered(benchmark::State& s, int p) { PingPong(s, p, 0); }
void BM_PingPongBuffered(benchmark::State& s, int p) { PingPong(s, p, 1); }

void BM_PingPongHog(benchmark::State& state) {
  PinToProcs pin(1);
  std::atomic<bool> stop{false};
  std::thread hog([&] {
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  ThreadChan<bool> ping, pong, finished;
  const int64_t n = state.max_iterations;
  std::thread a([&] {
    for (int64_t j = 0; j < n; ++j) pong.Send(*ping.Recv());
    stop.store(true);
    finished.Send(true);
  });
  std::thread b([&] {
    for (int64_t i = 0; i < n; ++i) ping.Send(*pong.Recv());
  });
  while (state.KeepRunningBatch(n)) {
    ping.Send(true);
    finished.Recv();
  }
  ping.Recv();
  a.join();
  b.join();
  hog.join();
}

void BM_Gosched(benchmark::State& state) {
  PinToProcs pin(1);
  const int64_t n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    std::thread t[2];
    for (int k = 0; k < 2; ++k) {
      int64_t calls = n / 2 + (k == 0 ? n % 2 : 0);
      t[k] = std::thread([calls] {
        for (int64_t i = 0; i < calls; ++i) sched_yield();
      });
    }
    t[0].join();
    t[1].join();
  }
}

void BM_WakeupParallelSpinning(benchmark::State& state, int procs, int delay_us) {
  PinToProcs pin(procs);
  const int64_t delay = int64_t{delay_us} * 1000;
  const int64_t n = state.max_iterations;
  ThreadChan<bool> ping, pong, start;
  std::thread a([&] {
    start.Recv();
    for (int64_t i = 0; i < n; ++i) {
      SpinFor(delay + kWakeDelayNs);
      ping.Send(true);
      SpinFor(delay);
      pong.Recv();
    }
  });
  std::thread b([&] {
    for (int64_t i = 0; i < n; ++i) {
      SpinFor(delay);
      ping.Recv();
      SpinFor(delay + kWakeDelayNs);
      pong.Send(true);
    }
  });
  while (state.KeepRunningBatch(n)) {
    start.Send(true);
    a.join();
    b.join();
  }
}

// WakeupLatency as bench/workloads/wakeup_latency.cc, with threads: the
// receiver thread acks and blocks in Recv on a rendezvous channel (a condition
// variable wait, i.e. a futex sleep); the benchmark thread takes the ack,
// spins the gap and sends a CLOCK_MONOTONIC reading. A sample is the
// receiver's reading after Recv minus the sent one: the OS's wake-up latency
// plus the channel's mutex.
void BM_WakeupLatency(benchmark::State& state, int procs) {
  PinToProcs pin(procs);
  const int64_t n = state.max_iterations;
  std::vector<int64_t> samples(static_cast<size_t>(n));
  ThreadChan<int64_t> data;
  ThreadChan<bool> ack;
  std::thread receiver([&] {
    for (int64_t i = 0; i < n; ++i) {
      ack.Send(true);
      std::optional<int64_t> sent = data.Recv();
      samples[static_cast<size_t>(i)] = MonotonicNs() - *sent;
    }
  });
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  for (auto _ : state) {
    ack.Recv();
    SpinFor(WakeGap(&rng));
    data.Send(MonotonicNs());
  }
  receiver.join();
  ReportLatencies(state, "WakeupLatency", procs, samples);
}

int64_t Fib(int n) {
  if (n < kFibCutoff) return SerialFib(n);
  int64_t x = 0;
  ThreadWaitGroup wg;
  wg.Add(1);
  auto left = [&x, &wg, n] {
    x = Fib(n - 1);
    wg.Done();
  };
  if (!TrySpawn(left)) left();  // bounded: run inline when no slot is free
  int64_t y = Fib(n - 2);
  wg.Wait();
  return x + y;
}

void BM_Fib(benchmark::State& state, int procs) {
  PinToProcs pin(procs);
  for (auto _ : state) {
    int64_t r = Fib(kFibN);
    if (r != 6765) state.SkipWithError("wrong fib(20)");
  }
}

void BM_SkewedLoad(benchmark::State& state, int procs) {
  PinToProcs pin(procs);
  std::atomic<uint64_t> sink{0};
  for (auto _ : state) {
    ThreadWaitGroup wg;
    wg.Add(kSkewTasks);
    for (int i = 0; i < kSkewTasks; ++i) {
      Spawn([i, &wg, &sink] {
        sink.fetch_add(BusyWork(SkewUnits(i)), std::memory_order_relaxed);
        wg.Done();
      });
    }
    wg.Wait();
  }
  benchmark::DoNotOptimize(sink.load());
}

void BM_Syscall(benchmark::State& state, int procs) {
  PinToProcs pin(procs);
  PipeRoundTrips(state);
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutines", p).c_str(),
                                       BM_CreateGoroutines, p));
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutinesParallel", p).c_str(),
                                       BM_CreateGoroutinesParallel, p));
    Setup(benchmark::RegisterBenchmark(BenchName("CreateGoroutinesSingle", p).c_str(),
                                       BM_CreateGoroutinesSingle, p));
    Setup(benchmark::RegisterBenchmark(BenchName("PingPongUnbuffered", p).c_str(),
                                       BM_PingPongUnbuffered, p));
    Setup(benchmark::RegisterBenchmark(BenchName("PingPongBuffered", p).c_str(),
                                       BM_PingPongBuffered, p));
    Setup(benchmark::RegisterBenchmark(BenchName("LockOSThreadPingPong", p).c_str(),
                                       BM_PingPongUnbuffered, p));
    if (p >= 2) {
      for (int d : kWakeupDelaysUs) {
        std::string w = "WakeupParallelSpinning/delay_us:" + std::to_string(d);
        Setup(benchmark::RegisterBenchmark(BenchName(w, p).c_str(),
                                           BM_WakeupParallelSpinning, p, d));
      }
    }
    Setup(benchmark::RegisterBenchmark(BenchName("Fib", p).c_str(), BM_Fib, p));
    Setup(benchmark::RegisterBenchmark(BenchName("SkewedLoad", p).c_str(),
                                       BM_SkewedLoad, p));
    Setup(benchmark::RegisterBenchmark(BenchName("Syscall", p).c_str(), BM_Syscall, p));
    Setup(benchmark::RegisterBenchmark(BenchName("WakeupLatency", p).c_str(),
                                       BM_WakeupLatency, p));
  }
  Setup(benchmark::RegisterBenchmark(BenchName("PingPongHog", 1).c_str(), BM_PingPongHog))
      // OS time slices make each op ~40us here.
      ->Iterations(config.hog_ops > 0 ? config.hog_ops : 10000);
  Setup(benchmark::RegisterBenchmark(BenchName("Gosched", 1).c_str(), BM_Gosched));
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench

int main(int argc, char** argv) {
  return gmplab_bench::BenchMain(argc, argv, "thread", [] {
    return std::string(
        "std::thread, one thread per task, at most 256 alive; procs = CPUs in "
        "the affinity mask; channels = mutex + condition_variable");
  });
}
