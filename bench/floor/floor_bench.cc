// bench/floor/floor_bench.cc — the floor: what a workload costs with no
// scheduler at all (//bench:floor_bench, the report's `floor` system).
//
// Some workloads are bound by something no scheduler can remove: a spin
// delay, a blocking syscall, the page faults of fresh stacks. For those,
// gmplab's report measures the time *above* the floor. This binary does only
// that unavoidable part, on plain threads, with the same shape and count as
// the gmplab workload (bench/workloads/), under the same benchmark names, so
// the report pairs it cell by cell and block by block:
//
//   WakeupParallelSpinning/delay_us:{0,5,50}  (procs >= 2, as gmplab)
//       Two threads run the workload's exact spins: per op the sender spins
//       delay + 5us and hands over, the receiver spins delay and waits, then
//       they swap roles. A hand-over is a store to a shared counter that the
//       waiting thread polls, the cheapest there is (a cache-line transfer,
//       no sleep and no wake-up), so an op costs 2 * (delay + 5us) plus two
//       cache-line transfers: the serialisation the workload itself imposes.
//       Each wait lasts about 5us (the sender's extra spin); a waiter that
//       has polled kPollNs (10x that) sleeps on a futex instead, which only
//       happens when the machine takes its partner's CPU away, and keeps a
//       loaded machine from turning the floor into a fight of two pollers.
//       Threads are not pinned; two busy threads need two CPUs, which every
//       procs value of this workload gives gmplab.
//   Syscall
//       The same round trip as gmplab's: one write(2) and one blocking
//       read(2) on each side of two pipes, two threads. Both threads run on
//       one CPU at every procs value: the round trip is strictly sequential
//       (nothing to gain from a second CPU), and a wake-up on the same CPU is
//       the kernel's cheapest (a cross-CPU wake-up pays an IPI, tens of us on
//       a VM), so this is the lowest cost of these syscalls on plain threads.
//   MillionParked
//       The page faults of fresh stacks: one mmap of --million pages (huge
//       pages off) and one write to each 4 KiB page, the pages split evenly
//       over `procs` threads (gmplab binds a goroutine's stack on the P that
//       first runs it). Counters as gmplab's: goroutines, spawn_s (mmap and
//       every page touched), rss_mb while every page is resident and
//       rss_bytes_per_g (the growth per "goroutine": one page). The munmap
//       is not timed, and there is no release_s: releasing parked
//       goroutines is all scheduler work.
//
// Wall time per op is the floor; CPU time per op is reported as usual, but
// the WakeupParallelSpinning floor polls instead of sleeping, so its CPU time
// is no floor for anyone's CPU time.
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_main.h"
#include "bench/common/pipe_round_trip.h"
#include "bench/common/util.h"

namespace gmplab_bench {
namespace {

constexpr int64_t kPageBytes = 4096;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long a waiter polls before it sleeps: 10x the wait an unloaded
// machine has (the sender's extra kWakeDelayNs).
constexpr int64_t kPollNs = 10 * kWakeDelayNs;

// HandOver is a counter one thread raises and one other thread waits for.
// The waiter polls, and sleeps on a futex only after kPollNs; Raise makes the
// futex call only when the waiter sleeps. Raise and the waiter's check of the
// value pair through seq_cst on value_ and sleeping_ (a store then a load on
// each side, so at least one of them sees the other).
class HandOver {
 public:
  // Raise sets the counter to `v` and wakes the waiter if it sleeps.
  void Raise(uint32_t v) {
    value_.store(v, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) {
      syscall(SYS_futex, &value_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    }
  }

  // WaitFor returns once the counter has reached `v`.
  void WaitFor(uint32_t v) {
    auto reached = [&] {
      return static_cast<int32_t>(value_.load(std::memory_order_seq_cst) - v) >= 0;
    };
    auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(kPollNs);
    for (uint32_t i = 1; !reached(); ++i) {
      CpuRelax();
      if (i % 64 == 0 && std::chrono::steady_clock::now() > end) {
        sleeping_.store(true, std::memory_order_seq_cst);
        for (;;) {
          const uint32_t cur = value_.load(std::memory_order_seq_cst);
          if (static_cast<int32_t>(cur - v) >= 0) break;
          syscall(SYS_futex, &value_, FUTEX_WAIT_PRIVATE, cur, nullptr, nullptr, 0);
        }
        sleeping_.store(false, std::memory_order_relaxed);
        return;
      }
    }
  }

 private:
  std::atomic<uint32_t> value_{0};
  std::atomic<bool> sleeping_{false};
};

void BM_WakeupParallelSpinning(benchmark::State& state, int delay_us) {
  const int64_t delay = int64_t{delay_us} * 1000;
  const int64_t n = state.max_iterations;
  HandOver start_a, start_b, ping, pong;
  std::thread a([&] {
    start_a.WaitFor(1);
    for (int64_t i = 1; i <= n; ++i) {
      SpinFor(delay + kWakeDelayNs);  // sender
      ping.Raise(static_cast<uint32_t>(i));
      SpinFor(delay);  // receiver
      pong.WaitFor(static_cast<uint32_t>(i));
    }
  });
  std::thread b([&] {
    start_b.WaitFor(1);
    for (int64_t i = 1; i <= n; ++i) {
      SpinFor(delay);  // receiver
      ping.WaitFor(static_cast<uint32_t>(i));
      SpinFor(delay + kWakeDelayNs);  // sender
      pong.Raise(static_cast<uint32_t>(i));
    }
  });
  while (state.KeepRunningBatch(n)) {
    start_a.Raise(1);
    start_b.Raise(1);
    a.join();
    b.join();
  }
}

// PinToOneCpu restricts the calling thread (and the threads it creates) to
// the first CPU of its affinity mask, and restores the mask when destroyed.
class PinToOneCpu {
 public:
  PinToOneCpu() {
    sched_getaffinity(0, sizeof(old_), &old_);
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &old_)) {
        CPU_SET(cpu, &set);
        break;
      }
    }
    sched_setaffinity(0, sizeof(set), &set);
  }
  ~PinToOneCpu() { sched_setaffinity(0, sizeof(old_), &old_); }

 private:
  cpu_set_t old_;
};

void BM_Syscall(benchmark::State& state) {
  PinToOneCpu pin;
  PipeRoundTrips(state);
}

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void BM_MillionParked(benchmark::State& state, int procs, int64_t count) {
  const size_t bytes = static_cast<size_t>(count * kPageBytes);
  for (auto _ : state) {
    int64_t rss_before = ResidentBytes();
    auto t0 = std::chrono::steady_clock::now();
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      return;
    }
    // One fault per 4 KiB page, as a fresh stack's first page takes; a huge
    // page would fault 512 of them in at once.
    madvise(p, bytes, MADV_NOHUGEPAGE);
    auto* base = static_cast<volatile char*>(p);
    std::vector<std::thread> threads;
    for (int t = 0; t < procs; ++t) {
      threads.emplace_back([base, count, procs, t] {
        const int64_t lo = count * t / procs, hi = count * (t + 1) / procs;
        for (int64_t i = lo; i < hi; ++i) base[i * kPageBytes] = 1;
      });
    }
    for (auto& th : threads) th.join();
    auto t1 = std::chrono::steady_clock::now();
    int64_t rss = ResidentBytes();
    state.PauseTiming();
    munmap(p, bytes);
    state.ResumeTiming();
    state.counters["goroutines"] = static_cast<double>(count);
    state.counters["spawn_s"] = Seconds(t0, t1);
    state.counters["rss_mb"] = static_cast<double>(rss) / (1 << 20);
    state.counters["rss_bytes_per_g"] =
        static_cast<double>(rss - rss_before) / static_cast<double>(count);
  }
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    if (p >= 2) {  // as gmplab's workload: meaningless on one proc
      for (int d : kWakeupDelaysUs) {
        std::string w = "WakeupParallelSpinning/delay_us:" + std::to_string(d);
        Setup(benchmark::RegisterBenchmark(BenchName(w, p).c_str(),
                                           BM_WakeupParallelSpinning, d));
      }
    }
    Setup(benchmark::RegisterBenchmark(BenchName("Syscall", p).c_str(), BM_Syscall));
  }
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

int main(int argc, char** argv) {
  return gmplab_bench::BenchMain(argc, argv, "floor", [] {
    return std::string(
        "floor: the unavoidable part of a workload on plain threads, no scheduler "
        "(WakeupParallelSpinning: the spins, hand-overs by polled stores, a futex "
        "sleep only after 50 us of polling; Syscall: "
        "the pipe round trip on one CPU; MillionParked: one fresh 4 KiB page "
        "touched per goroutine on procs threads)");
  });
}
