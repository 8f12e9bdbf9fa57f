// bench/context_bench.cc — the context switch and the stack pool, measured.
//
// One binary, comparable numbers in one run:
//   BM_SwitchPair            gmplab's SwitchContext there and back (2 switches)
//   BM_SwitchPairFast        the same with SwitchContextFast (inlined)
//   BM_BoostContinuationPair Boost.Context continuation::resume there and back
//   BM_UcontextSwapPair      glibc swapcontext there and back (the ucontext
//                            fallback's primitive, with its sigprocmask call)
//   BM_StackAcquireRelease   StackPool::Acquire + Release (free-list hit)
//   BM_HoldMillionStacks     1,000,000 stacks held at once: time, RSS growth
//                            (from /proc/self/statm) and mappings
// The *_per_switch counters are seconds per single switch.
//
//   bazel run --config=opt //bench:context_bench
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <boost/context/continuation.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "runtime/context.h"
#include "runtime/stack.h"

namespace gmp::internal {
namespace {

// --- Our switch. -------------------------------------------------------------

struct Pair {
  Context main;
  Context fiber;
};

void PairEntry(void* arg) {
  auto* p = static_cast<Pair*>(arg);
  for (;;) SwitchContext(&p->fiber, &p->main);
}

void BM_SwitchPair(benchmark::State& state) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  Pair p;
  InitThreadContext(&p.main);
  MakeContext(&p.fiber, stack.lo, stack.size, &PairEntry, &p);
  SwitchContext(&p.main, &p.fiber);  // first entry, not timed
  for (auto _ : state) SwitchContext(&p.main, &p.fiber);
  state.counters["per_switch"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  // The fiber stays suspended for good; its stack goes back unused.
  DestroyContext(&p.fiber);
  pool.Release(stack);
}
BENCHMARK(BM_SwitchPair);

// The same with SwitchContextFast, the inlined form the scheduler's hot paths
// use: each side resumes straight in its own loop.
void FastPairEntry(void* arg) {
  auto* p = static_cast<Pair*>(arg);
  for (;;) SwitchContextFast(&p->fiber, &p->main);
}

void BM_SwitchPairFast(benchmark::State& state) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  Pair p;
  InitThreadContext(&p.main);
  MakeContext(&p.fiber, stack.lo, stack.size, &FastPairEntry, &p);
  SwitchContextFast(&p.main, &p.fiber);  // first entry, not timed
  for (auto _ : state) SwitchContextFast(&p.main, &p.fiber);
  state.counters["per_switch"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  DestroyContext(&p.fiber);
  pool.Release(stack);
}
BENCHMARK(BM_SwitchPairFast);

// --- Boost.Context. ----------------------------------------------------------

void BM_BoostContinuationPair(benchmark::State& state) {
  namespace ctx = boost::context;
  ctx::continuation c = ctx::callcc([](ctx::continuation&& sink) {
    for (;;) sink = sink.resume();
    return std::move(sink);
  });
  for (auto _ : state) c = c.resume();
  state.counters["per_switch"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_BoostContinuationPair);

// --- glibc swapcontext. ------------------------------------------------------

ucontext_t uc_main, uc_fiber;

void UcontextEntry() {
  for (;;) swapcontext(&uc_fiber, &uc_main);
}

void BM_UcontextSwapPair(benchmark::State& state) {
  StackPool pool(StackKind::kGuarded, kGuardedStackSize);
  Stack stack = pool.Acquire();
  getcontext(&uc_fiber);
  uc_fiber.uc_stack.ss_sp = stack.lo;
  uc_fiber.uc_stack.ss_size = stack.size;
  uc_fiber.uc_link = nullptr;
  makecontext(&uc_fiber, &UcontextEntry, 0);
  swapcontext(&uc_main, &uc_fiber);
  for (auto _ : state) swapcontext(&uc_main, &uc_fiber);
  state.counters["per_switch"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  pool.Release(stack);
}
BENCHMARK(BM_UcontextSwapPair);

// --- The stack pool. ---------------------------------------------------------

void BM_StackAcquireRelease(benchmark::State& state) {
  const auto kind = static_cast<StackKind>(state.range(0));
  StackPool pool(kind, StackSizeFor(kind));
  pool.Release(pool.Acquire());  // warm: one stack on the free list
  for (auto _ : state) {
    Stack s = pool.Acquire();
    benchmark::DoNotOptimize(s.lo);
    pool.Release(s);
  }
  state.SetLabel(kind == StackKind::kGuarded ? "guarded" : "compact");
}
BENCHMARK(BM_StackAcquireRelease)
    ->Arg(static_cast<int>(StackKind::kGuarded))
    ->Arg(static_cast<int>(StackKind::kCompact));

// ResidentBytes returns this process's RSS from /proc/self/statm.
double ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<double>(resident) * sysconf(_SC_PAGESIZE);
}

size_t MapCount() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return 0;
  size_t n = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) n += c == '\n';
  std::fclose(f);
  return n;
}

// BM_HoldMillionStacks acquires 1,000,000 stacks of the kind's default size
// and holds them all, then releases them. Counters: acquire_s (time to
// acquire all), rss_MiB (RSS growth while held), maps (process mappings
// while held, vs vm.max_map_count = 65530), per_stack (acquire time each).
void BM_HoldMillionStacks(benchmark::State& state) {
  const auto kind = static_cast<StackKind>(state.range(0));
  constexpr size_t kStacks = 1000000;
  for (auto _ : state) {
    std::vector<Stack> stacks;
    stacks.reserve(kStacks);
    const double rss0 = ResidentBytes();
    const auto t0 = std::chrono::steady_clock::now();
    StackPool pool(kind, StackSizeFor(kind));
    for (size_t i = 0; i < kStacks; ++i) stacks.push_back(pool.Acquire());
    const auto t1 = std::chrono::steady_clock::now();
    const double rss1 = ResidentBytes();
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    state.counters["acquire_s"] = secs;
    state.counters["per_stack"] = secs / kStacks;
    state.counters["rss_MiB"] = (rss1 - rss0) / (1 << 20);
    state.counters["maps"] = static_cast<double>(MapCount());
    state.counters["live"] = static_cast<double>(pool.live());
    for (Stack s : stacks) pool.Release(s);
  }
  state.SetLabel(
      std::string(kind == StackKind::kGuarded ? "guarded " : "compact ") +
      std::to_string(StackSizeFor(kind) / 1024) + "KiB");
}
BENCHMARK(BM_HoldMillionStacks)
    ->Arg(static_cast<int>(StackKind::kCompact))
    ->Arg(static_cast<int>(StackKind::kGuarded))
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gmp::internal
