// runtime/mutex.h — Mutex, a mutual-exclusion lock that parks goroutines.
//
// gmp::Mutex is Go's sync.Mutex: a goroutine that cannot take the lock parks
// (after a brief spin on multi-proc runtimes), and its thread runs other
// goroutines meanwhile. The zero state is unlocked. A Mutex is not tied to a
// goroutine: one goroutine may lock it and another unlock it.
//
//   gmp::Mutex mu;
//   int counter ABSL_GUARDED_BY(mu);
//   { gmp::MutexLock l(&mu); ++counter; }
//
// Fairness, as in Go. The Mutex has two modes.
//   - Normal mode: waiters queue FIFO, but a woken waiter competes with
//     goroutines that are just arriving (and are already running on a CPU, so
//     they usually win). A waiter that loses goes back to the *front* of the
//     queue. This is fast under contention but can starve a waiter.
//   - Starvation mode: entered when a waiter has waited more than 1 ms.
//     Unlock then hands the lock directly to the first waiter and yields to
//     it: the waiter runs next on the unlocker's P, and the unlocker waits
//     behind it in that P's local run queue (as Go's goyield). Arriving
//     goroutines do not try to take it and queue at the tail.
//     The mode ends when the waiter that takes the lock is the last one, or
//     has waited less than 1 ms.
//
// Lock, Unlock and TryLock must be called from a goroutine (else fatal error)
// and are runtime call points (a pending preemption request is honoured;
// Unlock honours it only after releasing the mutex).
// Unlocking an unlocked Mutex is a fatal error: "sync: unlock of unlocked
// mutex".
//
// Goroutines still parked in Lock when Run returns are reclaimed with the
// runtime; such a Mutex may then be destroyed but not used again.
#ifndef GMPLAB_RUNTIME_MUTEX_H_
#define GMPLAB_RUNTIME_MUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "runtime/sema.h"

namespace gmp {

class ABSL_LOCKABLE Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Lock acquires the mutex, parking the goroutine while another holds it.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();

  // Unlock releases the mutex, waking a waiter if there is one. Fatal if the
  // mutex is not locked.
  void Unlock() ABSL_UNLOCK_FUNCTION();

  // TryLock acquires the mutex if that needs no waiting, and returns whether
  // it did. It never takes a mutex in starvation mode (it belongs to the
  // waiters).
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);

 private:
  // state_ bits: see mutex.cc.
  static constexpr int32_t kLocked = 1;    // held
  static constexpr int32_t kWoken = 2;     // a waiter is awake and trying
  static constexpr int32_t kStarving = 4;  // starvation mode
  static constexpr int kWaiterShift = 3;   // the rest counts parked waiters

  void LockSlow();
  void UnlockSlow(int32_t state);

  std::atomic<int32_t> state_{0};
  internal::Sema sema_;  // where waiters park
};

// MutexLock holds a Mutex for a scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

namespace internal {
// MutexStarvationEntries returns how many times any Mutex has entered
// starvation mode in this process (for tests and reports).
int64_t MutexStarvationEntries();
}  // namespace internal

}  // namespace gmp

#endif  // GMPLAB_RUNTIME_MUTEX_H_
