// bench/common/util.h — small helpers shared by workloads and peers: busy
// waiting, synthetic CPU work, resident memory.
#ifndef GMPLAB_BENCH_COMMON_UTIL_H_
#define GMPLAB_BENCH_COMMON_UTIL_H_

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace gmplab_bench {

// SpinFor busy-waits for `ns` nanoseconds without yielding (Go's
// benchWakeupParallel spin).
inline void SpinFor(int64_t ns) {
  if (ns <= 0) return;
  auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  while (std::chrono::steady_clock::now() < end) {
  }
}

// BusyWork burns about `units` small steps of CPU and returns a value the
// compiler cannot drop.
inline uint64_t BusyWork(int64_t units) {
  uint64_t x = 88172645463325252ull;
  for (int64_t i = 0; i < units; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

// ResidentBytes returns the process's resident set size from
// /proc/self/statm, or 0 when it cannot be read.
inline int64_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// MinorFaults returns the process's minor page faults so far (getrusage),
// which count pages the kernel made resident, prefaulted ones included.
inline int64_t MinorFaults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// SerialFib is the sequential leaf of the fork/join fib workloads.
inline int64_t SerialFib(int n) {
  return n < 2 ? n : SerialFib(n - 1) + SerialFib(n - 2);
}

// Workload sizes shared by gmplab and every peer, so their cells compare.
inline constexpr int kFibN = 20;               // fib(20): ~11k forks per op
inline constexpr int kFibCutoff = 2;           // below this, fib runs serially
inline constexpr int kSkewTasks = 256;         // tasks per SkewedLoad op
inline constexpr int64_t kSkewUnit = 2000;     // BusyWork units of a short task
inline constexpr int kSkewEvery = 16;          // every 16th task is 16x longer
inline constexpr int64_t kWakeDelayNs = 5000;  // Go's wakeDelay (5us)
inline constexpr int kWakeupDelaysUs[] = {0, 5, 50};
// SpawnPark parks at most this many goroutines at once.
inline constexpr int64_t kSpawnParkBatch = 100000;

// SkewUnits is the BusyWork size of task `i` of a SkewedLoad op.
inline int64_t SkewUnits(int i) {
  return i % kSkewEvery == 0 ? 16 * kSkewUnit : kSkewUnit;
}

}  // namespace gmplab_bench

#endif  // GMPLAB_BENCH_COMMON_UTIL_H_
