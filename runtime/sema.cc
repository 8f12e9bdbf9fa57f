// runtime/sema.cc — Sema: acquire parks, release hands over. See sema.h.
#include "runtime/sema.h"

#include "runtime/fatal.h"
#include "runtime/g.h"
#include "runtime/gmp.h"

namespace gmp::internal {
namespace {

// UnlockSema is gopark's unlock function: releases the Sema's lock once the
// waiter is switched out, so a releaser that then takes it may goready it.
bool UnlockSema(G* gp, void* lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<Lock*>(lock)->unlock();
  return true;
}

}  // namespace

// The analysis cannot follow lock_ into gopark's unlock function.
void Sema::Acquire(bool lifo,
                   WaitReason reason) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  G* gp = getg();
  if (gp == nullptr) Throw("semacquire called outside a goroutine");
  lock_.lock();
  if (count_ > 0) {
    --count_;
    lock_.unlock();
    return;
  }
  Sudog s;
  s.g = gp;
  if (lifo) {
    waiters_.PushFront(&s);
  } else {
    waiters_.PushBack(&s);
  }
  gopark(&UnlockSema, &lock_, reason);
  // Release dequeued us and handed us its unit.
  if (s.ticket != 1) Throw("sync: semaphore waiter woken without a unit");
}

void Sema::Release(bool handoff) {
  lock_.lock();
  Sudog* s = waiters_.PopFront();
  if (s == nullptr) {
    ++count_;
    lock_.unlock();
    return;
  }
  // The waiter stays parked until goready, so its Sudog is still ours; it
  // cannot return (and its owner cannot destroy this Sema) before that.
  s->ticket = 1;
  G* gp = s->g;
  lock_.unlock();
  goready(gp);
  if (handoff) {
    // Let the new owner run now rather than racing it for the mutex again:
    // goready put it in this P's runnext, and goyield queues the caller
    // behind it on this P's local run queue, as Go's semrelease does.
    goyield();
  }
}

}  // namespace gmp::internal
