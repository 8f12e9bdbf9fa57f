// runtime/query_test.cc — GOMAXPROCS(), NumGoroutine() and ReadStats() are
// callable from any thread at any time, also while Run starts and ends.
#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/gmp.h"

namespace gmp {
namespace {

TEST(Query, OutsideAnyRunGiveDefaults) {
  gmp::Run([] { Go([] {}); }, Options{3, 0});
  EXPECT_EQ(NumGoroutine(), 0);
  EXPECT_GE(GOMAXPROCS(), 1);
  EXPECT_EQ(GOMAXPROCS(0), GOMAXPROCS());
  Stats st = ReadStats();  // the last Run's
  EXPECT_EQ(st.spawned, 2);
  EXPECT_FALSE(st.variant.empty());
}

// A monitoring thread hammers the queries while the main thread runs Run
// over and over: TSan and ASan must stay quiet, and every answer must be
// sensible.
TEST(Query, FromAnotherThreadWhileRunStartsAndEnds) {
#if defined(GMP_TSAN) || defined(GMP_ASAN)
  constexpr int kRuns = 60;
#else
  constexpr int kRuns = 200;
#endif
  std::atomic<bool> stop{false};
  std::atomic<int64_t> queries{0};
  std::atomic<int> bad{0};
  std::thread monitor([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      int procs = GOMAXPROCS();
      int n = NumGoroutine();
      Stats st = ReadStats();
      if (procs < 1 || n < 0 || st.spawned < 0 || st.variant.empty()) ++bad;
      queries.fetch_add(1, std::memory_order_relaxed);
    }
  });
  // The monitor must query while Runs start and end: wait for its first
  // query, then run at least kRuns Runs and until it has made 100 more
  // (Runs reuse their threads and may take only microseconds each).
  while (queries.load() == 0) std::this_thread::yield();
  const int64_t before = queries.load();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int r = 0;
       r < kRuns || (queries.load() - before < 100 &&
                     std::chrono::steady_clock::now() < deadline);
       ++r) {
    gmp::Run(
        [] {
          WaitGroup wg;
          wg.Add(2);
          Go([&] { wg.Done(); });
          Go([&] { wg.Done(); });
          wg.Wait();
        },
        Options{1 + r % 3, 0});
  }
  stop.store(true);
  monitor.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(queries.load() - before, 100)
      << "the monitor did not query while the Runs started and ended";
}

}  // namespace
}  // namespace gmp
