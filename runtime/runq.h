// runtime/runq.h — RunQueue, a P's local run queue (Go's p.runq + runnext).
//
// A fixed-capacity, lock-free, single-producer/multi-consumer ring of
// pointers, plus a one-element `runnext` slot in front of it. It is a
// header-only template with no dependency on the rest of the scheduler, so
// tests and fuzzers can drive it directly.
//
// Who may call what:
//   * The OWNER (the one thread that currently holds the P) is the only
//     producer: Put, PutRunnext, Overflow, Get and Drain are owner-only.
//   * THIEVES (any thread; each into a queue it owns itself) call StealFrom on
//     their own queue with a victim queue as argument.
//   * ANYONE may call Size, Empty and Runnext (probes, racy snapshots; Empty
//     is never falsely true while the queue holds something the whole time).
//
// Memory ordering (as in Go's runqput/runqget/runqgrab):
//   * tail is written only by the owner, with store-release after the slot is
//     filled ("publish to consumers"); consumers load it with acquire.
//   * head is advanced by any consumer with a CAS: release so that a
//     producer (which load-acquires head before reusing a slot) sees the slot
//     read done, acquire to synchronise with other consumers.
//   * Slots are relaxed atomics: a thief may read a slot that the owner is
//     overwriting, but then its head CAS fails and the read value is dropped.
//   * runnext is an atomic pointer; owner and thieves race for it with CAS.
//
// Canary bugs for the fuzz harness live here behind GMP_CANARY_* defines.
#ifndef GMPLAB_RUNTIME_RUNQ_H_
#define GMPLAB_RUNTIME_RUNQ_H_

#include <atomic>
#include <cstdint>

#include "runtime/policy/variant_guard.h"  // canary variants change it

namespace gmp::internal {

template <class T, uint32_t N>
class RunQueue {
  static_assert(N >= 2 && (N & (N - 1)) == 0, "capacity: power of two >= 2");

 public:
  static constexpr uint32_t kCapacity = N;
  // The most a thief takes in one StealFrom (half, rounded up) and the size
  // of the batch Overflow hands out (half + the new element).
  static constexpr uint32_t kOverflowBatch = N / 2 + 1;

  RunQueue() {
    for (auto& s : buf_) s.store(nullptr, std::memory_order_relaxed);
  }
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // Put appends `t` at the tail. Owner only. Returns false, doing nothing,
  // when the ring is full; the caller then calls Overflow.
  bool Put(T* t) {
    // order: acquire needed: pairs with the consumers' head CAS release, so a
    // thief's slot read ends before the owner reuses the slot. The slots are
    // atomics, so TSan cannot see a missing edge.
    uint32_t h = head_.load(std::memory_order_acquire);  // sync with consumers
    uint32_t tl = tail_.load(std::memory_order_relaxed);  // only we write it
    if (tl - h >= N) return false;
    buf_[tl % N].store(t, std::memory_order_relaxed);
    tail_.store(tl + 1, std::memory_order_release);  // publish to consumers
    return true;
  }

  // PutRunnext puts `t` in the runnext slot and returns the element it
  // displaced (nullptr if the slot was empty); the caller must Put that one
  // at the tail. Owner only.
  T* PutRunnext(T* t) {
    return runnext_.exchange(t, std::memory_order_acq_rel);
  }

  // Overflow is called by the owner when Put found the ring full: it takes
  // the older half of the ring plus `t` into `batch` (room for
  // kOverflowBatch) in FIFO order and returns how many it wrote. Returns 0
  // when thieves emptied part of the ring meanwhile; then Put again.
  uint32_t Overflow(T* t, T** batch) {
    uint32_t i = 0;
    return OverflowTo(t, [&](T* x) { batch[i++] = x; });
  }

  // OverflowTo is Overflow handing the batch, in FIFO order, to `fn(T*)`
  // instead of an array (no stack buffer: it runs on small goroutine stacks).
  // Owner only. The head is advanced first: once the CAS succeeds nobody but
  // the owner may write those slots, so reading them afterwards is safe.
  template <class Fn>
  uint32_t OverflowTo(T* t, Fn&& fn) {
    // order: acquire is redundant: the CAS below validates h, and the slots
    // read are the owner's own writes. Kept defensively (overflow only).
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t tl = tail_.load(std::memory_order_relaxed);
    uint32_t n = (tl - h) / 2;
    if (n != N / 2) return 0;  // not full any more
    // order: acq_rel is redundant: owner only; thieves read slots at or after
    // the new head, published by Put's tail release. Kept defensively (overflow
    // only).
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
      return 0;
    }
    for (uint32_t i = 0; i < n; ++i) {
      fn(buf_[(h + i) % N].load(std::memory_order_relaxed));
    }
    fn(t);
    return n + 1;
  }

  // Get removes and returns the next element: runnext first (unless
  // `skip_runnext`), then the ring's head; nullptr when empty. Sets
  // `*from_runnext` (if given) to whether it came from runnext, in which case
  // it inherits the current time slice. Owner only.
  T* Get(bool skip_runnext = false, bool* from_runnext = nullptr) {
    if (!skip_runnext) {
      T* next = runnext_.load(std::memory_order_relaxed);
      // order: acquire is redundant: the G was put by this owner or a previous
      // holder, ordered by the P hand-off (sched.lock, nextp). May be relaxed;
      // measure first.
      if (next != nullptr &&
          runnext_.compare_exchange_strong(next, nullptr,
                                           std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
        if (from_runnext != nullptr) *from_runnext = true;
        runnext_taken_.store(runnext_taken_.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
        return next;
      }
    }
    if (from_runnext != nullptr) *from_runnext = false;
    for (;;) {
      // order: acquire is redundant: owner only; tail and the slot are its own
      // writes, and a stale head fails the CAS below. May be relaxed; measure
      // first.
      uint32_t h = head_.load(std::memory_order_acquire);
      uint32_t tl = tail_.load(std::memory_order_relaxed);
      if (tl == h) return nullptr;
      T* t = buf_[h % N].load(std::memory_order_relaxed);
      // order: acq_rel is redundant: owner only (producer and consumer are one
      // thread); a new holder is ordered by the P hand-off. May be relaxed;
      // measure first.
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        return t;
      }
    }
  }

  // Drain removes everything (runnext first, then the ring in order),
  // calling `fn(T*)` for each; returns the count. Owner only, typically with
  // the world stopped or at teardown.
  template <class Fn>
  uint32_t Drain(Fn&& fn) {
    uint32_t n = 0;
    while (T* t = Get()) {
      fn(t);
      ++n;
    }
    return n;
  }

  // StealFrom moves about half (per `Amount::Take(n)`) of `victim`'s ring
  // into this queue, which must be empty and owned by the caller, and returns
  // one stolen element to run at once (nullptr when nothing was stolen).
  // `*stolen` gets the number of elements moved, including the returned one.
  // When the ring is empty and `steal_runnext` is set, `backoff()` runs
  // first (the victim may be about to run it) and then runnext is taken,
  // unless the victim's owner took from runnext during the backoff.
  // Any thread; never the victim's owner.
  template <class Amount, class Backoff>
  T* StealFrom(RunQueue& victim, bool steal_runnext, Backoff&& backoff,
               uint32_t* stolen) {
    uint32_t tl = tail_.load(std::memory_order_relaxed);
    uint32_t n = victim.template Grab<Amount>(buf_, tl, steal_runnext, backoff);
    *stolen = n;
    if (n == 0) return nullptr;
    --n;
    T* t = buf_[(tl + n) % N].load(std::memory_order_relaxed);
    if (n == 0) return t;
    // order: release needed: passes the owner's writes on to a thief stealing
    // from this thief; runq_test's SecondHandStealSeesTheOwnersWrites catches
    // relaxed.
    tail_.store(tl + n, std::memory_order_release);  // publish to consumers
    return t;
  }

  // Size returns the number of elements in the ring (not runnext). Any
  // thread; a snapshot.
  uint32_t Size() const {
    for (;;) {
      // order: acquire needed on weakly ordered CPUs: keeps the tail load after
      // the head load (tl >= h). Only head_ and tail_ are involved, so TSan
      // cannot see it.
      uint32_t h = head_.load(std::memory_order_acquire);
      // order: acquire needed on weakly ordered CPUs: keeps the head re-check
      // after the tail load. Atomics only, so TSan cannot see it.
      uint32_t tl = tail_.load(std::memory_order_acquire);
      // order: acquire is redundant: the last load of the snapshot, and callers
      // take only a number from it. May be relaxed; measure first.
      if (h == head_.load(std::memory_order_acquire)) return tl - h;
    }
  }

  // TakeLoneIf removes and returns the queue's only element (in runnext or
  // in the ring) when `pred(it)` holds; else nullptr. A thief may take it
  // first (then nullptr). Owner only: whoever holds the P, or has just
  // released it and still decides its fate (handoffp).
  template <class Pred>
  T* TakeLoneIf(Pred&& pred) {
    // order: acquire is redundant: the owner, the ex-owner after releasep, or
    // sysmon after the syscall_m CAS already sees the queue; the head CAS
    // validates h. Kept defensively.
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t tl = tail_.load(std::memory_order_relaxed);  // only we write it
    // order: acquire is redundant: runnext was stored by the owner, ordered as
    // for head above; WakeLockedM's nextp release passes the G on. Kept
    // defensively.
    T* next = runnext_.load(std::memory_order_acquire);
    if (h == tl) {
      if (next == nullptr || !pred(next)) return nullptr;
      // order: acquire is redundant, as for the runnext load above. Kept
      // defensively.
      if (!runnext_.compare_exchange_strong(next, nullptr,
                                            std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
        return nullptr;
      }
      return next;
    }
    if (next != nullptr || tl - h != 1) return nullptr;
    T* t = buf_[h % N].load(std::memory_order_relaxed);
    if (!pred(t)) return nullptr;
    // order: acq_rel is redundant: the next producer gets the P only after this
    // call, through WakeLockedM's nextp release or sched.lock. Kept
    // defensively.
    if (!head_.compare_exchange_strong(h, h + 1, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
      return nullptr;
    }
    return t;
  }

  // Runnext returns the runnext element without taking it. Any thread.
  // order: acquire is redundant: no caller dereferences the result (a null test
  // with the world stopped, the dump's Racy goid). Kept for future callers.
  T* Runnext() const { return runnext_.load(std::memory_order_acquire); }

  // Empty reports whether the queue (ring and runnext) is empty. Any thread.
  // Never reports empty for a queue that held something during the whole
  // call, even while the owner moves an element from runnext to the ring.
  bool Empty() const {
    for (;;) {
      // order: acquire needed on weakly ordered CPUs: Go's h, tl, runnext, tail
      // re-check chain keeps tl after h. Atomics only, so TSan cannot see it.
      uint32_t h = head_.load(std::memory_order_acquire);
      // order: acquire needed on weakly ordered CPUs: pairs with Put's tail
      // release and keeps the runnext load after tl. Atomics only, so TSan
      // cannot see it.
      uint32_t tl = tail_.load(std::memory_order_acquire);
      // order: acquire needed on weakly ordered CPUs: keeps the tail re-check
      // after the runnext load, so a kick is seen. Atomics only, so TSan cannot
      // see it.
      T* next = runnext_.load(std::memory_order_acquire);
      // order: acquire is redundant: the last load; callers read no plain data
      // through it. May be relaxed; measure first.
      if (tail_.load(std::memory_order_acquire) == tl) {
        return h == tl && next == nullptr;
      }
    }
  }

 private:
  template <class, uint32_t>
  friend class RunQueue;

  // Grab copies a batch from this queue's ring (or its runnext) into `dst`
  // starting at index `dst_tail`, and returns the count. Called by a thief.
  template <class Amount, class Backoff>
  uint32_t Grab(std::atomic<T*>* dst, uint32_t dst_tail, bool steal_runnext,
                Backoff& backoff) {
    for (;;) {
      // order: acquire is redundant: slots and Gs are published by the tail
      // acquire below; a stale h fails the n > N check or the head CAS. May be
      // relaxed; measure first.
      uint32_t h = head_.load(std::memory_order_acquire);  // other consumers
#if defined(GMP_CANARY_STEAL_NO_ACQUIRE)
      uint32_t tl = tail_.load(std::memory_order_relaxed);  // BUG: no acquire
#else
      uint32_t tl = tail_.load(std::memory_order_acquire);  // the producer
#endif
      uint32_t n = tl - h;
      if (n > N) continue;  // inconsistent snapshot: h was stale
      n = Amount::Take(n);
      if (n == 0) {
        if (!steal_runnext) return 0;
        // order: acquire is redundant: the G is taken only through the acq_rel
        // CAS below, which acquires the same value. Kept defensively.
        T* next = runnext_.load(std::memory_order_acquire);
        if (next == nullptr) return 0;
        const uint32_t taken = runnext_taken_.load(std::memory_order_relaxed);
        backoff();
        // The owner took from runnext meanwhile: it is running a chain of
        // goroutines that ready each other (a ping-pong), and the one in
        // runnext now is likely the next link, not a goroutine left behind.
        // Stealing it would split the chain across Ps; leave it.
        if (runnext_taken_.load(std::memory_order_relaxed) != taken) return 0;
#if defined(GMP_CANARY_RUNNEXT_NOT_CLEARED)
        if (runnext_.load(std::memory_order_acquire) != next) continue;  // BUG
#else
        if (!runnext_.compare_exchange_strong(next, nullptr,
                                              std::memory_order_acq_rel,
                                              std::memory_order_relaxed)) {
          continue;
        }
#endif
        dst[dst_tail % N].store(next, std::memory_order_relaxed);
        return 1;
      }
      for (uint32_t i = 0; i < n; ++i) {
        T* t = buf_[(h + i) % N].load(std::memory_order_relaxed);
        dst[(dst_tail + i) % N].store(t, std::memory_order_relaxed);
      }
      uint32_t advance = n;
#if defined(GMP_CANARY_DOUBLE_RUN)
      // BUG: now and then the last stolen element stays in the victim too.
      if (n > 1 &&
          (canary_count_.fetch_add(1, std::memory_order_relaxed) & 31) == 31) {
        advance = n - 1;
      }
#endif
      // order: release needed: commits the thief's slot reads before head
      // advances (Put's head acquire pairs with it). The slots are atomics, so
      // TSan cannot see it. The acquire half is redundant.
      if (head_.compare_exchange_strong(h, h + advance,
                                        std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
        return n;
      }
    }
  }

  alignas(64) std::atomic<uint32_t> head_{0};  // next to consume (consumers)
  std::atomic<uint32_t> tail_{0};              // next free slot (owner)
  std::atomic<T*> runnext_{nullptr};           // owner puts, anyone takes
  // How many times the owner has taken from runnext (Get); thieves read it
  // around their backoff. Only a hint, so relaxed.
  std::atomic<uint32_t> runnext_taken_{0};
#if defined(GMP_CANARY_DOUBLE_RUN)
  std::atomic<uint32_t> canary_count_{0};  // only in the canary build
#endif
  alignas(64) std::atomic<T*> buf_[N];
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_RUNQ_H_
