// runtime/procresize_test.cc — GOMAXPROCS(n): changing the number of Ps
// while a runtime runs (procresize.cc, with the world stopped).
//
// Checked here: the query forms; fatal misuse; every goroutine runs exactly
// once through grows and shrinks while goroutines are runnable, blocked on
// channels, sleeping, inside Syscall and locked to threads; no more
// parallelism than GOMAXPROCS after a shrink, full parallelism after a grow;
// the scheduler's invariants and the stats after resizes; repeated
// concurrent resizes (the TSan target); schedtrace and the SIGQUIT dump
// after resizes.
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/stw.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::WaitFor;

class ProcResizeTest : public ::testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Procs, ProcResizeTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) {
                           return "procs" + std::to_string(info.param);
                         });

// GOMAXPROCS(n) returns the previous value; n < 1 only queries; above the
// maximum it clamps, as Go does.
TEST_P(ProcResizeTest, SetReturnsPreviousAndQueries) {
  const int procs = GetParam();
  std::vector<int> got;
  RunOn(procs, [&] {
    got.push_back(GOMAXPROCS(0));     // procs
    got.push_back(GOMAXPROCS(-3));    // procs
    got.push_back(GOMAXPROCS(3));     // procs
    got.push_back(GOMAXPROCS());      // 3
    got.push_back(GOMAXPROCS(3));     // 3 (no change)
    got.push_back(GOMAXPROCS(1));     // 3
    got.push_back(GOMAXPROCS(5000));  // 1
    got.push_back(GOMAXPROCS(0));     // 1024 (clamped)
    got.push_back(GOMAXPROCS(2));     // 1024
    got.push_back(GOMAXPROCS());      // 2
  });
  EXPECT_EQ(got,
            (std::vector<int>{procs, procs, procs, 3, 3, 3, 1, 1024, 1024, 2}));
}

// The main goroutine resizes while goroutines of every kind exist: runnable
// (yielding), blocked on a channel, sleeping, inside Syscall, and locked to
// their thread. Every one finishes exactly once; the invariants hold after
// each resize; NumGoroutine and the stats add up afterwards, although
// goroutines spawned on a P that was then destroyed completed elsewhere.
TEST_P(ProcResizeTest, EveryGoroutineRunsOnceThroughResizes) {
  constexpr int kPerKind = 16;
  constexpr int kKinds = 5;
  constexpr int kTotal = kPerKind * kKinds;
  std::unique_ptr<std::atomic<int>[]> ran(new std::atomic<int>[kTotal]);
  for (int i = 0; i < kTotal; ++i) ran[i].store(0);
  std::atomic<int> locked_moved{0};
  std::atomic<int> syscall_in{0};
  std::string err;
  int live_after = -1;
  RunOn(GetParam(), [&] {
    Chan<int> gate;  // unbuffered: receivers block until main sends
    std::atomic<bool> release{false};
    int id = 0;
    for (int i = 0; i < kPerKind; ++i) {
      // Runnable: yield until released.
      Go([&, me = id++] {
        while (!release.load()) Gosched();
        ran[me].fetch_add(1);
      });
      // Blocked on a channel.
      Go([&, me = id++] {
        gate.Recv();
        ran[me].fetch_add(1);
      });
      // Sleeping, again and again.
      Go([&, me = id++] {
        while (!release.load()) Sleep(absl::Microseconds(200 + me % 7 * 100));
        ran[me].fetch_add(1);
      });
      // Inside Syscall (a blocking wait that releases the P).
      Go([&, me = id++] {
        while (!release.load()) {
          Syscall([&] {
            syscall_in.fetch_add(1);
            usleep(300);
            syscall_in.fetch_sub(1);
          });
        }
        ran[me].fetch_add(1);
      });
      // Locked to its thread, yielding: it must stay on that thread.
      Go([&, me = id++] {
        LockOSThread();
        const int64_t tid = gettid();
        while (!release.load()) {
          Gosched();
          if (gettid() != tid) locked_moved.fetch_add(1);
        }
        UnlockOSThread();
        ran[me].fetch_add(1);
      });
    }
    WaitFor([&] { return syscall_in.load() > 0; });
    for (int n : {1, 4, 2, 7, 1, 3, 1, 6, 2}) {
      GOMAXPROCS(n);
      if (err.empty()) err = internal::CheckSchedInvariants();
      for (int k = 0; k < 20; ++k) Gosched();
      Sleep(absl::Milliseconds(1));
    }
    release.store(true);
    for (int i = 0; i < kPerKind; ++i) gate.Send(i);
    GOMAXPROCS(3);
    WaitFor([&] { return NumGoroutine() == 1; }, 60);
    live_after = NumGoroutine();
    if (err.empty()) err = internal::CheckSchedInvariants();
  });
  EXPECT_EQ(err, "");
  EXPECT_EQ(live_after, 1);
  EXPECT_EQ(locked_moved.load(), 0) << "a locked goroutine changed thread";
  for (int i = 0; i < kTotal; ++i) {
    EXPECT_EQ(ran[i].load(), 1) << "goroutine " << i;
  }
  Stats st = ReadStats();
  EXPECT_EQ(st.spawned, kTotal + 1);  // main included
  EXPECT_EQ(st.completed, kTotal + 1);
  EXPECT_EQ(st.reclaimed, 0);
  EXPECT_LE(st.steals, st.stolen_gs);
  EXPECT_GE(st.syscalls, kPerKind);
}

// After shrinking to one P, goroutines that were running in parallel no
// longer do: each marks itself inside a region without runtime calls, and
// at most one is ever inside at a time. Before the shrink they did run in
// parallel (so the check can fail).
TEST_P(ProcResizeTest, ShrinkToOneStopsParallelism) {
  constexpr int kWorkers = 4;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> rounds{0};
  std::atomic<bool> stop{false};
  // How long a worker stays inside: long while we wait for two to overlap
  // (on a loaded 2-core machine short windows may never meet), short once
  // GOMAXPROCS is 1 and 2000 rounds must pass.
  std::atomic<int> window_us{2000};
  int inside_at_resize = -1;
  int max_before = 0;
  int max_after = 0;
  RunOn(std::max(GetParam(), 2), [&] {
    GOMAXPROCS(kWorkers + 1);
    for (int i = 0; i < kWorkers; ++i) {
      Go([&] {
        while (!stop.load()) {
          int now = inside.fetch_add(1) + 1;
          int m = max_inside.load();
          while (now > m && !max_inside.compare_exchange_weak(m, now)) {
          }
          // Busy for a while with no runtime call.
          auto until = std::chrono::steady_clock::now() +
                       std::chrono::microseconds(window_us.load());
          while (std::chrono::steady_clock::now() < until &&
                 max_inside.load() < 2) {
          }
          inside.fetch_sub(1);
          rounds.fetch_add(1);
          Gosched();
        }
      });
    }
    // With kWorkers + 1 Ps the workers overlap (they wait inside for it).
    WaitFor([&] { return max_inside.load() >= 2; });
    max_before = max_inside.load();
    window_us.store(20);
    GOMAXPROCS(1);
    // Every worker stopped at a Gosched, outside the region; with one P
    // none runs until main yields.
    inside_at_resize = inside.load();
    max_inside.store(0);
    int start = rounds.load();
    WaitFor([&] { return rounds.load() >= start + 2000; });
    max_after = max_inside.load();
    stop.store(true);
  });
  EXPECT_GE(max_before, 2) << "workers never ran in parallel before";
  EXPECT_EQ(inside_at_resize, 0);
  EXPECT_EQ(max_after, 1) << "goroutines ran in parallel with GOMAXPROCS 1";
}

// After growing from one P to kProcs, kProcs busy-waiting goroutines (main
// included) all run at once, as in proc_test's Parallelism.
// With no Options.procs and no $GMP_MAXPROCS, the default is the number of
// CPUs in the calling thread's affinity mask, as Go's: 1 under
// `taskset -c 0` on any machine. The mask is restricted to one CPU around
// Run (the runtime's threads inherit it) and restored afterwards.
TEST(DefaultProcs, HonoursCpuAffinity) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &saved)) ++cpu;
  const char* env = std::getenv("GMP_MAXPROCS");
  const std::string saved_env = env != nullptr ? env : "";
  const bool had_env = env != nullptr;
  unsetenv("GMP_MAXPROCS");
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int outside = GOMAXPROCS();
  int inside = 0;
  gmp::Run([&] { inside = GOMAXPROCS(); });
  const int unrestricted = CPU_COUNT(&saved);
  EXPECT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  if (had_env) setenv("GMP_MAXPROCS", saved_env.c_str(), 1);
  EXPECT_EQ(outside, 1);
  EXPECT_EQ(inside, 1);
  if (!had_env) {
    EXPECT_EQ(GOMAXPROCS(), std::min(unrestricted, 1024));
  }
}

TEST(ProcResize, GrowGivesParallelism) {
  constexpr int kProcs = 4;
  std::atomic<int> started{0};
  std::atomic<int> failed{0};
  std::atomic<int> done{0};
  auto busy_wait = [&] {
    started.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (started.load() < kProcs) {
      if (std::chrono::steady_clock::now() > deadline) {
        failed.fetch_add(1);
        break;
      }
    }
  };
  int before = 0;
  RunOn(1, [&] {
    before = GOMAXPROCS(kProcs);
    for (int i = 0; i < kProcs - 1; ++i) {
      Go([&] {
        busy_wait();
        done.fetch_add(1);
      });
    }
    busy_wait();
    WaitFor([&] { return done.load() == kProcs - 1; });
  });
  EXPECT_EQ(before, 1);
  EXPECT_EQ(failed.load(), 0)
      << "not all " << kProcs << " goroutines ran at once after growing";
}

// Several goroutines resize concurrently and at random while others spawn,
// yield, talk over channels and enter Syscall; the invariants are checked
// between resizes. Meant for TSan as much as for the checks.
TEST(ProcResize, ConcurrentResizeStress) {
  std::atomic<int> spawned{0};
  std::atomic<int> finished{0};
  std::atomic<int> bad{0};
  std::atomic<bool> stop{false};
  std::string first_err;
  std::atomic<bool> have_err{false};
  RunOn(2, [&] {
    WaitGroup wg;
    Chan<int> ch(4);
    // Churn.
    for (int w = 0; w < 4; ++w) {
      wg.Add(1);
      Go([&, w] {
        for (int i = 0; !stop.load(); ++i) {
          spawned.fetch_add(1);
          Go([&] { finished.fetch_add(1); });
          if (i % 3 == 0) Gosched();
          if (i % 5 == w) Syscall([] { usleep(20); });
          if (i % 7 == 0) {
            ch.Send(i);
            ch.Recv();
          }
          if (i % 11 == 0) Sleep(absl::Microseconds(50));
        }
        wg.Done();
      });
    }
    // Resizers.
    WaitGroup resizers;
    for (int r = 0; r < 3; ++r) {
      resizers.Add(1);
      Go([&, r] {
        uint32_t x = 12345 + r;
        for (int k = 0; k < 100; ++k) {
          x = x * 1103515245 + 12345;
          int prev = GOMAXPROCS(1 + (x >> 16) % 8);
          if (prev < 1 || prev > 8) bad.fetch_add(1);
          if (k % 4 == 0) {
            std::string e = internal::CheckSchedInvariants();
            if (!e.empty() && !have_err.exchange(true)) first_err = e;
          }
          Gosched();
        }
        resizers.Done();
      });
    }
    resizers.Wait();
    stop.store(true);
    wg.Wait();
    WaitFor([&] { return finished.load() == spawned.load(); }, 60);
    std::string e = internal::CheckSchedInvariants();
    if (!e.empty() && !have_err.exchange(true)) first_err = e;
  });
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(first_err, "");
  EXPECT_EQ(finished.load(), spawned.load());
  Stats st = ReadStats();
  EXPECT_EQ(st.completed + st.reclaimed, st.spawned);
}

// Goroutines spawned on Ps that a shrink destroys are counted: the
// destroyed P keeps its counters, NumGoroutine stays right, and global puts
// and gets balance once every goroutine has finished.
TEST(ProcResize, StatsAddUpAfterShrink) {
  constexpr int kN = 512;  // a multiple of the 8 spawners
  std::atomic<int> ran{0};
  int live_blocked = -1;
  int live_end = -1;
  RunOn(8, [&] {
    Chan<int> gate;
    std::atomic<int> spawners_done{0};
    // Spawn from many Ps: each spawner yields so they spread out.
    for (int s = 0; s < 8; ++s) {
      Go([&] {
        for (int i = 0; i < kN / 8; ++i) {
          Go([&] {
            gate.Recv();
            ran.fetch_add(1);
          });
          if (i % 8 == 0) Gosched();
        }
        spawners_done.fetch_add(1);
      });
    }
    WaitFor([&] { return spawners_done.load() == 8; });
    WaitFor([&] { return NumGoroutine() == kN + 1; });
    GOMAXPROCS(1);
    live_blocked = NumGoroutine();
    for (int i = 0; i < kN; ++i) gate.Send(i);
    WaitFor([&] { return ran.load() == kN; });
    WaitFor([&] { return NumGoroutine() == 1; });
    live_end = NumGoroutine();
  });
  EXPECT_EQ(live_blocked, kN + 1);
  EXPECT_EQ(live_end, 1);
  Stats st = ReadStats();
  EXPECT_EQ(st.spawned, kN + 8 + 1);  // main included
  EXPECT_EQ(st.completed, kN + 8 + 1);
  EXPECT_EQ(st.reclaimed, 0);
  EXPECT_EQ(st.global_gets, st.global_puts);
}

// Runnable goroutines queued on Ps that are destroyed move to the global
// run queue and still run: with one P busy in main, fill the local queues
// of the other Ps, then shrink.
TEST(ProcResize, QueuedGoroutinesOfDestroyedPsRun) {
  constexpr int kN = 2000;
  std::atomic<int> ran{0};
  std::string err;
  RunOn(6, [&] {
    std::atomic<bool> go{false};
    for (int s = 0; s < 5; ++s) {
      Go([&] {
        for (int i = 0; i < kN / 5; ++i) {
          Go([&] {
            while (!go.load()) Gosched();
            ran.fetch_add(1);
          });
        }
        while (!go.load()) Gosched();
      });
    }
    Sleep(absl::Milliseconds(5));
    GOMAXPROCS(2);
    err = internal::CheckSchedInvariants();
    GOMAXPROCS(1);
    if (err.empty()) err = internal::CheckSchedInvariants();
    go.store(true);
    WaitFor([&] { return ran.load() == kN; }, 60);
  });
  EXPECT_EQ(err, "");
  EXPECT_EQ(ran.load(), kN);
}

// A goroutine locked to its thread resizes: it stays on its thread even
// when its own P is destroyed (its M then takes P 0), and the values
// returned are the previous ones.
TEST(ProcResize, LockedGoroutineResizes) {
  int moved = 0;
  std::vector<int> prevs;
  std::vector<int> want;
  std::atomic<int> ran{0};
  RunOn(4, [&] {
    LockOSThread();
    const pid_t tid = gettid();
    int last = 4;
    for (int k = 0; k < 30; ++k) {
      const int n = k % 2 == 0 ? 6 : 1;
      want.push_back(last);
      last = n;
      prevs.push_back(GOMAXPROCS(n));
      for (int i = 0; i < 4; ++i) Go([&] { ran.fetch_add(1); });
      Gosched();
      if (gettid() != tid) ++moved;
    }
    WaitFor([&] { return ran.load() == 30 * 4; });
    UnlockOSThread();
  });
  EXPECT_EQ(moved, 0);
  EXPECT_EQ(prevs, want);
  EXPECT_EQ(ran.load(), 30 * 4);
}

// Main returns while other goroutines keep resizing: Run still returns
// (a stop-the-world under way when the runtime exits gives up, and its
// goroutine is reclaimed like any other).
TEST(ProcResize, MainReturnsWhileOthersResize) {
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> resizes{0};
    RunOn(2, [&] {
      for (int r = 0; r < 3; ++r) {
        Go([&, r] {
          for (int k = 0;; ++k) {
            GOMAXPROCS(1 + (k + r) % 4);
            resizes.fetch_add(1);
          }
        });
      }
      Go([] {
        for (;;) Gosched();
      });
      WaitFor([&] { return resizes.load() >= 5 + round; });
    });
    Stats st = ReadStats();
    EXPECT_EQ(st.completed + st.reclaimed, st.spawned);
  }
}

// GMP_SCHEDTRACE lines follow the number of Ps (one queue length per P).
TEST(ProcResize, SchedtraceFollowsResize) {
  setenv("GMP_SCHEDTRACE", "2", 1);
  ::testing::internal::CaptureStderr();
  RunOn(2, [] {
    GOMAXPROCS(5);
    Sleep(absl::Milliseconds(30));
    GOMAXPROCS(1);
    Sleep(absl::Milliseconds(30));
  });
  std::string out = ::testing::internal::GetCapturedStderr();
  unsetenv("GMP_SCHEDTRACE");
  auto queues_of = [&out](const std::string& key) -> int {
    size_t at = out.find(key);
    if (at == std::string::npos) return -1;
    size_t open = out.find('[', at);
    size_t close = out.find(']', open);
    std::string q = out.substr(open + 1, close - open - 1);
    return static_cast<int>(std::count(q.begin(), q.end(), ' ')) + 1;
  };
  EXPECT_EQ(queues_of("gomaxprocs=5 "), 5) << out;
  EXPECT_EQ(queues_of("gomaxprocs=1 "), 1) << out;
}

TEST(ProcResizeDeathTest, SigquitDumpAfterResize) {
  testing_util::UseThreadsafeDeathTests();
  EXPECT_EXIT(RunOn(2,
                    [] {
                      static std::atomic<bool> started{false};
                      Go([] {
                        started.store(true);
                        Sleep(absl::Seconds(30));
                      });
                      while (!started.load()) Gosched();
                      GOMAXPROCS(6);
                      GOMAXPROCS(1);
                      Sleep(absl::Milliseconds(100));
                      raise(SIGQUIT);
                      Sleep(absl::Seconds(30));
                    }),
              ::testing::ExitedWithCode(2),
              "SIGQUIT: quit(.|\n)*gomaxprocs=1 (.|\n)*goroutine 2 "
              "\\[waiting, sleep\\]");
}

TEST(ProcResizeDeathTest, SetOutsideRuntime) {
  testing_util::UseThreadsafeDeathTests();
  EXPECT_EQ(GOMAXPROCS(0), GOMAXPROCS());  // a query is fine anywhere
  EXPECT_DEATH(GOMAXPROCS(2),
               "fatal error: gmp::GOMAXPROCS\\(n\\) called outside a runtime");
}

TEST(ProcResizeDeathTest, SetInsideSyscall) {
  testing_util::UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(2, [] { Syscall([] { return GOMAXPROCS(3); }); }),
               "fatal error: gmp::GOMAXPROCS\\(n\\) called inside Syscall");
}

}  // namespace
}  // namespace gmp
