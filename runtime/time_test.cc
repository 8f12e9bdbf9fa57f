// runtime/time_test.cc — timers and gmp::Sleep.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"

namespace gmp {
namespace {

TEST(Sleep, SleepsAtLeastTheDuration) {
  absl::Duration took;
  gmp::Run([&] {
    absl::Time start = absl::Now();
    Sleep(absl::Milliseconds(20));
    took = absl::Now() - start;
  }, Options{2, 0});
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(5));
}

// As Go's time.Sleep: no wait and no yield (at procs=1 a yield would run
// the goroutine just spawned).
TEST(Sleep, ZeroAndNegativeReturnAtOnce) {
  int n = 0;
  bool other_ran_early = true;
  gmp::Run(
      [&] {
        std::atomic<bool> other_ran{false};
        Go([&] { other_ran.store(true); });
        Sleep(absl::ZeroDuration());
        Sleep(absl::Milliseconds(-5));
        Sleep(-absl::InfiniteDuration());
        other_ran_early = other_ran.load();
        while (!other_ran.load()) Gosched();
        n = 1;
      },
      Options{1, 0});
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(other_ran_early);
}

// Durations whose deadline does not fit in int64 nanoseconds park without
// signed overflow (the asan config includes UBSan) and count as pending
// timers: main sleeps a little and returns while they still sleep.
TEST(Sleep, HugeDurationsDoNotOverflow) {
  int asleep = -1;
  gmp::Run(
      [&] {
        Go([] { Sleep(absl::Hours(1e9)); });
        Go([] {
          Sleep(absl::Nanoseconds(std::numeric_limits<int64_t>::max()));
        });
        Go([] { Sleep(absl::Seconds(std::numeric_limits<int64_t>::max())); });
        Sleep(absl::Milliseconds(3));  // sysmon and idle Ms look at the timers
        asleep = NumGoroutine() - 1;
      },
      Options{2, 0});
  EXPECT_EQ(asleep, 3);
}

// Many sleepers with different deadlines all wake, shortest first roughly.
TEST(Sleep, ManySleepersWakeInDeadlineOrder) {
  constexpr int kN = 50;
  std::vector<int> order;
  std::atomic<int> done{0};
  std::atomic<int> slot{0};
  std::vector<int> woke(kN, -1);
  gmp::Run([&] {
    for (int i = 0; i < kN; ++i) {
      Go([&, i] {
        Sleep(absl::Milliseconds(2 * (kN - i)));
        woke[i] = slot.fetch_add(1);
        done++;
      });
    }
    while (done.load() < kN) Sleep(absl::Milliseconds(1));
  }, Options{2, 0});
  // The longest sleeper (i = 0) wakes in the later half, the shortest in the
  // earlier half (loose: sanitizers slow everything down).
  EXPECT_GE(woke[0], kN / 2);
  EXPECT_LT(woke[kN - 1], kN / 2);
}

// Timer fairness: a 20 ms sleep wakes within a bounded lateness while every
// proc is busy yielding.
TEST(Sleep, WakesOnTimeWhileAllProcsYield) {
  std::atomic<bool> stop{false};
  absl::Duration late;
  gmp::Run([&] {
    for (int i = 0; i < 4; ++i) {
      Go([&] {
        while (!stop.load()) Gosched();
      });
    }
    Gosched();
    absl::Time start = absl::Now();
    Sleep(absl::Milliseconds(20));
    late = absl::Now() - start - absl::Milliseconds(20);
    stop.store(true);
  }, Options{2, 0});
  EXPECT_GE(late, absl::ZeroDuration());
  EXPECT_LT(late, absl::Milliseconds(200)) << late;
}

// Sleepers on a P busy with a goroutine that never yields are still woken
// (sysmon fires the timer; another P runs the sleeper).
TEST(Sleep, WakesWhileAProcHogs) {
  std::atomic<bool> stop{false};
  std::atomic<bool> woke{false};
  gmp::Run([&] {
    Go([&] {
      Sleep(absl::Milliseconds(5));
      woke.store(true);
    });
    // Hog this P without runtime calls until the sleeper woke (or 10 s).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!woke.load() && std::chrono::steady_clock::now() < deadline) {
    }
    stop.store(true);
  }, Options{2, 0});
  EXPECT_TRUE(woke.load());
}

// Sysmon preempts a goroutine that runs > 10 ms without a new time slice at
// its next runtime call: two goroutines that only call Go() (never yield)
// on one proc still both progress.
TEST(Preempt, LongRunnerIsPreemptedAtRuntimeCalls) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> a{0}, b{0};
  gmp::Run([&] {
    auto hog = [&](std::atomic<int64_t>* c) {
      while (!stop.load()) {
        c->fetch_add(1);
        Go([] {});  // a runtime call, never a yield by itself
      }
    };
    Go([&] { hog(&a); });
    Go([&] { hog(&b); });
    Sleep(absl::Milliseconds(150));
    stop.store(true);
  }, Options{1, 0});
  EXPECT_GT(a.load(), 0);
  EXPECT_GT(b.load(), 0);
  EXPECT_GE(ReadStats().preempts, 1);
}

// An infinite sleep is a park without a timer, so a main that only sleeps
// forever is a deadlock (gmp.h). alarm() turns a hang into a failure.
TEST(SleepDeathTest, InfiniteSleepIsADeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        alarm(30);
        gmp::Run([] { Sleep(absl::InfiniteDuration()); }, Options{2, 0});
      },
      "fatal error: all goroutines are asleep - deadlock!");
}

// An idle runtime does not tick: while one goroutine sleeps toward a far
// deadline and nothing else runs (main waits in a Syscall, its P retaken),
// neither the M sleeping until that timer nor sysmon wakes up more than a
// few times in 200 ms (a 1 ms timer poll would wake it ~200 times, a
// 10 ms sysmon poll ~20).
TEST(Timers, IdleRuntimeDoesNotTick) {
  Stats a, b;
  gmp::Run(
      [&] {
        Go([] { Sleep(absl::Seconds(10)); });
        Syscall([&] {
          // The P is retaken, and every M and sysmon settle: wait for a
          // quiet 20 ms (at most 3 s: on a loaded machine settling takes
          // longer, and a runtime that keeps ticking fails below anyway).
          usleep(50 * 1000);
          for (int i = 0; i < 150; ++i) {
            const int64_t before = ReadStats().sysmon_wakeups;
            usleep(20 * 1000);
            if (ReadStats().sysmon_wakeups == before) break;
          }
          a = ReadStats();
          usleep(200 * 1000);
          b = ReadStats();
          return 0;
        });
      },
      Options{2, 0});
  EXPECT_LE(b.timer_wakeups - a.timer_wakeups, 3);
  EXPECT_LE(b.sysmon_wakeups - a.sysmon_wakeups, 3);
}

// A timer earlier than the one an idle M sleeps toward wakes that M: a
// 1 ms Sleep while another goroutine sleeps 10 s returns long before.
TEST(Timers, EarlierTimerWakesTheSleepingM) {
  for (int procs : {1, 2}) {
    absl::Duration took;
    gmp::Run(
        [&] {
          Go([] { Sleep(absl::Seconds(10)); });
          // Every P idles meanwhile: an M sleeps until the 10 s timer.
          Syscall([] { return usleep(30 * 1000); });
          absl::Time start = absl::Now();
          Sleep(absl::Milliseconds(1));
          took = absl::Now() - start;
        },
        Options{procs, 0});
    EXPECT_LT(took, absl::Seconds(2)) << "procs " << procs;
  }
}

TEST(SleepDeathTest, OutsideRuntime) {
  EXPECT_DEATH(Sleep(absl::Milliseconds(1)),
               "fatal error: gmp::Sleep called outside a runtime");
}

}  // namespace
}  // namespace gmp
