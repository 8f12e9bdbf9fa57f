// runtime/mutex.cc — Mutex: a CAS fast path, a spinning and parking slow path,
// and Go's normal/starvation modes. See mutex.h for the contract.
//
// state_ packs, from the low bit up:
//   kLocked    the mutex is held;
//   kWoken     a goroutine is awake and competing for it (a spinner or a
//              woken waiter), so Unlock need not wake another;
//   kStarving  starvation mode: ownership passes from Unlock straight to the
//              first waiter; while set, kLocked may be clear although the
//              mutex is owned (by the waiter being handed it);
//   waiters    (state_ >> kWaiterShift) goroutines parked or about to park.
// Every change is a CAS or an atomic add on state_; the waiter queue itself
// lives in sema_. Acquiring CASes use acquire order and releasing ones use
// release order, which is what ThreadSanitizer sees as the lock's
// happens-before edge.
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/mutex.h"
#include "runtime/proc.h"
#include "runtime/sched.h"

namespace gmp {
namespace {

// A waiter that has waited this long switches the mutex to starvation mode.
constexpr int64_t kStarvationThresholdNs = 1'000'000;

// How many times Lock spins (each kSpinPauses CPU pauses) before parking.
constexpr int kSpinIterations = 4;
constexpr int kSpinPauses = 30;

std::atomic<int64_t> starvation_entries{0};

// CheckInGoroutine checks that `op` runs on a goroutine.
void CheckInGoroutine(const char* op) {
  if (internal::getg() == nullptr) {
    internal::Throw(std::string("gmp::Mutex::") + op +
                    " called outside a goroutine");
  }
}

// EnterOp checks that `op` runs on a goroutine and honours a pending
// preemption request.
void EnterOp(const char* op) {
  CheckInGoroutine(op);
  internal::CheckPreemptAndFuzzYield();
}

// CanSpin says whether a goroutine that found the mutex held may spin once
// more: only a few times, and only when another P can be running the owner.
bool CanSpin(int iter) { return iter < kSpinIterations && GOMAXPROCS() > 1; }

void Spin() {
  for (int i = 0; i < kSpinPauses; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

[[noreturn]] void ThrowInconsistent() {
  internal::Throw("sync: inconsistent mutex state");
}

}  // namespace

namespace internal {
int64_t MutexStarvationEntries() {
  return starvation_entries.load(std::memory_order_relaxed);
}
}  // namespace internal

void Mutex::Lock() {
  EnterOp("Lock");
  int32_t expected = 0;
  if (state_.compare_exchange_strong(expected, kLocked,
                                     std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
    return;
  }
  LockSlow();
}

bool Mutex::TryLock() {
  EnterOp("TryLock");
  int32_t old = state_.load(std::memory_order_relaxed);
  while ((old & (kLocked | kStarving)) == 0) {
    if (state_.compare_exchange_weak(old, old | kLocked,
                                     std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Mutex::LockSlow() {
  int64_t wait_start = 0;  // when this goroutine first parked (0: never)
  bool starving = false;   // it has waited too long: ask for hand-off
  bool awoke = false;      // it owns the kWoken bit
  int iter = 0;            // spins since it last woke
  int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Held in normal mode: spin a little, the owner may be about to unlock.
    // Claim kWoken while spinning so that Unlock does not wake a waiter
    // that would only compete with us.
    if ((old & (kLocked | kStarving)) == kLocked && CanSpin(iter)) {
      if (!awoke && (old & kWoken) == 0 && (old >> kWaiterShift) != 0 &&
          state_.compare_exchange_weak(old, old | kWoken,
                                       std::memory_order_relaxed)) {
        awoke = true;
      }
      Spin();
      ++iter;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    // Compute the state we want: locked if we may take it (never in
    // starvation mode, that belongs to the queue), one more waiter if we
    // must park, starvation mode if we asked for it, kWoken dropped if we
    // held it (we are about to either own the mutex or sleep).
    int32_t want = old;
    if ((old & kStarving) == 0) want |= kLocked;
    if ((old & (kLocked | kStarving)) != 0) want += 1 << kWaiterShift;
    if (starving && (old & kLocked) != 0) want |= kStarving;
    if (awoke) {
      if ((want & kWoken) == 0) ThrowInconsistent();
      want &= ~kWoken;
    }
    if (!state_.compare_exchange_weak(old, want, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      continue;  // `old` was reloaded
    }
    if ((old & (kLocked | kStarving)) == 0) return;  // took it with the CAS
    if ((want & kStarving) != 0 && (old & kStarving) == 0) {
      starvation_entries.fetch_add(1, std::memory_order_relaxed);
    }
    // Park. A goroutine that already waited goes to the front of the queue.
    bool requeue = wait_start != 0;
    if (wait_start == 0) wait_start = internal::NanoTime();
    sema_.Acquire(requeue, internal::WaitReason::kSyncMutexLock);
    starving =
        starving || internal::NanoTime() - wait_start > kStarvationThresholdNs;
    // order: acquire is redundant: reached only after sema_.Acquire, ordered by
    // Sema's lock and goready. Kept defensively.
    old = state_.load(std::memory_order_acquire);
    if ((old & kStarving) != 0) {
      // Unlock handed the mutex to us: it is ours although kLocked is
      // clear. Set kLocked, leave the waiter count, and end starvation mode
      // if we did not wait long or are the last waiter.
      if ((old & (kLocked | kWoken)) != 0 || (old >> kWaiterShift) == 0) {
        ThrowInconsistent();
      }
      int32_t delta = kLocked - (1 << kWaiterShift);
      if (!starving || (old >> kWaiterShift) == 1) delta -= kStarving;
      // order: acquire is redundant: the hand-off comes through sema_ (Sema's
      // lock, goready). Kept defensively.
      state_.fetch_add(delta, std::memory_order_acquire);
      return;
    }
    // Normal mode: we were woken to compete; Unlock set kWoken for us.
    awoke = true;
    iter = 0;
  }
}

void Mutex::Unlock() {
  CheckInGoroutine("Unlock");
  int32_t now = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
  if (now != 0) UnlockSlow(now);
  // A pending preemption is honoured only now that the mutex is released:
  // a goroutine preempted while still holding it would stall every waiter
  // until it ran again (lock-holder preemption). `this` may be gone here.
  internal::CheckPreemptAndFuzzYield();
}

void Mutex::UnlockSlow(int32_t now) {
  if (((now + kLocked) & kLocked) == 0) {
    // kLocked was already clear: restore nothing, the state is garbage now
    // anyway, and the process dies.
    internal::Throw("sync: unlock of unlocked mutex");
  }
  if ((now & kStarving) != 0) {
    // Starvation mode: hand ownership to the first waiter and let it run
    // next on this P while the caller waits behind it in the local run
    // queue (Sema::Release's goyield). kLocked stays clear; the waiter sets
    // it. kStarving keeps newcomers out.
    sema_.Release(/*handoff=*/true);
    return;
  }
  // Normal mode: wake one waiter, unless there is none, or somebody already
  // holds the mutex again, or a goroutine is already awake and competing.
  int32_t old = now;
  for (;;) {
    if ((old >> kWaiterShift) == 0 ||
        (old & (kLocked | kWoken | kStarving)) != 0) {
      return;
    }
    int32_t want = (old - (1 << kWaiterShift)) | kWoken;
    // order: release is redundant: Unlock's fetch_sub released the critical
    // section, and this CAS continues its release sequence. Kept defensively.
    if (state_.compare_exchange_weak(old, want, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      sema_.Release(/*handoff=*/false);
      return;
    }
  }
}

}  // namespace gmp
