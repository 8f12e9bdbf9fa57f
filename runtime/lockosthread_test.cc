// runtime/lockosthread_test.cc — LockOSThread / UnlockOSThread, and the
// locked hand-off when main returns.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"
#include "runtime/stw.h"
#include "runtime/thread_pool.h"

namespace gmp {
namespace {

int64_t Tid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

bool ThreadAlive(int64_t tid) {
  return access(("/proc/self/task/" + std::to_string(tid)).c_str(), F_OK) == 0;
}

using testing_util::CountThreads;
using testing_util::WaitFor;

class LockOSThreadTest : public ::testing::TestWithParam<int> {
 protected:
  Options opts() const { return Options{GetParam(), 0}; }
};

INSTANTIATE_TEST_SUITE_P(Procs, LockOSThreadTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) {
                           return "procs" + std::to_string(info.param);
                         });

// Locks nest and count; an unlock at zero is a no-op.
TEST_P(LockOSThreadTest, Nesting) {
  std::atomic<int> moved{0};
  std::atomic<bool> stop{false};  // outlives main (see above)
  gmp::Run([&] {
    for (int i = 0; i < 4; ++i) {
      Go([&] {
        while (!stop.load()) Gosched();
      });
    }
    UnlockOSThread();  // no-op
    LockOSThread();
    LockOSThread();
    int64_t tid = Tid();
    UnlockOSThread();  // still locked once
    for (int i = 0; i < 200; ++i) {
      Gosched();
      if (Tid() != tid) moved++;
    }
    UnlockOSThread();
    UnlockOSThread();  // no-op again
    stop.store(true);
  }, opts());
  EXPECT_EQ(moved.load(), 0);
}

// A locked goroutine that yields keeps making progress, and so do the others.
TEST_P(LockOSThreadTest, ProgressWhileLockedAndYielding) {
  std::atomic<int> others{0};
  int locked_iters = 0;
  // Flags live outside main: other goroutines may still read them after
  // main returns (until their next runtime call).
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  gmp::Run([&] {
    for (int i = 0; i < 3; ++i) {
      Go([&] {
        while (!stop.load()) {
          others++;
          Gosched();
        }
      });
    }
    Go([&] {
      LockOSThread();
      for (int i = 0; i < 500; ++i) {
        ++locked_iters;
        Gosched();
      }
      UnlockOSThread();
      done.store(true);
    });
    EXPECT_TRUE(WaitFor([&] { return done.load(); }));
    stop.store(true);
  }, opts());
  EXPECT_EQ(locked_iters, 500);
  EXPECT_GT(others.load(), 0);
}

// A locked goroutine may block (sleep, syscall) and resumes on its thread.
TEST_P(LockOSThreadTest, BlockingWhileLocked) {
  int moved = 0;
  std::atomic<bool> stop{false};  // outlives main (see above)
  gmp::Run([&] {
    Go([&] {
      while (!stop.load()) Gosched();
    });
    LockOSThread();
    int64_t tid = Tid();
    for (int i = 0; i < 20; ++i) {
      Sleep(absl::Microseconds(200));
      if (Tid() != tid) ++moved;
      Syscall([] { usleep(100); });
      if (Tid() != tid) ++moved;
    }
    stop.store(true);
  }, opts());
  EXPECT_EQ(moved, 0);
}

// A goroutine that exits while locked takes its thread with it.
TEST_P(LockOSThreadTest, ExitWhileLockedEndsThread) {
  std::atomic<int64_t> tid{0};
  bool gone = false;
  std::atomic<bool> exited{false};
  std::atomic<int> n{0};
  gmp::Run([&] {
    Go([&] {
      LockOSThread();
      tid.store(Tid());
      exited.store(true);
      // returns locked
    });
    WaitFor([&] { return exited.load(); });
    gone = WaitFor([&] { return !ThreadAlive(tid.load()); }, 10);
    // The runtime keeps working on the remaining threads.
    for (int i = 0; i < 100; ++i) Go([&] { n++; });
    EXPECT_TRUE(WaitFor([&] { return n.load() == 100; }));
  }, opts());
  EXPECT_NE(tid.load(), 0);
  EXPECT_TRUE(gone) << "thread " << tid.load() << " still exists";
}

// Thread stability under load: a locked goroutine's thread never changes
// across thousands of yields, sleeps and syscalls while others churn, and no
// other goroutine ever runs on that thread meanwhile.
TEST_P(LockOSThreadTest, ThreadStabilityUnderLoad) {
  std::atomic<int64_t> locked_tid{0};
  std::atomic<int> moved{0};
  std::atomic<int> intruders{0};
  std::atomic<int64_t> churn{0};
  // Flags live outside main: other goroutines may still read them after
  // main returns (until their next runtime call).
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  gmp::Run([&] {
    Go([&] {
      LockOSThread();
      locked_tid.store(Tid());
      for (int i = 0; i < 2000; ++i) {
        switch (i % 4) {
          case 0:
          case 1:
            Gosched();
            break;
          case 2:
            if (i % 40 == 2) Sleep(absl::Microseconds(50));
            break;
          case 3:
            if (i % 20 == 3) Syscall([] { return 0; });
            break;
        }
        if (Tid() != locked_tid.load()) moved++;
      }
      done.store(true);
      UnlockOSThread();
    });
    for (int i = 0; i < 8; ++i) {
      Go([&] {
        while (!stop.load()) {
          if (Tid() == locked_tid.load() && !done.load()) intruders++;
          churn++;
          if (churn.load() % 7 == 0) Go([&] { churn++; });
          Gosched();
        }
      });
    }
    EXPECT_TRUE(WaitFor([&] { return done.load(); }, 60));
    stop.store(true);
  }, opts());
  EXPECT_EQ(moved.load(), 0);
  EXPECT_EQ(intruders.load(), 0);
  EXPECT_GT(churn.load(), 0);
}

// The main goroutine may lock too.
TEST_P(LockOSThreadTest, MainLocks) {
  int moved = 0;
  std::atomic<int> n{0};
  gmp::Run([&] {
    LockOSThread();
    int64_t tid = Tid();
    for (int i = 0; i < 50; ++i) Go([&] { n++; });
    while (n.load() < 50) {
      Gosched();
      if (Tid() != tid) ++moved;
    }
  }, opts());
  EXPECT_EQ(moved, 0);
}

TEST_P(LockOSThreadTest, InvariantsWithLockedGoroutines) {
  std::string err;
  std::atomic<bool> stop{false};  // outlives main (see above)
  gmp::Run([&] {
    std::atomic<int> running{0};
    for (int i = 0; i < 3; ++i) {
      Go([&] {
        LockOSThread();
        running++;
        while (!stop.load()) Gosched();
      });
    }
    WaitFor([&] { return running.load() == 3; });
    err = internal::CheckSchedInvariants();
    stop.store(true);
  }, opts());
  EXPECT_EQ(err, "");
}

// Two goroutines, each locked to its own thread, ping-pong over unbuffered
// channels. Each hand-off must wake only the receiver's locked thread: its
// P goes straight there, from an idle P (goready) or from the P the sender
// hands off when it blocks, never through another M that is woken just to
// pass the P on, nor through a spinning M woken for a G it cannot run. So
// no parked M is woken (Stats.wakeups) and no thread is created for it.
TEST_P(LockOSThreadTest, LockedPingPongWakesOnlyTheLockedThreads) {
  constexpr int kRounds = 2000;
  Stats before, after;
  int64_t partner_moved = 0, main_moved = 0;
  gmp::Run([&] {
    Chan<int> ping, pong;
    WaitGroup wg;
    wg.Add(1);
    Go([&] {
      LockOSThread();
      const int64_t tid = Tid();
      while (auto v = ping.Recv()) {
        if (Tid() != tid) ++partner_moved;
        pong.Send(*v);
      }
      UnlockOSThread();
      wg.Done();
    });
    LockOSThread();
    const int64_t tid = Tid();
    for (int i = 0; i < 10; ++i) {  // warm up: the partner locks its thread
      ping.Send(i);
      pong.Recv();
    }
    before = ReadStats();
    for (int i = 0; i < kRounds; ++i) {
      ping.Send(i);
      ASSERT_EQ(pong.Recv(), i);
      if (Tid() != tid) ++main_moved;
    }
    after = ReadStats();
    UnlockOSThread();
    ping.Close();
    wg.Wait();
  }, opts());
  EXPECT_EQ(main_moved, 0);
  EXPECT_EQ(partner_moved, 0);
  // Not zero: sysmon or a stray timer may still wake an M now and then.
  EXPECT_LT(after.wakeups - before.wakeups, kRounds / 20)
      << "Ms woken per round trip: "
      << static_cast<double>(after.wakeups - before.wakeups) / kRounds;
  EXPECT_LE(after.threads - before.threads, 1);
}

// A locked goroutine blocks while every other P runs and a goroutine sits
// queued behind a busy one that makes no runtime calls: nobody was woken
// for it (no P was idle when it was queued). The P handed off by the
// blocking goroutine is the only one free, and an M must take it and steal
// the queued goroutine: handoffp looks at the queues after putting the P on
// the idle list. If it only idled the P, the busy goroutine would wait for
// its flag until the bound below.
TEST(LockOSThreadHandoff, EmptyPHandedOffFindsWorkQueuedElsewhere) {
  std::atomic<bool> spawned{false}, flag{false}, gave_up{false};
  gmp::Run([&] {
    LockOSThread();
    Chan<int> ch(1);
    WaitGroup wg;
    wg.Add(1);
    Go([&] {  // stolen onto the second P
      Go([&] {  // queued on that P, behind its spawner
        flag.store(true);
        ch.Send(1);
      });
      spawned.store(true);
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!flag.load()) {  // no runtime call: keeps its P
        if (std::chrono::steady_clock::now() > deadline) {
          gave_up.store(true);
          break;
        }
      }
      wg.Done();
    });
    while (!spawned.load()) {  // no runtime call: main keeps its P
    }
    ch.Recv();  // blocks: main's P is handed off with nothing in it
    wg.Wait();
    UnlockOSThread();
  }, Options{2, 0});
  EXPECT_TRUE(flag.load());
  EXPECT_FALSE(gave_up.load());
}

// TaskCountSettled is TaskCount once it is at most `want`, or after 2 s: a
// thread that pthread_join returned for may still be listed for a moment
// (the kernel wakes the joiner before the task is gone).
int TaskCountSettled(int want) {
  int n = CountThreads();
  for (int i = 0; i < 2000 && n > want; ++i) {
    usleep(1000);
    n = CountThreads();
  }
  return n;
}

// PooledNow is the number of idle M threads the runtime keeps for the next
// Run (they stay in /proc/self/task between Runs).
int PooledNow() { return internal::ReadThreadPoolStats().idle; }

// A thread ended by a locked exit is joined and its M freed while the
// runtime runs: the thread cap counts live threads, not every M ever made,
// so a long run of lock-and-exit goroutines stays far below the cap.
TEST(LockedExit, ThreadCapCountsLiveThreads) {
#if defined(GMP_TSAN) || defined(GMP_ASAN)
  constexpr int kRounds = 60;
#else
  constexpr int kRounds = 200;
#endif
  gmp::Run([] {}, Options{2, 0});  // sanitizers start helper threads once
  usleep(10 * 1000);               // its threads leave the task list
  const int before = CountThreads();
  const int pooled_before = PooledNow();
  int most = 0;
  setenv("GMP_MAXTHREADS", "24", 1);
  gmp::Run(
      [&] {
        for (int i = 0; i < kRounds; ++i) {
          WaitGroup wg;
          wg.Add(1);
          Go([&] {
            LockOSThread();
            wg.Done();
            // returns locked: the thread goes with it
          });
          wg.Wait();
          most = std::max(most, CountThreads());
        }
      },
      Options{2, 0});
  unsetenv("GMP_MAXTHREADS");
  EXPECT_GE(ReadStats().threads, kRounds);
  EXPECT_LE(most - before, 12) << "threads alive at most during the run";
  // Every thread of a locked exit is gone; only clean ones are kept.
  const int want = before + PooledNow() - pooled_before;
  EXPECT_EQ(TaskCountSettled(want), want);
}

// Run again and again with lock-and-exit goroutines leaves no thread behind
// (and, under ASan, LSan checks that no M leaks).
TEST(LockedExit, RepeatedRunsLeakNoThreads) {
#if defined(GMP_TSAN) || defined(GMP_ASAN)
  constexpr int kRuns = 100;
#else
  constexpr int kRuns = 1000;
#endif
  gmp::Run([] {}, Options{2, 0});  // sanitizers start helper threads once
  usleep(10 * 1000);               // its threads leave the task list
  const int before = CountThreads();
  const int pooled_before = PooledNow();
  for (int r = 0; r < kRuns; ++r) {
    gmp::Run(
        [] {
          WaitGroup wg;
          wg.Add(2);
          for (int i = 0; i < 2; ++i) {
            Go([&] {
              LockOSThread();
              wg.Done();
            });
          }
          wg.Wait();
          // One more lock-and-exit still running (or queued) as main returns.
          Go([] { LockOSThread(); });
        },
        Options{2, 0});
    // Threads of locked exits are gone; clean ones wait in the pool.
    const int want = before + PooledNow() - pooled_before;
    ASSERT_EQ(TaskCountSettled(want), want) << "after run " << r;
    ASSERT_LE(PooledNow(), pooled_before + 8) << "after run " << r;
  }
}

#if GMP_FUZZ_ENABLED
// The hook of the test below: holds the first locked hand-off after arming
// between its nextp store and its Wakeup.
std::atomic<bool> handoff_armed{false};
std::atomic<bool> handoff_held{false};

void HoldLockedHandoff() {
  bool armed = true;
  if (!handoff_armed.compare_exchange_strong(armed, false,
                                             std::memory_order_relaxed)) {
    return;
  }
  handoff_held.store(true, std::memory_order_relaxed);
  usleep(20 * 1000);  // main returns; its exit nudge wakes the locked M
}
#endif

// When main returns during a locked hand-off, the exit nudge can wake the
// locked M after the giver stored the P in its nextp but before the giver's
// own Wakeup: the nextp release/acquire is then the locked M's only edge to
// the giver's releasep (plain pp->m). A fuzz hook holds one hand-off in that
// window (fuzz configs only) while two locked goroutines ping-pong on one P
// and main spins on the other, learning of the hold through a relaxed flag.
TEST(LockedExit, NudgedLockedMSeesTheGiversRelease) {
#if !GMP_FUZZ_ENABLED
  GTEST_SKIP() << "needs the fuzz hooks (--config=fuzz)";
#else
  static constexpr int kRuns = 5;
  static const internal::FuzzHooks hooks = [] {
    internal::FuzzHooks h;
    h.on_locked_handoff = &HoldLockedHandoff;
    return h;
  }();
  internal::SetFuzzHooks(&hooks);
  for (int run = 0; run < kRuns; ++run) {
    Chan<int> ping, pong;  // outlive the runtime: the players are abandoned
    handoff_held.store(false);
    handoff_armed.store(false);
    gmp::Run(
        [&] {
          Go([&] {
            LockOSThread();
            for (;;) {
              ping.Recv();
              pong.Send(0);
            }
          });
          Go([&] {
            LockOSThread();
            for (;;) {
              ping.Send(0);
              pong.Recv();
            }
          });
          handoff_armed.store(true, std::memory_order_relaxed);
          const auto deadline =
              std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (!handoff_held.load(std::memory_order_relaxed) &&
                 std::chrono::steady_clock::now() < deadline) {
          }
        },
        Options{2, 0});
    EXPECT_TRUE(handoff_held.load()) << "run " << run;
  }
  internal::SetFuzzHooks(nullptr);
#endif
}

TEST(LockOSThreadDeathTest, OutsideRuntime) {
  EXPECT_DEATH(LockOSThread(), "fatal error: gmp::LockOSThread called outside");
}

}  // namespace
}  // namespace gmp
