// bench/workloads/wakeup.cc — WakeupParallelSpinning, after Go's
// benchWakeupParallel: two goroutines take turns as sender and receiver; the
// receiver spins `delay` then blocks, the sender spins `delay + 5us` then
// sends. With the pair on two procs an op costs about 2*(delay + wake-up
// latency + 5us); serialised on one it costs 4*delay + ... . Needs procs >= 2.
#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/common/util.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

void BM_WakeupParallelSpinning(benchmark::State& state, int procs, int delay_us) {
  const int64_t delay = int64_t{delay_us} * 1000;
  gmp::Run(
      [&] {
        const int64_t n = state.max_iterations;
        gmp::Chan<bool> ping, pong, start;
        gmp::WaitGroup wg;
        wg.Add(2);
        gmp::Go([&] {
          start.Recv();
          for (int64_t i = 0; i < n; ++i) {
            SpinFor(delay + kWakeDelayNs);  // sender
            ping.Send(true);
            SpinFor(delay);  // receiver
            pong.Recv();
          }
          wg.Done();
        });
        gmp::Go([&] {
          for (int64_t i = 0; i < n; ++i) {
            SpinFor(delay);  // receiver
            ping.Recv();
            SpinFor(delay + kWakeDelayNs);  // sender
            pong.Send(true);
          }
          wg.Done();
        });
        StatsDelta delta;
        while (state.KeepRunningBatch(n)) {
          start.Send(true);
          wg.Wait();
        }
        delta.Report(state);
      },
      ProcsOptions(procs));
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    if (p < 2) continue;  // as in Go: meaningless on one proc
    for (int d : kWakeupDelaysUs) {
      std::string w = "WakeupParallelSpinning/delay_us:" + std::to_string(d);
      Setup(benchmark::RegisterBenchmark(BenchName(w, p).c_str(),
                                         BM_WakeupParallelSpinning, p, d));
    }
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
