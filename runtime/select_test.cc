// runtime/select_test.cc — tests for gmp::Select and gmp::TrySelect: each
// rule of runtime/select.h (ready cases, random choice, closed channels,
// absent cases, default, duplicates, no cases), withdrawal of a blocked
// select's other waiters, races with Close, many selectors against many
// senders at several GOMAXPROCS, and the fatal errors.
#include "runtime/select.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::UseThreadsafeDeathTests;

class SelectProcsTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, SelectProcsTest, testing::Values(1, 2, 4));

TEST(SelectTest, ReceivesFromTheReadyCase) {
  int fired = -2;
  std::optional<int> a, b;
  RunOn(1, [&] {
    Chan<int> ca(1), cb(1);
    cb.Send(42);
    fired = Select({RecvCase(ca, a), RecvCase(cb, b)});
  });
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(a.has_value()) << "a case that did not fire is untouched";
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, 42);
}

TEST(SelectTest, SendsOnTheReadyCase) {
  int fired = -2;
  std::optional<int> got;
  int unsent = 7;
  std::string moved = "value";
  RunOn(1, [&] {
    Chan<int> full(1);
    full.Send(0);
    Chan<std::string> room(1);
    fired = Select({SendCase(full, unsent), SendCase(room, moved)});
    std::optional<std::string> s = room.TryRecv();
    got = s.has_value() ? std::optional<int>(static_cast<int>(s->size()))
                        : std::nullopt;
  });
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(unsent, 7);
  EXPECT_EQ(got, 5) << "the string went through the channel";
}

TEST(SelectTest, TrySelectReturnsDefaultAndTouchesNothing) {
  int fired = -2;
  std::optional<int> a = 5;
  int v = 9;
  RunOn(1, [&] {
    Chan<int> empty(1), full(1);
    full.Send(1);
    fired = TrySelect({RecvCase(empty, a), SendCase(full, v)});
  });
  EXPECT_EQ(fired, kSelectDefault);
  EXPECT_EQ(a, 5);
  EXPECT_EQ(v, 9);
}

TEST(SelectTest, ChoosesUniformlyAmongReadyCases) {
  constexpr int kRounds = 20000;
  int count[3] = {};
  RunOn(1, [&] {
    Chan<int> c[3] = {Chan<int>(1), Chan<int>(1), Chan<int>(1)};
    std::optional<int> v[3];
    for (int r = 0; r < kRounds; ++r) {
      for (int i = 0; i < 3; ++i) {
        if (c[i].Len() == 0) c[i].Send(i);
      }
      const int k = Select(
          {RecvCase(c[0], v[0]), RecvCase(c[1], v[1]), RecvCase(c[2], v[2])});
      ASSERT_TRUE(k >= 0 && k < 3);
      ASSERT_EQ(*v[k], k);
      ++count[k];
    }
  });
  // Each case is ready every round: expected kRounds / 3 each (sd ~67);
  // 30% to 37% of the rounds is more than 10 sd either way.
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(count[i], kRounds * 30 / 100) << "case " << i << " starved";
    EXPECT_LT(count[i], kRounds * 37 / 100) << "case " << i << " favoured";
  }
}

TEST(SelectTest, ClosedChannelsReceiveCaseIsReady) {
  int fired = -2;
  std::optional<int> a = 3, b;
  RunOn(1, [&] {
    Chan<int> open, closed;
    closed.Close();
    fired = Select({RecvCase(open, b), RecvCase(closed, a)});
  });
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(a.has_value()) << "a closed channel's case fires empty";
}

TEST(SelectTest, DrainsABufferBeforeReportingClosed) {
  std::vector<std::optional<int>> got;
  RunOn(1, [&] {
    Chan<int> c(2);
    c.Send(1);
    c.Send(2);
    c.Close();
    for (int i = 0; i < 3; ++i) {
      std::optional<int> v;
      EXPECT_EQ(Select({RecvCase(c, v)}), 0);
      got.push_back(v);
    }
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], 1);
  EXPECT_EQ(got[1], 2);
  EXPECT_FALSE(got[2].has_value());
}

TEST(SelectTest, AbsentCasesNeverFire) {
  int tried = -2, fired = -2;
  RunOn(1, [&] {
    Chan<int> c(1);
    c.Send(4);
    std::optional<int> v;
    tried = TrySelect({SelectCase(), SelectCase()});
    fired = Select({SelectCase(), RecvCase(c, v), SelectCase()});
  });
  EXPECT_EQ(tried, kSelectDefault);
  EXPECT_EQ(fired, 1);
}

TEST(SelectTest, EmptyTrySelectIsDefault) {
  int fired = -2;
  RunOn(1, [&] { fired = TrySelect({}); });
  EXPECT_EQ(fired, kSelectDefault);
}

// A select that waited on two channels and was woken through one leaves no
// waiter behind on the other: a later TrySend there finds no receiver.
TEST_P(SelectProcsTest, BlockedSelectWithdrawsItsOtherWaiters) {
  constexpr int kRounds = 300;
  int wrong = 0, stale = 0;
  RunOn(GetParam(), [&] {
    Chan<int> a, b;  // unbuffered: a send succeeds only with a receiver
    for (int r = 0; r < kRounds; ++r) {
      WaitGroup done;
      done.Add(1);
      Go([&] {
        std::optional<int> va, vb;
        const int k = Select({RecvCase(a, va), RecvCase(b, vb)});
        if (k != 1 || vb != r || va.has_value()) ++wrong;
        done.Done();
      });
      b.Send(r);  // parks until the selector takes it
      done.Wait();
      int probe = -1;
      if (a.TrySend(probe)) ++stale;
    }
  });
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(stale, 0) << "a select left a receiver queued on the other case";
}

// The same, for a blocked send case.
TEST_P(SelectProcsTest, BlockedSendCaseFiresOnce) {
  constexpr int kRounds = 300;
  int wrong = 0, stale = 0;
  RunOn(GetParam(), [&] {
    Chan<int> a, b;
    for (int r = 0; r < kRounds; ++r) {
      WaitGroup done;
      done.Add(1);
      Go([&] {
        int x = r, y = -r;
        const int k = Select({SendCase(a, x), SendCase(b, y)});
        if (k != 0) ++wrong;
        done.Done();
      });
      std::optional<int> v = a.Recv();
      if (v != r) ++wrong;
      done.Wait();
      if (b.TryRecv().has_value()) ++stale;
    }
  });
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(stale, 0) << "a select left a sender queued on the other case";
}

TEST_P(SelectProcsTest, CloseWakesABlockedSelect) {
  constexpr int kRounds = 200;
  int wrong = 0;
  RunOn(GetParam(), [&] {
    for (int r = 0; r < kRounds; ++r) {
      Chan<int> a, b;
      WaitGroup done;
      done.Add(1);
      Go([&] {
        std::optional<int> va, vb = 1;
        const int k = Select({RecvCase(a, va), RecvCase(b, vb)});
        if (k != 1 || vb.has_value()) ++wrong;
        done.Done();
      });
      if (r % 2 == 0) Gosched();  // close before or after the select parks
      b.Close();
      done.Wait();
    }
  });
  EXPECT_EQ(wrong, 0);
}

// The same channel in two cases: one fires, once, and nothing stays queued.
TEST_P(SelectProcsTest, DuplicateChannelFiresOneCase) {
  constexpr int kRounds = 200;
  int wrong = 0, stale = 0;
  RunOn(GetParam(), [&] {
    Chan<int> c;
    for (int r = 0; r < kRounds; ++r) {
      WaitGroup done;
      done.Add(1);
      Go([&] {
        std::optional<int> x, y;
        const int k = Select({RecvCase(c, x), RecvCase(c, y)});
        const std::optional<int>& got = k == 0 ? x : y;
        const std::optional<int>& other = k == 0 ? y : x;
        if (got != r || other.has_value()) ++wrong;
        done.Done();
      });
      c.Send(r);
      done.Wait();
      int probe = 0;
      if (c.TrySend(probe)) ++stale;
    }
  });
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(stale, 0);
}

// Many selectors against many senders on three channels, with closes racing
// at the end: every value sent is received exactly once.
TEST_P(SelectProcsTest, EveryValueReceivedExactlyOnce) {
  constexpr int kSenders = 6, kPerSender = 400, kSelectors = 5;
  constexpr int kTotal = kSenders * kPerSender;
  auto seen = std::make_unique<std::atomic<int>[]>(kTotal);
  std::atomic<int> received{0};
  RunOn(GetParam(), [&] {
    Chan<int> c[3] = {Chan<int>(0), Chan<int>(1), Chan<int>(4)};
    WaitGroup senders, selectors;
    senders.Add(kSenders);
    selectors.Add(kSelectors);
    for (int s = 0; s < kSenders; ++s) {
      Go([&, s] {
        for (int i = 0; i < kPerSender; ++i) {
          int v = s * kPerSender + i;
          if (i % 3 == 0) {
            c[(s + i) % 3].Send(v);
          } else {
            int w = v;
            Select({SendCase(c[s % 3], v), SendCase(c[(s + 1) % 3], w)});
          }
        }
        senders.Done();
      });
    }
    for (int k = 0; k < kSelectors; ++k) {
      Go([&] {
        bool open[3] = {true, true, true};
        while (open[0] || open[1] || open[2]) {
          std::optional<int> v[3];
          SelectCase cases[3];
          for (int i = 0; i < 3; ++i) {
            if (open[i]) cases[i] = RecvCase(c[i], v[i]);
          }
          const int f = Select(cases, 3);
          if (!v[f].has_value()) {
            open[f] = false;  // closed and drained: now an absent case
            continue;
          }
          seen[*v[f]].fetch_add(1);
          received.fetch_add(1);
        }
        selectors.Done();
      });
    }
    senders.Wait();
    for (auto& ch : c) ch.Close();
    selectors.Wait();
  });
  EXPECT_EQ(received.load(), kTotal);
  int dup = 0, lost = 0;
  for (int i = 0; i < kTotal; ++i) {
    if (seen[i].load() > 1) ++dup;
    if (seen[i].load() == 0) ++lost;
  }
  EXPECT_EQ(dup, 0);
  EXPECT_EQ(lost, 0);
}

// Selects racing with Close and with plain receivers on the same channels.
TEST_P(SelectProcsTest, SelectRacesWithCloseAndReceivers) {
  constexpr int kRounds = 300;
  int fired_twice = 0;
  RunOn(GetParam(), [&] {
    for (int r = 0; r < kRounds; ++r) {
      Chan<int> a, b;
      std::atomic<int> fires{0};
      WaitGroup wg;
      wg.Add(3);
      Go([&] {
        std::optional<int> va, vb;
        Select({RecvCase(a, va), RecvCase(b, vb)});
        fires.fetch_add(1);
        wg.Done();
      });
      Go([&] {
        int v = r;
        // Either the selector or the receiver below takes it.
        if (TrySelect({SendCase(b, v)}) == kSelectDefault) Gosched();
        wg.Done();
      });
      Go([&] {
        a.Close();
        wg.Done();
      });
      wg.Wait();
      if (fires.load() != 1) ++fired_twice;
      (void)b.TryRecv();
    }
  });
  EXPECT_EQ(fired_twice, 0);
}

TEST(SelectDeathTest, SendCaseOnClosedChannel) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> c(1);
                       c.Close();
                       int v = 1;
                       Select({SendCase(c, v)});
                     }),
               "fatal error: send on closed channel");
}

TEST(SelectDeathTest, BlockedSendCaseWhenChannelCloses) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(2,
                     [] {
                       Chan<int> c, other;
                       Go([&] {
                         Gosched();
                         c.Close();
                       });
                       int v = 1;
                       std::optional<int> w;
                       Select({SendCase(c, v), RecvCase(other, w)});
                     }),
               "fatal error: send on closed channel");
}

TEST(SelectDeathTest, NoCasesBlocksForeverAndIsADeadlock) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1, [] { Select({}); }),
               "all goroutines are asleep - deadlock!(.|\n)*select \\(no "
               "cases\\)");
}

TEST(SelectDeathTest, OnlyAbsentCasesBlockForever) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Select({SelectCase(), SelectCase()});
                     }),
               "all goroutines are asleep - deadlock!");
}

TEST(SelectDeathTest, BlockedSelectIsADeadlockWhenNobodyCanWakeIt) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> a, b;
                       std::optional<int> x, y;
                       Select({RecvCase(a, x), RecvCase(b, y)});
                     }),
               "all goroutines are asleep - deadlock!(.|\n)*\\[waiting, "
               "select\\]");
}

TEST(SelectDeathTest, SelectOutsideAGoroutine) {
  UseThreadsafeDeathTests();
  Chan<int> c(1);
  std::optional<int> v;
  EXPECT_DEATH(Select({RecvCase(c, v)}),
               "fatal error: gmp::Select called outside a goroutine");
  EXPECT_DEATH(TrySelect({RecvCase(c, v)}),
               "fatal error: gmp::TrySelect called outside a goroutine");
}

}  // namespace
}  // namespace gmp
