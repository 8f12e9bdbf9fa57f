// bench/idle_timers.cc — what an idle runtime costs, and how late a short
// Sleep is while a long timer is pending.
//
//   bazel run --config=opt //bench:idle_timers [-- --rounds=N]
//
// Idle CPU: one goroutine sleeps 30 s and nothing else runs; the process's
// CPU time (getrusage, every thread) over 500 ms windows, measured from a
// plain thread while main waits in a Syscall. Lateness: 2,000 Sleep(50us)
// calls while that 30 s timer stays pending; each call's wall time minus
// 50 µs. Prints medians and tails; never a pass/fail verdict (a measurement,
// to be taken on a quiet machine).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/gmp.h"

namespace {

double ProcessCpuMs() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rounds=", 9) == 0) {
      rounds = std::atoi(argv[i] + 9);
    } else {
      std::fprintf(stderr, "usage: %s [--rounds=N]\n", argv[0]);
      return 2;
    }
  }
  if (rounds < 1) {
    std::fprintf(stderr, "%s: --rounds must be at least 1\n", argv[0]);
    return 2;
  }
  std::vector<double> idle_ms, late_us;
  gmp::Stats before, after;
  gmp::Run(
      [&] {
        gmp::Go([] { gmp::Sleep(absl::Seconds(30)); });
        gmp::Syscall([&] {
          usleep(100 * 1000);  // every M and sysmon settle
          before = gmp::ReadStats();
          for (int r = 0; r < rounds; ++r) {
            double t0 = ProcessCpuMs();
            usleep(500 * 1000);
            idle_ms.push_back(ProcessCpuMs() - t0);
          }
          after = gmp::ReadStats();
          return 0;
        });
        for (int i = 0; i < 2000; ++i) {
          absl::Time t0 = absl::Now();
          gmp::Sleep(absl::Microseconds(50));
          late_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0) - 50);
        }
      },
      gmp::Options{2, 0});
  std::printf("idle CPU per 500 ms (%d windows): median %.3f ms, max %.3f ms\n",
              rounds, Pct(idle_ms, 0.5), Pct(idle_ms, 1.0));
  std::printf("wake-ups while idle: timer Ms %lld, sysmon %lld\n",
              static_cast<long long>(after.timer_wakeups - before.timer_wakeups),
              static_cast<long long>(after.sysmon_wakeups - before.sysmon_wakeups));
  std::printf(
      "Sleep(50us) lateness over 2000 calls: median %.1f us, p90 %.1f us, p99 "
      "%.1f us\n",
      Pct(late_us, 0.5), Pct(late_us, 0.9), Pct(late_us, 0.99));
  return 0;
}
