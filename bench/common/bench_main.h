// bench/common/bench_main.h — the shared main() of every gmplab benchmark binary.
//
// Every benchmark binary (one per runtime variant, one per peer) accepts the
// same flags on top of Google Benchmark's own:
//
//   --procs=1,2,4      the processor counts to sweep (default 1,2,4,... up to
//                      2x the hardware threads)
//   --million=N        goroutines in MillionParked (default 1000000)
//   --hog_ops=N        PingPongHog's fixed ops per repetition (smoke tests)
//   --describe         print what this binary measures (the variant's policy
//                      description for gmplab) and exit
//
// and registers its workloads under shared names, `<Workload>[/<param>]/procs:N`,
// so that the report lines up gmplab variants and peers cell by cell.
#ifndef GMPLAB_BENCH_COMMON_BENCH_MAIN_H_
#define GMPLAB_BENCH_COMMON_BENCH_MAIN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace gmplab_bench {

// BenchConfig holds the flags shared by every benchmark binary.
struct BenchConfig {
  std::vector<int> procs;   // processor counts to sweep
  int64_t million = 1000000;  // goroutines in MillionParked
  int64_t hog_ops = 0;        // PingPongHog ops per repetition (0: the binary's own)
  int hardware_threads = 1;
};

// A Registrar registers a binary's workloads for a parsed configuration.
using Registrar = std::function<void(const BenchConfig&)>;

// AddRegistrar queues `r` to be called by BenchMain. Called from static
// initialisers (see GMPLAB_BENCH_REGISTER) before main.
bool AddRegistrar(Registrar r);

// BenchMain parses the shared flags, registers every queued workload, puts
// `system` and `describe()` into the JSON context and runs the benchmarks.
// Returns the process exit code. Call it once, from main.
int BenchMain(int argc, char** argv, const std::string& system,
              const std::function<std::string()>& describe);

// ParseProcs parses "1,2,4" into {1,2,4}. Returns false on a bad list
// (empty, non-numeric, < 1 or > 1024).
bool ParseProcs(const std::string& text, std::vector<int>* out);

// DefaultProcs returns 1, 2, 4, ... up to 2x `hardware_threads`.
std::vector<int> DefaultProcs(int hardware_threads);

// BenchName builds "<workload>/procs:<n>".
std::string BenchName(const std::string& workload, int procs);

// Setup applies the options every workload shares: real time, process CPU
// time, and microseconds as the unit.
benchmark::internal::Benchmark* Setup(benchmark::internal::Benchmark* b);

}  // namespace gmplab_bench

#define GMPLAB_BENCH_CONCAT_(a, b) a##b
#define GMPLAB_BENCH_CONCAT(a, b) GMPLAB_BENCH_CONCAT_(a, b)
// GMPLAB_BENCH_REGISTER(fn) calls fn(const BenchConfig&) from BenchMain.
#define GMPLAB_BENCH_REGISTER(fn)                                  \
  static const bool GMPLAB_BENCH_CONCAT(gmplab_bench_reg_, __LINE__) = \
      ::gmplab_bench::AddRegistrar(fn)

#endif  // GMPLAB_BENCH_COMMON_BENCH_MAIN_H_
