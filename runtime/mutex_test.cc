// runtime/mutex_test.cc — tests for gmp::Mutex: mutual exclusion under
// contention at several GOMAXPROCS (a plain counter, so ThreadSanitizer flags
// a broken Mutex), TryLock, starvation mode, hand-off across goroutines, and
// the fatal errors.
#include "runtime/mutex.h"

#include <atomic>
#include <chrono>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/g.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::UseThreadsafeDeathTests;

// LockEitherWay takes `mu` with Lock, or by polling TryLock.
void LockEitherWay(Mutex& mu, bool poll)
    ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (!poll) return mu.Lock();
  while (!mu.TryLock()) Gosched();
}

class MutexProcsTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, MutexProcsTest, testing::Values(1, 2, 4, 8));

TEST_P(MutexProcsTest, MutualExclusionUnderContention) {
  constexpr int kGoroutines = 8;
  constexpr int kIters = 3000;
  int64_t counter = 0;  // deliberately not atomic: guarded by mu
  int64_t inside = 0;   // how many goroutines are in the critical section
  RunOn(GetParam(), [&] {
    Mutex mu;
    WaitGroup wg;
    wg.Add(kGoroutines);
    for (int g = 0; g < kGoroutines; ++g) {
      Go([&, g] {
        for (int i = 0; i < kIters; ++i) {
          LockEitherWay(mu, i % 7 == 0 && g % 2 == 0);
          EXPECT_EQ(++inside, 1);
          int64_t c = counter;
          if (i % 64 == 0) Gosched();  // park others while holding it
          counter = c + 1;
          --inside;
          mu.Unlock();
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_EQ(counter, int64_t{kGoroutines} * kIters);
}

TEST(MutexTest, TryLock) {
  RunOn(2, []() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Mutex mu;
    EXPECT_TRUE(mu.TryLock());
    EXPECT_FALSE(mu.TryLock());
    std::atomic<bool> other_got_it{true};
    WaitGroup wg;
    wg.Add(1);
    Go([&] {
      other_got_it.store(mu.TryLock());
      wg.Done();
    });
    wg.Wait();
    EXPECT_FALSE(other_got_it.load());
    mu.Unlock();
    EXPECT_TRUE(mu.TryLock());
    mu.Unlock();
  });
}

// TryLock is a runtime call point: at procs=1 a goroutine that polls it
// without ever yielding is preempted by sysmon (after ~10 ms), so the holder
// runs and unlocks. Without the preemption check the poller would spin until
// its 5 s budget ran out.
TEST(MutexTest, TryLockPollerIsPreemptedAtProcs1) {
  bool got_it = false;
  RunOn(1, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Mutex mu;
    WaitGroup wg;
    wg.Add(2);
    std::atomic<bool> held{false};
    Go([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {  // the holder
      mu.Lock();
      held.store(true);
      Gosched();  // let the poller start
      mu.Unlock();
      wg.Done();
    });
    Go([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {  // the poller
      while (!held.load()) Gosched();
      const auto give_up =
          std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (std::chrono::steady_clock::now() < give_up) {
        if (mu.TryLock()) {
          got_it = true;
          mu.Unlock();
          break;
        }
      }
      wg.Done();
    });
    wg.Wait();
  });
  EXPECT_TRUE(got_it);
}

// A Mutex is not owned by a goroutine: one may lock, another unlock, and a
// goroutine parked in Lock is woken by it.
TEST_P(MutexProcsTest, UnlockFromAnotherGoroutineWakesWaiter) {
  RunOn(GetParam(), []() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (int round = 0; round < 100; ++round) {
      Mutex mu;
      mu.Lock();
      std::atomic<int> stage{0};
      WaitGroup wg;
      wg.Add(2);
      Go([&] {
        stage.store(1);
        mu.Lock();  // parks until the other goroutine unlocks
        EXPECT_EQ(stage.load(), 2);
        mu.Unlock();
        wg.Done();
      });
      Go([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        while (stage.load() != 1) Gosched();
        for (int i = 0; i < 3; ++i) Gosched();
        stage.store(2);
        mu.Unlock();
        wg.Done();
      });
      wg.Wait();
    }
  });
}

TEST(MutexTest, MutexLockScope) {
  RunOn(2, [] {
    Mutex mu;
    int value = 0;
    WaitGroup wg;
    wg.Add(4);
    for (int g = 0; g < 4; ++g) {
      Go([&] {
        for (int i = 0; i < 500; ++i) {
          MutexLock l(&mu);
          ++value;
        }
        wg.Done();
      });
    }
    wg.Wait();
    MutexLock l(&mu);
    EXPECT_EQ(value, 2000);
  });
}

// Starvation mode. A hog re-locks the mutex right after each unlock while it
// is still running, so in normal mode a woken waiter keeps losing the race
// to it. After 1 ms of waiting the waiter switches the mutex to starvation
// mode, Unlock hands the mutex over, and the waiter gets in. Without
// starvation mode the waiter would lose until the hog's 5 s budget is spent.
// At procs=1 the hog yields while holding the lock so that the waiter runs
// and queues, and everything is deterministic: without hand-off the waiter
// could only ever run while the hog holds the mutex. At procs>1 the hog
// holds the lock for 2 ms at a time while the waiter runs on another P; the
// waiter may then also get in at an instant when the hog is preempted
// between Unlock and Lock (Lock is a preemption point), and on this shared
// 2-core machine the OS may not run the second P's thread for milliseconds,
// so there only progress is asserted, not that starvation mode was entered.
void HogAndWaiter(int procs) {
  int64_t entries_before = internal::MutexStarvationEntries();
  std::atomic<int> waiter_locks{0};
  bool hog_gave_up = false;
  RunOn(procs, [&] {
    Mutex mu;
    std::atomic<bool> waiter_done{false};
    std::atomic<bool> hog_ready{false};
    WaitGroup wg;
    wg.Add(2);
    Go([&] {  // the hog
      const auto give_up =
          std::chrono::steady_clock::now() + std::chrono::seconds(5);
      mu.Lock();
      hog_ready.store(true);
      while (!waiter_done.load() &&
             std::chrono::steady_clock::now() < give_up) {
        if (procs == 1) {
          Gosched();
        } else {
          const auto until =
              std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
          while (std::chrono::steady_clock::now() < until) {
          }
        }
        mu.Unlock();
        mu.Lock();
      }
      hog_gave_up = !waiter_done.load();
      mu.Unlock();
      wg.Done();
    });
    Go([&] {  // the waiter
      while (!hog_ready.load()) Gosched();
      for (int i = 0; i < 5; ++i) {
        mu.Lock();
        waiter_locks.fetch_add(1);
        mu.Unlock();
        Gosched();
      }
      waiter_done.store(true);
      wg.Done();
    });
    wg.Wait();
  });
  EXPECT_EQ(waiter_locks.load(), 5);
  EXPECT_FALSE(hog_gave_up);
  if (procs == 1) {
    EXPECT_GT(internal::MutexStarvationEntries(), entries_before);
  }
}

TEST(MutexTest, StarvationModeEngagesAtProcs1) { HogAndWaiter(1); }
TEST(MutexTest, WaiterProgressesAgainstHogAtProcs2) { HogAndWaiter(2); }

// No lock-holder preemption: a goroutine asked to yield (as sysmon asks one
// that ran 10 ms) while it holds the mutex releases it in Unlock before it
// yields, so the goroutine that runs meanwhile finds the mutex free.
TEST(MutexTest, UnlockReleasesBeforeHonouringPreemption) {
  bool other_got_it = false;
  RunOn(1, [&] {
    Mutex mu;
    WaitGroup wg;
    wg.Add(1);
    mu.Lock();
    Go([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      other_got_it = mu.TryLock();
      if (other_got_it) mu.Unlock();
      wg.Done();
    });
    internal::getg()->preempt.store(true, std::memory_order_relaxed);
    mu.Unlock();  // yields here: the other goroutine runs first
    wg.Wait();
  });
  EXPECT_TRUE(other_got_it);
}

// In starvation mode Unlock hands the mutex to the first waiter, which runs
// next on the same P, and the unlocker waits behind it in that P's local
// run queue, as Go's goyield: nothing goes through the global run queue
// (other than a preemption sysmon may ask for meanwhile).
TEST(MutexTest, StarvationHandOffYieldsToTheLocalRunQueue) {
  const int64_t entries_before = internal::MutexStarvationEntries();
  int64_t global_puts = -1;
  int64_t preempts = 0;
  bool waiter_ran_first = false;
  RunOn(1, [&] {
    Mutex mu;
    WaitGroup wg;
    bool waiter_done = false;
    wg.Add(1);
    mu.Lock();
    Go([&] {
      mu.Lock();  // parks; starves after its second wake-up, see below
      waiter_done = true;
      mu.Unlock();
      wg.Done();
    });
    // The waiter parks in Lock and waits over 1 ms. Unlock (normal mode)
    // wakes it into runnext, Lock takes the mutex back before it runs, and
    // Gosched lets it run: it loses, switches to starvation mode and parks.
    Gosched();
    Sleep(absl::Milliseconds(2));
    mu.Unlock();
    mu.Lock();
    Gosched();
    const Stats before = ReadStats();
    mu.Unlock();  // hand-off: the waiter runs now, on this P
    waiter_ran_first = waiter_done;
    const Stats after = ReadStats();
    global_puts = after.global_puts - before.global_puts;
    preempts = after.preempts - before.preempts;
    wg.Wait();
  });
  EXPECT_GT(internal::MutexStarvationEntries(), entries_before);
  // A variant that caps consecutive runnext runs (Tokio's LIFO slot rule)
  // may run the local queue's head, the yielder, before the readied waiter.
  const std::string variant = ReadStats().variant;
  if (variant.find("lifo_cap=0") != std::string::npos) {
    EXPECT_TRUE(waiter_ran_first) << variant;
  }
  EXPECT_EQ(global_puts, preempts);
}

TEST(MutexDeathTest, UnlockOfUnlockedMutex) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     []() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                       Mutex mu;
                       mu.Unlock();
                     }),
               "fatal error: sync: unlock of unlocked mutex");
  EXPECT_DEATH(RunOn(1,
                     []() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                       Mutex mu;
                       mu.Lock();
                       mu.Unlock();
                       mu.Unlock();
                     }),
               "fatal error: sync: unlock of unlocked mutex");
}

TEST(MutexDeathTest, DeadlockShowsWaitReason) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(2,
                     []() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                       Mutex mu;
                       mu.Lock();
                       mu.Lock();
                     }),
               "all goroutines are asleep - deadlock!(.|\n)*sync.Mutex.Lock");
}

void LockOutsideAGoroutine() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Mutex mu;
  mu.Lock();
}

TEST(MutexDeathTest, OutsideAGoroutine) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(LockOutsideAGoroutine(),
               "fatal error: gmp::Mutex::Lock called outside a goroutine");
}

}  // namespace
}  // namespace gmp
