// runtime/lock.h — Lock, the runtime's internal mutex.
//
// Lock guards short critical sections of the runtime (the global run queue,
// idle lists, channel state). It spins briefly and then sleeps on a futex on
// its own atomic word, so it works from goroutines, from a thread's scheduler
// context (g0) and from plain threads alike. It never parks a goroutine: a
// goroutine waiting for a Lock blocks its thread, so critical sections must be
// short and must not call back into the scheduler while holding it, except
// that gopark's unlock function may release a Lock the goroutine took.
//
// ThreadSanitizer sees the hand-over through the word's acquire/release
// operations; the futex calls themselves are invisible to it and need not be
// seen.
#ifndef GMPLAB_RUNTIME_LOCK_H_
#define GMPLAB_RUNTIME_LOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"

namespace gmp::internal {

class ABSL_LOCKABLE Lock {
 public:
  constexpr Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // lock acquires the lock, blocking the calling thread while it is held.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    uint32_t expected = kUnlocked;
    if (__builtin_expect(word_.compare_exchange_strong(
                             expected, kLocked, std::memory_order_acquire,
                             std::memory_order_relaxed),
                         1)) {
      return;
    }
    LockSlow();
  }

  // unlock releases the lock; the caller must hold it.
  void unlock() ABSL_UNLOCK_FUNCTION() {
    if (__builtin_expect(
            word_.exchange(kUnlocked, std::memory_order_release) == kSleeping,
            0)) {
      Wake();
    }
  }

  // try_lock acquires the lock if it is free and returns whether it did.
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    uint32_t expected = kUnlocked;
    // order: acquire needed: pairs with unlock's release. The dumps'
    // TryLockFor(allglock) read allgs plainly after it. proc_test's
    // TryLockSeesTheLastUnlocksWrites catches relaxed.
    return word_.compare_exchange_strong(expected, kLocked,
                                         std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }

  // AssertHeld documents (and in debug-ish builds checks) that the lock is
  // held by somebody; locks have no owner identity.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  static constexpr uint32_t kUnlocked = 0;
  static constexpr uint32_t kLocked = 1;    // held, nobody sleeps on it
  static constexpr uint32_t kSleeping = 2;  // held, a waiter may sleep

  void LockSlow();
  void Wake();

  std::atomic<uint32_t> word_{kUnlocked};
};

// LockGuard holds a Lock for a scope.
class ABSL_SCOPED_LOCKABLE LockGuard {
 public:
  explicit LockGuard(Lock& l) ABSL_EXCLUSIVE_LOCK_FUNCTION(l) : l_(l) {
    l_.lock();
  }
  ~LockGuard() ABSL_UNLOCK_FUNCTION() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& l_;
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_LOCK_H_
