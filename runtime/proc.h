// runtime/proc.h — the scheduler's internal API for the rest of the runtime.
//
// This is what the synchronisation layer (channels, Mutex, WaitGroup, sleep)
// builds on: the current goroutine, parking it with a wait reason and readying
// it again. Everything here is internal (namespace gmp::internal); programs use
// runtime/gmp.h. Defined in park.cc, except getg (proc.cc, beside the
// thread-local M it reads).
//
//   bool Unlock(G* gp, void* arg) { static_cast<Lock*>(arg)->unlock(); return true; }
//   ...
//   ch->lock.lock();
//   enqueue(getg());
//   gopark(Unlock, &ch->lock, WaitReason::kChanReceive);  // resumes after goready
#ifndef GMPLAB_RUNTIME_PROC_H_
#define GMPLAB_RUNTIME_PROC_H_

#include <cstdint>

namespace gmp::internal {

struct G;  // runtime/g.h

// WaitReason says why a goroutine is parked; it is shown in goroutine dumps
// and in the deadlock report.
enum class WaitReason {
  kNone,
  kChanReceive,
  kChanSend,
  kChanReceiveNilChan,
  kSelect,
  kSelectNoCases,
  kSyncMutexLock,
  kSyncWaitGroupWait,
  kSleep,
  kSemacquire,
  kLockedThread,
  kPreempted,
  kSyscall,
};

// WaitReasonString returns Go's wording for `r`, e.g. "chan receive".
const char* WaitReasonString(WaitReason r);

// getg returns the goroutine running on the calling thread, or nullptr when
// called on a thread's scheduler context (g0), e.g. from a gopark unlock
// function, or from a thread outside any runtime.
G* getg();

// gopark parks the calling goroutine with status waiting and wait reason
// `reason`. Must be called from a goroutine. After the goroutine has been
// switched out, `unlockf(gp, arg)` runs on the M's scheduler context (g0);
// if it returns false the goroutine is made runnable again at once (the
// condition it waited for already holds). Otherwise the goroutine stays
// parked until somebody passes it to goready. `unlockf` may be nullptr.
//
// Memory ordering: everything the goroutine wrote before gopark
// happens-before unlockf runs, and everything the goready caller wrote before
// goready happens-before gopark returns.
void gopark(bool (*unlockf)(G* gp, void* arg), void* arg, WaitReason reason);

// goready makes the parked goroutine `gp` runnable: it is put in the current
// P's runnext slot (or the global run queue when the caller holds no P, e.g.
// a timer or a thread outside the scheduler) and an idle P is woken if
// needed. May be called from a goroutine, from g0, or from a thread of the
// runtime that holds no P. `gp` must have parked (gopark's unlockf ran, or is
// running and will return true); readying a goroutine that is not waiting is
// a fatal error.
void goready(G* gp);

// CheckPreemptAndFuzzYield is called at every runtime call point (Go,
// Gosched, channel operations, Mutex, Sleep, Syscall). It yields the
// processor when sysmon asked the goroutine to be preempted (it ran more than
// 10 ms) or, in fuzz builds, when the fuzz input injects a yield. Cheap when
// there is nothing to do: one load. No-op outside a goroutine.
void CheckPreemptAndFuzzYield();

// goyield yields the processor to the goroutines queued on the current P,
// as Go's goyield: unlike Gosched, which queues the caller globally, it goes
// to the tail of this P's local run queue, so that what sits in runnext (a
// goroutine just readied) runs next here and the caller soon after. No-op
// outside a goroutine or without a P.
void goyield();

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_PROC_H_
