// runtime/timer_test.cc — tests for timer channels (gmp::Timer, gmp::After):
// firing, as Select cases with timeouts, Stop and Reset (no stale value
// after either), timers pending when Run returns, deadlock detection that
// counts pending timers, and misuse.
#include "runtime/timer.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::UseThreadsafeDeathTests;

class TimerProcsTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, TimerProcsTest, testing::Values(1, 2, 4));

// Durations are measured on the monotonic clock, as the runtime's timers
// run on it (absl::Now() is the wall clock).
absl::Duration Since(std::chrono::steady_clock::time_point t0) {
  return absl::FromChrono(std::chrono::steady_clock::now() - t0);
}

TEST_P(TimerProcsTest, FiresOnceAfterItsDuration) {
  absl::Time wall_start, wall_after;
  absl::Duration waited;
  std::optional<absl::Time> got;
  bool second = true;
  RunOn(GetParam(), [&] {
    wall_start = absl::Now();
    const auto start = std::chrono::steady_clock::now();
    Timer t(absl::Milliseconds(20));
    got = t.C().Recv();
    waited = Since(start);
    wall_after = absl::Now();
    second = t.C().TryRecv().has_value();
  });
  ASSERT_TRUE(got.has_value());
  EXPECT_GE(waited, absl::Milliseconds(20));
  // The value is the (wall-clock) time the timer fired.
  EXPECT_GE(*got, wall_start);
  EXPECT_LE(*got, wall_after);
  EXPECT_FALSE(second) << "a timer fires once";
}

TEST_P(TimerProcsTest, AfterAsASelectTimeout) {
  int fired = -2;
  absl::Duration waited;
  RunOn(GetParam(), [&] {
    Chan<int> never;
    std::optional<int> v;
    std::optional<absl::Time> t;
    const auto start = std::chrono::steady_clock::now();
    auto timeout = After(absl::Milliseconds(10));
    fired = Select({RecvCase(never, v), RecvCase(*timeout, t)});
    waited = Since(start);
  });
  EXPECT_EQ(fired, 1);
  EXPECT_GE(waited, absl::Milliseconds(10));
}

TEST_P(TimerProcsTest, ResultBeforeTimeoutWins) {
  int fired = -2;
  std::optional<int> v;
  RunOn(GetParam(), [&] {
    Chan<int> result;
    Go([&] { result.Send(7); });
    std::optional<absl::Time> t;
    Timer timeout(absl::Seconds(30));
    fired = Select({RecvCase(result, v), RecvCase(timeout.C(), t)});
  });
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(v, 7);
}

TEST(TimerTest, StopBeforeFiringSendsNothing) {
  bool stopped = false, stopped_again = true, got = true;
  RunOn(1, [&] {
    Timer t(absl::Milliseconds(5));
    stopped = t.Stop();
    stopped_again = t.Stop();
    Sleep(absl::Milliseconds(30));
    got = t.C().TryRecv().has_value();
  });
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(stopped_again);
  EXPECT_FALSE(got);
}

// Go 1.23: after Stop returns, a value the timer sent before is not
// received either.
TEST(TimerTest, StopAfterFiringDrainsTheValue) {
  bool stopped = true, got = true;
  RunOn(1, [&] {
    Timer t(absl::Milliseconds(1));
    Sleep(absl::Milliseconds(20));  // fired: its value waits in C()
    stopped = t.Stop();
    got = t.C().TryRecv().has_value();
  });
  EXPECT_FALSE(stopped);
  EXPECT_FALSE(got);
}

TEST(TimerTest, ResetFiresAgainAndDropsTheOldValue) {
  bool was_pending = true;
  int values = 0;
  absl::Duration after_reset;
  RunOn(1, [&] {
    Timer t(absl::Milliseconds(1));
    Sleep(absl::Milliseconds(20));  // fired once, value buffered
    const auto reset_at = std::chrono::steady_clock::now();
    was_pending = t.Reset(absl::Milliseconds(15));
    EXPECT_TRUE(t.C().Recv().has_value());  // the new firing only
    after_reset = Since(reset_at);
    ++values;
    Sleep(absl::Milliseconds(20));
    if (t.C().TryRecv().has_value()) ++values;
  });
  EXPECT_FALSE(was_pending);
  EXPECT_GE(after_reset, absl::Milliseconds(15));
  EXPECT_EQ(values, 1);
}

TEST(TimerTest, ResetPendingTimerMovesItsDeadline) {
  bool was_pending = false;
  absl::Duration took;
  RunOn(2, [&] {
    const auto start = std::chrono::steady_clock::now();
    Timer t(absl::Seconds(30));
    was_pending = t.Reset(absl::Milliseconds(5));
    t.C().Recv();
    took = Since(start);
  });
  EXPECT_TRUE(was_pending);
  EXPECT_LT(took, absl::Seconds(30));
}

// Many timers with random-ish deadlines, some stopped, some reset: each
// timer that is neither stopped nor left pending delivers exactly one value.
TEST_P(TimerProcsTest, ManyTimersStopResetAndFire) {
  constexpr int kTimers = 300;
  std::atomic<int> wrong{0};
  RunOn(GetParam(), [&] {
    WaitGroup wg;
    wg.Add(kTimers);
    for (int i = 0; i < kTimers; ++i) {
      Go([&, i] {
        {  // The Timer is destroyed before Done: once the last Done lets
           // Run return, a goroutine still running is reclaimed without
           // its destructors (gmp.h), and ASan's leak check saw the timer.
          Timer t(absl::Microseconds(100 * (i % 17)));
          if (i % 5 == 0) {
            t.Stop();
            Sleep(absl::Milliseconds(3));
            if (t.C().TryRecv().has_value()) wrong.fetch_add(1);
          } else {
            if (i % 3 == 0) t.Reset(absl::Microseconds(50 * (i % 7)));
            if (!t.C().Recv().has_value()) wrong.fetch_add(1);
            Sleep(absl::Milliseconds(3));
            if (t.C().TryRecv().has_value()) wrong.fetch_add(1);
          }
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_EQ(wrong.load(), 0);
}

// A goroutine blocked on a pending timer is not deadlocked.
TEST(TimerTest, PendingTimerIsNotADeadlock) {
  bool received = false;
  RunOn(1, [&] {
    auto c = After(absl::Milliseconds(30));
    received = c->Recv().has_value();
  });
  EXPECT_TRUE(received);
}

// Timers still pending when Run returns are stopped with it, and a second
// Run does not see them.
TEST(TimerTest, PendingTimersEndWithTheRun) {
  std::unique_ptr<Timer> kept;
  RunOn(1, [&] {
    kept = std::make_unique<Timer>(absl::Milliseconds(50));
    auto after = After(absl::Seconds(60));
    Go([after] { after->Recv(); });  // reclaimed with the Run
  });
  bool got = true;
  RunOn(1, [&] {
    Sleep(absl::Milliseconds(80));
    got = kept->C().TryRecv().has_value();
  });
  EXPECT_FALSE(got);
  kept.reset();  // outside any runtime
}

TEST(TimerDeathTest, StoppedTimerLeavesADeadlockDetectable) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Timer t(absl::Hours(1));
                       t.Stop();
                       t.C().Recv();
                     }),
               "all goroutines are asleep - deadlock!");
}

TEST(TimerDeathTest, TimerOutsideAGoroutine) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH({ Timer t(absl::Seconds(1)); },
               "fatal error: gmp::Timer called outside a goroutine");
  EXPECT_DEATH(After(absl::Seconds(1)),
               "fatal error: gmp::After called outside a goroutine");
}

}  // namespace
}  // namespace gmp
