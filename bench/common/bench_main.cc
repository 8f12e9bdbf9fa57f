// bench/common/bench_main.cc — flag parsing, registration and the JSON
// context shared by every gmplab benchmark binary.
#include "bench/common/bench_main.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace gmplab_bench {
namespace {

std::vector<Registrar>& Registrars() {
  static auto* registrars = new std::vector<Registrar>();
  return *registrars;
}

std::string JoinProcs(const std::vector<int>& procs) {
  std::string s;
  for (int p : procs) {
    if (!s.empty()) s += ",";
    s += std::to_string(p);
  }
  return s;
}

void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--procs=1,2,4] [--million=N] [--hog_ops=N] [--describe] "
               "[--benchmark_* flags]\n",
               argv0);
}

}  // namespace

bool AddRegistrar(Registrar r) {
  Registrars().push_back(std::move(r));
  return true;
}

bool ParseProcs(const std::string& text, std::vector<int>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    if (item.empty()) return false;
    char* end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 1024) return false;
    out->push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return !out->empty();
}

std::vector<int> DefaultProcs(int hardware_threads) {
  std::vector<int> procs;
  for (int p = 1; p <= 2 * hardware_threads; p *= 2) procs.push_back(p);
  if (procs.back() != 2 * hardware_threads) procs.push_back(2 * hardware_threads);
  return procs;
}

std::string BenchName(const std::string& workload, int procs) {
  return workload + "/procs:" + std::to_string(procs);
}

benchmark::internal::Benchmark* Setup(benchmark::internal::Benchmark* b) {
  return b->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kNanosecond);
}

// EnsureBindNow re-executes the binary with LD_BIND_NOW=1 unless it is set.
// Shared libraries (Google Benchmark, Abseil, libstdc++) bind their own calls
// lazily, and the dynamic linker's resolver runs on the stack of the first
// caller and saves the whole XSAVE area there (about 3 KiB with AVX-512): a
// workload whose goroutine is the first to reach such a call overflows a
// one-page compact stack. Binding everything at load keeps every system's
// first call equally cheap too.
void EnsureBindNow(char** argv) {
  const char* v = std::getenv("LD_BIND_NOW");
  if (v != nullptr && *v != '\0') return;
  setenv("LD_BIND_NOW", "1", 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "%s: cannot re-execute with LD_BIND_NOW=1 (%s); continuing\n",
               argv[0], std::strerror(errno));
}

int BenchMain(int argc, char** argv, const std::string& system,
              const std::function<std::string()>& describe) {
  EnsureBindNow(argv);
  BenchConfig config;
  config.hardware_threads =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  config.procs = DefaultProcs(config.hardware_threads);
  bool describe_only = false;

  // Take our flags out of argv; leave the rest to Google Benchmark.
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--procs=", 8) == 0) {
      if (!ParseProcs(a + 8, &config.procs)) {
        std::fprintf(stderr, "%s: bad --procs list '%s' (want e.g. 1,2,4)\n",
                     argv[0], a + 8);
        return 2;
      }
    } else if (std::strncmp(a, "--million=", 10) == 0) {
      char* end = nullptr;
      config.million = std::strtoll(a + 10, &end, 10);
      if (*end != '\0' || config.million < 1) {
        std::fprintf(stderr, "%s: bad --million '%s'\n", argv[0], a + 10);
        return 2;
      }
    } else if (std::strncmp(a, "--hog_ops=", 10) == 0) {
      char* end = nullptr;
      config.hog_ops = std::strtoll(a + 10, &end, 10);
      if (*end != '\0' || config.hog_ops < 1) {
        std::fprintf(stderr, "%s: bad --hog_ops '%s'\n", argv[0], a + 10);
        return 2;
      }
    } else if (std::strcmp(a, "--describe") == 0) {
      describe_only = true;
    } else if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
      Usage(argv[0]);
      return 0;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (describe_only) {
    std::printf("%s\n", describe().c_str());
    return 0;
  }
  for (auto& r : Registrars()) r(config);

  int rest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) {
    Usage(argv[0]);
    return 2;
  }
  benchmark::AddCustomContext("gmplab_system", system);
  benchmark::AddCustomContext("gmplab_policy", describe());
  benchmark::AddCustomContext("gmplab_procs", JoinProcs(config.procs));
  benchmark::AddCustomContext("gmplab_million", std::to_string(config.million));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace gmplab_bench
