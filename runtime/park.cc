// runtime/park.cc — parking and readying goroutines (gopark, goready,
// goyield) and the runtime-call check for preemption requests, the
// synchronisation layer's API (runtime/proc.h); and the names of goroutine
// states and wait reasons, for errors and dumps.
#include <atomic>

#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/proc.h"
#include "runtime/sched.h"

namespace gmp::internal {

const char* WaitReasonString(WaitReason r) {
  switch (r) {
    case WaitReason::kNone:
      return "";
    case WaitReason::kChanReceive:
      return "chan receive";
    case WaitReason::kChanSend:
      return "chan send";
    case WaitReason::kChanReceiveNilChan:
      return "chan receive (nil chan)";
    case WaitReason::kSelect:
      return "select";
    case WaitReason::kSelectNoCases:
      return "select (no cases)";
    case WaitReason::kSyncMutexLock:
      return "sync.Mutex.Lock";
    case WaitReason::kSyncWaitGroupWait:
      return "sync.WaitGroup.Wait";
    case WaitReason::kSleep:
      return "sleep";
    case WaitReason::kSemacquire:
      return "semacquire";
    case WaitReason::kLockedThread:
      return "locked thread";
    case WaitReason::kPreempted:
      return "preempted";
    case WaitReason::kSyscall:
      return "syscall";
  }
  return "?";
}

const char* GStatusString(GStatus s) {
  switch (s) {
    case GStatus::kIdle:
      return "idle";
    case GStatus::kRunnable:
      return "runnable";
    case GStatus::kRunning:
      return "running";
    case GStatus::kSyscall:
      return "syscall";
    case GStatus::kWaiting:
      return "waiting";
    case GStatus::kDead:
      return "dead";
  }
  return "?";
}

void gopark(bool (*unlockf)(G* gp, void* arg), void* arg, WaitReason reason) {
  G* gp = getg();
  if (gp == nullptr) Throw("gopark called outside a goroutine");
  M* mp = gp->m;
  if (mp->p == nullptr) {
    M* tls_m = CurrentM();  // the thread's own M, which gp->m should be
    Throw(absl::StrCat("gopark called without a P (inside Syscall?): g",
                       gp->goid, " m", mp->id, " tls m",
                       tls_m != nullptr ? tls_m->id : -1, " status ",
                       GStatusString(gp->status.load())));
  }
  mp->unlockf = unlockf;
  mp->unlock_arg = arg;
  gp->waitreason.store(reason, std::memory_order_relaxed);
  mcall(gp, After::kPark);
  gp->waitreason.store(WaitReason::kNone, std::memory_order_relaxed);
}

void goready(G* gp) {
  GStatus expected = GStatus::kWaiting;
  // order: acq_rel is redundant: the waker found gp under the lock unlockf
  // released after AfterSwitch's store. May be relaxed; measure first.
  if (!gp->status.compare_exchange_strong(expected, GStatus::kRunnable,
                                          std::memory_order_acq_rel)) {
    Throw(absl::StrCat("goready: goroutine ", gp->goid, " is ",
                       GStatusString(expected), ", not waiting"));
  }
  // Locked to another thread: with a P idle, straight to that thread.
  if (gp->lockedm.load(std::memory_order_relaxed) != nullptr &&
      readylocked(gp)) {
    sched->counters.Add(kGoready);
    return;
  }
  M* mp = CurrentM();
  P* pp = mp != nullptr ? mp->p : nullptr;
  if (pp != nullptr) {
    pp->counters.Bump(kGoready);
    runqput(pp, gp, true);
    WakeIfNeeded(/*published_by_rmw=*/policy::kRunnext);
  } else {
    sched->counters.Add(kGoready);
    sched->lock.lock();
    globrunqput(gp);
    sched->lock.unlock();
    WakeIfNeeded();
  }
}

void CheckPreemptAndFuzzYield() {
  G* gp = getg();
  if (gp == nullptr) return;
  ExitPoint(gp);
  if (__builtin_expect(gp->preempt.load(std::memory_order_relaxed), 0)) {
    gp->preempt.store(false, std::memory_order_relaxed);
    if (gp->m->p == nullptr) return;  // in a syscall: nothing to give up
    mcall(gp, After::kPreempt);
    return;
  }
#if GMP_FUZZ_ENABLED
  if (GMP_FUZZ_HOOK(inject_yield) && gp->m->p != nullptr) {
    mcall(gp, After::kYield);
  }
#endif
}

void goyield() {
  G* gp = getg();
  if (gp == nullptr || gp->m->p == nullptr) return;
  mcall(gp, After::kGoyield);
}

}  // namespace gmp::internal
