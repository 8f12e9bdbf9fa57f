// runtime/yield.cc — Gosched's direct yield: a goroutine switches straight
// to the next G of its P instead of hopping through g0. The resumed side's
// half, FinishDirectYield, is inline in sched.h (every switch back runs it).
#include <atomic>

#include "runtime/context.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace gmp::internal {

// YieldDirect is Gosched without the hop through g0: gp switches straight to
// the next G of its P's local queue, which g0 would have run next, and is
// queued globally (as Gosched queues it) by that G once gp's context is
// saved (FinishDirectYield). Only in the plain case: gp holds a P and is not
// locked, no preemption, stop-the-world, exit or timer is pending, the
// fairness tick does not call for the global queue, and the next G is
// neither fresh (its stack is bound on g0) nor locked to another M (then
// g0 runs it: yield_next). Returns whether gp yielded (and has resumed);
// false: the caller yields through g0. gp, on its own stack.
bool YieldDirect(G* gp) {
  M* mp = gp->m;
  P* pp = mp->p;
  // order: both acquires are redundant: a true value only bails out, and the
  // slow path re-checks (gcstopm's sched.lock, ExitPoint). May be relaxed;
  // measure first.
  if (pp == nullptr || mp->lockedg != nullptr ||
      gp->preempt.load(std::memory_order_relaxed) ||
      sched->gcwaiting.load(std::memory_order_acquire) ||
      exit_begun.load(std::memory_order_acquire) || NextTimer() != 0) {
    return false;
  }
  if constexpr (policy::kFairness > 0) {
    if (pp->schedtick.load(std::memory_order_relaxed) % policy::kFairness ==
            0 &&
        sched->runqsize.load(std::memory_order_relaxed) > 0) {
      return false;
    }
  }
  bool inherit = false;
  G* next = runqget(pp, &inherit);
  if (next == nullptr) return false;
  if (next->fresh || next->lockedm.load(std::memory_order_relaxed) != nullptr) {
    mp->yield_next = next;
    return false;
  }
  // What execute and g0 do around a switch, for both goroutines at once.
  gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
#if GMP_FUZZ_ENABLED
  GMP_FUZZ_HOOK(on_stop, gp->goid, mp->id, false);
#endif
  CheckStackCanary(StackOf(gp));
  next->m = mp;
  // order: release is redundant: its readers (mainexit, PreemptAll, Retake,
  // under sched.lock) only store preempt. May be relaxed; measure first.
  mp->curg.store(next, std::memory_order_release);
  next->status.store(GStatus::kRunning, std::memory_order_relaxed);
  pp->schedtick.store(pp->schedtick.load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
  mp->exectick.store(mp->exectick.load(std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
#if GMP_FUZZ_ENABLED
  GMP_FUZZ_HOOK(on_execute, next->goid, mp->id,
                mp->tid.load(std::memory_order_relaxed), -1);
#endif
  CanaryScratch scratch;
  const ThreadSlots slots = ThreadSlotsOf(mp, &scratch);
  CxaEhGlobals* const eh = slots.eh;
  int* const err = slots.err;
  gp->eh = *eh;
  gp->saved_errno = *err;
  *eh = next->eh;
  *err = next->saved_errno;
  mp->yielded = gp;
  SwitchContextFast(gp->ctx, next->ctx);
  // Resumed (gp->m says on which M), by g0 or by a direct yield.
  FinishDirectYield(gp);
  ExitPoint(gp);
  return true;
}
}  // namespace gmp::internal
