// runtime/waitgroup_test.cc — tests for gmp::WaitGroup: fan-in at several
// GOMAXPROCS, several waiters, reuse across rounds, the last Done landing
// inside Wait, a zero counter, and the fatal errors.
#include "runtime/waitgroup.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::UseThreadsafeDeathTests;

class WaitGroupProcsTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, WaitGroupProcsTest,
                         testing::Values(1, 2, 4, 8));

// Fan-in: Wait returns only after every goroutine's Done, and sees what each
// wrote before it (plain ints: ThreadSanitizer checks the happens-before).
TEST_P(WaitGroupProcsTest, FanIn) {
  static constexpr int kGoroutines = 200;
  RunOn(GetParam(), [] {
    for (int round = 0; round < 5; ++round) {
      std::vector<int> results(kGoroutines, 0);
      WaitGroup wg;
      wg.Add(kGoroutines);
      for (int i = 0; i < kGoroutines; ++i) {
        Go([&, i] {
          if (i % 3 == 0) Gosched();
          results[i] = i + 1;
          wg.Done();
        });
      }
      wg.Wait();
      for (int i = 0; i < kGoroutines; ++i) ASSERT_EQ(results[i], i + 1);
    }
  });
}

// Several goroutines wait on one WaitGroup; one Done releases them all.
TEST_P(WaitGroupProcsTest, ManyWaiters) {
  static constexpr int kWaiters = 10;
  RunOn(GetParam(), [] {
    WaitGroup gate;
    WaitGroup finished;
    std::atomic<int> released{0};
    int payload = 0;
    gate.Add(1);
    finished.Add(kWaiters);
    for (int i = 0; i < kWaiters; ++i) {
      Go([&] {
        gate.Wait();
        EXPECT_EQ(payload, 42);
        released.fetch_add(1);
        finished.Done();
      });
    }
    for (int i = 0; i < 5; ++i) Gosched();
    EXPECT_EQ(released.load(), 0);
    payload = 42;
    gate.Done();
    finished.Wait();
    EXPECT_EQ(released.load(), kWaiters);
  });
}

// Reuse: once every Wait has returned, the WaitGroup starts a new round.
TEST_P(WaitGroupProcsTest, Reuse) {
  RunOn(GetParam(), [] {
    WaitGroup wg;
    std::atomic<int> total{0};
    for (int round = 0; round < 50; ++round) {
      wg.Add(3);
      for (int i = 0; i < 3; ++i) {
        Go([&] {
          total.fetch_add(1);
          wg.Done();
        });
      }
      wg.Wait();
      ASSERT_EQ(total.load(), 3 * (round + 1));
    }
  });
}

// A Wait that reads the counter as 1, loses its CAS to the last Done and so
// reloads zero returns without parking: the failed CAS is then its only edge
// to what the Done-er wrote. The Done-er and the waiter meet through a flag
// that orders only waiter -> Done-er, and the waiter calls Wait at a varying
// delay after raising it, so that some rounds put the last Done between
// Wait's first load and its CAS (ThreadSanitizer checks the edge: each round
// writes its own slot, read by the waiter after Wait).
TEST(WaitGroupTest, LastDoneBetweenWaitsLoadAndCas) {
  static constexpr int kRounds = 20000;
  static constexpr int kMaxDelay = 256;
  RunOn(2, [] {
    std::vector<int> slots(kRounds, 0);
    std::atomic<int> round{-1};  // the waiter's Add for `round` is done
    std::atomic<int> spin{0};
    WaitGroup wg;
    WaitGroup exited;
    exited.Add(1);
    Go([&] {
      for (int r = 0; r < kRounds; ++r) {
        for (int n = 1; round.load(std::memory_order_acquire) != r; ++n) {
          if (n % 4096 == 0) Gosched();  // the waiter may sit in our runnext
        }
        slots[r] = r + 1;
        wg.Done();
      }
      exited.Done();
    });
    for (int r = 0; r < kRounds; ++r) {
      wg.Add(1);
      round.store(r, std::memory_order_release);
      const int delay = (r * 37) % kMaxDelay;
      for (int i = 0; i < delay; ++i) {
        spin.fetch_add(1, std::memory_order_relaxed);
      }
      wg.Wait();
      ASSERT_EQ(slots[r], r + 1) << "round " << r;
    }
    exited.Wait();
  });
}

TEST(WaitGroupTest, WaitOnZeroReturnsAtOnce) {
  RunOn(1, [] {
    WaitGroup wg;
    wg.Wait();
    wg.Add(2);
    wg.Add(-2);
    wg.Wait();
  });
}

TEST(WaitGroupDeathTest, NegativeCounter) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       WaitGroup wg;
                       wg.Done();
                     }),
               "fatal error: sync: negative WaitGroup counter");
  EXPECT_DEATH(RunOn(1,
                     [] {
                       WaitGroup wg;
                       wg.Add(1);
                       wg.Add(-2);
                     }),
               "fatal error: sync: negative WaitGroup counter");
}

// At procs=1 the released waiter cannot run before the goroutine that
// released it yields, so an Add right after the last Done always starts a new
// round while the previous Wait is still returning.
TEST(WaitGroupDeathTest, ReusedBeforeWaitReturned) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       WaitGroup wg;
                       WaitGroup done;
                       wg.Add(1);
                       done.Add(1);
                       Go([&] {
                         for (int i = 0; i < 5; ++i) Gosched();
                         wg.Done();
                         wg.Add(1);  // reuse at once
                         Gosched();
                         done.Done();
                       });
                       wg.Wait();
                       done.Wait();
                     }),
               "fatal error: sync: WaitGroup is reused before previous Wait "
               "has returned");
}

TEST(WaitGroupDeathTest, DeadlockShowsWaitReason) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(2,
                     [] {
                       WaitGroup wg;
                       wg.Add(1);
                       wg.Wait();
                     }),
               "all goroutines are asleep - deadlock!(.|\n)*"
               "sync.WaitGroup.Wait");
}

TEST(WaitGroupDeathTest, OutsideAGoroutine) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(
      {
        WaitGroup wg;
        wg.Wait();
      },
      "fatal error: gmp::WaitGroup::Wait called outside a goroutine");
}

}  // namespace
}  // namespace gmp
