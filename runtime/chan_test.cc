// runtime/chan_test.cc — tests for gmp::Chan: ordering, hand-off, close,
// Try*, Len/Cap, move-only values, many senders × many receivers at several
// GOMAXPROCS, PingPongHog fairness, and the fatal errors.
#include "runtime/chan.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::UseThreadsafeDeathTests;

class ChanProcsTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, ChanProcsTest, testing::Values(1, 2, 4));

TEST_P(ChanProcsTest, UnbufferedKeepsOrder) {
  constexpr int kN = 2000;
  std::vector<int> got;
  RunOn(GetParam(), [&] {
    Chan<int> ch;
    Go([&] {
      for (int i = 0; i < kN; ++i) ch.Send(i);
      ch.Close();
    });
    while (std::optional<int> v = ch.Recv()) got.push_back(*v);
  });
  ASSERT_EQ(got.size(), size_t{kN});
  for (int i = 0; i < kN; ++i) ASSERT_EQ(got[i], i);
}

TEST_P(ChanProcsTest, BufferedKeepsOrder) {
  constexpr int kN = 2000;
  std::vector<int> got;
  RunOn(GetParam(), [&] {
    Chan<int> ch(7);
    Go([&] {
      for (int i = 0; i < kN; ++i) ch.Send(i);
      ch.Close();
    });
    while (std::optional<int> v = ch.Recv()) {
      got.push_back(*v);
      if (*v % 97 == 0) Gosched();  // let the buffer fill up now and then
    }
  });
  ASSERT_EQ(got.size(), size_t{kN});
  for (int i = 0; i < kN; ++i) ASSERT_EQ(got[i], i);
}

TEST(ChanTest, BufferedTrySendTryRecvLenCap) {
  RunOn(1, [] {
    Chan<int> ch(4);
    EXPECT_EQ(ch.Cap(), 4u);
    EXPECT_EQ(ch.Len(), 0u);
    EXPECT_EQ(ch.TryRecv(), std::nullopt);
    for (int i = 0; i < 4; ++i) {
      int v = i;
      EXPECT_TRUE(ch.TrySend(v));
      EXPECT_EQ(ch.Len(), size_t(i + 1));
    }
    int extra = 99;
    EXPECT_FALSE(ch.TrySend(extra));
    EXPECT_EQ(extra, 99);
    EXPECT_EQ(ch.Len(), 4u);
    EXPECT_EQ(ch.TryRecv(), 0);
    EXPECT_EQ(ch.Len(), 3u);
    // The ring wraps around.
    EXPECT_TRUE(ch.TrySend(extra));
    for (int want : {1, 2, 3, 99}) EXPECT_EQ(ch.Recv(), want);
    EXPECT_EQ(ch.Len(), 0u);
    EXPECT_EQ(ch.TryRecv(), std::nullopt);
  });
}

TEST(ChanTest, UnbufferedTryNeedsAParkedPeer) {
  RunOn(1, [] {
    Chan<int> ch;
    EXPECT_EQ(ch.Cap(), 0u);
    EXPECT_EQ(ch.Len(), 0u);
    int v = 5;
    EXPECT_FALSE(ch.TrySend(v));
    EXPECT_EQ(v, 5);
    EXPECT_EQ(ch.TryRecv(), std::nullopt);
  });
}

// TrySend on an unbuffered channel succeeds only by handing the value to a
// parked receiver, so this exercises the direct hand-off into the receiver's
// frame; TryRecv likewise takes from a parked sender.
TEST_P(ChanProcsTest, HandOffWithParkedPeer) {
  RunOn(GetParam(), [] {
    Chan<int> ch;
    Chan<int> done;
    for (int round = 0; round < 200; ++round) {
      Go([&] { done.Send(*ch.Recv() + 1); });
      int v = round;
      int tries = 0;
      while (!ch.TrySend(v)) {
        ASSERT_EQ(v, round);
        Gosched();
        ASSERT_LT(++tries, 1000000);
      }
      EXPECT_EQ(done.Recv(), round + 1);

      Go([&, round] { ch.Send(round * 2); });
      std::optional<int> got;
      tries = 0;
      while (!(got = ch.TryRecv())) {
        Gosched();
        ASSERT_LT(++tries, 1000000);
      }
      EXPECT_EQ(*got, round * 2);
    }
  });
}

// A sender parked on a full buffer: the receiver takes the head and moves the
// parked sender's value to the tail, so FIFO order holds.
TEST_P(ChanProcsTest, ParkedSenderOnFullBufferKeepsOrder) {
  RunOn(GetParam(), [] {
    Chan<int> ch(2);
    for (int round = 0; round < 300; ++round) {
      ch.Send(0);
      ch.Send(1);
      std::atomic<bool> started{false};
      Go([&] {
        started.store(true);
        ch.Send(2);
        ch.Send(3);
      });
      while (!started.load()) Gosched();
      Gosched();
      for (int want = 0; want < 4; ++want) ASSERT_EQ(ch.Recv(), want);
      ASSERT_EQ(ch.Len(), 0u);
    }
  });
}

TEST(ChanTest, CloseDrainsThenNullopt) {
  RunOn(2, [] {
    Chan<std::string> ch(3);
    ch.Send("a");
    ch.Send("b");
    ch.Close();
    EXPECT_EQ(ch.Len(), 2u);
    EXPECT_EQ(ch.Recv(), "a");
    EXPECT_EQ(ch.TryRecv(), "b");
    EXPECT_EQ(ch.Recv(), std::nullopt);
    EXPECT_EQ(ch.Recv(), std::nullopt);
    EXPECT_EQ(ch.TryRecv(), std::nullopt);
    EXPECT_EQ(ch.Len(), 0u);
  });
}

TEST_P(ChanProcsTest, CloseWakesEveryReceiver) {
  constexpr int kReceivers = 16;
  std::atomic<int> woke_empty{0};
  RunOn(GetParam(), [&] {
    Chan<int> ch;
    WaitGroup wg;
    wg.Add(kReceivers);
    for (int i = 0; i < kReceivers; ++i) {
      Go([&] {
        if (!ch.Recv().has_value()) woke_empty.fetch_add(1);
        wg.Done();
      });
    }
    for (int i = 0; i < 10; ++i) Gosched();  // let most of them park
    ch.Close();
    wg.Wait();
  });
  EXPECT_EQ(woke_empty.load(), kReceivers);
}

TEST(ChanTest, MoveOnlyValues) {
  RunOn(2, [] {
    Chan<std::unique_ptr<int>> unbuffered;
    Go([&] {
      for (int i = 0; i < 100; ++i) unbuffered.Send(std::make_unique<int>(i));
      unbuffered.Close();
    });
    int want = 0;
    while (std::optional<std::unique_ptr<int>> p = unbuffered.Recv()) {
      ASSERT_NE(*p, nullptr);
      EXPECT_EQ(**p, want++);
    }
    EXPECT_EQ(want, 100);

    Chan<std::unique_ptr<int>> buffered(2);
    auto a = std::make_unique<int>(1);
    auto b = std::make_unique<int>(2);
    auto c = std::make_unique<int>(3);
    EXPECT_TRUE(buffered.TrySend(a));
    EXPECT_EQ(a, nullptr);  // moved from on success
    EXPECT_TRUE(buffered.TrySend(b));
    EXPECT_FALSE(buffered.TrySend(c));
    ASSERT_NE(c, nullptr);  // untouched on failure
    EXPECT_EQ(*c, 3);
    std::optional<std::unique_ptr<int>> got = buffered.TryRecv();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(**got, 1);
    buffered.Send(std::move(c));
    // Two values stay buffered: the channel's destructor frees them (LSan
    // would report a leak otherwise).
  });
}

// Values of a non-trivial type left in a closed, undrained buffer are
// destroyed exactly once with the channel.
TEST(ChanTest, BufferedValuesDestroyedWithChannel) {
  static std::atomic<int> live{0};
  struct Counted {
    Counted() { live.fetch_add(1); }
    Counted(Counted&&) noexcept { live.fetch_add(1); }
    Counted(const Counted&) = delete;
    ~Counted() { live.fetch_sub(1); }
  };
  RunOn(1, [] {
    {
      Chan<Counted> ch(5);
      for (int i = 0; i < 3; ++i) ch.Send(Counted());
      ch.Recv();
      ch.Send(Counted());
      ch.Send(Counted());
      ch.Send(Counted());  // full, wrapped around
      EXPECT_EQ(live.load(), 5);
    }
    EXPECT_EQ(live.load(), 0);
  });
}

// A goroutine left blocked when main returns is reclaimed with the runtime
// (as a Go program exits with goroutines still blocked); the channel may
// outlive Run and be destroyed afterwards without complaint.
TEST(ChanTest, OutlivesRunWithLeakedWaiters) {
  auto ch = std::make_unique<Chan<int>>();
  auto full = std::make_unique<Chan<int>>(1);
  RunOn(2, [&] {
    Go([&] { ch->Recv(); });
    full->Send(1);
    Go([&] { full->Send(2); });
    for (int i = 0; i < 10; ++i) Gosched();
  });
  ch.reset();
  full.reset();
}

// Many senders and many receivers: every value is received exactly once,
// and each receiver sees each sender's values in the order they were sent.
class ChanManyTest
    : public testing::TestWithParam<std::tuple<int /*procs*/, int /*cap*/>> {};
INSTANTIATE_TEST_SUITE_P(ProcsCap, ChanManyTest,
                         testing::Combine(testing::Values(1, 2, 4, 8),
                                          testing::Values(0, 1, 16)));

TEST_P(ChanManyTest, EveryValueReceivedExactlyOnce) {
  const auto [procs, cap] = GetParam();
  constexpr int kSenders = 4;
  constexpr int kReceivers = 4;
  constexpr int kPerSender = 1500;
  std::vector<std::vector<int>> got(kReceivers);  // got[r]: written by r only
  RunOn(procs, [&] {
    Chan<int> ch(cap);
    WaitGroup senders;
    WaitGroup receivers;
    senders.Add(kSenders);
    receivers.Add(kReceivers);
    for (int s = 0; s < kSenders; ++s) {
      Go([&, s] {
        for (int i = 0; i < kPerSender; ++i) {
          int v = s * kPerSender + i;
          if (i % 3 == 0 && ch.TrySend(v)) continue;
          ch.Send(v);
        }
        senders.Done();
      });
    }
    for (int r = 0; r < kReceivers; ++r) {
      Go([&, r] {
        for (int i = 0;; ++i) {
          std::optional<int> v = (i % 5 == 0) ? ch.TryRecv() : std::nullopt;
          if (!v) v = ch.Recv();
          if (!v) break;
          got[r].push_back(*v);
        }
        receivers.Done();
      });
    }
    senders.Wait();
    ch.Close();
    receivers.Wait();
  });
  std::vector<int> all;
  for (int r = 0; r < kReceivers; ++r) {
    std::vector<int> last(kSenders, -1);
    for (int v : got[r]) {
      int s = v / kPerSender;
      ASSERT_GT(v, last[s])
          << "receiver " << r << " saw sender " << s << " out of order";
      last[s] = v;
    }
    all.insert(all.end(), got[r].begin(), got[r].end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kSenders * kPerSender});
  for (int i = 0; i < kSenders * kPerSender; ++i) ASSERT_EQ(all[i], i);
}

// PingPongHog (Go's proc_test.go) as a fairness check at procs=1: two
// ping-pong pairs keep readying each other through runnext, which on its own
// would let one pair monopolise the only P. Sysmon's preemption (honoured at
// the channel operations) must bound such chains so that both pairs progress.
// A CPU hog spinning on TryRecv runs beside them. Not timed: the round
// counts must be within 20x of each other. The run lasts 1 s, ~100 of
// sysmon's 10 ms slices: over 400 ms a loaded TSan run once came out 25x.
TEST(ChanTest, PingPongHogFairnessAtProcs1) {
  std::atomic<int64_t> rounds[2] = {0, 0};
  RunOn(1, [&] {
    std::atomic<bool> stop{false};
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
    Chan<bool> hog_stop;
    WaitGroup wg;
    wg.Add(1);
    Go([&] {
      while (!hog_stop.TryRecv().has_value() && !stop.load()) {
      }
      wg.Done();
    });
    for (int pair = 0; pair < 2; ++pair) {
      auto ping = std::make_shared<Chan<bool>>();
      auto pong = std::make_shared<Chan<bool>>();
      wg.Add(2);
      Go([&, ping, pong, pair] {
        while (pong->Send(true), ping->Recv().value()) {
          rounds[pair].fetch_add(1, std::memory_order_relaxed);
          if (std::chrono::steady_clock::now() > deadline) stop.store(true);
        }
        wg.Done();
      });
      Go([&, ping, pong] {
        while (pong->Recv().value()) {
          bool more = !stop.load();
          ping->Send(more);
          if (!more) break;
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  int64_t a = rounds[0].load();
  int64_t b = rounds[1].load();
  std::printf("PingPongHog at procs=1: pair rounds %lld and %lld\n",
              static_cast<long long>(a), static_cast<long long>(b));
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_LE(std::max(a, b), 20 * std::min(a, b))
      << "pair rounds: " << a << " vs " << b;
}

TEST(ChanDeathTest, SendOnClosedChannel) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> ch(1);
                       ch.Close();
                       ch.Send(1);
                     }),
               "fatal error: send on closed channel");
}

TEST(ChanDeathTest, TrySendOnClosedChannel) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> ch(1);
                       ch.Close();
                       int v = 1;
                       ch.TrySend(v);
                     }),
               "fatal error: send on closed channel");
}

TEST(ChanDeathTest, CloseOfClosedChannel) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> ch;
                       ch.Close();
                       ch.Close();
                     }),
               "fatal error: close of closed channel");
}

TEST(ChanDeathTest, CloseWithParkedSender) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> ch;
                       std::atomic<bool> started{false};
                       Go([&] {
                         started.store(true);
                         ch.Send(1);
                       });
                       while (!started.load()) Gosched();
                       Gosched();
                       ch.Close();
                       Gosched();  // the sender wakes and dies
                     }),
               "fatal error: send on closed channel");
}

// Every park passes a wait reason, so checkdead's goroutine dump says what
// each goroutine waits for.
TEST(ChanDeathTest, DeadlockShowsWaitReasons) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       Chan<int> ch;
                       ch.Recv();
                     }),
               "all goroutines are asleep - deadlock!(.|\n)*chan receive");
  EXPECT_DEATH(RunOn(2,
                     [] {
                       Chan<int> full(1);
                       full.Send(1);
                       Go([&] { full.Send(2); });
                       Chan<int> never;
                       never.Send(3);
                     }),
               "all goroutines are asleep - deadlock!(.|\n)*chan send");
}

TEST(ChanDeathTest, OutsideAGoroutine) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(
      {
        Chan<int> ch(1);
        ch.Recv();
      },
      "fatal error: gmp::Chan::Recv called outside a goroutine");
  EXPECT_DEATH(
      {
        Chan<int> ch(1);
        ch.Send(1);
      },
      "fatal error: gmp::Chan::Send called outside a goroutine");
}

TEST(ChanDeathTest, DestroyedWithParkedReceiver) {
  UseThreadsafeDeathTests();
  EXPECT_DEATH(RunOn(1,
                     [] {
                       auto ch = std::make_unique<Chan<int>>();
                       Go([c = ch.get()] { c->Recv(); });
                       for (int i = 0; i < 10; ++i) Gosched();
                       ch.reset();
                     }),
               "fatal error: gmp::Chan destroyed while goroutines are "
               "blocked on it");
}

}  // namespace
}  // namespace gmp
