// runtime/lockosthread.cc — LockOSThread / UnlockOSThread and the
// scheduler's half of thread wiring: stoplockedm and startlockedm.
//
// A goroutine locked to its M runs only there, and that M runs nothing else.
// When the locked G blocks or yields, its M hands the P off and sleeps in
// stoplockedm. Whichever M later takes the G from a run queue does not run
// it: startlockedm gives that M's P to the locked M, wakes it, and stops.
// Two shortcuts skip that middle M: goready hands a locked G with an idle P
// straight to its M (readylocked), and handoffp hands a P whose only
// runnable G is a locked one straight to that G's M
// (handofflockedp). A ping-pong between two locked goroutines then costs
// one thread wake-up per hand-off instead of two or three.
// A G that exits while locked takes its thread with it (goexit0 marks the M
// dead; mstart hands the P off and the thread returns).
#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"

namespace gmp {
namespace internal {

// WakeLockedM gives pp to lm, whose locked goroutine is runnable and in no
// queue, and wakes it: it runs that goroutine on pp (stoplockedm returns).
// The callers count the hand-off.
static void WakeLockedM(M* lm, P* pp) {
  // order: release needed: if the exit nudge wakes lm before the Wakeup below,
  // only this edge orders the caller's releasep (plain pp->m) before lm's
  // acquirep. lockosthread_test's NudgedLockedMSeesTheGiversRelease catches
  // relaxed (fuzz configs: it holds a hand-off here with the hook).
  lm->nextp.store(pp, std::memory_order_release);
#if GMP_FUZZ_ENABLED
  GMP_FUZZ_HOOK(on_locked_handoff);
#endif
  lm->park.Wakeup();  // publishes nextp
}

// stoplockedm parks mp, whose locked G just blocked or yielded, until
// startlockedm, handofflockedp or readylocked hands it a P with that G
// runnable. mp's g0. The note was
// re-armed in execute before the G could be published.
void stoplockedm(M* mp) {
  if (mp->spinning) Throw("stoplockedm: spinning");
  if (mp->p != nullptr) handoffp(releasep(mp));
  mp->park.Sleep();
  // order: acquire needed: pairs with WakeLockedM; after an exit nudge it alone
  // orders the giver's releasep before acquirep. lockosthread_test's
  // NudgedLockedMSeesTheGiversRelease catches relaxed (fuzz configs).
  P* pp = mp->nextp.exchange(nullptr, std::memory_order_acquire);
  if (pp != nullptr) {
    acquirep(mp, pp);
    // order: acquire is redundant: the exit nudge's Wakeup, after the exiting
    // store under sched.lock, pairs with park.Sleep. Kept defensively.
  } else if (!sched->exiting.load(std::memory_order_acquire)) {
    Throw("stoplockedm: woken without a P");
  }
}

// startlockedm hands mp's P to gp's locked M and wakes it, then parks mp.
// gp was just taken from a run queue by mp. mp's g0. (handofflockedp and
// readylocked spare most locked hand-offs this extra M.)
void startlockedm(M* mp, G* gp) {
  M* lm = gp->lockedm.load(std::memory_order_relaxed);
  if (lm == mp || lm == nullptr) Throw("startlockedm: not locked elsewhere");
  // gp's M will find gp as its lockedg; gp is runnable and in no queue.
  sched->counters.Add(kHandoffs);
  WakeLockedM(lm, releasep(mp));
  stopm(mp);
}

// handofflockedp is handoffp's first choice: when the only runnable G of
// pp, just released, is a goroutine locked to a thread, pp goes straight to
// that thread. The M that startm would wake for pp would only take that G
// from the queue and pass pp on (startlockedm), so this saves a
// thread wake-up and a hop on the path of every locked hand-off (a locked G
// that readies another locked G and then blocks). Returns whether it did;
// handoffp counted the hand-off.
bool handofflockedp(P* pp) {
  // order: both acquires are redundant: hints only; handoffp re-checks them
  // under sched.lock, and the hand-off is published by the Note. Kept
  // defensively.
  if (sched->gcwaiting.load(std::memory_order_acquire) ||
      sched->exiting.load(std::memory_order_acquire)) {
    return false;
  }
  G* gp = pp->runq.TakeLoneIf([](G* g) {
    return g->lockedm.load(std::memory_order_relaxed) != nullptr;
  });
  if (gp == nullptr) return false;
  WakeLockedM(gp->lockedm.load(std::memory_order_relaxed), pp);
  return true;
}

// readylocked is goready's first choice for a goroutine gp locked to a
// thread other than the caller's: take an idle P, if there is one, and hand
// it with gp to gp's M. Queued instead, gp would have to be found by a
// spinning M woken for it (wakep), which could only pass its P on to gp's M
// (startlockedm): one thread wake-up instead of two, and no spinning.
// Returns false (gp is then queued as usual) when no P is idle, the world
// is stopping or the runtime is exiting.
bool readylocked(G* gp) {
  M* lm = gp->lockedm.load(std::memory_order_relaxed);
  if (lm == nullptr || lm == CurrentM()) return false;
  if (sched->npidle.load(std::memory_order_relaxed) == 0) return false;
  sched->lock.lock();
  P* pp = nullptr;
  if (!sched->gcwaiting.load(std::memory_order_relaxed) &&
      !sched->exiting.load(std::memory_order_relaxed)) {
    pp = pidleget();
  }
  sched->lock.unlock();
  if (pp == nullptr) return false;
  sched->counters.Add(kHandoffs);
  WakeLockedM(lm, pp);
  return true;
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
