// runtime/context_test.cc — tests of the machine context switch.
//
// Contexts here run on stacks from explicit StackPools, so every variant
// (assembly or ucontext switch, guarded or compact default) runs the same
// tests. Sanitizer cleanliness is checked by running this file under the
// tsan and asan configs.
#include "runtime/context.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cfenv>
#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/stack.h"

namespace gmp::internal {
namespace {

// --- Ping-pong on one thread. ---------------------------------------------

struct PingPong {
  Context main;
  Context fiber;
  int rounds = 0;
  int fiber_count = 0;
};

void PingPongEntry(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  for (int i = 0; i < pp->rounds; ++i) {
    ++pp->fiber_count;
    SwitchContext(&pp->fiber, &pp->main);
  }
  ExitContext(&pp->main);
}

TEST(ContextTest, PingPongOnOneThread) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  PingPong pp;
  pp.rounds = 10000;
  InitThreadContext(&pp.main);
  MakeContext(&pp.fiber, stack.lo, stack.size, &PingPongEntry, &pp);
  for (int i = 0; i < pp.rounds; ++i) {
    SwitchContext(&pp.main, &pp.fiber);
    ASSERT_EQ(pp.fiber_count, i + 1);
  }
  SwitchContext(&pp.main, &pp.fiber);  // lets it exit
  EXPECT_EQ(pp.fiber_count, pp.rounds);
  DestroyContext(&pp.fiber);
  DestroyContext(&pp.main);
  pool.Release(stack);
}

// The same with SwitchContextFast, the form inlined into its caller.
void PingPongFastEntry(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  for (int i = 0; i < pp->rounds; ++i) {
    ++pp->fiber_count;
    SwitchContextFast(&pp->fiber, &pp->main);
  }
  ExitContext(&pp->main);
}

TEST(ContextTest, PingPongFast) {
  StackPool pool(StackKind::kCompact, kCompactStackSize);
  Stack stack = pool.Acquire();
  PingPong pp;
  pp.rounds = 10000;
  InitThreadContext(&pp.main);
  MakeContext(&pp.fiber, stack.lo, stack.size, &PingPongFastEntry, &pp);
  for (int i = 0; i < pp.rounds; ++i) {
    SwitchContextFast(&pp.main, &pp.fiber);
    ASSERT_EQ(pp.fiber_count, i + 1);
  }
  SwitchContext(&pp.main, &pp.fiber);  // the two forms mix freely
  EXPECT_EQ(pp.fiber_count, pp.rounds);
  CheckStackCanary(stack);
  DestroyContext(&pp.fiber);
  pool.Release(stack);
}

// Locals and callee-saved registers survive a switch: the fiber keeps a
// running sum in locals across many switches, with the main side doing the
// same.
struct SumState {
  Context main;
  Context fiber;
  uint64_t fiber_sum = 0;
};

void SumEntry(void* arg) {
  auto* s = static_cast<SumState*>(arg);
  uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
  for (int i = 0; i < 1000; ++i) {
    a += i, b ^= a, c += b * 3, d -= c, e += d >> 1, f ^= e;
    SwitchContext(&s->fiber, &s->main);
  }
  s->fiber_sum = a + b + c + d + e + f;
  ExitContext(&s->main);
}

uint64_t ExpectedSum() {
  uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
  for (int i = 0; i < 1000; ++i) {
    a += i, b ^= a, c += b * 3, d -= c, e += d >> 1, f ^= e;
  }
  return a + b + c + d + e + f;
}

TEST(ContextTest, LocalsSurviveSwitches) {
  StackPool pool(StackKind::kCompact, 16 * 1024);
  Stack stack = pool.Acquire();
  SumState s;
  InitThreadContext(&s.main);
  MakeContext(&s.fiber, stack.lo, stack.size, &SumEntry, &s);
  uint64_t x = 7, y = 11;
  for (int i = 0; i < 1001; ++i) {
    x = x * 31 + i;
    y ^= x;
    SwitchContext(&s.main, &s.fiber);
  }
  uint64_t ex = 7, ey = 11;
  for (int i = 0; i < 1001; ++i) ex = ex * 31 + i, ey ^= ex;
  EXPECT_EQ(x, ex);
  EXPECT_EQ(y, ey);
  EXPECT_EQ(s.fiber_sum, ExpectedSum());
  CheckStackCanary(stack);
  DestroyContext(&s.fiber);
  pool.Release(stack);
}

// --- Floating-point control state is per context. -------------------------

struct FpState {
  Context main;
  Context fiber;
  int seen_in_fiber = -1;
};

void FpEntry(void* arg) {
  auto* s = static_cast<FpState*>(arg);
  std::fesetround(FE_UPWARD);
  SwitchContext(&s->fiber, &s->main);
  s->seen_in_fiber = std::fegetround();
  ExitContext(&s->main);
}

TEST(ContextTest, RoundingModeIsPerContext) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  FpState s;
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  InitThreadContext(&s.main);
  MakeContext(&s.fiber, stack.lo, stack.size, &FpEntry, &s);
  SwitchContext(&s.main, &s.fiber);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);  // the fiber's mode stayed there
  SwitchContext(&s.main, &s.fiber);
  EXPECT_EQ(s.seen_in_fiber, FE_UPWARD);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
  DestroyContext(&s.fiber);
  pool.Release(stack);
}

// --- A context resumed on another OS thread. ------------------------------

// ThreadTag is noinline so that each call really reads the current thread's
// TLS, as code after a switch must.
thread_local int t_thread_tag = 0;
__attribute__((noinline)) int ThreadTag() { return t_thread_tag; }

struct Migrate {
  Context* back = nullptr;  // whom the fiber returns to next
  Context fiber;
  std::vector<int> tags;    // ThreadTag() seen by the fiber at each step
  std::vector<pid_t> tids;  // kernel thread ids (pthread ids get reused)
};

void MigrateEntry(void* arg) {
  auto* m = static_cast<Migrate*>(arg);
  for (int i = 0; i < 3; ++i) {
    m->tags.push_back(ThreadTag());
    m->tids.push_back(static_cast<pid_t>(syscall(SYS_gettid)));
    SwitchContext(&m->fiber, m->back);
  }
  ExitContext(m->back);
}

TEST(ContextTest, ResumedOnAnotherThread) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  Migrate m;
  MakeContext(&m.fiber, stack.lo, stack.size, &MigrateEntry, &m);
  for (int step = 1; step <= 4; ++step) {
    // Each step runs the fiber from a fresh thread; the thread creation and
    // join order the steps.
    std::thread t([&m, step] {
      t_thread_tag = step;
      Context g0;
      InitThreadContext(&g0);
      m.back = &g0;
      SwitchContext(&g0, &m.fiber);
      EXPECT_EQ(ThreadTag(), step);
      DestroyContext(&g0);
    });
    t.join();
  }
  ASSERT_EQ(m.tags.size(), 3u);
  EXPECT_EQ(m.tags[0], 1);
  EXPECT_EQ(m.tags[1], 2);
  EXPECT_EQ(m.tags[2], 3);
  EXPECT_NE(m.tids[0], m.tids[1]);
  EXPECT_NE(m.tids[1], m.tids[2]);
  DestroyContext(&m.fiber);
  pool.Release(stack);
}

// Two threads hand one context back and forth many times, so the switch is
// exercised concurrently with the other thread's own switches.
TEST(ContextTest, HandedBetweenThreads) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  struct Shared {
    Context fiber;
    Context* back = nullptr;
    int steps = 0;
  } s;
  MakeContext(
      &s.fiber, stack.lo, stack.size,
      [](void* arg) {
        auto* s = static_cast<Shared*>(arg);
        for (;;) {
          ++s->steps;
          if (s->steps % 2 == 0) {
            SwitchContext(&s->fiber, s->back);
          } else {
            SwitchContextFast(&s->fiber, s->back);
          }
        }
      },
      &s);
  std::atomic<int> turn{0};
  constexpr int kSteps = 200;
  auto worker = [&](int me) {
    Context g0;
    InitThreadContext(&g0);
    for (int i = me; i < kSteps; i += 2) {
      while (turn.load(std::memory_order_acquire) != i)
        std::this_thread::yield();
      s.back = &g0;
      SwitchContextFast(&g0, &s.fiber);
      turn.store(i + 1, std::memory_order_release);
    }
    DestroyContext(&g0);
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(s.steps, kSteps);
  // The fiber is suspended for good; its stack goes back unused.
  DestroyContext(&s.fiber);
  pool.Release(stack);
}

// --- Thousands of live contexts. -------------------------------------------

struct Many {
  Context main;
  std::vector<Context> ctxs;
  std::vector<uint64_t> sums;
  int rounds = 0;
  int finished = 0;
};

struct ManyArg {
  Many* many;
  size_t index;
};

void ManyEntry(void* arg) {
  auto* a = static_cast<ManyArg*>(arg);
  Many* many = a->many;
  const size_t i = a->index;
  uint64_t local = i;
  for (int r = 0; r < many->rounds; ++r) {
    local += r * (i + 1);
    SwitchContext(&many->ctxs[i], &many->main);
  }
  many->sums[i] = local;
  ++many->finished;
  ExitContext(&many->main);
}

TEST(ContextTest, ThousandsOfLiveContexts) {
  constexpr size_t kContexts = 5000;
  StackPool pool(StackKind::kCompact, 16 * 1024);
  Many many;
  many.rounds = 4;
  many.ctxs.resize(kContexts);
  many.sums.resize(kContexts);
  std::vector<ManyArg> args(kContexts);
  std::vector<Stack> stacks(kContexts);
  InitThreadContext(&many.main);
  for (size_t i = 0; i < kContexts; ++i) {
    stacks[i] = pool.Acquire();
    args[i] = {&many, i};
    MakeContext(&many.ctxs[i], stacks[i].lo, stacks[i].size, &ManyEntry,
                &args[i]);
  }
  // Round-robin: every context is live (suspended mid-way) at once.
  for (int r = 0; r <= many.rounds; ++r) {
    for (size_t i = 0; i < kContexts; ++i) {
      SwitchContext(&many.main, &many.ctxs[i]);
      CheckStackCanary(stacks[i]);
    }
  }
  EXPECT_EQ(many.finished, static_cast<int>(kContexts));
  for (size_t i = 0; i < kContexts; ++i) {
    uint64_t want = i;
    for (int r = 0; r < many.rounds; ++r) want += r * (i + 1);
    ASSERT_EQ(many.sums[i], want) << i;
    DestroyContext(&many.ctxs[i]);
    pool.Release(stacks[i]);
  }
  EXPECT_EQ(pool.live(), 0u);
}

// --- Reuse: a pooled context and stack run many entries in turn. -----------

struct Reuse {
  Context main;
  Context ctx;
  int runs = 0;
};

TEST(ContextTest, MakeContextReusesFinishedContext) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Reuse r;
  InitThreadContext(&r.main);
  for (int i = 0; i < 300; ++i) {
    Stack stack = pool.Acquire();
    MakeContext(
        &r.ctx, stack.lo, stack.size,
        [](void* arg) {
          auto* r = static_cast<Reuse*>(arg);
          ++r->runs;
          SwitchContext(&r->ctx, &r->main);
          ++r->runs;
          ExitContext(&r->main);
        },
        &r);
    SwitchContext(&r.main, &r.ctx);
    SwitchContext(&r.main, &r.ctx);
    pool.Release(stack);
  }
  EXPECT_EQ(r.runs, 600);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.cached(), 1u);  // one stack, reused every time
  DestroyContext(&r.ctx);
}

// A context made but never run can be destroyed or made again.
TEST(ContextTest, NeverRunContext) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  Context ctx;
  for (int i = 0; i < 100; ++i) {
    MakeContext(
        &ctx, stack.lo, stack.size, [](void*) { std::abort(); }, nullptr);
  }
  DestroyContext(&ctx);
  pool.Release(stack);
}

// --- Misuse. ---------------------------------------------------------------

void RunReturningEntry() {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  Context main;
  Context ctx;
  InitThreadContext(&main);
  MakeContext(
      &ctx, stack.lo, stack.size, [](void*) {}, nullptr);
  SwitchContext(&main, &ctx);
}

TEST(ContextDeathTest, EntryMustNotReturn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunReturningEntry(),
               "fatal error: context entry function returned");
}

void MakeMisaligned() {
  alignas(16) static char buf[8192];
  Context ctx;
  MakeContext(
      &ctx, buf + 8, 4096, [](void*) {}, nullptr);
}

TEST(ContextDeathTest, MisalignedStack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(MakeMisaligned(), "fatal error: MakeContext: bad stack");
}

// A context knows whether it is suspended; switching to one that is running
// or finished is a fatal error, not a jump into a stale stack.
void SwitchToSelf() {
  Context main;
  InitThreadContext(&main);
  SwitchContext(&main, &main);
}

void SwitchToFinished() {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  static Context main;
  static Context ctx;
  InitThreadContext(&main);
  MakeContext(
      &ctx, stack.lo, stack.size, [](void*) { ExitContext(&main); }, nullptr);
  SwitchContext(&main, &ctx);  // runs to completion
  SwitchContext(&main, &ctx);
}

TEST(ContextDeathTest, SwitchToRunningOrFinishedContext) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(SwitchToSelf(),
               "fatal error: SwitchContext to a context that is not suspended");
  EXPECT_DEATH(SwitchToFinished(),
               "fatal error: SwitchContext to a context that is not suspended");
  EXPECT_DEATH(
      {
        Context never;
        Context main;
        InitThreadContext(&main);
        SwitchContextFast(&main, &never);
      },
      "fatal error: SwitchContext to a context that was never made");
}

}  // namespace
}  // namespace gmp::internal
