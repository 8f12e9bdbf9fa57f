// bench/common/latency.h — latency distributions for gmplab's tail-latency
// workloads (WakeupLatency), shared by the gmplab binaries and the peers.
//
// A workload collects one latency per op in nanoseconds and calls
// ReportLatencies at the end of its timed loop. That sets the Google Benchmark
// user counters p50_ns, p90_ns, p99_ns, p999_ns and max_ns (plain values, not
// rates) and, when the environment variable GMPLAB_LATENCY_OUT names a file,
// appends the run's raw samples to it as one JSON line:
//
//   {"workload":"WakeupLatency","procs":2,"iterations":81234,"samples_ns":[...]}
//
// `iterations` is the number of latencies the run measured; `samples_ns` holds
// all of them, or an even stride of at most kLatencyMaxSamplesOut in time
// order. Only runs that Google Benchmark reports are written: its probe runs
// (fewer iterations, before the count is settled) are dropped. A run is known
// to be reported once the same benchmark runs again with no more iterations
// (the next repetition) or the process exits, so lines are appended then.
#ifndef GMPLAB_BENCH_COMMON_LATENCY_H_
#define GMPLAB_BENCH_COMMON_LATENCY_H_

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace gmplab_bench {

// MonotonicNs reads CLOCK_MONOTONIC in nanoseconds (a vDSO call, ~20 ns).
inline int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Most samples one run writes to GMPLAB_LATENCY_OUT.
inline constexpr size_t kLatencyMaxSamplesOut = 20000;

// WakeupLatency's gap: after the receiver's ack the sender busy-waits
// kWakeGapMinNs plus a pseudo-random 0..kWakeGapSpanNs before it sends, so the
// receiver has parked and the send lands at no fixed phase of the idle Ps'
// spinning.
inline constexpr int64_t kWakeGapMinNs = 2000;
inline constexpr int64_t kWakeGapSpanNs = 4000;

// WakeGap returns the next gap in ns from the xorshift state `*rng` (non-zero).
inline int64_t WakeGap(uint64_t* rng) {
  uint64_t x = *rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *rng = x;
  return kWakeGapMinNs + static_cast<int64_t>(x % kWakeGapSpanNs);
}

namespace latency_internal {

// PendingLog holds each benchmark's last run until it is known to be reported.
class PendingLog {
 public:
  static PendingLog& Get() {
    static PendingLog* log = [] {
      auto* l = new PendingLog;
      std::atexit([] { Get().FlushAll(); });
      return l;
    }();
    return *log;
  }

  void Add(const std::string& key, int64_t iterations, std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      // More iterations than the last run: that one was a probe. Otherwise the
      // count is settled and the last run was reported.
      if (iterations <= it->second.iterations) Write(it->second.line);
      pending_.erase(it);
    }
    pending_.emplace(key, Run{iterations, std::move(line)});
  }

  void FlushAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, run] : pending_) Write(run.line);
    pending_.clear();
  }

 private:
  struct Run {
    int64_t iterations;
    std::string line;
  };

  static void Write(const std::string& line) {
    const char* path = std::getenv("GMPLAB_LATENCY_OUT");
    if (path == nullptr || *path == '\0') return;
    std::FILE* f = std::fopen(path, "a");
    if (f == nullptr) {
      std::fprintf(stderr, "gmplab: cannot append to GMPLAB_LATENCY_OUT=%s\n",
                   path);
      return;
    }
    std::fwrite(line.data(), 1, line.size(), f);
    std::fclose(f);
  }

  std::mutex mu_;
  std::map<std::string, Run> pending_;
};

}  // namespace latency_internal

// ReportLatencies sets the percentile counters on `state` from `samples_ns`
// (one per op, in the order measured) and queues the run's JSON line for
// GMPLAB_LATENCY_OUT.
inline void ReportLatencies(benchmark::State& state,
                            const std::string& workload, int procs,
                            const std::vector<int64_t>& samples_ns) {
  if (samples_ns.empty()) return;
  std::vector<int64_t> sorted(samples_ns);
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest sample with at least q of them at or below it.
  auto rank = [&](double q) {
    size_t k =
        static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return static_cast<double>(
        sorted[std::clamp<size_t>(k, 1, sorted.size()) - 1]);
  };
  state.counters["p50_ns"] = rank(0.50);
  state.counters["p90_ns"] = rank(0.90);
  state.counters["p99_ns"] = rank(0.99);
  state.counters["p999_ns"] = rank(0.999);
  state.counters["max_ns"] = static_cast<double>(sorted.back());

  const char* path = std::getenv("GMPLAB_LATENCY_OUT");
  if (path == nullptr || *path == '\0') return;
  const size_t n = samples_ns.size();
  const size_t stride = (n + kLatencyMaxSamplesOut - 1) / kLatencyMaxSamplesOut;
  std::string line =
      "{\"workload\":\"" + workload + "\",\"procs\":" + std::to_string(procs) +
      ",\"iterations\":" + std::to_string(n) + ",\"samples_ns\":[";
  for (size_t i = 0; i < n; i += stride) {
    if (i > 0) line += ',';
    line += std::to_string(samples_ns[i]);
  }
  line += "]}\n";
  latency_internal::PendingLog::Get().Add(
      workload + "/procs:" + std::to_string(procs), static_cast<int64_t>(n),
      std::move(line));
}

}  // namespace gmplab_bench

#endif  // GMPLAB_BENCH_COMMON_LATENCY_H_
