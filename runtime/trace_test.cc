// runtime/trace_test.cc — GMP_SCHEDTRACE lines and the SIGQUIT dump.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"

namespace gmp {
namespace {

TEST(Trace, SchedtraceLines) {
  setenv("GMP_SCHEDTRACE", "5", 1);
  testing::internal::CaptureStderr();
  // 60 periods: one line is enough, but the tracer is a thread of its own
  // and a loaded machine (two test binaries per core) can keep it off the
  // CPU for tens of milliseconds; 40 ms once saw no line at all.
  gmp::Run([] { Sleep(absl::Milliseconds(300)); }, Options{3, 0});
  std::string err = testing::internal::GetCapturedStderr();
  unsetenv("GMP_SCHEDTRACE");
  EXPECT_NE(err.find("SCHED "), std::string::npos) << err;
  EXPECT_NE(err.find("gomaxprocs=3 idleprocs="), std::string::npos) << err;
  EXPECT_NE(err.find("spinningthreads="), std::string::npos) << err;
  EXPECT_NE(err.find("runqueue="), std::string::npos) << err;
}

TEST(TraceDeathTest, SigquitDumpsGoroutines) {
  EXPECT_EXIT(gmp::Run([] {
    // Goroutine 2 must be asleep when the signal comes: wait until it has
    // started, then give it ample time to park.
    static std::atomic<bool> started{false};
    Go([] {
      started.store(true);
      Sleep(absl::Seconds(30));
    });
    while (!started.load()) Gosched();
    Sleep(absl::Milliseconds(100));
    raise(SIGQUIT);
    Sleep(absl::Seconds(30));
  }, Options{2, 0}),
              ::testing::ExitedWithCode(2),
              "SIGQUIT: quit(.|\n)*goroutine 1 \\[(.|\n)*goroutine 2 "
              "\\[waiting, sleep\\]");
}

}  // namespace
}  // namespace gmp
