// runtime/chan.cc — the parts of Chan<T> that do not depend on T: close,
// parking, and misuse checks. See chan.h for the design.
#include "runtime/chan.h"

#include <string>

#include "absl/container/inlined_vector.h"
#include "runtime/fatal.h"
#include "runtime/proc.h"

namespace gmp::internal {
namespace {

// UnlockChan is gopark's unlock function for channels: it runs on g0 once the
// parking goroutine is switched out, so a peer that takes the lock after
// this sees the goroutine parked and may goready it.
bool UnlockChan(G* gp, void* lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<Lock*>(lock)->unlock();
  return true;
}

}  // namespace

ChanBase::~ChanBase() {
  // Outside a goroutine (typically after Run returned) goroutines still
  // queued here were reclaimed with their runtime: nothing to check, and
  // their Sudogs must not be touched. Inside one, a goroutine still queued
  // would never be woken. The lock orders this check after a parking
  // goroutine's enqueue, even a racing one.
  if (getg() == nullptr) return;
  lock_.lock();
  bool waiters = !recvq_.empty() || !sendq_.empty();
  lock_.unlock();
  if (waiters) Throw("gmp::Chan destroyed while goroutines are blocked on it");
}

G* ChanBase::EnterOp(const char* op) {
  G* gp = getg();
  if (gp == nullptr) {
    Throw(std::string("gmp::Chan::") + op + " called outside a goroutine");
  }
  CheckPreemptAndFuzzYield();
  return gp;
}

// The analysis cannot follow the lock into gopark's unlock function.
void ChanBase::ParkLocked(Sudog* s, WaitQueue* q,
                          WaitReason reason) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  s->success = false;
  q->PushBack(s);
  gopark(&UnlockChan, &lock_, reason);
}

void ChanBase::ThrowSendOnClosed() { Throw("send on closed channel"); }

void ChanBase::Close() {
  EnterOp("Close");
  lock_.lock();
  if (closed_) {
    lock_.unlock();
    Throw("close of closed channel");
  }
  closed_ = true;
  // Take every waiter while holding the lock, ready them after releasing it.
  // Receivers keep their empty slots (std::nullopt); senders see
  // success == false and die with "send on closed channel". At most one of
  // the queues is non-empty.
  // A Select's Sudog that another waker already won is not ours to wake
  // (Claim): it is dropped here, under the lock, since its goroutine may
  // leave the frame that holds it as soon as the lock is released.
  // Each Sudog sits on its own goroutine's stack, a page the closer has not
  // touched: one cache (and often TLB) miss per waiter. The loop reads each
  // Sudog once and keeps only its G, so the readying loop after the unlock
  // walks an array and can prefetch the Gs ahead of goready.
  absl::InlinedVector<G*, 16> ready;  // the ones to wake, in queue order
  for (Sudog* list : {recvq_.TakeAll(), sendq_.TakeAll()}) {
    while (list != nullptr) {
      Sudog* next = list->next;
      list->next = nullptr;
      if (Claim(list)) {
        list->success = false;
        ready.push_back(list->g);
      }
      list = next;
    }
  }
  lock_.unlock();
  // After the unlock a woken goroutine may leave the frame that holds its
  // Sudog at once; its G outlives that.
  constexpr size_t kPrefetchAhead = 8;
  for (size_t i = 0; i < ready.size(); ++i) {
    if (i + kPrefetchAhead < ready.size()) {
      __builtin_prefetch(ready[i + kPrefetchAhead], /*rw=*/1);
    }
    goready(ready[i]);
  }
}

}  // namespace gmp::internal
