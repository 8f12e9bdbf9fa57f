// runtime/lock.cc — the slow paths of Lock: spin, then futex sleep.
#include "runtime/lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#if defined(GMP_CANARY_ERRNO_NOT_PRESERVED)
#include "runtime/policy/config.h"
#endif

namespace gmp::internal {
namespace {

inline void CpuRelax() { __builtin_ia32_pause(); }

}  // namespace

void Lock::LockSlow() {
  // Spin a little first: runtime critical sections are a few instructions.
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 8; ++j) CpuRelax();
    uint32_t expected = kUnlocked;
    if (word_.load(std::memory_order_relaxed) == kUnlocked &&
        word_.compare_exchange_weak(expected, kLocked,
                                    std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
      return;
    }
  }
  // Then sleep. Mark the word kSleeping so that unlock knows to wake us;
  // whoever acquires it from here on leaves it kSleeping (a waiter may remain).
  // A futex wait that finds the word changed fails with EAGAIN; a goroutine
  // taking a Lock inside a runtime call keeps its errno (gmp.h).
  const int saved_errno = errno;
  while (word_.exchange(kSleeping, std::memory_order_acquire) != kUnlocked) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_),
            FUTEX_WAIT_PRIVATE, kSleeping, nullptr, nullptr, 0);
  }
#if defined(GMP_CANARY_ERRNO_NOT_PRESERVED)
  // BUG (canary): the futex wait's EAGAIN stays in the caller's errno.
  if (policy::CanaryFires()) return;
#endif
  errno = saved_errno;
}

void Lock::Wake() {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAKE_PRIVATE,
          1, nullptr, nullptr, 0);
}

}  // namespace gmp::internal
