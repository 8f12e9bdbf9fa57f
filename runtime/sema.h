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
// Protocol. The count and the queue change only under lock_, and Release
// hands its unit straight to the first waiter (there is no barging at this
// level; Mutex does its own barging on its state word). A waiter parks with
// gopark, whose unlock function releases lock_ only after the goroutine has
// been switched out, so no wakeup is lost.
//
// Destruction. Neither Acquire's caller nor a goroutine woken by Release can
// return before Release has released lock_, and Release touches nothing of
// the Sema after that (the futex wake inside Lock::unlock may hit a freed
// word, which is harmless). So a WaitGroup or Mutex may be destroyed as soon
// as its last Wait/Unlock returns, as C++ code expects, even while the
// goroutine that released it is still returning from Release.
#ifndef GMPLAB_RUNTIME_SEMA_H_
#define GMPLAB_RUNTIME_SEMA_H_

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

  // Acquire takes a unit if one is available, else parks until Release
  // hands it one. A waiter queues last, or first when `lifo` (a goroutine
  // that already waited and lost a race, as Mutex does). `reason` is the
  // wait reason shown in goroutine dumps. Must be called from a goroutine.
  void Acquire(bool lifo, WaitReason reason);

  // Release hands a unit to the first waiter and readies it, or adds the
  // unit to the count when nobody waits. With `handoff` the caller then
  // yields so that the waiter runs at once (Mutex starvation mode). Must be
  // called from a goroutine.
  void Release(bool handoff);

 private:
  Lock lock_;
  uint32_t count_ ABSL_GUARDED_BY(lock_) = 0;  // units nobody has taken
  WaitQueue waiters_ ABSL_GUARDED_BY(lock_);   // parked Acquire callers
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_SEMA_H_
