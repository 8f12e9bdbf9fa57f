// runtime/thread_pool_test.cc — OS threads kept across Runs
// (runtime/thread_pool.cc): Ms' threads and the service threads are reused
// by the next Run; a thread whose locked goroutine exited, or that a
// goroutine still held locked when main returned, is not; the thread cap
// counts the current Run's Ms only.
#include "runtime/thread_pool.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::CountThreads;
using testing_util::WaitFor;

int64_t Tid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

bool ThreadAlive(int64_t tid) {
  return access(("/proc/self/task/" + std::to_string(tid)).c_str(), F_OK) == 0;
}

// GoneSoon waits up to 2 s for `tid` to leave /proc/self/task (a joined
// thread may be listed for a moment after pthread_join returned).
bool GoneSoon(int64_t tid) {
  for (int i = 0; i < 2000 && ThreadAlive(tid); ++i) usleep(1000);
  return !ThreadAlive(tid);
}

// CountSettled is CountThreads once it is at most `want`, or after 2 s.
int CountSettled(int want) {
  int n = CountThreads();
  for (int i = 0; i < 2000 && n > want; ++i) {
    usleep(1000);
    n = CountThreads();
  }
  return n;
}

internal::ThreadPoolStats Pool() { return internal::ReadThreadPoolStats(); }

// Threads records the threads the goroutines of one Run ran on.
struct Threads {
  std::mutex mu;
  std::set<int64_t> tids;
  void Add() {
    int64_t tid = Tid();
    std::lock_guard<std::mutex> l(mu);
    tids.insert(tid);
  }
};

// Busy runs `n` goroutines that Gosched a while, recording their threads.
void Busy(int procs, int n, Threads* threads) {
  gmp::Run(
      [&] {
        threads->Add();
        std::atomic<int> done{0};
        for (int i = 0; i < n; ++i) {
          Go([&] {
            for (int k = 0; k < 50; ++k) {
              threads->Add();
              Gosched();
            }
            done.fetch_add(1);
          });
        }
        WaitFor([&] { return done.load() == n; });
      },
      Options{procs, 0});
}

// Every thread a Run runs goroutines on was there before it: the threads
// of the previous Run, taken from the pool, not new ones.
TEST(ThreadPool, RunsReuseThreads) {
  Threads warm;
  Busy(2, 8, &warm);
  const int64_t created = Pool().created;
  constexpr int kRuns = 20;
  for (int r = 0; r < kRuns; ++r) {
    const int idle = Pool().idle;
    ASSERT_GE(idle, 1) << "run " << r << ": no thread kept";
    Threads t;
    Busy(2, 8, &t);
    ASSERT_FALSE(t.tids.empty());
    for (int64_t tid : t.tids) {
      EXPECT_TRUE(ThreadAlive(tid)) << "run " << r << ": thread " << tid
                                    << " of the Run not kept afterwards";
    }
  }
  // Each Run needs at least one M: without reuse, kRuns threads or more.
  EXPECT_LT(Pool().created - created, kRuns)
      << "M threads created by " << kRuns << " Runs";
}

// The process's thread count does not grow from Run to Run (sysmon and the
// trace thread are kept too).
TEST(ThreadPool, ThreadCountStaysFlat) {
  Threads warm;
  Busy(2, 8, &warm);
  usleep(10 * 1000);
  const int before = CountThreads();
  const int idle_before = Pool().idle;
  for (int r = 0; r < 20; ++r) {
    Threads t;
    Busy(2, 8, &t);
    const int want = before + Pool().idle - idle_before;
    ASSERT_EQ(CountSettled(want), want) << "after run " << r;
  }
  EXPECT_LE(Pool().idle, idle_before + 4);
}

// The main goroutine of the next Run runs on a thread that was alive before
// that Run started.
TEST(ThreadPool, NextRunStartsOnAPooledThread) {
  Threads warm;
  Busy(1, 1, &warm);
  for (int r = 0; r < 10; ++r) {
    ASSERT_GE(Pool().idle, 1);
    std::set<int64_t> tasks;  // threads alive before the Run
    for (int64_t tid : warm.tids) {
      if (ThreadAlive(tid)) tasks.insert(tid);
    }
    int64_t main_tid = 0;
    gmp::Run([&] { main_tid = Tid(); }, Options{1, 0});
    EXPECT_TRUE(ThreadAlive(main_tid)) << "run " << r;
    warm.tids.insert(main_tid);
    if (r > 0) {
      EXPECT_EQ(tasks.count(main_tid), 1u)
          << "run " << r << ": main ran on new thread " << main_tid;
    }
  }
}

// A goroutine that exits locked takes its thread with it: the thread is
// gone after the Run and no later Run runs on it.
TEST(ThreadPool, LockedExitThreadIsNotReused) {
  for (int r = 0; r < 10; ++r) {
    std::atomic<int64_t> locked_tid{0};
    gmp::Run(
        [&] {
          WaitGroup wg;
          wg.Add(1);
          Go([&] {
            LockOSThread();
            locked_tid.store(Tid());
            wg.Done();
            // returns locked
          });
          wg.Wait();
        },
        Options{2, 0});
    ASSERT_NE(locked_tid.load(), 0);
    EXPECT_TRUE(GoneSoon(locked_tid.load())) << "run " << r;
    Threads next;
    Busy(2, 8, &next);
    EXPECT_EQ(next.tids.count(locked_tid.load()), 0u) << "run " << r;
  }
}

// A goroutine still locked when main returns is abandoned with its thread:
// the thread is not kept for the next Run either.
TEST(ThreadPool, ThreadLockedAtExitIsNotReused) {
  for (int r = 0; r < 10; ++r) {
    std::atomic<int64_t> locked_tid{0};
    gmp::Run(
        [&] {
          std::atomic<bool> locked{false};
          Go([&] {
            LockOSThread();
            locked_tid.store(Tid());
            locked.store(true);
            for (;;) Gosched();  // runs locked until Run ends
          });
          WaitFor([&] { return locked.load(); });
        },
        Options{2, 0});
    ASSERT_NE(locked_tid.load(), 0);
    EXPECT_TRUE(GoneSoon(locked_tid.load())) << "run " << r;
  }
}

// A goroutine that unlocked before it exited leaves a clean thread, which
// is kept (as Go keeps it).
TEST(ThreadPool, UnlockedThreadIsKept) {
  std::atomic<int64_t> tid{0};
  gmp::Run(
      [&] {
        WaitGroup wg;
        wg.Add(1);
        Go([&] {
          LockOSThread();
          tid.store(Tid());
          UnlockOSThread();
          wg.Done();
        });
        wg.Wait();
      },
      Options{2, 0});
  usleep(20 * 1000);
  EXPECT_TRUE(ThreadAlive(tid.load()));
}

// Many Ms in one Run (goroutines blocked in Syscalls): at most the pool's
// bound is kept, the rest are joined.
TEST(ThreadPool, IdleThreadsAreBounded) {
  gmp::Run(
      [] {
        WaitGroup wg;
        for (int i = 0; i < 100; ++i) {
          wg.Add(1);
          Go([&] {
            Syscall([] { return usleep(20 * 1000); });
            wg.Done();
          });
        }
        wg.Wait();
      },
      Options{4, 0});
  EXPECT_LE(Pool().idle, 64);
  EXPECT_GE(Pool().idle, 1);
}

// Idle pooled threads are not Ms of the next Run: a Run under a small
// $GMP_MAXTHREADS runs after one that left many threads in the pool, and
// counts only the Ms it uses.
TEST(ThreadPool, ThreadCapCountsTheRunsMsOnly) {
  gmp::Run(
      [] {
        WaitGroup wg;
        for (int i = 0; i < 16; ++i) {
          wg.Add(1);
          Go([&] {
            Syscall([] { return usleep(20 * 1000); });
            wg.Done();
          });
        }
        wg.Wait();
      },
      Options{8, 0});
  ASSERT_GE(Pool().idle, 8);
  setenv("GMP_MAXTHREADS", "3", 1);
  std::atomic<int> n{0};
  gmp::Run(
      [&] {
        WaitGroup wg;
        for (int i = 0; i < 20; ++i) {
          wg.Add(1);
          Go([&] {
            n.fetch_add(1);
            wg.Done();
          });
        }
        wg.Wait();
      },
      Options{2, 0});
  unsetenv("GMP_MAXTHREADS");
  EXPECT_EQ(n.load(), 20);
  EXPECT_LE(ReadStats().threads, 3);
}

// ... and the cap still stops a Run that needs more Ms than it allows, with
// threads waiting in the pool.
TEST(ThreadPoolDeathTest, ThreadCapHoldsWithPooledThreads) {
  testing_util::UseThreadsafeDeathTests();
  EXPECT_DEATH(
      {
        gmp::Run(
            [] {
              WaitGroup wg;
              for (int i = 0; i < 16; ++i) {
                wg.Add(1);
                Go([&] {
                  Syscall([] { return usleep(20 * 1000); });
                  wg.Done();
                });
              }
              wg.Wait();
            },
            Options{8, 0});
        setenv("GMP_MAXTHREADS", "3", 1);
        gmp::Run(
            [] {
              WaitGroup wg;
              for (int i = 0; i < 8; ++i) {
                wg.Add(1);
                Go([&] {
                  Syscall([] { return usleep(200 * 1000); });
                  wg.Done();
                });
              }
              wg.Wait();
            },
            Options{2, 0});
      },
      "fatal error: thread exhaustion: program exceeds 3-thread limit");
}

}  // namespace
}  // namespace gmp
