// runtime/runq_test.cc — tests of RunQueue (runtime/runq.h) on its own.
#include "runtime/runq.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/policy/config.h"

namespace gmp::internal {
namespace {

struct Item {
  int id = 0;
  std::atomic<int> seen{0};
};

template <class Q>
class RunQueueTest : public ::testing::Test {};

using Queues =
    ::testing::Types<RunQueue<Item, 4>, RunQueue<Item, 16>, RunQueue<Item, 256>,
                     RunQueue<Item, policy::kRunqSize>>;
TYPED_TEST_SUITE(RunQueueTest, Queues);

constexpr auto kNoBackoff = [] {};

TYPED_TEST(RunQueueTest, FifoUpToCapacity) {
  TypeParam q;
  constexpr uint32_t n = TypeParam::kCapacity;
  std::vector<Item> items(n + 1);
  EXPECT_TRUE(q.Empty());
  for (uint32_t i = 0; i < n; ++i) ASSERT_TRUE(q.Put(&items[i])) << i;
  EXPECT_FALSE(q.Put(&items[n])) << "a full ring must refuse";
  EXPECT_EQ(q.Size(), n);
  for (uint32_t i = 0; i < n; ++i) EXPECT_EQ(q.Get(), &items[i]);
  EXPECT_EQ(q.Get(), nullptr);
  EXPECT_TRUE(q.Empty());
}

TYPED_TEST(RunQueueTest, RunnextFirstAndKickedToTail) {
  TypeParam q;
  Item a, b, c;
  EXPECT_EQ(q.PutRunnext(&a), nullptr);
  ASSERT_TRUE(q.Put(&c));
  Item* kicked = q.PutRunnext(&b);
  EXPECT_EQ(kicked, &a);
  ASSERT_TRUE(q.Put(kicked));
  bool from_runnext = false;
  EXPECT_EQ(q.Get(false, &from_runnext), &b);
  EXPECT_TRUE(from_runnext);
  EXPECT_EQ(q.Get(false, &from_runnext), &c);
  EXPECT_FALSE(from_runnext);
  EXPECT_EQ(q.Get(), &a);
  EXPECT_TRUE(q.Empty());
}

// TakeLoneIf takes the queue's only element, wherever it sits, and only
// when the predicate accepts it; never one of two.
TYPED_TEST(RunQueueTest, TakeLoneIf) {
  TypeParam q;
  Item a, b;
  a.id = 1;
  b.id = 2;
  auto yes = [](Item*) { return true; };
  auto is_a = [&](Item* t) { return t == &a; };
  EXPECT_EQ(q.TakeLoneIf(yes), nullptr);  // empty
  q.PutRunnext(&b);
  EXPECT_EQ(q.TakeLoneIf(is_a), nullptr);  // refused: stays
  EXPECT_EQ(q.Runnext(), &b);
  EXPECT_EQ(q.TakeLoneIf(yes), &b);
  EXPECT_TRUE(q.Empty());
  ASSERT_TRUE(q.Put(&a));
  EXPECT_EQ(q.TakeLoneIf(is_a), &a);  // from the ring
  EXPECT_TRUE(q.Empty());
  ASSERT_TRUE(q.Put(&a));
  q.PutRunnext(&b);
  EXPECT_EQ(q.TakeLoneIf(yes), nullptr);  // two: runnext and the ring
  EXPECT_EQ(q.Get(), &b);
  ASSERT_TRUE(q.Put(&b));
  EXPECT_EQ(q.TakeLoneIf(yes), nullptr);  // two in the ring
  EXPECT_EQ(q.Get(), &a);
  EXPECT_EQ(q.Get(), &b);
  EXPECT_TRUE(q.Empty());
}

TYPED_TEST(RunQueueTest, SkipRunnext) {
  TypeParam q;
  Item a, b;
  q.PutRunnext(&a);
  ASSERT_TRUE(q.Put(&b));
  EXPECT_EQ(q.Get(/*skip_runnext=*/true), &b);
  EXPECT_EQ(q.Get(/*skip_runnext=*/true), nullptr);
  EXPECT_FALSE(q.Empty());
  EXPECT_EQ(q.Get(), &a);
}

TYPED_TEST(RunQueueTest, OverflowTakesHalfPlusOneInOrder) {
  TypeParam q;
  constexpr uint32_t n = TypeParam::kCapacity;
  std::vector<Item> items(n + 1);
  for (uint32_t i = 0; i < n; ++i) ASSERT_TRUE(q.Put(&items[i]));
  Item* batch[TypeParam::kOverflowBatch];
  ASSERT_EQ(q.Overflow(&items[n], batch), n / 2 + 1);
  for (uint32_t i = 0; i < n / 2; ++i) EXPECT_EQ(batch[i], &items[i]);
  EXPECT_EQ(batch[n / 2], &items[n]);
  EXPECT_EQ(q.Size(), n / 2);
  for (uint32_t i = n / 2; i < n; ++i) EXPECT_EQ(q.Get(), &items[i]);
}

// Go's TestRunqSteal semantics: with i queued, one steal takes i/2 or
// i/2+1, and every element is seen exactly once across both queues.
TYPED_TEST(RunQueueTest, StealHalfExactlyOnce) {
  constexpr uint32_t n = TypeParam::kCapacity;
  for (uint32_t i = 0; i <= n; ++i) {
    TypeParam victim, thief;
    std::vector<Item> items(i);
    for (uint32_t j = 0; j < i; ++j) ASSERT_TRUE(victim.Put(&items[j]));
    uint32_t stolen = 0;
    Item* first = thief.template StealFrom<policy::StealHalf>(
        victim, false, kNoBackoff, &stolen);
    EXPECT_TRUE(stolen == i / 2 || stolen == i / 2 + 1)
        << "i=" << i << " stolen=" << stolen;
    EXPECT_EQ(first != nullptr, stolen != 0);
    if (first != nullptr) first->seen++;
    while (Item* t = thief.Get()) t->seen++;
    while (Item* t = victim.Get()) t->seen++;
    for (uint32_t j = 0; j < i; ++j) EXPECT_EQ(items[j].seen.load(), 1) << j;
  }
}

TYPED_TEST(RunQueueTest, StealRunnextOnlyWhenAsked) {
  TypeParam victim, thief;
  Item a;
  victim.PutRunnext(&a);
  uint32_t stolen = 0;
  EXPECT_EQ(thief.template StealFrom<policy::StealHalf>(victim, false,
                                                        kNoBackoff, &stolen),
            nullptr);
  EXPECT_EQ(stolen, 0u);
  int backoffs = 0;
  EXPECT_EQ(thief.template StealFrom<policy::StealHalf>(
                victim, true, [&] { ++backoffs; }, &stolen),
            &a);
  EXPECT_EQ(stolen, 1u);
  EXPECT_EQ(backoffs, 1);
  EXPECT_TRUE(victim.Empty()) << "a stolen runnext must leave the victim";
}

// A thief leaves runnext alone when the owner took from it during the
// thief's backoff: the owner is running a chain of goroutines that ready
// each other, and the one in runnext now is its next link (here even the
// same element again, which a compare-and-swap alone would not notice).
TYPED_TEST(RunQueueTest, StealLeavesRunnextTheOwnerCycles) {
  TypeParam victim, thief;
  Item a, b;
  victim.PutRunnext(&a);
  uint32_t stolen = 0;
  auto owner_cycles = [&] {
    ASSERT_EQ(victim.Get(), &a);  // the owner runs a, which readies b
    victim.PutRunnext(&b);
    ASSERT_EQ(victim.Get(), &b);  // b runs and readies a again
    victim.PutRunnext(&a);
  };
  EXPECT_EQ(thief.template StealFrom<policy::StealHalf>(victim, true,
                                                        owner_cycles, &stolen),
            nullptr);
  EXPECT_EQ(stolen, 0u);
  EXPECT_EQ(victim.Runnext(), &a);
  // With the owner idle during the backoff, the same runnext is stolen.
  EXPECT_EQ(thief.template StealFrom<policy::StealHalf>(victim, true,
                                                        kNoBackoff, &stolen),
            &a);
  EXPECT_EQ(stolen, 1u);
}

TYPED_TEST(RunQueueTest, StealOneTakesOne) {
  TypeParam victim, thief;
  Item a, b, c;
  victim.Put(&a);
  victim.Put(&b);
  victim.Put(&c);
  uint32_t stolen = 0;
  EXPECT_EQ(thief.template StealFrom<policy::StealOne>(victim, false,
                                                       kNoBackoff, &stolen),
            &a);
  EXPECT_EQ(stolen, 1u);
  EXPECT_EQ(victim.Size(), 2u);
}

// One owner producing and consuming, several thieves stealing: every item
// is consumed exactly once.
TYPED_TEST(RunQueueTest, ConcurrentExactlyOnce) {
  constexpr int kItems = 20000;
  constexpr int kThieves = 3;
  std::vector<Item> items(kItems);
  TypeParam victim;
  std::atomic<int> consumed{0};
  std::atomic<bool> done{false};
  auto consume = [&](Item* t) {
    ASSERT_EQ(t->seen.fetch_add(1), 0) << "item " << t->id << " twice";
    consumed.fetch_add(1);
  };
  std::vector<std::thread> thieves;
  for (int k = 0; k < kThieves; ++k) {
    thieves.emplace_back([&] {
      TypeParam mine;
      while (!done.load()) {
        uint32_t stolen = 0;
        Item* t = mine.template StealFrom<policy::StealHalf>(
            victim, true, [] { std::this_thread::yield(); }, &stolen);
        if (t != nullptr) consume(t);
        while (Item* u = mine.Get()) consume(u);
      }
    });
  }
  for (int i = 0; i < kItems; ++i) {
    items[i].id = i;
    Item* t = &items[i];
    if (i % 3 == 0) {
      t = victim.PutRunnext(t);
      if (t == nullptr) continue;
    }
    while (!victim.Put(t)) {
      Item* batch[TypeParam::kOverflowBatch];
      uint32_t n = victim.Overflow(t, batch);
      for (uint32_t j = 0; j < n; ++j) consume(batch[j]);
      if (n != 0) break;
    }
    if (i % 5 == 0) {
      if (Item* u = victim.Get()) consume(u);
    }
  }
  while (Item* u = victim.Get()) consume(u);
  while (consumed.load() < kItems) std::this_thread::yield();
  done.store(true);
  for (auto& t : thieves) t.join();
  EXPECT_EQ(consumed.load(), kItems);
  for (auto& it : items) EXPECT_EQ(it.seen.load(), 1);
}

// Go's runqempty guarantee: while the owner shuffles an element between
// runnext and the ring, the queue is never reported empty.
TYPED_TEST(RunQueueTest, NeverFalselyEmpty) {
  TypeParam q;
  Item a, b;
  q.PutRunnext(&a);
  std::atomic<bool> done{false};
  std::atomic<int> false_empty{0};
  std::thread observer([&] {
    while (!done.load(std::memory_order_relaxed)) {
      if (q.Empty()) false_empty++;
    }
  });
  Item* other = &b;
  for (int i = 0; i < 200000; ++i) {
    Item* kicked = q.PutRunnext(other);  // runnext: other; kicked: in hand
    ASSERT_TRUE(q.Put(kicked));          // now in the ring
    other = q.Get(/*skip_runnext=*/true);
    ASSERT_EQ(other, kicked);
  }
  done.store(true);
  observer.join();
  EXPECT_EQ(false_empty.load(), 0);
}

// A second-hand steal: thief B steals from thief A's queue what A stole from
// the owner, and reads what the owner wrote into it. Only the release of A's
// tail (StealFrom) passes the owner's writes on to B: the three threads hand
// over with relaxed flags, so no other happens-before edge orders them, and
// ThreadSanitizer reports a race on `id` if that release is missing.
TEST(RunQueueStealTest, SecondHandStealSeesTheOwnersWrites) {
  constexpr int kRounds = 200;
  constexpr int kPerRound = 4;  // half of 4 = 2 stolen: one run, one queued
  using Q = RunQueue<Item, 256>;
  std::vector<Item> items(kRounds * kPerRound);
  Q victim;
  Q a;
  std::atomic<int> stage{0};  // 3r+1: owner put; 3r+2: A stole; 3r+3: B stole
  auto wait_for = [&](int v) {
    while (stage.load(std::memory_order_relaxed) != v)
      std::this_thread::yield();
  };
  std::atomic<int> bad{0};
  std::thread thief_a([&] {
    for (int r = 0; r < kRounds; ++r) {
      wait_for(3 * r + 1);
      uint32_t stolen = 0;
      Item* t =
          a.StealFrom<policy::StealHalf>(victim, false, kNoBackoff, &stolen);
      if (t == nullptr || stolen != 2) ++bad;
      stage.store(3 * r + 2, std::memory_order_relaxed);
    }
  });
  std::thread thief_b([&] {
    Q mine;
    for (int r = 0; r < kRounds; ++r) {
      wait_for(3 * r + 2);
      uint32_t stolen = 0;
      Item* t =
          mine.StealFrom<policy::StealHalf>(a, false, kNoBackoff, &stolen);
      if (t == nullptr || t->id != r * kPerRound + 1000) ++bad;  // the race
      stage.store(3 * r + 3, std::memory_order_relaxed);
    }
  });
  for (int r = 0; r < kRounds; ++r) {
    for (int k = 0; k < kPerRound; ++k) {
      Item* t = &items[r * kPerRound + k];
      t->id = r * kPerRound + k + 1000;
      ASSERT_TRUE(victim.Put(t));
    }
    stage.store(3 * r + 1, std::memory_order_relaxed);
    wait_for(3 * r + 3);
    while (victim.Get() != nullptr) {
    }
  }
  thief_a.join();
  thief_b.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace gmp::internal
