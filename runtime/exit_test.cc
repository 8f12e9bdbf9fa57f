// runtime/exit_test.cc — Run returns promptly once main returns, whatever
// the other goroutines do at runtime calls.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"

namespace gmp {
namespace {

// RunReturns runs `main` on a runtime with `procs` Ps and checks that Run
// returns soon after main does. A Run that hangs ends the test binary
// (a watchdog thread) rather than the whole test suite's time budget.
void RunReturns(absl::AnyInvocable<void() &&> main, int procs) {
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done.load()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "Run did not return within 20 s of main\n");
        std::fflush(stderr);
        _exit(1);
      }
      usleep(1000);
    }
  });
  auto start = std::chrono::steady_clock::now();
  Run(std::move(main), Options{procs, 0});
  auto took = std::chrono::steady_clock::now() - start;
  done.store(true);
  watchdog.join();
  EXPECT_LT(took, std::chrono::seconds(10));
}

class ExitTest : public ::testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Procs, ExitTest, ::testing::Values(1, 2, 8),
                         [](const auto& info) {
                           return "procs" + std::to_string(info.param);
                         });

// Eight goroutines loop on non-blocking calls and main returns at once:
// some are running then, some queued, some picked up after exit began.
constexpr int kLoopers = 8;

TEST_P(ExitTest, TryRecvLoopers) {
  Chan<int> ch(1);  // outlives the runtime: the loopers are abandoned
  RunReturns(
      [&] {
        for (int i = 0; i < kLoopers; ++i) {
          Go([&] {
            for (;;) ch.TryRecv();
          });
        }
      },
      GetParam());
}

TEST_P(ExitTest, TrySendLoopers) {
  Chan<int> ch(1);
  RunReturns(
      [&] {
        int v = 0;
        ch.TrySend(v);  // full from now on
        for (int i = 0; i < kLoopers; ++i) {
          Go([&] {
            for (;;) {
              int x = 1;
              ch.TrySend(x);
            }
          });
        }
      },
      GetParam());
}

TEST_P(ExitTest, TryLockLoopers) {
  Mutex mu;
  RunReturns(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        mu.Lock();  // held for good
        for (int i = 0; i < kLoopers; ++i) {
          Go([&] {
            for (;;) mu.TryLock();
          });
        }
      },
      GetParam());
}

TEST_P(ExitTest, GoLoopers) {
  RunReturns(
      [] {
        for (int i = 0; i < kLoopers; ++i) {
          Go([] {
            for (;;) Go([] {});
          });
        }
      },
      GetParam());
}

TEST_P(ExitTest, SyscallFastPathLoopers) {
  RunReturns(
      [] {
        for (int i = 0; i < kLoopers; ++i) {
          Go([] {
            for (;;) Syscall([] { return 0; });
          });
        }
      },
      GetParam());
}

TEST_P(ExitTest, LockUnlockOSThreadLoopers) {
  RunReturns(
      [] {
        for (int i = 0; i < kLoopers; ++i) {
          Go([] {
            for (;;) {
              LockOSThread();
              UnlockOSThread();
            }
          });
        }
      },
      GetParam());
}

// A goroutine inside a Syscall when main returns makes a runtime call
// there (Go without a P), then loops on TryRecv after the call returns:
// both are exit points, however often it got asked to stop before.
TEST_P(ExitTest, RuntimeCallInsideSyscallAfterExit) {
  Chan<int> ch(1);
  std::atomic<bool> main_returning{false};
  RunReturns(
      [&] {
        Go([&] {
          Syscall([&] {
            while (!main_returning.load()) usleep(100);
            usleep(2 * 1000);  // main has returned by now (and the P stays)
            Go([] {});
            return 0;
          });
          for (;;) ch.TryRecv();
        });
        // Let the goroutine enter its Syscall first.
        while (ReadStats().syscalls == 0) Gosched();
        main_returning.store(true);
      },
      GetParam());
}

}  // namespace
}  // namespace gmp
