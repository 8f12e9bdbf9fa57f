// runtime/sema.h — Sema, a counting semaphore that parks goroutines.
//
// Sema is what Mutex and WaitGroup sleep on (Go's runtime_Semacquire /
// runtime_Semrelease). Acquire waits until the count is positive and
// decrements it; Release increments it and readies one waiter.
//
// Go keeps the semaphore word inside sync.Mutex and finds the waiters in a
// global table hashed by its address, to keep sync.Mutex at 8 bytes. gmplab
// embeds the wait queue and its Lock in the Sema instead: no global table, no
// contention between unrelated objects, at the cost of a larger object.
//
// Protocol (no lost wakeups): a waiter increments nwait_ under lock_, then
// re-tries the count, and only then queues and parks; the lock is released
// by gopark's unlock function after the goroutine is switched out. A releaser
// adds to the count first and only then reads nwait_ (both sequentially
// consistent), so either the waiter sees the count or the releaser sees the
// waiter.
#ifndef GMPLAB_RUNTIME_SEMA_H_
#define GMPLAB_RUNTIME_SEMA_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "runtime/lock.h"
#include "runtime/proc.h"
#include "runtime/sudog.h"

namespace gmp::internal {

class Sema {
 public:
  constexpr Sema() = default;
  Sema(const Sema&) = delete;
  Sema& operator=(const Sema&) = delete;

  // Acquire waits until the count is positive and decrements it. A waiter
  // queues last, or first when `lifo` (a goroutine that already waited and
  // lost a race, as Mutex does). `reason` is the wait reason shown in
  // goroutine dumps. Must be called from a goroutine.
  void Acquire(bool lifo, WaitReason reason);

  // Release increments the count and readies the first waiter, if any. With
  // `handoff`, the count goes straight to that waiter (nobody can barge in)
  // and the caller yields so that it runs at once (Mutex starvation mode).
  // Must be called from a goroutine.
  void Release(bool handoff);

 private:
  // TryAcquire decrements the count if it is positive.
  bool TryAcquire();

  std::atomic<uint32_t> count_{0};  // available units
  std::atomic<uint32_t> nwait_{0};  // waiters queued or about to queue;
                                    // changed under lock_, read without it
  Lock lock_;
  WaitQueue waiters_ ABSL_GUARDED_BY(lock_);  // parked Acquire callers
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_SEMA_H_
