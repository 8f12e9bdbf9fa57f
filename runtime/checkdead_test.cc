// runtime/checkdead_test.cc — deadlock detection, every shape we
// can build from the scheduler's own primitives, plus no false alarms.
#include <unistd.h>

#include <atomic>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/proc.h"

namespace gmp {
namespace {

using internal::WaitReason;

// ParkForever parks the calling goroutine with nobody to ready it.
void ParkForever(WaitReason r) { internal::gopark(nullptr, nullptr, r); }

constexpr char kDeadlock[] =
    "fatal error: all goroutines are asleep - deadlock!";

TEST(CheckdeadDeathTest, MainAlone) {
  EXPECT_DEATH(gmp::Run([] { ParkForever(WaitReason::kChanReceive); },
                        Options{2, 0}),
               "all goroutines are asleep - deadlock!(.|\n)*goroutine 1 "
               "\\[waiting, chan receive\\]");
}

TEST(CheckdeadDeathTest, EveryoneBlocked) {
  EXPECT_DEATH(gmp::Run([] {
    for (int i = 0; i < 10; ++i) {
      Go([] { ParkForever(WaitReason::kSyncMutexLock); });
    }
    ParkForever(WaitReason::kSyncWaitGroupWait);
  }, Options{4, 0}),
               "deadlock!(.|\n)*sync.WaitGroup.Wait(.|\n)*sync.Mutex.Lock");
}

TEST(CheckdeadDeathTest, LockedMainBlocked) {
  EXPECT_DEATH(gmp::Run([] {
    LockOSThread();
    Go([] { ParkForever(WaitReason::kChanSend); });
    ParkForever(WaitReason::kChanReceive);
  }, Options{2, 0}),
               "deadlock!(.|\n)*goroutine 1 \\[waiting, chan "
               "receive\\]: locked to thread");
}

// Not dead while a sleeper exists; dead once it is gone.
TEST(CheckdeadDeathTest, AfterTheLastSleeperExits) {
  EXPECT_DEATH(gmp::Run([] {
    Go([] { Sleep(absl::Milliseconds(30)); });
    ParkForever(WaitReason::kChanReceive);
  }, Options{2, 0}),
               kDeadlock);
}

// Not dead while a goroutine is in a Syscall; dead after it parks.
TEST(CheckdeadDeathTest, AfterTheSyscallReturns) {
  EXPECT_DEATH(gmp::Run([] {
    Go([] {
      Syscall([] { usleep(30 * 1000); });
      ParkForever(WaitReason::kSelect);
    });
    ParkForever(WaitReason::kChanReceive);
  }, Options{1, 0}),
               kDeadlock);
}

// No false alarm: goroutines that sleep, yield and call in and out of
// syscalls while main waits are never a deadlock.
TEST(Checkdead, NoFalseAlarm) {
  std::atomic<int> done{0};
  gmp::Run([&] {
    for (int i = 0; i < 20; ++i) {
      Go([&, i] {
        for (int k = 0; k < 10; ++k) {
          if ((i + k) % 3 == 0) Sleep(absl::Microseconds(300));
          if ((i + k) % 3 == 1) Syscall([] { usleep(100); });
          Gosched();
        }
        done++;
      });
    }
    while (done.load() < 20) Sleep(absl::Milliseconds(1));
  }, Options{2, 0});
  EXPECT_EQ(done.load(), 20);
}

}  // namespace
}  // namespace gmp
