// runtime/timer.h — timer channels: gmp::Timer and gmp::After, Go's
// time.NewTimer and time.After, for use as Select cases.
//
//   gmp::Timer t(absl::Milliseconds(50));
//   std::optional<Result> r;
//   std::optional<absl::Time> fired;
//   if (gmp::Select({gmp::RecvCase(results, r),
//                    gmp::RecvCase(t.C(), fired)}) == 1) {
//     // timed out
//   }
//
// A Timer sends the time it fired (absl::Now()) on its channel C(), which
// has room for one value, once its duration has passed; it never closes C().
// Timers are the runtime's own (runtime/time.cc: the heap Sleep uses), so a
// goroutine waiting on a pending timer's channel is not deadlocked, as in
// Go. Stop and Reset follow Go 1.23: once either returns, no value from
// before the call is received from C() (a value already sent is drained).
//
// A Timer must be created, stopped and reset from a goroutine of a running
// runtime (else fatal error); it may be destroyed anywhere, and a pending
// one is stopped by its destructor. A Timer still pending when Run returns
// is stopped with the runtime.
#ifndef GMPLAB_RUNTIME_TIMER_H_
#define GMPLAB_RUNTIME_TIMER_H_

#include <memory>

#include "absl/time/time.h"
#include "runtime/chan.h"

namespace gmp {
namespace internal {
struct TimerRec;   // runtime/time.cc
struct TimerChan;  // runtime/time.cc
}  // namespace internal

class Timer {
 public:
  // Timer starts a timer that fires once `d` has passed (at once for a zero
  // or negative `d`).
  explicit Timer(absl::Duration d);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // C is the channel the timer sends on.
  Chan<absl::Time>& C();

  // Stop stops the timer. Returns true if the call stopped it, false if it
  // had already fired or been stopped.
  bool Stop();

  // Reset makes the timer fire once `d` has passed from now. Returns true if
  // the timer was pending (Stop's result).
  bool Reset(absl::Duration d);

 private:
  std::shared_ptr<internal::TimerChan> chan_;
  std::unique_ptr<internal::TimerRec> rec_;
};

// After returns a channel that receives the time once `d` has passed (Go's
// time.After): a timer with no handle, kept by the runtime until it fires
// or Run returns.
std::shared_ptr<Chan<absl::Time>> After(absl::Duration d);

}  // namespace gmp

#endif  // GMPLAB_RUNTIME_TIMER_H_
