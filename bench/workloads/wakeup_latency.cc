// bench/workloads/wakeup_latency.cc — WakeupLatency: how long a goroutine
// made runnable by a channel send (goready) waits until it runs, as a
// distribution.
//
// Two goroutines and three steps per op:
//   1. the receiver sends an ack on an unbuffered channel, then parks in
//      Recv on the unbuffered data channel;
//   2. the sender (the benchmark's main goroutine) takes the ack, busy-waits
//      a gap of 2-6 us (pseudo-random per op, WakeGap in
//      bench/common/latency.h), so the receiver has certainly parked by
//      then, reads CLOCK_MONOTONIC and sends that timestamp;
//   3. the receiver reads the clock as soon as Recv returns. One sample is
//      t_recv - t_send, then the receiver acks the next op.
// The send finds the receiver parked and hands the value over directly, so a
// sample covers goready (the receiver goes to the sender's P, in runnext when
// the variant has it, and an idle P may be woken) plus the wait until some M
// runs the receiver: on one proc, the sender's way to its own park in the
// next ack Recv and a context switch; on more, whichever comes first of that
// and a spinning M stealing the receiver. The clock reads (~20 ns each) are
// inside every sample.
//
// Reported: wall time per op (one whole cycle, gap included, not the latency)
// and, as plain counters, the p50_ns, p90_ns, p99_ns, p999_ns and max_ns of
// the samples. GMPLAB_LATENCY_OUT=<file> appends the raw samples of every
// reported run as one JSON line (see bench/common/latency.h).
#include <cstdint>
#include <optional>
#include <vector>

#include "bench/common/bench_main.h"
#include "bench/common/latency.h"
#include "bench/common/util.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

void BM_WakeupLatency(benchmark::State& state, int procs) {
  const int64_t n = state.max_iterations;
  std::vector<int64_t> samples(static_cast<size_t>(n));
  gmp::Run(
      [&] {
        gmp::Chan<int64_t> data;
        gmp::Chan<bool> ack;
        gmp::WaitGroup wg;
        wg.Add(1);
        gmp::Go([&] {
          for (int64_t i = 0; i < n; ++i) {
            ack.Send(true);
            std::optional<int64_t> sent = data.Recv();
            const int64_t now = MonotonicNs();
            samples[static_cast<size_t>(i)] = now - *sent;
          }
          wg.Done();
        });
        uint64_t rng = 0x9E3779B97F4A7C15ull;
        StatsDelta delta;
        for (auto _ : state) {
          ack.Recv();
          SpinFor(WakeGap(&rng));
          data.Send(MonotonicNs());
        }
        delta.Report(state);
        wg.Wait();
      },
      ProcsOptions(procs));
  ReportLatencies(state, "WakeupLatency", procs, samples);
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("WakeupLatency", p).c_str(),
                                       BM_WakeupLatency, p));
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
