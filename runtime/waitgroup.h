// runtime/waitgroup.h — WaitGroup, Go's sync.WaitGroup for goroutines.
//
// A WaitGroup waits for a collection of goroutines to finish. The waiting
// goroutine calls Add with the number to wait for; each of them calls Done
// when it finishes; Wait parks until the counter is zero.
//
//   gmp::WaitGroup wg;
//   for (int i = 0; i < n; ++i) {
//     wg.Add(1);
//     gmp::Go([&] { Work(); wg.Done(); });
//   }
//   wg.Wait();
//
// A WaitGroup may be reused once every Wait of the previous round has
// returned. Add, Done and Wait must be called from a goroutine (else fatal
// error) and are runtime call points. Fatal errors, with Go's messages:
//   - "sync: negative WaitGroup counter";
//   - "sync: WaitGroup misuse: Add called concurrently with Wait" (a positive
//     Add racing a Wait that already saw zero waiters released);
//   - "sync: WaitGroup is reused before previous Wait has returned".
// Goroutines still parked in Wait when Run returns are reclaimed with the
// runtime; such a WaitGroup may then be destroyed but not used again.
#ifndef GMPLAB_RUNTIME_WAITGROUP_H_
#define GMPLAB_RUNTIME_WAITGROUP_H_

#include <atomic>
#include <cstdint>

#include "runtime/sema.h"

namespace gmp {

class WaitGroup {
 public:
  constexpr WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // Add adds `delta`, which may be negative, to the counter. When the counter
  // reaches zero every Wait returns. Adds that start a round (counter goes up
  // from zero) must happen before the Wait that waits for them.
  void Add(int delta);

  // Done decrements the counter by one.
  void Done() { Add(-1); }

  // Wait parks the calling goroutine until the counter is zero.
  void Wait();

 private:
  // state_: counter in the high 32 bits (signed), parked waiters in the low
  // 32 bits. One word, so Add can see both at once.
  std::atomic<uint64_t> state_{0};
  internal::Sema sema_;  // where waiters park
};

}  // namespace gmp

#endif  // GMPLAB_RUNTIME_WAITGROUP_H_
