// runtime/exit_test.cc — Run returns promptly once main returns, whatever
// the other goroutines do at runtime calls; main's exit asks a goroutine to
// stop only after that goroutine's construction.
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

// mainexit asks every running goroutine to stop at its next runtime call (a
// store to its preempt flag). For a goroutine another goroutine spawned, the
// acquire of its M's curg is main's only edge to the G's construction: here
// main learns that it runs through a relaxed flag only, its spawner exits
// without taking sched.lock (no idle P to wake, at two Ps with main busy),
// and it makes no runtime call until well after main returned (one before
// mainexit's preempt loop would order the two through sched.lock), so
// ThreadSanitizer checks that edge. Some Runs get another edge by chance (a
// single Run caught a relaxed curg load in 2 of 5 tries), hence several.
TEST(ExitOrderTest, PreemptsAGoroutineSpawnedByAnother) {
  static constexpr int kRuns = 10;
  for (int run = 0; run < kRuns; ++run) {
    std::atomic<bool> running{false};
    std::atomic<bool> main_returned{false};
    RunReturns(
        [&] {
          Go([&] {
            Go([&] {
              running.store(true, std::memory_order_relaxed);
              while (!main_returned.load(std::memory_order_relaxed)) {
              }
              const auto until = std::chrono::steady_clock::now() +
                                 std::chrono::milliseconds(50);
              while (std::chrono::steady_clock::now() < until) {
              }
              for (;;) Gosched();  // abandoned at its first runtime call
            });
          });
          const auto deadline =
              std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (!running.load(std::memory_order_relaxed) &&
                 std::chrono::steady_clock::now() < deadline) {
          }
          main_returned.store(true, std::memory_order_relaxed);
        },
        2);
  }
}

}  // namespace
}  // namespace gmp
