// bench/workloads/ping_pong.cc — channel hand-offs between goroutines.
//
//   PingPongUnbuffered  main sends on an unbuffered channel, a partner
//                       receives and answers on another (op = round trip)
//   PingPongBuffered    the same over channels of capacity 1
//   PingPongHog         Go's BenchmarkPingPongHog: ping-pong on one proc
//                       beside a goroutine that never blocks; the pair must
//                       keep the proc through runnext/time-slice inheritance
//   Gosched             two goroutines yielding to each other on one proc
//                       (op = one Gosched call)
#include <atomic>
#include <chrono>
#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

void PingPong(benchmark::State& state, int procs, size_t cap) {
  gmp::Run(
      [&] {
        gmp::Chan<int> ping(cap), pong(cap);
        gmp::WaitGroup wg;
        wg.Add(1);
        gmp::Go([&] {
          while (auto v = ping.Recv()) pong.Send(*v);
          wg.Done();
        });
        StatsDelta delta;
        for (auto _ : state) {
          ping.Send(1);
          pong.Recv();
        }
        delta.Report(state);
        ping.Close();
        wg.Wait();
      },
      ProcsOptions(procs));
}

void BM_PingPongUnbuffered(benchmark::State& state, int procs) {
  PingPong(state, procs, 0);
}

void BM_PingPongBuffered(benchmark::State& state, int procs) {
  PingPong(state, procs, 1);
}

// A pair that needs longer than this for its fixed ops starves behind the hog:
// the run is reported as an error instead of running for minutes.
constexpr auto kHogBudget = std::chrono::seconds(3);

void BM_PingPongHog(benchmark::State& state) {
  gmp::Run(
      [&] {
        std::atomic<bool> stop{false};
        std::atomic<bool> starved{false};
        gmp::Chan<bool> poll;  // never sent: the hog polls it like Go's
                               // select-with-default, a runtime call
        gmp::WaitGroup wg;
        wg.Add(3);
        gmp::Go([&] {
          while (!stop.load(std::memory_order_relaxed)) poll.TryRecv();
          wg.Done();
        });
        gmp::Chan<bool> ping, pong, finished;
        const int64_t n = state.max_iterations;
        const auto deadline = std::chrono::steady_clock::now() + kHogBudget;
        gmp::Go([&] {  // the ponger
          for (int64_t j = 0; j < n; ++j) {
            if ((j & 1023) == 1023 && std::chrono::steady_clock::now() > deadline) {
              starved.store(true);
              break;
            }
            pong.Send(*ping.Recv());
          }
          stop.store(true, std::memory_order_relaxed);
          finished.Send(true);
          wg.Done();
        });
        gmp::Go([&] {  // the pinger
          for (int64_t i = 0; i < n; ++i) {
            auto v = pong.Recv();
            if (!v) break;  // the ponger gave up
            ping.Send(*v);
          }
          wg.Done();
        });
        StatsDelta delta;
        while (state.KeepRunningBatch(n)) {
          ping.Send(true);  // start the ping-pong
          finished.Recv();  // the ponger has done n rounds (or gave up)
        }
        delta.Report(state);
        ping.Recv();  // let the last pinger exit
        if (starved.load()) pong.Close();
        wg.Wait();
        if (starved.load()) {
          state.SkipWithError("the ping-pong pair starved behind the hog (over 3 s)");
        }
      },
      ProcsOptions(1));
}

void BM_Gosched(benchmark::State& state) {
  gmp::Run(
      [&] {
        const int64_t n = state.max_iterations;
        StatsDelta delta;
        while (state.KeepRunningBatch(n)) {
          gmp::WaitGroup wg;
          wg.Add(2);
          for (int k = 0; k < 2; ++k) {
            int64_t calls = n / 2 + (k == 0 ? n % 2 : 0);
            gmp::Go([calls, &wg] {
              for (int64_t i = 0; i < calls; ++i) gmp::Gosched();
              wg.Done();
            });
          }
          wg.Wait();
        }
        delta.Report(state);
      },
      ProcsOptions(1));
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("PingPongUnbuffered", p).c_str(),
                                       BM_PingPongUnbuffered, p));
    Setup(benchmark::RegisterBenchmark(BenchName("PingPongBuffered", p).c_str(),
                                       BM_PingPongBuffered, p));
  }
  // A fixed count, as a short probe only measures the hog's time slices.
  Setup(benchmark::RegisterBenchmark(BenchName("PingPongHog", 1).c_str(),
                                     BM_PingPongHog))
      ->Iterations(config.hog_ops > 0 ? config.hog_ops : 100000);
  Setup(benchmark::RegisterBenchmark(BenchName("Gosched", 1).c_str(), BM_Gosched));
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
