// runtime/thread_state_test.cc — per-thread state that follows a goroutine
// (gmp.h, "Per-thread state"): the C++ exception globals and errno.
//
// A goroutine may resume on another thread, or find other goroutines having
// run on its thread, after every runtime call. At procs=1 the goroutines
// below interleave on one thread at each Gosched, so a runtime that left
// this state with the thread would fail deterministically; at procs=4 they
// also migrate between threads.
#include <errno.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"

namespace gmp {
namespace {

constexpr int kGoroutines = 8;

// RunOn runs `fn` as main at `procs` with 64 KiB stacks: throwing and
// unwinding need more than a compact variant's 4 KiB default.
template <class F>
void RunOn(int procs, F fn) {
  Run(std::move(fn), Options{procs, 64 * 1024});
}

struct Tagged {
  int goroutine;
  int round;
};

class ThreadStateTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, ThreadStateTest, testing::Values(1, 4),
                         [](const auto& info) {
                           return "procs" + std::to_string(info.param);
                         });

// Each goroutine throws, catches, yields inside the handler, then rethrows
// with `throw;` and checks that what it catches is its own exception.
TEST_P(ThreadStateTest, RethrowAfterYieldInHandler) {
  constexpr int kRounds = 50;
  std::atomic<int> wrong{0};
  std::atomic<int> right{0};
  RunOn(GetParam(), [&] {
    WaitGroup wg;
    wg.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      Go([&, i] {
        for (int r = 0; r < kRounds; ++r) {
          try {
            try {
              throw Tagged{i, r};
            } catch (const Tagged&) {
              Gosched();
              if (std::uncaught_exceptions() != 0) wrong.fetch_add(1);
              try {
                std::rethrow_exception(std::current_exception());
              } catch (const Tagged& t) {
                if (t.goroutine != i || t.round != r) wrong.fetch_add(1);
              }
              Gosched();
              throw;
            }
          } catch (const Tagged& t) {
            if (t.goroutine == i && t.round == r) {
              right.fetch_add(1);
            } else {
              wrong.fetch_add(1);
            }
          }
          if (std::current_exception() != nullptr) wrong.fetch_add(1);
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(right.load(), kGoroutines * kRounds);
}

// A destructor that blocks while an exception propagates through it sees
// exactly that one exception in flight, before and after blocking, and the
// exception is caught afterwards as usual.
struct BlocksWhileUnwinding {
  std::atomic<int>* wrong;
  ~BlocksWhileUnwinding() {
    if (std::uncaught_exceptions() != 1) wrong->fetch_add(1);
    Gosched();
    if (std::uncaught_exceptions() != 1) wrong->fetch_add(1);
    Sleep(absl::Microseconds(1));
    if (std::uncaught_exceptions() != 1) wrong->fetch_add(1);
  }
};

TEST_P(ThreadStateTest, DestructorBlocksDuringUnwinding) {
  constexpr int kRounds = 20;
  std::atomic<int> wrong{0};
  std::atomic<int> caught{0};
  RunOn(GetParam(), [&] {
    WaitGroup wg;
    wg.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      Go([&, i] {
        for (int r = 0; r < kRounds; ++r) {
          try {
            BlocksWhileUnwinding guard{&wrong};
            throw Tagged{i, r};
          } catch (const Tagged& t) {
            if (t.goroutine != i || t.round != r) wrong.fetch_add(1);
            if (std::uncaught_exceptions() != 0) wrong.fetch_add(1);
            caught.fetch_add(1);
          }
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(caught.load(), kGoroutines * kRounds);
}

// errno is read and written through these out-of-line functions, as gmp.h
// advises: an inlined access could reuse the errno address of the thread
// the goroutine ran on before the runtime call.
__attribute__((noinline)) void SetErrno(int e) {
  asm volatile("" ::: "memory");
  errno = e;
}
__attribute__((noinline)) int GetErrno() {
  asm volatile("" ::: "memory");
  return errno;
}

// Each goroutine sets its own errno before every kind of blocking runtime
// call and checks it afterwards.
TEST_P(ThreadStateTest, ErrnoSurvivesBlockingCalls) {
  constexpr int kRounds = 20;
  std::atomic<int> wrong{0};
  std::atomic<int> checks{0};
  RunOn(GetParam(), [&] {
    Mutex mu;
    Chan<int> ch(0);
    WaitGroup wg;
    wg.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      Go([&, i] {
        const int mine = 1000 + i;
        auto check = [&](int want) {
          checks.fetch_add(1);
          if (GetErrno() != want) wrong.fetch_add(1);
        };
        for (int r = 0; r < kRounds; ++r) {
          SetErrno(mine);
          Gosched();
          check(mine);
          mu.Lock();
          Gosched();  // others park on mu meanwhile
          check(mine);
          mu.Unlock();
          check(mine);
          // Pairs of goroutines meet on the unbuffered channel.
          if (i % 2 == 0) {
            ch.Send(i);
          } else {
            ch.Recv();
          }
          check(mine);
          Sleep(absl::Microseconds(1));
          check(mine);
          LockOSThread();
          Gosched();
          UnlockOSThread();
          check(mine);
          // Inside Syscall the call sees the goroutine's errno; afterwards
          // the caller sees what the call left.
          if (Syscall([] { return GetErrno(); }) != mine) wrong.fetch_add(1);
          const int left = 2000 + i;
          Syscall([left] {
            usleep(50);  // long enough that sysmon may retake the P
            SetErrno(left);
            return -1;
          });
          check(left);
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(checks.load(), kGoroutines * kRounds * 7);
}

// The plain pattern, errno written inside the call and read right after
// Syscall in the same function, with nothing out of line: the caller must
// read the errno of the thread it resumed on, not of the one the call ran
// on. The 50 us call lets sysmon retake the P, so exitsyscall often resumes
// the goroutine on another thread.
TEST_P(ThreadStateTest, ErrnoReadInlineAfterSyscall) {
  constexpr int kRounds = 40;
  std::atomic<int> wrong{0};
  RunOn(GetParam(), [&] {
    WaitGroup wg;
    wg.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      Go([&, i] {
        for (int r = 0; r < kRounds; ++r) {
          const int want = 3000 + 100 * i + r;
          int ret = Syscall([want] {
            usleep(50);
            errno = want;
            return -1;
          });
          int got = errno;
          if (ret != -1 || got != want) wrong.fetch_add(1);
          Gosched();
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_EQ(wrong.load(), 0);
}

// A fresh goroutine starts with errno 0 and no exception state, whatever the
// thread it runs on has.
TEST(ThreadStateTest, FreshGoroutineStartsClean) {
  std::atomic<int> wrong{0};
  RunOn(1, [&] {
    WaitGroup wg;
    wg.Add(1);
    Go([&] {
      if (GetErrno() != 0) wrong.fetch_add(1);
      if (std::uncaught_exceptions() != 0) wrong.fetch_add(1);
      if (std::current_exception() != nullptr) wrong.fetch_add(1);
      wg.Done();
    });
    try {
      throw Tagged{0, 0};
    } catch (const Tagged&) {
      SetErrno(77);
      wg.Wait();  // the new goroutine runs while main is in a handler
      if (GetErrno() != 77) wrong.fetch_add(1);
      if (std::current_exception() == nullptr) wrong.fetch_add(1);
    }
  });
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace gmp
