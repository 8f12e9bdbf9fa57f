// runtime/chan.h — Chan<T>, Go's channel for goroutines.
//
// A Chan carries values of type T between goroutines. With capacity 0 it is
// unbuffered: Send and Recv meet, and the value passes straight from one
// goroutine to the other. With capacity n > 0 up to n values wait in a ring
// buffer. A goroutine that cannot proceed parks (gopark) rather than blocking
// its thread, so the thread runs other goroutines meanwhile.
//
//   gmp::Chan<std::unique_ptr<Job>> jobs(16);
//   gmp::Go([&] { while (auto j = jobs.Recv()) Run(**j); });
//   jobs.Send(std::make_unique<Job>());
//   jobs.Close();
//
// Design (Go's hchan): one runtime Lock guards the buffer and two FIFO wait
// queues of Sudogs, recvq and sendq. A Sudog lives in the parked goroutine's
// own frame and points at its value (`elem`): a sender's T, or a receiver's
// std::optional<T> slot.
//   - Send to a channel with a parked receiver moves the value straight into
//     the receiver's slot and readies it (goready puts it in runnext, so it
//     runs next on the sender's P). Otherwise the value goes into the buffer
//     if there is room, else the sender parks on sendq.
//   - Recv from a channel with a parked sender: unbuffered, it takes the
//     sender's value; buffered (so the buffer is full), it takes the buffer's
//     head and moves the sender's value to the tail, preserving FIFO order.
//     Otherwise it takes from the buffer, or parks on recvq.
//   - Close marks the channel closed and readies every waiter: receivers get
//     std::nullopt, senders die with "send on closed channel" (Go panics
//     there too).
// Waiters are readied only after the lock is released, and a parked goroutine
// releases the lock in gopark's unlock function, after it has been switched
// out, so no wakeup can be lost and goready never sees a running goroutine.
// There is no nil channel (a Chan object always exists); gmp::Select
// (runtime/select.h) waits on several channels at once, and a Select's
// absent case plays the nil channel's part.
//
// Every operation except Len and Cap must be called from a goroutine (else
// fatal error) and is a runtime call point: it first honours a pending
// preemption request (and the fuzz hooks' injected yields). Len and Cap may be
// called from anywhere; they are snapshots.
//
// T must be move-constructible; it may be move-only. Values are moved while
// the channel's lock is held, so a move constructor that throws terminates
// the process (the helpers that move are noexcept) rather than leaving the
// channel locked.
//
// Destroying a Chan from a goroutine while goroutines wait on it is a fatal
// error. Values still buffered are destroyed with it. Goroutines still
// blocked on a channel when Run returns are reclaimed with the runtime; such
// a channel may then be destroyed, but not used again (its wait queue still
// names them).
#ifndef GMPLAB_RUNTIME_CHAN_H_
#define GMPLAB_RUNTIME_CHAN_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "runtime/g.h"
#include "runtime/lock.h"
#include "runtime/proc.h"
#include "runtime/sudog.h"

namespace gmp {

class SelectCase;  // runtime/select.h

namespace internal {

struct Selector;  // runtime/select.cc
struct Timers;    // runtime/time.cc: timer channels send from the scheduler

// ChanBase is the part of a channel that does not depend on T: the lock, the
// wait queues, the buffer indices and the closed flag, with the operations
// that never touch a value (Close, parking, misuse checks). See chan.cc.
class ChanBase {
 public:
  ChanBase(const ChanBase&) = delete;
  ChanBase& operator=(const ChanBase&) = delete;

  // Close closes the channel: later Sends are fatal, Recv drains the buffer
  // and then returns std::nullopt. Readies every parked goroutine. Closing a
  // closed channel is fatal. Must be called from a goroutine.
  void Close();

  // Len returns the number of values in the buffer now. Callable anywhere.
  size_t Len() const { return qcount_.load(std::memory_order_relaxed); }

  // Cap returns the buffer's capacity. Callable anywhere.
  size_t Cap() const { return cap_; }

 protected:
  friend struct Selector;
  explicit ChanBase(size_t cap) : cap_(cap) {}
  // ~ChanBase dies if called from a goroutine while goroutines still wait
  // on the channel.
  ~ChanBase();

  // EnterOp checks that `op` is called from a goroutine and honours a pending
  // preemption request. Returns the calling goroutine. Lock not held.
  static G* EnterOp(const char* op);

  // ParkLocked queues `s` on `q` and parks the calling goroutine with
  // `reason`; lock_ is released once the goroutine is switched out. Returns,
  // with lock_ not held, after a peer or Close has dequeued `s` and readied
  // the goroutine. lock_ must be held on entry.
  void ParkLocked(Sudog* s, WaitQueue* q, WaitReason reason)
      ABSL_UNLOCK_FUNCTION(lock_);

  // ThrowSendOnClosed dies with Go's message.
  [[noreturn]] static void ThrowSendOnClosed();

  Lock lock_;
  const size_t cap_;               // buffer capacity (0: unbuffered)
  std::atomic<size_t> qcount_{0};  // values buffered; written under lock_,
                                   // read racily by Len (relaxed)
  size_t sendx_ ABSL_GUARDED_BY(lock_) = 0;  // next buffer slot to fill
  size_t recvx_ ABSL_GUARDED_BY(lock_) = 0;  // next buffer slot to take
  bool closed_ ABSL_GUARDED_BY(lock_) = false;
  WaitQueue recvq_ ABSL_GUARDED_BY(lock_);  // parked receivers, elem:
                                            // std::optional<T>*
  WaitQueue sendq_ ABSL_GUARDED_BY(lock_);  // parked senders, elem: T*
};

}  // namespace internal

template <class T>
class Chan : private internal::ChanBase {
  static_assert(std::is_move_constructible_v<T>,
                "gmp::Chan<T> needs a move-constructible T");

 public:
  // Chan creates a channel with a buffer of `cap` values (0: unbuffered).
  explicit Chan(size_t cap = 0)
      : ChanBase(cap),
        buf_(cap == 0 ? nullptr : std::allocator<T>().allocate(cap)) {}

  ~Chan() {
    if (buf_ == nullptr) return;
    size_t n = qcount_.load(std::memory_order_relaxed);
    for (size_t i = 0, x = recvx_; i < n; ++i, x = Next(x)) {
      std::destroy_at(buf_ + x);
    }
    std::allocator<T>().deallocate(buf_, cap_);
  }

  Chan(const Chan&) = delete;
  Chan& operator=(const Chan&) = delete;

  // Send sends `v`, parking until a receiver takes it or the buffer has room.
  // Send on a closed channel (or a channel closed while Send waits) is a
  // fatal error.
  void Send(T v) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    internal::G* gp = EnterOp("Send");
    lock_.lock();
    if (SendLocked(v)) return;
    internal::Sudog s;
    s.g = gp;
    s.elem = &v;
    ParkLocked(&s, &sendq_, internal::WaitReason::kChanSend);
    // A receiver took the value (success), or Close woke us.
    if (!s.success) ThrowSendOnClosed();
  }

  // TrySend sends `v` if that needs no waiting: a receiver is parked or the
  // buffer has room. On success `v` is moved from and true is returned; else
  // `v` is untouched and false is returned. TrySend on a closed channel is a
  // fatal error, as a select send is in Go.
  bool TrySend(T& v) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    EnterOp("TrySend");
    lock_.lock();
    if (SendLocked(v)) return true;
    lock_.unlock();
    return false;
  }

  // Recv receives a value, parking until one is available. Returns
  // std::nullopt once the channel is closed and its buffer drained.
  std::optional<T> Recv() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    internal::G* gp = EnterOp("Recv");
    std::optional<T> out;
    lock_.lock();
    if (RecvLocked(&out)) return out;
    if (closed_) {
      lock_.unlock();
      return out;
    }
    internal::Sudog s;
    s.g = gp;
    s.elem = &out;
    ParkLocked(&s, &recvq_, internal::WaitReason::kChanReceive);
    // A sender filled `out`, or Close left it empty.
    return out;
  }

  // TryRecv receives a value if one is available without waiting. Returns
  // std::nullopt when none is (including when the channel is closed and
  // drained; Len() and a later Recv tell the two apart).
  std::optional<T> TryRecv() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    EnterOp("TryRecv");
    std::optional<T> out;
    lock_.lock();
    if (RecvLocked(&out)) return out;
    lock_.unlock();
    return out;
  }

  using ChanBase::Cap;
  using ChanBase::Close;
  using ChanBase::Len;

 private:
  size_t Next(size_t x) const { return x + 1 == cap_ ? 0 : x + 1; }

  // The lock is released on different paths inside the helpers below and in
  // gopark's unlock function, which the static analysis cannot follow; the
  // comments state the protocol instead.

  // SendLocked completes a send of `v` that needs no waiting and returns
  // true with lock_ released, `v` moved from and any readied receiver on its
  // way; returns false with lock_ still held and `v` untouched when the
  // sender would have to wait. Dies if the channel is closed. lock_ held.
  bool SendLocked(T& v) noexcept ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (closed_) {
      lock_.unlock();
      ThrowSendOnClosed();
    }
    internal::G* ready = nullptr;
    if (!SendNoWaitLocked(v, &ready)) return false;
    lock_.unlock();
    if (ready != nullptr) internal::goready(ready);
    return true;
  }

  // SendNoWaitLocked is SendLocked's part under the lock, for an open
  // channel: it hands `v` to a parked receiver (whose goroutine it leaves in
  // *ready, for the caller to goready once the lock is released) or buffers
  // it, and returns true; or returns false, `v` untouched. lock_ held, and
  // still held on return.
  bool SendNoWaitLocked(T& v, internal::G** ready) noexcept
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (internal::Sudog* r = recvq_.PopClaimed()) {
      // Direct hand-off: the receiver's slot lives in its parked frame.
      static_cast<std::optional<T>*>(r->elem)->emplace(std::move(v));
      r->success = true;
      *ready = r->g;
      return true;
    }
    size_t n = qcount_.load(std::memory_order_relaxed);
    if (n < cap_) {
      std::construct_at(buf_ + sendx_, std::move(v));
      sendx_ = Next(sendx_);
      qcount_.store(n + 1, std::memory_order_relaxed);
      return true;
    }
    return false;
  }

  // RecvLocked completes a receive that needs no waiting into `*out` and
  // returns true with lock_ released and any readied sender on its way;
  // returns false with lock_ still held when there is nothing to receive.
  // lock_ held.
  bool RecvLocked(std::optional<T>* out) noexcept
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    internal::G* ready = nullptr;
    if (!RecvNoWaitLocked(out, &ready)) return false;
    lock_.unlock();
    if (ready != nullptr) internal::goready(ready);
    return true;
  }

  // RecvNoWaitLocked is RecvLocked's part under the lock: it takes a value
  // from a parked sender (leaving its goroutine in *ready) or the buffer
  // into `*out` and returns true, or returns false. lock_ held, and still
  // held on return.
  bool RecvNoWaitLocked(std::optional<T>* out, internal::G** ready) noexcept
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (internal::Sudog* s = sendq_.PopClaimed()) {
      T* sv = static_cast<T*>(s->elem);
      if (cap_ == 0) {
        out->emplace(std::move(*sv));
      } else {
        // A sender waits only when the buffer is full: take the head, and
        // the sender's value becomes the tail (sendx_ == recvx_ when full).
        out->emplace(std::move(buf_[recvx_]));
        std::destroy_at(buf_ + recvx_);
        std::construct_at(buf_ + recvx_, std::move(*sv));
        recvx_ = Next(recvx_);
        sendx_ = recvx_;
      }
      s->success = true;
      *ready = s->g;
      return true;
    }
    size_t n = qcount_.load(std::memory_order_relaxed);
    if (n > 0) {
      out->emplace(std::move(buf_[recvx_]));
      std::destroy_at(buf_ + recvx_);
      recvx_ = Next(recvx_);
      qcount_.store(n - 1, std::memory_order_relaxed);
      return true;
    }
    return false;
  }

  // The type-erased case operations gmp::Select calls (runtime/select.h),
  // with the channel's lock held. A receive from a closed, drained channel
  // completes with `*out` empty.
  static bool SelectSend(internal::ChanBase* c, void* elem,
                         internal::G** ready) noexcept {
    return static_cast<Chan*>(c)->SendNoWaitLocked(*static_cast<T*>(elem),
                                                   ready);
  }
  static bool SelectRecv(internal::ChanBase* c, void* elem,
                         internal::G** ready) noexcept
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto* ch = static_cast<Chan*>(c);
    auto* out = static_cast<std::optional<T>*>(elem);
    if (ch->RecvNoWaitLocked(out, ready)) return true;
    if (!ch->closed_) return false;
    out->reset();
    return true;
  }
  static void SelectClosed(void* elem) noexcept {
    static_cast<std::optional<T>*>(elem)->reset();
  }
  template <class U>
  friend SelectCase SendCase(Chan<U>& c, U& v);
  template <class U>
  friend SelectCase RecvCase(Chan<U>& c, std::optional<U>& out);
  friend struct internal::Timers;

  T* const buf_;  // ring of cap_ slots; [recvx_, recvx_+qcount_) are live
};

}  // namespace gmp

#endif  // GMPLAB_RUNTIME_CHAN_H_
