// runtime/select.h — gmp::Select, Go's select statement for goroutines.
//
// Select waits until one of several channel operations can proceed, does
// that one, and returns its index. Cases may mix sends and receives on
// channels of different element types:
//
//   std::optional<Job> job;
//   std::optional<bool> stop;
//   switch (gmp::Select({gmp::RecvCase(jobs, job), gmp::RecvCase(quit, stop),
//                        gmp::SendCase(results, r)})) {
//     case 0: Handle(*job); break;   // job is empty if `jobs` was closed
//     case 1: return;
//     case 2: break;                 // r was moved into `results`
//   }
//   if (gmp::TrySelect({gmp::RecvCase(jobs, job)}) == gmp::kSelectDefault) {
//     // nothing was ready: Go's `default:`
//   }
//
// Semantics (Go's):
//   - When several cases are ready, one is chosen uniformly at random, so no
//     ready case is starved.
//   - A receive case is ready when a value is buffered or a sender waits, or
//     when the channel is closed: it then fires with its optional empty.
//   - A send case on a closed channel is ready, and firing it is the fatal
//     error "send on closed channel", as a Send is.
//   - An absent case (a default-constructed SelectCase) never fires: it
//     plays the part of Go's nil channel.
//   - Select with no case that can ever fire (none, or only absent ones)
//     blocks forever; deadlock detection counts it as blocked.
//   - TrySelect is Select with a `default:` case: it returns kSelectDefault
//     when no case is ready, and never blocks.
//   - The same channel may appear in several cases.
//   - Only the case that fired touches its value: a send case's `v` is moved
//     from only if that case fired, and a receive case's `out` is written
//     only if that case fired.
//
// Design (Go's selectgo): Select locks the cases' channels in address order
// (each once), polls the cases in a random order, and does the first one
// that is ready. If none is, it queues a Sudog on every case's channel, all
// sharing one SelectWait in its frame, and parks; the channels are unlocked
// once it is switched out. The first waker that dequeues one of those Sudogs
// wins the SelectWait (Claim, runtime/sudog.h), completes that case and
// readies the goroutine; wakers that find a Sudog of a Select already won
// drop it and go on to the next waiter. Resumed, the goroutine locks the
// channels again and removes its remaining Sudogs.
//
// Select and TrySelect must be called from a goroutine (else fatal error)
// and are runtime call points, like the channel operations. The cases, and
// the values and slots they name, must stay alive until Select returns.
#ifndef GMPLAB_RUNTIME_SELECT_H_
#define GMPLAB_RUNTIME_SELECT_H_

#include <initializer_list>
#include <optional>

#include "runtime/chan.h"

namespace gmp {

// kSelectDefault is what TrySelect returns when no case was ready.
inline constexpr int kSelectDefault = -1;

// SelectCase is one case of a Select: built by SendCase or RecvCase, or
// default-constructed as an absent case that never fires.
class SelectCase {
 public:
  SelectCase() = default;

 private:
  friend struct internal::Selector;
  template <class U>
  friend SelectCase SendCase(Chan<U>& c, U& v);
  template <class U>
  friend SelectCase RecvCase(Chan<U>& c, std::optional<U>& out);

  using TryFn = bool (*)(internal::ChanBase* c, void* elem,
                         internal::G** ready) noexcept;
  using ClosedFn = void (*)(void* elem) noexcept;

  internal::ChanBase* chan_ = nullptr;  // null: an absent case
  void* elem_ = nullptr;  // send: the T to send; receive: std::optional<T>
  bool send_ = false;
  TryFn try_ = nullptr;        // completes the case if it needs no waiting
  ClosedFn closed_ = nullptr;  // receive: empties the slot (closed channel)
};

// SendCase is the case "send `v` on `c`". `v` is moved from only if the case
// fires.
template <class T>
SelectCase SendCase(Chan<T>& c, T& v) {
  SelectCase sc;
  sc.chan_ = &c;
  sc.elem_ = &v;
  sc.send_ = true;
  sc.try_ = &Chan<T>::SelectSend;
  return sc;
}

// RecvCase is the case "receive from `c` into `out`". If it fires, `out`
// holds the value, or is empty when `c` was closed and drained.
template <class T>
SelectCase RecvCase(Chan<T>& c, std::optional<T>& out) {
  SelectCase sc;
  sc.chan_ = &c;
  sc.elem_ = &out;
  sc.try_ = &Chan<T>::SelectRecv;
  sc.closed_ = &Chan<T>::SelectClosed;
  return sc;
}

// Select blocks until one of `cases` can proceed, does it, and returns its
// index in `cases`.
int Select(std::initializer_list<SelectCase> cases);
int Select(const SelectCase* cases, int n);

// TrySelect does one of `cases` that can proceed without waiting and returns
// its index, or returns kSelectDefault when none can.
int TrySelect(std::initializer_list<SelectCase> cases);
int TrySelect(const SelectCase* cases, int n);

}  // namespace gmp

#endif  // GMPLAB_RUNTIME_SELECT_H_
