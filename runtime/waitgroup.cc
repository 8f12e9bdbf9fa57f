// runtime/waitgroup.cc — WaitGroup: a counter/waiter word and a Sema.
//
// Add changes the counter with one atomic add and so sees, in the same word,
// how many goroutines wait. The add that brings the counter to zero with
// waiters present resets the word to zero (so the WaitGroup may be reused)
// and releases the Sema once per waiter. A Wait that finds the counter
// non-zero counts itself in with a CAS and parks on the Sema.
#include "runtime/waitgroup.h"

#include <string>

#include "runtime/fatal.h"
#include "runtime/proc.h"

namespace gmp {
namespace {

constexpr int kCounterShift = 32;

int32_t Counter(uint64_t state) {
  return static_cast<int32_t>(state >> kCounterShift);
}
uint32_t Waiters(uint64_t state) { return static_cast<uint32_t>(state); }

void EnterWaitGroupOp(const char* op) {
  if (internal::getg() == nullptr) {
    internal::Throw(std::string("gmp::WaitGroup::") + op +
                    " called outside a goroutine");
  }
  internal::CheckPreemptAndFuzzYield();
}

[[noreturn]] void ThrowConcurrentAdd() {
  internal::Throw("sync: WaitGroup misuse: Add called concurrently with Wait");
}

}  // namespace

void WaitGroup::Add(int delta) {
  EnterWaitGroupOp("Add");
  const uint64_t d = static_cast<uint64_t>(static_cast<int64_t>(delta))
                     << kCounterShift;
  // acq_rel: the add that reaches zero acquires every earlier Done's writes
  // (they form one release sequence) and passes them on to the waiters.
  uint64_t state = state_.fetch_add(d, std::memory_order_acq_rel) + d;
  int32_t v = Counter(state);
  uint32_t w = Waiters(state);
  if (v < 0) internal::Throw("sync: negative WaitGroup counter");
  if (w != 0 && delta > 0 && v == delta) ThrowConcurrentAdd();
  if (v > 0 || w == 0) return;
  // The counter is zero and goroutines wait. Nobody may change the word now:
  // a Wait would see zero and not count itself; an Add would be misuse.
  if (state_.load(std::memory_order_relaxed) != state) ThrowConcurrentAdd();
  // order: release needed: a late Wait that reads this 0 gets the Dones' writes
  // only through it. TSan keeps the Done's clock on the atomic, so it cannot
  // see a relaxed store.
  state_.store(0, std::memory_order_release);  // pairs with Wait's load
  for (; w > 0; --w) sema_.Release(/*handoff=*/false);
}

void WaitGroup::Wait() {
  EnterWaitGroupOp("Wait");
  uint64_t state = state_.load(std::memory_order_acquire);
  for (;;) {
    if (Counter(state) == 0) return;  // acquire: saw the last Done
    // order: acquire needed, on failure too: a failed CAS that reloads 0
    // returns with no other edge to the last Done. waitgroup_test's
    // LastDoneBetweenWaitsLoadAndCas catches relaxed.
    if (state_.compare_exchange_weak(state, state + 1,
                                     std::memory_order_acquire,
                                     std::memory_order_acquire)) {
      sema_.Acquire(/*lifo=*/false, internal::WaitReason::kSyncWaitGroupWait);
      // Add reset the word to zero before releasing us; anything else means
      // a new round began before this Wait returned.
      if (state_.load(std::memory_order_relaxed) != 0) {
        internal::Throw(
            "sync: WaitGroup is reused before previous Wait has returned");
      }
      return;
    }
  }
}

}  // namespace gmp
