// runtime/stack_test.cc — tests of goroutine stacks and overflow detection.
#include "runtime/stack.h"

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/context.h"
#include "runtime/sanitizer.h"
#include "runtime/signal_stack.h"

namespace gmp::internal {
namespace {

// MapCount returns the number of mappings of this process.
size_t MapCount() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return 0;
  size_t n = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) n += c == '\n';
  std::fclose(f);
  return n;
}

TEST(StackTest, Defaults) {
  EXPECT_EQ(StackSizeFor(StackKind::kGuarded), 64u * 1024);
  // A compact stack is one page; sanitized builds get 32 KiB (stack.h).
  EXPECT_EQ(StackSizeFor(StackKind::kCompact),
            (GMP_HAVE_ASAN || GMP_HAVE_TSAN ? 32u : 4u) * 1024);
  EXPECT_GE(DefaultStackSize(), kMinStackSize);
  if (policy::kStackSize == 0) {
    EXPECT_EQ(DefaultStackSize(), StackSizeFor(kDefaultStackKind));
  } else {
    EXPECT_EQ(DefaultStackSize(), policy::kStackSize);
  }
  EXPECT_EQ(kDefaultStackKind == StackKind::kGuarded, policy::Stacks::kGuarded);
}

TEST(StackTest, AcquireReleaseReuse) {
  for (StackKind kind : {StackKind::kGuarded, StackKind::kCompact}) {
    StackPool pool(kind, StackSizeFor(kind));
    Stack a = pool.Acquire();
    Stack b = pool.Acquire();
    ASSERT_NE(a.lo, nullptr);
    EXPECT_EQ(a.size, StackSizeFor(kind));
    EXPECT_EQ(a.kind, kind);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.lo) % 16, 0u);
    EXPECT_NE(a.lo, b.lo);
    // The whole usable range is writable (above the canary word).
    std::memset(static_cast<char*>(a.lo) + 8, 0xab, a.size - 8);
    EXPECT_TRUE(StackCanaryIntact(a));
    EXPECT_EQ(pool.live(), 2u);
    pool.Release(a);
    EXPECT_EQ(pool.live(), 1u);
    EXPECT_EQ(pool.cached(), 1u);
    Stack c = pool.Acquire();
    EXPECT_EQ(c.lo, a.lo);  // reused from the free list
    pool.Release(b);
    pool.Release(c);
    EXPECT_EQ(pool.live(), 0u);
  }
}

TEST(StackTest, SizesAreRounded) {
  StackPool guarded(StackKind::kGuarded, 10000);
  EXPECT_EQ(guarded.stack_size(), 12288u);
  StackPool compact(StackKind::kCompact, 5000);
  EXPECT_EQ(compact.stack_size(), 5056u);
  Stack s = compact.Acquire();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.lo) % 16, 0u);
  compact.Release(s);
}

TEST(StackTest, ConcurrentAcquireRelease) {
  StackPool pool(StackKind::kCompact, kCompactStackSize);
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, &errors, t] {
      std::vector<Stack> held;
      for (int i = 0; i < 2000; ++i) {
        Stack s = pool.Acquire();
        // Mark the stack as ours; nobody else may hold it meanwhile.
        static_cast<volatile int*>(s.hi())[-1] = t;
        held.push_back(s);
        if (held.size() > 16) {
          Stack r = held[held.size() / 2];
          if (static_cast<volatile int*>(r.hi())[-1] != t) ++errors;
          held.erase(held.begin() + held.size() / 2);
          pool.Release(r);
        }
      }
      for (Stack s : held) pool.Release(s);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(pool.live(), 0u);
}

// 100,000 guarded stacks held at once stay in a few mappings (with
// MADV_GUARD_INSTALL), far below vm.max_map_count. The bench holds a million.
TEST(StackTest, ManyGuardedStacksFewMappings) {
  if (!MadvGuardInstallSupported()) {
    GTEST_SKIP() << "kernel lacks MADV_GUARD_INSTALL (Linux >= 6.13)";
  }
  constexpr size_t kStacks = 100000;
  const size_t maps_before = MapCount();
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  EXPECT_EQ(pool.guard_method(), StackPool::GuardMethod::kMadvise);
  std::vector<Stack> stacks;
  stacks.reserve(kStacks);
  for (size_t i = 0; i < kStacks; ++i) stacks.push_back(pool.Acquire());
  EXPECT_EQ(pool.live(), kStacks);
  EXPECT_LT(pool.mappings(), 200u);
  EXPECT_LT(MapCount(), maps_before + 400);
  // Every stack is usable at both ends.
  for (size_t i = 0; i < kStacks; i += 997) {
    static_cast<volatile char*>(stacks[i].lo)[0] = 1;
    static_cast<volatile char*>(stacks[i].hi())[-1] = 1;
  }
  for (Stack s : stacks) pool.Release(s);
}

// 100,000 8 KiB compact stacks held at once (each touches one page: its
// canary) in a handful of slab mappings.
TEST(StackTest, ManyCompactStacks) {
  constexpr size_t kStacks = 100000;
  StackPool pool(StackKind::kCompact, 8 * 1024);
  std::vector<Stack> stacks;
  stacks.reserve(kStacks);
  for (size_t i = 0; i < kStacks; ++i) stacks.push_back(pool.Acquire());
  EXPECT_EQ(pool.live(), kStacks);
  EXPECT_LT(pool.mappings(), 20u);
  for (const Stack& s : stacks) ASSERT_TRUE(StackCanaryIntact(s));
  for (Stack s : stacks) pool.Release(s);
  EXPECT_EQ(pool.cached(), kStacks);
}

// Default compact stacks are whole pages: canary and frames share one.
TEST(StackTest, CompactStacksArePages) {
  StackPool pool(StackKind::kCompact, kCompactStackSize);
  for (int i = 0; i < 3; ++i) {
    Stack s = pool.Acquire();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s.lo) % 4096, 0u);
    EXPECT_EQ(s.size % 4096, 0u);
  }
}

// One-page compact stacks are prefaulted a batch ahead of carving: after the
// first Acquire the next kGuardBatch - 1 stacks' pages are resident too.
TEST(StackTest, OnePageCompactStacksArePrefaulted) {
  StackPool pool(StackKind::kCompact, 4096);
  Stack s = pool.Acquire();
  unsigned char vec[StackPool::kGuardBatch];
  ASSERT_EQ(mincore(s.lo, StackPool::kGuardBatch * 4096, vec), 0);
  size_t resident = 0;
  for (unsigned char v : vec) resident += v & 1;
  EXPECT_EQ(resident, StackPool::kGuardBatch);
  pool.Release(s);
}

// Guards are installed a batch ahead of carving: stacks across several
// batches (and slabs) are all usable end to end.
TEST(StackTest, GuardBatchesCoverEveryStack) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  if (pool.guard_method() != StackPool::GuardMethod::kMadvise) {
    GTEST_SKIP() << "no MADV_GUARD_INSTALL";
  }
  std::vector<Stack> stacks;
  const size_t n = 20 * StackPool::kGuardBatch + 3;  // > one 64 MiB slab
  for (size_t i = 0; i < n; ++i) {
    Stack s = pool.Acquire();
    static_cast<volatile char*>(s.lo)[0] = 1;
    static_cast<volatile char*>(s.hi())[-1] = 1;
    StackGuardHit hit;
    ASSERT_TRUE(FindStackGuardHit(reinterpret_cast<uintptr_t>(s.lo) - 1, &hit));
    EXPECT_EQ(hit.stack_lo, reinterpret_cast<uintptr_t>(s.lo));
    stacks.push_back(s);
  }
  EXPECT_GE(pool.mappings(), 2u);
  for (Stack s : stacks) pool.Release(s);
}

void TouchGuardOfLaterBatch() {
  InstallStackOverflowHandler();
  SetupSignalStack();
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack s;
  for (size_t i = 0; i < StackPool::kGuardBatch + 5; ++i) s = pool.Acquire();
  static_cast<volatile char*>(s.lo)[-100] = 1;  // in its guard
}

// A guard installed by a later batch faults like the first one.
TEST(StackDeathTest, LaterBatchGuardFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  if (!MadvGuardInstallSupported()) GTEST_SKIP() << "no MADV_GUARD_INSTALL";
  EXPECT_DEATH(TouchGuardOfLaterBatch(), "guard page hit at 0x[0-9a-f]+");
}

// ResidentPages counts the resident pages of [lo, lo + bytes).
size_t ResidentPages(void* lo, size_t bytes) {
  std::vector<unsigned char> vec((bytes + 4095) / 4096);
  if (mincore(lo, bytes, vec.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

// Guarded stacks are prefaulted a batch ahead, top page only: the page a new
// goroutine's first frame is written to.
TEST(StackTest, GuardedStacksTopPagePrefaulted) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  if (pool.guard_method() != StackPool::GuardMethod::kMadvise) {
    GTEST_SKIP() << "no MADV_GUARD_INSTALL";
  }
  Stack first = pool.Acquire();
  Stack second = pool.Acquire();  // same batch, never touched
  EXPECT_EQ(ResidentPages(static_cast<char*>(second.hi()) - 4096, 4096), 1u);
  EXPECT_EQ(ResidentPages(second.lo, second.size - 4096), 0u);
  pool.Release(first);
  pool.Release(second);
}

// Free stacks beyond the bound give their pages back and keep their address
// range: handed out again (refilled, prefaulted) and still guarded.
TEST(StackTest, TrimReturnsPagesAndRefills) {
  for (StackKind kind : {StackKind::kGuarded, StackKind::kCompact}) {
    StackPool pool(kind, StackSizeFor(kind));
    constexpr size_t kN = 3 * StackPool::kGuardBatch;
    std::vector<Stack> stacks;
    for (size_t i = 0; i < kN; ++i) {
      Stack s = pool.Acquire();
      std::memset(static_cast<char*>(s.lo) + 8, 0x5a, s.size - 8);
      stacks.push_back(s);
    }
    for (Stack s : stacks) pool.Release(s);
    EXPECT_EQ(pool.resident_cached(), kN);
    pool.TrimToFloor(StackPool::kGuardBatch);
    EXPECT_EQ(pool.resident_cached(), StackPool::kGuardBatch);
    EXPECT_EQ(pool.cached(), kN);
    EXPECT_EQ(pool.counts().returned,
              static_cast<int64_t>(kN) - StackPool::kGuardBatch);
    // The oldest released went back: their pages are gone.
    size_t gone = 0;
    for (size_t i = 0; i < kN - StackPool::kGuardBatch; ++i) {
      gone += ResidentPages(stacks[i].lo, stacks[i].size) == 0;
    }
    EXPECT_EQ(gone, kN - StackPool::kGuardBatch);
    // Handed out again: the resident ones first, then the refilled ones,
    // zeroed by the kernel (above the canary), canary intact.
    std::vector<Stack> again;
    for (size_t i = 0; i < kN; ++i) again.push_back(pool.Acquire());
    const StackPool::Counts c = pool.counts();
    EXPECT_EQ(c.fresh, static_cast<int64_t>(kN));
    EXPECT_EQ(c.reused, static_cast<int64_t>(StackPool::kGuardBatch) +
                            static_cast<int64_t>(kN) -
                            static_cast<int64_t>(StackPool::kGuardBatch) -
                            c.refilled);
    EXPECT_GE(c.refilled, 1);
    const Stack& refilled = again.back();
    EXPECT_TRUE(StackCanaryIntact(refilled));
    EXPECT_EQ(static_cast<char*>(refilled.hi())[-1], 0);
    if (kind == StackKind::kGuarded &&
        pool.guard_method() == StackPool::GuardMethod::kMadvise) {
      StackGuardHit hit;
      EXPECT_TRUE(FindStackGuardHit(
          reinterpret_cast<uintptr_t>(refilled.lo) - 1, &hit));
    }
    for (Stack s : again) pool.Release(s);
  }
}

// A trim returns whole pages only: compact stacks whose size is not a page
// multiple share pages with their neighbours, and a neighbour in use keeps
// its bytes.
TEST(StackTest, TrimSparesSharedPages) {
  StackPool pool(StackKind::kCompact, 6000);  // 6016 bytes per stack
  std::vector<Stack> stacks;
  for (int i = 0; i < 200; ++i) stacks.push_back(pool.Acquire());
  for (Stack s : stacks) {
    std::memset(static_cast<char*>(s.lo) + 8, 0x77, s.size - 8);
  }
  // Free every other stack; the ones kept in use hold 0x77 throughout.
  for (size_t i = 0; i < stacks.size(); i += 2) pool.Release(stacks[i]);
  pool.TrimToFloor(0);
  EXPECT_GT(pool.counts().returned, 0);
  for (size_t i = 1; i < stacks.size(); i += 2) {
    const auto* p = static_cast<const unsigned char*>(stacks[i].lo);
    size_t bad = 0;
    for (size_t j = 8; j < stacks[i].size; ++j) bad += p[j] != 0x77;
    ASSERT_EQ(bad, 0u) << "stack " << i << " lost bytes to a trim";
  }
  for (size_t i = 1; i < stacks.size(); i += 2) pool.Release(stacks[i]);
}

void TouchGuardAfterTrim() {
  InstallStackOverflowHandler();
  SetupSignalStack();
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  std::vector<Stack> stacks;
  for (size_t i = 0; i < 2 * StackPool::kGuardBatch; ++i) {
    stacks.push_back(pool.Acquire());
  }
  for (Stack s : stacks) pool.Release(s);
  pool.TrimToFloor(0);
  Stack s = pool.Acquire();                     // refilled
  static_cast<volatile char*>(s.lo)[-100] = 1;  // in its guard
}

// MADV_DONTNEED leaves the guards in place.
TEST(StackDeathTest, GuardFaultsAfterTrim) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  if (!MadvGuardInstallSupported()) GTEST_SKIP() << "no MADV_GUARD_INSTALL";
  EXPECT_DEATH(TouchGuardAfterTrim(), "guard page hit at 0x[0-9a-f]+");
}

// Shared gives one pool per (kind, rounded size), for the whole process.
TEST(StackTest, SharedPoolPerKindAndSize) {
  StackPool* a = StackPool::Shared(StackKind::kGuarded, 64 * 1024);
  EXPECT_EQ(StackPool::Shared(StackKind::kGuarded, 64 * 1024 - 100), a);
  EXPECT_NE(StackPool::Shared(StackKind::kCompact, 64 * 1024), a);
  EXPECT_NE(StackPool::Shared(StackKind::kGuarded, 128 * 1024), a);
  EXPECT_EQ(a->stack_size(), 64u * 1024);
}

// The fallback for old kernels: one mapping plus an mprotect'ed guard per
// stack.
TEST(StackTest, MprotectFallback) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize,
                 StackPool::GuardMethod::kMprotect);
  std::vector<Stack> stacks;
  for (int i = 0; i < 100; ++i) stacks.push_back(pool.Acquire());
  EXPECT_EQ(pool.mappings(), 200u);
  for (Stack s : stacks) {
    static_cast<volatile char*>(s.lo)[0] = 1;
    pool.Release(s);
  }
}

TEST(StackTest, GuardRegistry) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack s = pool.Acquire();
  const auto lo = reinterpret_cast<uintptr_t>(s.lo);
  StackGuardHit hit;
  ASSERT_TRUE(FindStackGuardHit(lo - 1, &hit));
  EXPECT_EQ(hit.stack_lo, lo);
  EXPECT_EQ(hit.stack_size, s.size);
  ASSERT_TRUE(FindStackGuardHit(lo - kStackGuardSize, &hit));
  EXPECT_FALSE(FindStackGuardHit(lo, &hit));
  EXPECT_FALSE(FindStackGuardHit(lo + s.size - 1, &hit));
  pool.Release(s);
}

// --- Running on the stacks. -------------------------------------------------

struct Recursion {
  Context main;
  Context ctx;
  Stack stack;
  size_t margin = 0;  // stop when fewer bytes than this are left
  size_t max_depth = 0;
  size_t lowest_left = ~size_t{0};
  uint64_t result = 0;
};

// Recurse uses a frame with a 256-byte array and does work after the call,
// so it is neither tail-call optimised nor folded into a loop.
__attribute__((noinline)) uint64_t Recurse(Recursion* r, size_t depth) {
  volatile char buf[256];
  for (size_t i = 0; i < sizeof buf; i += 64) buf[i] = static_cast<char>(depth);
  // The frame address, not &buf: under ASan's detect_stack_use_after_return
  // locals live on a fake stack elsewhere.
  const size_t left = reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) -
                      reinterpret_cast<uintptr_t>(r->stack.lo);
  if (left < r->lowest_left) r->lowest_left = left;
  uint64_t below = 0;
  if (left > r->margin) {
    below = Recurse(r, depth + 1);
  } else {
    r->max_depth = depth;
  }
  return below + buf[0] + 1;
}

void RecursionEntry(void* arg) {
  auto* r = static_cast<Recursion*>(arg);
  r->result = Recurse(r, 0);
  SwitchContext(&r->ctx, &r->main);
  ExitContext(&r->main);
}

TEST(StackTest, DeepRecursionNearTheGuard) {
  InstallStackOverflowHandler();
  SetupSignalStack();
  for (StackKind kind : {StackKind::kGuarded, StackKind::kCompact}) {
    StackPool pool(kind, StackSizeFor(kind));
    Recursion r;
    r.stack = pool.Acquire();
    r.margin = 1024;  // a frame here is well under 1 KiB, even with ASan
    InitThreadContext(&r.main);
    MakeContext(&r.ctx, r.stack.lo, r.stack.size, &RecursionEntry, &r);
    SwitchContext(&r.main, &r.ctx);
    EXPECT_GT(r.max_depth, (r.stack.size - 1024) / 512);
    EXPECT_LE(r.lowest_left, 1024u);
    EXPECT_GT(r.result, r.max_depth);
    CheckStackCanary(r.stack);  // came within 1 KiB of it, never touched it
    SwitchContext(&r.main, &r.ctx);
    DestroyContext(&r.ctx);
    pool.Release(r.stack);
  }
}

void OverflowGuardedStack(StackPool::GuardMethod method) {
  InstallStackOverflowHandler();
  SetupSignalStack();
  StackPool pool(StackKind::kGuarded, kGuardedStackSize, method);
  Recursion r;
  r.stack = pool.Acquire();
  r.margin = 0;  // never stop: run into the guard
  InitThreadContext(&r.main);
  MakeContext(&r.ctx, r.stack.lo, r.stack.size, &RecursionEntry, &r);
  SwitchContext(&r.main, &r.ctx);
}

TEST(StackDeathTest, GuardPageHitIsStackOverflow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(OverflowGuardedStack(StackPool::GuardMethod::kAuto),
               "fatal error: .*stack overflow\n\nguard page hit at "
               "0x[0-9a-f]+: goroutine stack");
  EXPECT_DEATH(OverflowGuardedStack(StackPool::GuardMethod::kMprotect),
               "fatal error: .*stack overflow\n\nguard page hit at "
               "0x[0-9a-f]+: goroutine stack");
}

void WildWrite() {
  InstallStackOverflowHandler();
  SetupSignalStack();
  *static_cast<volatile int*>(reinterpret_cast<void*>(uintptr_t{64})) = 1;
}

// A wild write is not reported as a stack overflow: it crashes as before (or
// is reported by ASan).
TEST(StackDeathTest, OtherFaultsStillCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(WildWrite(), "");
}

void BreakCanary() {
  StackPool pool(StackKind::kCompact, kCompactStackSize);
  Stack s = pool.Acquire();
  *static_cast<volatile uint64_t*>(s.lo) = 0;  // what an overflow does
  CheckStackCanary(s);
}

TEST(StackDeathTest, CompactCanaryBreachDirect) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(BreakCanary(),
               "fatal error: stack overflow \\(canary at 0x[0-9a-f]+ "
               "overwritten");
}

// DeepBelow recurses until its frame lies about 1 KiB under the stack's low
// end: a real overflow of a compact stack.
__attribute__((noinline)) uint64_t DeepBelow(Recursion* r, int depth) {
  volatile char buf[256];
  for (size_t i = 0; i < sizeof buf; i += 8) buf[i] = 1;
  const auto here = reinterpret_cast<intptr_t>(__builtin_frame_address(0));
  const auto lo = reinterpret_cast<intptr_t>(r->stack.lo);
  uint64_t below = 0;
  if (here > lo - 1024) below = DeepBelow(r, depth + 1);
  return below + buf[0];
}

void DeepBelowEntry(void* arg) {
  auto* r = static_cast<Recursion*>(arg);
  r->result = DeepBelow(r, 0);
  SwitchContext(&r->ctx, &r->main);
  ExitContext(&r->main);
}

void OverflowCompactStack() {
  StackPool pool(StackKind::kCompact, kCompactStackSize);
  // The second stack of a slab has the first one below it, so the overflow
  // lands in mapped memory and only the canary can tell.
  Stack below = pool.Acquire();
  Recursion r;
  r.stack = pool.Acquire();
  if (r.stack.lo != below.hi()) std::abort();
  InitThreadContext(&r.main);
  MakeContext(&r.ctx, r.stack.lo, r.stack.size, &DeepBelowEntry, &r);
  SwitchContext(&r.main, &r.ctx);
  CheckStackCanary(r.stack);  // the scheduler's check at switch-out
}

// A goroutine that really recurses through its compact stack's low end is
// caught when it is switched out.
TEST(StackDeathTest, CompactCanaryBreachByRecursion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(OverflowCompactStack(), "fatal error: stack overflow \\(canary");
}

void ReleaseForeign() {
  StackPool a(StackKind::kCompact, kCompactStackSize);
  StackPool b(StackKind::kGuarded, kGuardedStackSize);
  b.Release(a.Acquire());
}

TEST(StackDeathTest, ReleaseForeignStack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(ReleaseForeign(),
               "fatal error: StackPool::Release of a foreign stack");
}

#if !GMP_HAVE_ASAN && !GMP_HAVE_TSAN
// (Not under sanitizers: they need the address space and the mappings these
// tests use up.)

// VirtualBytes returns this process's address-space size (/proc/self/statm).
size_t VirtualBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  size_t pages = 0;
  if (std::fscanf(f, "%zu", &pages) != 1) pages = 0;
  std::fclose(f);
  return pages * 4096;
}

void ExhaustAddressSpace(StackKind kind, StackPool::GuardMethod method) {
  // Leave 512 MiB of address space: a few hundred slabs or stacks.
  struct rlimit lim;
  lim.rlim_cur = lim.rlim_max = VirtualBytes() + (size_t{512} << 20);
  setrlimit(RLIMIT_AS, &lim);
  StackPool pool(kind, StackSizeFor(kind), method);
  for (;;) pool.Acquire();
}

// Running out of address space is a clear fatal error, not a crash.
TEST(StackDeathTest, ExhaustionIsAClearError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      ExhaustAddressSpace(StackKind::kGuarded, StackPool::GuardMethod::kAuto),
      "fatal error: cannot allocate goroutine stack: mmap of a stack slab: "
      "Cannot allocate memory");
  EXPECT_DEATH(
      ExhaustAddressSpace(StackKind::kCompact, StackPool::GuardMethod::kAuto),
      "fatal error: cannot allocate goroutine stack: mmap of a stack slab: "
      "Cannot allocate memory");
  EXPECT_DEATH(ExhaustAddressSpace(StackKind::kGuarded,
                                   StackPool::GuardMethod::kMprotect),
               "fatal error: cannot allocate goroutine stack: mmap: Cannot "
               "allocate memory");
}

void ExhaustMappings() {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize,
                 StackPool::GuardMethod::kMprotect);
  for (;;) pool.Acquire();
}

// Without MADV_GUARD_INSTALL each guarded stack is two mappings, and
// vm.max_map_count stops them near 32k: one clear error that names it.
TEST(StackDeathTest, MappingLimitIsAClearError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(ExhaustMappings(),
               "fatal error: cannot allocate goroutine stack: .* with [0-9]+ "
               "live guarded stacks in [0-9]+ mappings: the mapping limit "
               "vm.max_map_count \\([0-9]+\\) is reached");
}
#endif

}  // namespace
}  // namespace gmp::internal
