// runtime/sudog.h — Sudog, a goroutine waiting on a synchronisation object.
//
// A Sudog ("pseudo-g") stands for one parked goroutine in the wait queue of a
// channel or a semaphore, as in Go. Go allocates sudogs from a per-P cache
// because goroutine stacks move when they grow; gmplab's stacks never move, so
// a Sudog simply lives in the parked goroutine's own stack frame (the frame of
// the Send/Recv/Acquire call that parked). It stays valid until that goroutine
// resumes, and the goroutine only resumes after a waker has dequeued it and
// called goready.
//
// Ownership: while queued, a Sudog (and the G it names) belongs to the queue's
// lock holder. A waker dequeues it under the lock, fills in the result
// (`success`, `ticket`, the value behind `elem`), and may then release the
// lock and goready(g). After goready it must not touch the Sudog again: the
// goroutine may already run and leave the frame that holds it.
//
// Select (runtime/select.h): a goroutine blocked in gmp::Select has one Sudog
// queued on every channel of its cases, all pointing at one SelectWait in
// its frame. Only one of them may fire: a waker that dequeues such a Sudog
// must first win SelectWait::done (Claim); a Sudog whose select another
// waker already won is dropped from the queue and skipped (PopClaimed). The
// selecting goroutine removes its other Sudogs itself once it resumes.
#ifndef GMPLAB_RUNTIME_SUDOG_H_
#define GMPLAB_RUNTIME_SUDOG_H_

#include <atomic>
#include <cstdint>

#include "runtime/g.h"

namespace gmp::internal {

struct Sudog;

// SelectWait is what the Sudogs of one blocked Select share.
struct SelectWait {
  std::atomic<bool> done{false};  // won by the one waker that fires a case
  Sudog* fired = nullptr;         // the winner's Sudog, written before goready
};

struct Sudog {
  G* g = nullptr;         // the parked goroutine
  void* elem = nullptr;   // where the value goes (receiver) or comes from
                          // (sender); typed by the queue's owner
  Sudog* next = nullptr;  // next in its WaitQueue (owner: the queue's lock)
  bool success = false;   // channel: woken by a peer (true) or by close
  uint32_t ticket = 0;    // semaphore: 1 = the releaser handed it the count
  SelectWait* select = nullptr;  // set: one case of a blocked Select
  int case_index = -1;           // which case (Select only)
};

// ClaimSelect is Claim for a Select's Sudog (runtime/select.cc).
bool ClaimSelect(Sudog* s);

// Claim decides whether a waker that dequeued `s` may wake its goroutine:
// always for a plain waiter; for a Select's, only the first waker of that
// Select wins (and records `s` as the case that fired). Under the lock of
// the queue `s` was in.
inline bool Claim(Sudog* s) {
  return s->select == nullptr || ClaimSelect(s);
}

// WaitQueue is a FIFO of Sudogs (Go's waitq), with a LIFO push for
// semaphores that re-queue a goroutine which already waited. Not
// thread-safe: its owner's lock must be held for every call.
class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  bool empty() const { return first_ == nullptr; }

  // PushBack queues `s` last.
  void PushBack(Sudog* s) {
    s->next = nullptr;
    if (last_ == nullptr) {
      first_ = s;
    } else {
      last_->next = s;
    }
    last_ = s;
  }

  // PushFront queues `s` first (LIFO).
  void PushFront(Sudog* s) {
    s->next = first_;
    first_ = s;
    if (last_ == nullptr) last_ = s;
  }

  // PopFront dequeues the first Sudog, or returns nullptr when empty.
  Sudog* PopFront() {
    Sudog* s = first_;
    if (s == nullptr) return nullptr;
    first_ = s->next;
    if (first_ == nullptr) last_ = nullptr;
    s->next = nullptr;
    return s;
  }

  // PopClaimed dequeues the first Sudog its caller may wake (Claim), or
  // returns nullptr. Sudogs of Selects that another waker won are dropped.
  Sudog* PopClaimed() {
    while (Sudog* s = PopFront()) {
      if (Claim(s)) return s;
    }
    return nullptr;
  }

  // Remove unlinks `s` if it is queued here; returns whether it was.
  bool Remove(Sudog* s) {
    Sudog* prev = nullptr;
    for (Sudog* x = first_; x != nullptr; prev = x, x = x->next) {
      if (x != s) continue;
      (prev == nullptr ? first_ : prev->next) = x->next;
      if (last_ == x) last_ = prev;
      x->next = nullptr;
      return true;
    }
    return false;
  }

  // TakeAll empties the queue and returns its Sudogs as a list linked by
  // `next`, in queue order.
  Sudog* TakeAll() {
    Sudog* s = first_;
    first_ = last_ = nullptr;
    return s;
  }

 private:
  Sudog* first_ = nullptr;
  Sudog* last_ = nullptr;
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_SUDOG_H_
