// runtime/steal_order_test.cc — steal orders (runtime/policy/steal_order.h).
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/policy/config.h"

namespace gmp::internal::policy {
namespace {

template <class Order>
void ExpectEachOnce() {
  for (uint32_t procs = 1; procs <= 64; ++procs) {
    Order order(procs);
    std::vector<uint32_t> out(procs);
    for (uint32_t rnd : {0u, 1u, 7u, 12345u, 0xdeadbeefu, 0xffffffffu}) {
      for (uint32_t self = 0; self < procs; self += 7) {
        uint32_t n = order.Fill(rnd, self, out.data(),
                                [](uint32_t p) { return p % 5; });
        ASSERT_EQ(n, procs);
        std::vector<int> seen(procs, 0);
        for (uint32_t i = 0; i < n; ++i) {
          ASSERT_LT(out[i], procs);
          seen[out[i]]++;
        }
        for (uint32_t p = 0; p < procs; ++p) {
          EXPECT_EQ(seen[p], 1) << Order::kName << " procs=" << procs
                                << " rnd=" << rnd << " p=" << p;
        }
      }
    }
  }
}

TEST(StealOrder, CoprimeWalkVisitsEveryPOnce) { ExpectEachOnce<CoprimeWalk>(); }
TEST(StealOrder, SequentialVisitsEveryPOnce) {
  ExpectEachOnce<SequentialOrder>();
}
TEST(StealOrder, RandomStartVisitsEveryPOnce) {
  ExpectEachOnce<RandomStart>();
}
TEST(StealOrder, RandomStartWalksInIndexOrder) {
  RandomStart order(5);
  uint32_t out[5];
  ASSERT_EQ(order.Fill(7, 0, out, [](uint32_t) { return 0; }), 5u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], (2 + i) % 5);
}
TEST(StealOrder, LongestQueueVisitsEveryPOnce) {
  ExpectEachOnce<LongestQueue>();
}
TEST(StealOrder, VariantOrderVisitsEveryPOnceIfItPromises) {
  if constexpr (StealOrder::kVisitsEachOnce) ExpectEachOnce<StealOrder>();
}

TEST(StealOrder, CoprimeWalkStartsAnywhere) {
  CoprimeWalk order(8);
  std::vector<int> first(8, 0);
  uint32_t out[8];
  for (uint32_t rnd = 0; rnd < 64; ++rnd) {
    order.Fill(rnd, 0, out, [](uint32_t) { return 0; });
    first[out[0]]++;
  }
  for (int f : first) EXPECT_GT(f, 0);
}

TEST(StealOrder, LongestQueueGoesLongestFirst) {
  LongestQueue order(6);
  uint32_t out[6];
  order.Fill(3, 0, out, [](uint32_t p) { return p == 4 ? 100 : p; });
  EXPECT_EQ(out[0], 4u);
  EXPECT_EQ(out[1], 5u);
}

TEST(StealOrder, RandomVictimStaysInRange) {
  RandomVictim order(5);
  uint32_t out[5];
  for (uint32_t rnd = 0; rnd < 100; ++rnd) {
    order.Fill(rnd, 0, out, [](uint32_t) { return 0; });
    for (uint32_t v : out) EXPECT_LT(v, 5u);
  }
}

TEST(StealAmount, HalfRoundedUpAndOne) {
  for (uint32_t n = 0; n < 300; ++n) {
    EXPECT_EQ(StealHalf::Take(n), (n + 1) / 2);
    EXPECT_EQ(StealOne::Take(n), n == 0 ? 0u : 1u);
  }
}

TEST(Spin, GoLimitIsHalfTheBusyPs) {
  EXPECT_TRUE(GoSpinLimit::MaySpin(0, 4, 0));
  EXPECT_TRUE(GoSpinLimit::MaySpin(1, 4, 0));
  EXPECT_FALSE(GoSpinLimit::MaySpin(2, 4, 0));
  EXPECT_FALSE(GoSpinLimit::MaySpin(1, 4, 2));
  EXPECT_TRUE(TokioSpinLimit::MaySpin(1, 4, 3));
  EXPECT_FALSE(NoSpin::MaySpin(0, 4, 0));
}

TEST(Config, DescribeVariantNamesEveryAxis) {
  std::string d = DescribeVariant();
  for (const char* key : {"runq=", "runnext=", "lifo_cap=", "steal_order=",
                          "steal_amount=", "spin_limit=", "spin_rounds=",
                          "fairness=", "stacks=", "stack_size=", "context="}) {
    EXPECT_NE(d.find(key), std::string::npos) << key << " in " << d;
  }
  EXPECT_EQ(d.rfind(kVariantName, 0), 0u);
}

}  // namespace
}  // namespace gmp::internal::policy
