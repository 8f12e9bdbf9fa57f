// runtime/proc_test.cc — tests of the scheduler core: Run, Go, Gosched,
// spawning, parallelism, stats, reentrancy, the runtime lock's try_lock and
// fatal misuse.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/lock.h"
#include "runtime/policy/config.h"
#include "runtime/sanitizer.h"
#include "runtime/sched.h"
#include "runtime/stack.h"
#include "runtime/stw.h"
#include "runtime/test_util.h"
#include "runtime/thread_pool.h"

namespace gmp {
namespace {

using testing_util::CountThreads;
using testing_util::WaitFor;

class ProcTest : public ::testing::TestWithParam<int> {
 protected:
  Options opts() const {
    Options o;
    o.procs = GetParam();
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, ProcTest, ::testing::Values(1, 2, 4, 8),
                         [](const auto& info) {
                           return "procs" + std::to_string(info.param);
                         });

TEST_P(ProcTest, RunRunsMainAsGoroutineOne) {
  int64_t id = -1;
  int procs = 0;
  gmp::Run(
      [&] {
        id = GoroutineId();
        procs = GOMAXPROCS();
      },
      opts());
  EXPECT_EQ(id, 1);
  EXPECT_EQ(procs, GetParam());
  EXPECT_EQ(GoroutineId(), 0) << "outside a runtime";
}

// Go's TestGoroutineParallelism-like: 100,000 goroutines spawned from one
// goroutine each run exactly once.
TEST_P(ProcTest, HundredThousandSpawnsEachRunOnce) {
#if defined(GMP_TSAN)
  // Under TSan every switch is slow: one proc count keeps the test short.
  if (GetParam() != 8) GTEST_SKIP() << "procs=8 suffices under TSan";
#endif
  if (GetParam() == 2 || GetParam() == 4) GTEST_SKIP() << "1 and 8 suffice";
  constexpr int kN = 100000;
  auto ran = std::make_unique<std::atomic<uint8_t>[]>(kN);
  std::atomic<int> done{0};
  bool finished = false;
  gmp::Run(
      [&] {
        for (int i = 0; i < kN; ++i) {
          Go([&, i] {
            ran[i].fetch_add(1, std::memory_order_relaxed);
            done.fetch_add(1, std::memory_order_release);
          });
        }
        finished = WaitFor([&] { return done.load() == kN; }, 60);
      },
      opts());
  ASSERT_TRUE(finished);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(ran[i].load(), 1) << i;
  Stats st = ReadStats();
  EXPECT_EQ(st.spawned, kN + 1);
  EXPECT_EQ(st.completed + st.reclaimed, st.spawned);
}

// With P procs, P busy-waiting goroutines all run at once.
TEST_P(ProcTest, Parallelism) {
  const int procs = GetParam();
  std::atomic<int> started{0};
  std::atomic<int> failed{0};
  std::atomic<int> done{0};
  gmp::Run(
      [&] {
        for (int i = 0; i < procs - 1; ++i) {
          Go([&] {
            started.fetch_add(1);
            auto deadline =
                std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (started.load() < procs) {
              if (std::chrono::steady_clock::now() > deadline) {
                failed.fetch_add(1);
                break;
              }
            }
            done.fetch_add(1);
          });
        }
        started.fetch_add(1);
        auto deadline =
            std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (started.load() < procs) {
          if (std::chrono::steady_clock::now() > deadline) {
            failed.fetch_add(1);
            break;
          }
        }
        WaitFor([&] { return done.load() == procs - 1; });
      },
      opts());
  EXPECT_EQ(failed.load(), 0)
      << "not all " << procs << " goroutines ran at once";
}

// Yield progress: a goroutine yielding in a loop lets the others run, even
// on one proc.
TEST_P(ProcTest, YieldProgress) {
  std::atomic<bool> flag{false};
  std::atomic<int> spins{0};
  bool ok = false;
  gmp::Run(
      [&] {
        Go([&] {
          for (int i = 0; i < 100; ++i) Gosched();
          flag.store(true);
        });
        ok = WaitFor([&] {
          spins++;
          return flag.load();
        });
      },
      opts());
  EXPECT_TRUE(ok);
}

// errno through out-of-line calls, as gmp.h advises: inlined, a compiler
// may reuse the errno address of the thread a goroutine ran on before a
// runtime call.
__attribute__((noinline)) void SetErrno(int e) { errno = e; }
__attribute__((noinline)) int GetErrno() { return errno; }

// Goroutines that only yield switch from one to the next without going
// through the scheduler context when nothing else is pending (Gosched's
// direct switch). Across every Gosched each must still be itself
// (GoroutineId, i.e. the M's current G), keep its own errno, come back
// (the yielder is queued after the switch) and alternate with the others.
TEST_P(ProcTest, GoschedBetweenYieldersKeepsEachGoroutinesState) {
  constexpr int kGoroutines = 8;
  constexpr int kYields = 2000;
  std::atomic<int> wrong_id{0}, wrong_errno{0}, done{0};
  std::atomic<int64_t> turns{0};
  gmp::Run(
      [&] {
        WaitGroup wg;
        wg.Add(kGoroutines);
        for (int k = 0; k < kGoroutines; ++k) {
          Go([&, k] {
            const int64_t id = GoroutineId();
            for (int i = 0; i < kYields; ++i) {
              SetErrno(1000 + k);
              turns++;
              Gosched();
              if (GoroutineId() != id) wrong_id++;
              if (GetErrno() != 1000 + k) wrong_errno++;
            }
            done++;
            wg.Done();
          });
        }
        wg.Wait();
      },
      opts());
  EXPECT_EQ(done.load(), kGoroutines);
  EXPECT_EQ(turns.load(), int64_t{kGoroutines} * kYields);
  EXPECT_EQ(wrong_id.load(), 0);
  EXPECT_EQ(wrong_errno.load(), 0);
}

// A tree of spawns with yields everywhere: every goroutine runs once and the
// stats add up.
TEST_P(ProcTest, TreeOfSpawnsStatsAddUp) {
  std::atomic<int> ran{0};
  constexpr int kDepth = 10;  // 2^11 - 1 goroutines
  struct Tree {
    static void Spawn(std::atomic<int>* ran, int depth) {
      ran->fetch_add(1);
      Gosched();
      if (depth == 0) return;
      Go([=] { Spawn(ran, depth - 1); });
      Go([=] { Spawn(ran, depth - 1); });
    }
  };
  gmp::Run(
      [&] {
        Go([&] { Tree::Spawn(&ran, kDepth); });
        WaitFor([&] { return ran.load() == (1 << (kDepth + 1)) - 1; });
        WaitFor([&] { return NumGoroutine() == 1; });
        EXPECT_EQ(NumGoroutine(), 1);
      },
      opts());
  EXPECT_EQ(ran.load(), (1 << (kDepth + 1)) - 1);
  Stats st = ReadStats();
  EXPECT_EQ(st.spawned, (1 << (kDepth + 1)) + 0);  // tree + main
  EXPECT_EQ(st.completed, st.spawned);
  EXPECT_EQ(st.reclaimed, 0);
  EXPECT_GE(st.global_gets, 0);
  EXPECT_GE(st.threads, 1);
  EXPECT_LE(st.stolen_gs, st.spawned);
  EXPECT_LE(st.steals, st.stolen_gs);
  EXPECT_EQ(st.variant, internal::policy::DescribeVariant());
  if (GetParam() == 1) EXPECT_EQ(st.steals, 0);
}

// Goroutines still runnable or yielding when main returns are reclaimed.
TEST_P(ProcTest, AliveAtExitAreReclaimed) {
  std::atomic<bool> stop{false};
  gmp::Run(
      [&] {
        for (int i = 0; i < 50; ++i) {
          Go([&] {
            while (!stop.load()) Gosched();
          });
        }
        for (int i = 0; i < 10; ++i) Gosched();
      },
      opts());
  Stats st = ReadStats();
  EXPECT_EQ(st.spawned, 51);
  EXPECT_EQ(st.completed + st.reclaimed, st.spawned);
  EXPECT_GE(st.reclaimed, 1);
}

TEST_P(ProcTest, RunIsReentrantAndJoinsThreads) {
  // Clean threads wait in the pool between Runs (thread_pool.cc); every
  // other thread a Run started is joined.
  auto pooled = [] { return internal::ReadThreadPoolStats().idle; };
  gmp::Run([] {}, opts());  // sysmon and the trace thread start once
  const int before = CountThreads() - pooled();
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> n{0};
    gmp::Run(
        [&] {
          for (int i = 0; i < 100; ++i) Go([&] { n.fetch_add(1); });
          WaitFor([&] { return n.load() == 100; });
        },
        opts());
    ASSERT_EQ(n.load(), 100);
    // A joined thread can linger in /proc/self/task for a moment after
    // pthread_join returns (the kernel reaps it after clearing its tid);
    // a leaked thread never leaves.
    for (int i = 0; i < 1000 && CountThreads() - pooled() != before; ++i) {
      usleep(1000);
    }
    ASSERT_EQ(CountThreads() - pooled(), before) << "round " << round;
  }
}

TEST_P(ProcTest, InvariantsHoldUnderChurn) {
  std::atomic<int> n{0};
  std::string err;
  gmp::Run(
      [&] {
        for (int i = 0; i < 200; ++i) {
          Go([&] {
            for (int k = 0; k < 20; ++k) Gosched();
            n.fetch_add(1);
          });
        }
        for (int k = 0; k < 5 && err.empty(); ++k) {
          err = internal::CheckSchedInvariants();
          Gosched();
        }
        WaitFor([&] { return n.load() == 200; });
        if (err.empty()) err = internal::CheckSchedInvariants();
      },
      opts());
  EXPECT_EQ(err, "");
}

// Several goroutines stop the world at once (fuzz findings F1-F3): each
// waits its turn; every check passes. This caught getg() reading a stale
// thread-local M after a goroutine moved threads (see CurrentM in proc.cc).
TEST_P(ProcTest, ConcurrentStopTheWorld) {
  std::atomic<int> done{0};
  std::atomic<int> bad{0};
  std::atomic<bool> stop{false};
  gmp::Run(
      [&] {
        for (int i = 0; i < 4; ++i) {
          Go([&] {
            while (!stop.load()) Gosched();
          });
        }
        for (int i = 0; i < 4; ++i) {
          Go([&] {
            for (int k = 0; k < 10; ++k) {
              if (!internal::CheckSchedInvariants().empty()) bad++;
              Gosched();
            }
            done++;
          });
        }
        WaitFor([&] { return done.load() == 4; });
        stop.store(true);
      },
      opts());
  EXPECT_EQ(done.load(), 4);
  EXPECT_EQ(bad.load(), 0);
}

TEST(ProcStats, ReadStatsOutsideRunIsTheLastRun) {
  gmp::Run(
      [] {
        for (int i = 0; i < 7; ++i) Go([] {});
      },
      Options{2, 0});
  Stats st = ReadStats();
  EXPECT_EQ(st.spawned, 8);
  EXPECT_EQ(st.completed + st.reclaimed, 8);
}

TEST(ProcStats, StackSizeOption) {
  // A goroutine may use most of a 256 KiB stack when asked for it.
  std::atomic<int> sum{0};
  gmp::Run(
      [&] {
        std::atomic<bool> done{false};
        Go([&] {
          volatile char buf[200 * 1024];
          for (size_t i = 0; i < sizeof(buf); i += 4096) buf[i] = 1;
          sum.store(buf[4096]);
          done.store(true);
        });
        WaitFor([&] { return done.load(); });
      },
      Options{2, 256 * 1024});
  EXPECT_EQ(sum.load(), 1);
}

// LiveStacks is the number of stacks the running runtime's pool has handed
// out and not taken back (held by running, parked, queued or free Gs).
size_t LiveStacks() { return internal::sched->stacks->live(); }

// Stacks are bound when a goroutine first runs: 10,000 spawned goroutines
// that have not run yet hold no stack, and run one after another on one P
// they all use the stack the previous one left behind.
TEST(ProcStacks, NeverRunGoroutinesHoldNoStacks) {
  constexpr int kN = 10000;
  size_t before = 0, queued = 0, after = 0;
  std::atomic<int> ran{0};
  std::string err;
  gmp::Run(
      [&] {
        before = LiveStacks();  // main's own
        for (int i = 0; i < kN; ++i) Go([&] { ran.fetch_add(1); });
        queued = LiveStacks();
        err = internal::CheckSchedInvariants();
        WaitFor([&] { return ran.load() == kN; });
        after = LiveStacks();
      },
      Options{1, 0});
  EXPECT_EQ(err, "");
  EXPECT_EQ(ran.load(), kN);
  EXPECT_EQ(before, 1u);
  // The spawns are not preemption points for the spawned Gs: none ran
  // unless sysmon preempted main, and then one after another on one stack.
  EXPECT_LE(queued, before + 1) << "never-run goroutines hold stacks";
  EXPECT_LE(after, before + 1) << "finished goroutines' stacks not reused";
}

// A goroutine started after another finished on the same P runs on the
// stack the first one left (pp->gfree's head).
TEST(ProcStacks, GoroutineReusesFreedStack) {
  uintptr_t first = 0, second = 0;
  gmp::Run(
      [&] {
        std::atomic<bool> done{false};
        Go([&] {
          int local = 0;
          first = reinterpret_cast<uintptr_t>(&local);
          done.store(true);
        });
        WaitFor([&] { return done.load(); });
        done.store(false);
        Go([&] {
          int local = 0;
          second = reinterpret_cast<uintptr_t>(&local);
          done.store(true);
        });
        WaitFor([&] { return done.load(); });
      },
      Options{1, 0});
  ASSERT_NE(first, 0u);
  const uintptr_t dist = first > second ? first - second : second - first;
  EXPECT_LT(dist, internal::DefaultStackSize())
      << "second goroutine got a new stack";
}

// A goroutine parked in Chan::Recv uses at most half a default compact
// stack: what lets compact stacks be one page (stack.h). Measured as the
// high-water mark on a fresh (zeroed) stack.
TEST(ProcStacks, ParkedGoroutineFitsHalfACompactStack) {
  size_t used = 0, size = 0;
  gmp::Run(
      [&] {
        gmp::Chan<int> c;
        std::atomic<internal::G*> g{nullptr};
        Go([&] {
          g.store(internal::getg());
          c.Recv();
        });
        WaitFor([&] {
          internal::G* gp = g.load();
          return gp != nullptr &&
                 gp->status.load() == internal::GStatus::kWaiting;
        });
        internal::G* gp = g.load();
        size = gp->stack_size;
        const auto* lo = static_cast<const uint64_t*>(gp->stack_lo) + 1;
        const auto* hi = static_cast<const uint64_t*>(gp->stack_lo) + size / 8;
        const uint64_t* w = lo;
        while (w < hi && *w == 0) ++w;
        used = static_cast<size_t>(hi - w) * 8;
        c.Send(1);
      },
      Options{1, 0});
  RecordProperty("parked_stack_bytes", static_cast<int>(used));
  std::printf("parked goroutine used %zu of %zu stack bytes\n", used, size);
  EXPECT_GT(used, 0u);
  EXPECT_LE(used, internal::kCompactStackSize / 2);
}

// Goroutines that never ran are reclaimed when main returns, both brand-new
// ones and reused Gs whose contexts (and sanitizer fibers) ran before.
TEST(ProcStacks, NeverRunGoroutinesReclaimedAtExit) {
  for (int round = 0; round < 3; ++round) {
    gmp::Run(
        [&] {
          std::atomic<int> ran{0};
          for (int i = 0; i < 200; ++i) Go([&] { ran.fetch_add(1); });
          WaitFor([&] { return ran.load() == 200; });
          for (int i = 0; i < 5000; ++i) Go([] {});  // main returns first
        },
        Options{1, 0});
    Stats st = ReadStats();
    EXPECT_EQ(st.spawned, 5201);
    EXPECT_EQ(st.completed + st.reclaimed, st.spawned);
  }
}

// ResidentBytes is this process's resident set (/proc/self/statm).
int64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? int64_t{resident} * sysconf(_SC_PAGESIZE) : 0;
}

// ParkAndRelease spawns n goroutines that park on one channel until main
// closes it, then waits until all of them finished. Returns the resident
// set while they were all parked. Inside Run.
int64_t ParkAndRelease(int n) {
  Chan<bool> release;
  WaitGroup parked, finished;
  parked.Add(n);
  finished.Add(n);
  for (int i = 0; i < n; ++i) {
    Go([&] {
      parked.Done();
      release.Recv();
      finished.Done();
    });
  }
  parked.Wait();
  const int64_t rss = ResidentBytes();
  release.Close();
  finished.Wait();
  return rss;
}

// Stacks of goroutines that finished go back to the OS while the runtime
// still runs: kept (resident, for reuse) right after they finished, and once
// the recent peak (a window, shortened here for the second part) has passed,
// the next spawns and exits trim the pool's free stacks to its floor
// (lowered here), and
// the resident set falls back near where it started.
TEST(ProcStacks, MemoryGoesBackAfterParkedGoroutinesFinish) {
  // TSan keeps a few hundred KiB per parked goroutine (its fiber's shadow
  // stack and trace): fewer there.
  constexpr int kN = GMP_HAVE_TSAN ? 6000 : GMP_HAVE_ASAN ? 20000 : 120000;
  constexpr int64_t kWindowNs = 50'000'000;
  constexpr size_t kKeepMin = 1000;  // the pool's floor, for this test
  int64_t rss0 = 0, rss_parked = 0, rss_kept = 0, rss_after = 0;
  Stats s0, s1;
  gmp::Run(
      [&] {
        internal::sched->stacks->set_keep_min(kKeepMin);
        s0 = ReadStats();
        rss0 = ResidentBytes();
        rss_parked = ParkAndRelease(kN);
        rss_kept = ResidentBytes();  // within the window: kept for reuse
        // Two (shortened) windows later, a burst of spawns and exits
        // notices.
        internal::sched->stacks->set_window(kWindowNs);
        Sleep(absl::Nanoseconds(3 * kWindowNs));
        ParkAndRelease(2000);
        rss_after = ResidentBytes();
        s1 = ReadStats();
        internal::sched->stacks->set_window(
            internal::StackPool::kDefaultWindow);
        internal::sched->stacks->set_keep_min(internal::StackPool::kKeepMin);
      },
      Options{2, 0});
  EXPECT_GE(s1.stacks_returned - s0.stacks_returned,
            kN - static_cast<int64_t>(kKeepMin) - 2000);
  EXPECT_LE(s1.stacks_resident_free, static_cast<int64_t>(kKeepMin) + 2000);
  // Under the sanitizers the resident set is mostly theirs: TSan's
  // per-goroutine state, ASan's quarantine of freed heap (256 MiB by
  // default); the stacks (and, under ASan, their shadow) go back all the
  // same, as the counters above say.
  if (GMP_HAVE_TSAN || GMP_HAVE_ASAN) return;
  const int64_t grown = rss_parked - rss0;
  const int64_t per_g = grown / kN;
  ASSERT_GT(per_g, 2048) << "parked goroutines should take a page each";
  EXPECT_GT(rss_kept - rss0, grown / 2) << "stacks returned within the window";
  // What stays: the pool's floor of resident free stacks, the G records
  // (kept until Run returns, as Go keeps its Gs; a ucontext variant's hold a
  // ucontext_t each, about 1 KiB), plus 10% of the peak for everything else.
  const int64_t bound = per_g * static_cast<int64_t>(kKeepMin) +
                        static_cast<int64_t>(sizeof(internal::GRecord)) * kN +
                        grown / 10;
  EXPECT_LT(rss_after - rss0, bound)
      << "rss0 " << rss0 << " parked " << rss_parked << " after " << rss_after;
}

// A Run that follows another soon reuses the stacks the first one's parked
// goroutines left resident, and once a Run has ended and a window passes with
// no Run, the stack scavenger returns the free stacks beyond the floor.
TEST(ProcStacks, StacksOutliveRunForAWindowThenGoBack) {
  constexpr int kN = GMP_HAVE_TSAN ? 4000 : 30000;
  constexpr size_t kKeepMin = 1000;  // the pool's floor, for this test
  internal::StackPool* pool = internal::StackPool::Shared(
      internal::kDefaultStackKind, internal::DefaultStackSize());
  gmp::Run([] {}, Options{2, 0});  // any earlier Run's window is settled
  pool->set_keep_min(kKeepMin);
  auto park_in_run = [&] {
    gmp::Run([&] { ParkAndRelease(kN); }, Options{2, 0});
  };
  park_in_run();
  const size_t kept = pool->resident_cached();
  const internal::StackPool::Counts c0 = pool->counts();
  park_in_run();  // well within the 1 s window
  const internal::StackPool::Counts c1 = pool->counts();
  const size_t kept_again = pool->resident_cached();
  // No Run now: within a window or two the scavenger trims the pool.
  // (The trim takes the stacks off the resident list before its madvise
  // calls and counts them as returned after.)
  size_t resident = pool->resident_cached();
  internal::StackPool::Counts c2 = pool->counts();
  for (int i = 0;
       i < 1000 && (resident > kKeepMin || c2.returned == c1.returned); ++i) {
    usleep(10 * 1000);
    resident = pool->resident_cached();
    c2 = pool->counts();
  }
  pool->set_keep_min(internal::StackPool::kKeepMin);
  EXPECT_GE(kept, static_cast<size_t>(kN) * 9 / 10)
      << "free stacks returned when the Run ended";
  EXPECT_GE(c1.reused - c0.reused, kN * 9 / 10)
      << "the second Run did not reuse the first one's stacks";
  EXPECT_LE((c1.fresh - c0.fresh) + (c1.refilled - c0.refilled), kN / 10);
  EXPECT_GE(kept_again, static_cast<size_t>(kN) * 9 / 10);
  EXPECT_LE(resident, kKeepMin) << "the scavenger did not trim the pool";
  EXPECT_GE(c2.returned - c1.returned,
            static_cast<int64_t>(kept_again - kKeepMin));
}

// Mappings is the number of this process's memory mappings (lines of
// /proc/self/maps), which vm.max_map_count bounds.
int Mappings() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return -1;
  int lines = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) lines += c == '\n';
  std::fclose(f);
  return lines;
}

// A finished goroutine keeps nothing per goroutine that maps memory: under
// TSan its fiber (a shadow stack and a trace part, two mappings) goes when
// it exits, not when its G is reused. Here, on one P, main spawns kN
// goroutines before any runs, then they run one after another and finish,
// and no G is reused: fibers kept with the free Gs would add about 2 * kN
// mappings, and a program doing this with tens of thousands of goroutines
// would hit vm.max_map_count (65530 by default) and die in TSan's mmap.
TEST(ProcStacks, FinishedGoroutinesHoldNoMappings) {
  constexpr int kN = 5000;
  int before = 0, after = 0;
  gmp::Run(
      [&] {
        std::atomic<int> done{0};
        before = Mappings();
        for (int i = 0; i < kN; ++i) Go([&] { done.fetch_add(1); });
        WaitFor([&] { return done.load() == kN; });
        after = Mappings();
      },
      Options{1, 0});
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, kN / 4)
      << before << " mappings before, " << after << " after";
}

// The stack pool outlives Run: a second Run of the same shape takes every
// stack it needs, resident, from the pool, and faults in almost nothing.
TEST(ProcStacks, SecondRunReusesStacks) {
  constexpr int kN = 3000;  // within StackPool::kKeepMin
  gmp::Run([] { ParkAndRelease(kN); }, Options{2, 0});
  const Stats first = ReadStats();
  rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  gmp::Run([] { ParkAndRelease(kN); }, Options{2, 0});
  rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  const Stats second = ReadStats();
  EXPECT_EQ(second.stacks_fresh, first.stacks_fresh) << "new stacks carved";
  EXPECT_EQ(second.stacks_refilled, first.stacks_refilled);
  EXPECT_GE(second.stacks_reused - first.stacks_reused, kN);
  if (!GMP_HAVE_ASAN && !GMP_HAVE_TSAN) {
    // A fresh stack would fault at least its top page in.
    EXPECT_LT(ru1.ru_minflt - ru0.ru_minflt, kN / 4);
  }
}

using ProcDeathTest = ::testing::Test;

// A successful try_lock acquires what the last unlock released: the trace
// thread's dump takes allglock with try_lock (TryLockFor) and then reads
// allgs, with no other edge to the goroutine that last appended to it. Here
// the two threads meet only through a relaxed flag, so the lock is the one
// edge ThreadSanitizer can check. A header's inline function: compiled into
// this per-variant test, so the mutant schema's copy is the one tested.
TEST(RuntimeLock, TryLockSeesTheLastUnlocksWrites) {
  internal::Lock l;
  int data = 0;
  std::atomic<bool> unlocked{false};
  std::thread writer([&] {
    l.lock();
    data = 42;
    l.unlock();
    unlocked.store(true, std::memory_order_relaxed);
  });
  while (!unlocked.load(std::memory_order_relaxed)) std::this_thread::yield();
  if (!l.try_lock()) {
    writer.join();
    FAIL() << "try_lock failed after the last unlock";
  }
  EXPECT_EQ(data, 42);
  l.unlock();
  writer.join();
}

TEST(ProcDeathTest, GoOutsideRuntime) {
  EXPECT_DEATH(Go([] {}), "fatal error: gmp::Go called outside a runtime");
}

TEST(ProcDeathTest, GoschedOutsideRuntime) {
  EXPECT_DEATH(Gosched(), "fatal error: gmp::Gosched called outside a runtime");
}

TEST(ProcDeathTest, RunInsideGoroutine) {
  EXPECT_DEATH(gmp::Run(
                   [] {
                     Go([] { gmp::Run([] {}); });
                     for (;;) Gosched();
                   },
                   Options{2, 0}),
               "fatal error: gmp::Run called from inside goroutine [0-9]+");
}

TEST(ProcDeathTest, ExceptionEscapingGoroutine) {
  EXPECT_DEATH(gmp::Run(
                   [] {
                     Go([] { throw std::runtime_error("boom"); });
                     for (;;) Gosched();
                   },
                   Options{2, 0}),
               "fatal error: unhandled exception in goroutine 2: boom");
}

TEST(ProcDeathTest, ExceptionEscapingMain) {
  EXPECT_DEATH(gmp::Run([] { throw 42; }, Options{1, 0}),
               "fatal error: unhandled exception in goroutine 1");
}

}  // namespace
}  // namespace gmp
