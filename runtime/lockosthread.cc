// runtime/lockosthread.cc — LockOSThread / UnlockOSThread and the
// scheduler's half of thread wiring: stoplockedm and startlockedm.
//
// A goroutine locked to its M runs only there, and that M runs nothing else.
// When the locked G blocks or yields, its M hands the P off and sleeps in
// stoplockedm. Whichever M later takes the G from a run queue does not run
// it: startlockedm gives that M's P to the locked M, wakes it, and stops.
// A G that exits while locked takes its thread with it (goexit0 marks the M
// dead; mstart hands the P off and the thread returns).
#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"

namespace gmp {
namespace internal {

// stoplockedm parks mp, whose locked G just blocked or yielded, until
// startlockedm hands it a P with that G runnable. mp's g0. The note was
// re-armed in execute before the G could be published.
void stoplockedm(M* mp) {
  if (mp->spinning) Throw("stoplockedm: spinning");
  if (mp->p != nullptr) handoffp(releasep(mp));
  mp->park.Sleep();
  P* pp = mp->nextp.exchange(nullptr, std::memory_order_relaxed);
  if (pp != nullptr) {
    acquirep(mp, pp);
  } else if (!sched->exiting.load(std::memory_order_acquire)) {
    Throw("stoplockedm: woken without a P");
  }
}

// startlockedm hands mp's P to gp's locked M and wakes it, then parks mp.
// gp was just taken from a run queue by mp. mp's g0.
void startlockedm(M* mp, G* gp) {
  M* lm = gp->lockedm.load(std::memory_order_relaxed);
  if (lm == mp || lm == nullptr) Throw("startlockedm: not locked elsewhere");
  // gp's M will find gp as its lockedg; gp is runnable and in no queue.
  P* pp = releasep(mp);
  sched->counters.Add(kHandoffs);
  lm->nextp.store(pp, std::memory_order_relaxed);
  lm->park.Wakeup();
  stopm(mp);
}

}  // namespace internal

void LockOSThread() {
  internal::G* gp = internal::getg();
  if (gp == nullptr) {
    internal::Throw("gmp::LockOSThread called outside a runtime");
  }
  internal::ExitPoint(gp);
  if (gp->lockcount == UINT32_MAX) {
    internal::Throw(absl::StrCat("LockOSThread nesting overflow in goroutine ",
                                 gp->goid));
  }
  if (++gp->lockcount == 1) {
    internal::M* mp = gp->m;
    mp->lockedg = gp;
    gp->lockedm.store(mp, std::memory_order_relaxed);
  }
}

void UnlockOSThread() {
  internal::G* gp = internal::getg();
  if (gp == nullptr) {
    internal::Throw("gmp::UnlockOSThread called outside a runtime");
  }
  internal::ExitPoint(gp);
  if (gp->lockcount == 0) return;  // as Go: unlocking an unlocked G is a no-op
  if (--gp->lockcount == 0) {
    gp->m->lockedg = nullptr;
    gp->lockedm.store(nullptr, std::memory_order_relaxed);
  }
}

}  // namespace gmp
