// runtime/stw.cc — stop-the-world and the global invariant check.
//
// Protocol (Go's): under sched.lock the stopper sets gcwaiting, stops its
// own P and every idle P, and counts the rest in stopwait. Every M checks
// gcwaiting in schedule/findrunnable (and in handoffp); it then stops its P
// (gcstopm), decrements stopwait, and the last one wakes the stopper.
// Running goroutines are asked to yield through their preempt flag, honoured
// at their next runtime call. GOMAXPROCS(n) resizes allp in between
// (procresize.cc): the stopper works only on the live Ps (allp.size() at stop
// time), and StartTheWorld puts the Ps live at restart time, new ones
// included, on the idle list or hands them to an M.
#include "runtime/stw.h"

#include <sched.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"

namespace gmp::internal {
namespace {

void PreemptAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  for (M* mp = sched->allm; mp != nullptr; mp = mp->alllink) {
    if (G* gp = mp->curg.load(std::memory_order_acquire)) {
      gp->preempt.store(true, std::memory_order_relaxed);
    }
  }
}

}  // namespace

// gcstopm stops mp's P for a stop-the-world and parks mp. mp's g0.
void gcstopm(M* mp) {
  if (mp->spinning) {
    mp->spinning = false;
    sched->nmspinning.fetch_sub(1);
  }
  P* pp = releasep(mp);
  sched->lock.lock();
  pp->status.store(PStatus::kStop, std::memory_order_relaxed);
  if (sched->stopwait.fetch_sub(1) - 1 == 0) sched->stopnote.Wakeup();
  sched->lock.unlock();
  stopm(mp);
}

void StopTheWorld() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  G* gp = getg();
  if (gp == nullptr) Throw("StopTheWorld called outside a goroutine");
  while (!sched->stwlock.try_lock()) Gosched();
  gp = getg();
  M* mp = gp->m;
  if (mp->p == nullptr) Throw("StopTheWorld called inside Syscall");
  sched->stopnote.Clear();
  sched->lock.lock();
  sched->stopwait.store(sched->allp.size());
  sched->gcwaiting.store(true, std::memory_order_seq_cst);
  mp->p->status.store(PStatus::kStop, std::memory_order_relaxed);
  sched->stopwait.fetch_sub(1);
  while (P* pp = pidleget()) {
    pp->status.store(PStatus::kStop, std::memory_order_relaxed);
    sched->stopwait.fetch_sub(1);
  }
  // Ps whose M is in a Syscall: take them (the M's exitsyscall CAS fails).
  for (P* pp : sched->allp) {
    M* sm = pp->syscall_m.load(std::memory_order_seq_cst);
    if (sm != nullptr && pp->syscall_m.compare_exchange_strong(sm, nullptr)) {
      pp->m = nullptr;
      pp->status.store(PStatus::kStop, std::memory_order_relaxed);
      sched->stopwait.fetch_sub(1);
    }
  }
  sched->lock.unlock();
  // Wait for stopwait to reach 0. The note is only a hint (a wakeup of an
  // earlier stop-the-world may arrive late); stopwait under the lock decides.
  for (;;) {
    {
      LockGuard l(sched->lock);
      if (sched->stopwait.load() == 0) break;
      if (sched->exiting.load(std::memory_order_relaxed)) {
        // main returned: the other Ms leave without stopping their Ps, so
        // stopwait never reaches 0. This goroutine simply stops here, like
        // every goroutine still alive at exit, and is reclaimed by Run
        // (GOMAXPROCS(n) racing main's return must not hang Run).
        break;
      }
      PreemptAll();
    }
    sched->stopnote.SleepFor(100 * 1000);
    sched->stopnote.Clear();
  }
  // order: acquire is redundant: the wait loop just held sched.lock, under
  // which mainexit stores exiting. Kept defensively.
  if (sched->exiting.load(std::memory_order_acquire)) {
    mcall(gp, After::kAbandon);  // does not return: the M exits
    Throw("StopTheWorld: abandoned goroutine resumed");
  }
  gp->preempt.store(false, std::memory_order_relaxed);
}

void StartTheWorld() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  G* gp = getg();
  if (gp == nullptr) Throw("StartTheWorld called outside a goroutine");
  M* mp = gp->m;
  P* self = mp->p;
  std::vector<P*> with_work;
  sched->lock.lock();
  // order: release is redundant: stored under sched.lock; every P leaves the
  // stop through sched.lock or startm's Note. Kept defensively.
  sched->gcwaiting.store(false, std::memory_order_release);
  self->status.store(PStatus::kRunning, std::memory_order_relaxed);
  for (P* pp : sched->allp) {
    if (pp == self) continue;
    if (pp->status.load(std::memory_order_relaxed) != PStatus::kStop) {
      Throw("StartTheWorld: P not stopped");
    }
    if (pp->runq.Empty()) {
      pidleput(pp);
    } else {
      pp->status.store(PStatus::kIdle, std::memory_order_relaxed);
      with_work.push_back(pp);
    }
  }
  sched->lock.unlock();
  for (P* pp : with_work) startm(pp, false);
  wakep();
  sched->stwlock.unlock();
}

std::string CheckSchedInvariantsStopped() {
  std::string err;
  auto fail = [&err](const std::string& s) { err += s + "\n"; };
  // A wakep may be in flight (nmspinning counted, startm about to find no
  // idle P and undo it, or a new M about to start and stop spinning); on a
  // loaded machine its thread can wait for a CPU for a long time. A count
  // that is really lost stays, so waiting up to 2 s misses nothing.
  const absl::Time settle = absl::Now() + absl::Seconds(2);
  while (sched->nmspinning.load() != 0 && absl::Now() < settle) {
    sched_yield();
    if (sched->nmspinning.load() != 0) usleep(50);
  }
  LockGuard l(sched->lock);
  int64_t queued = sched->runqsize.load();
  int64_t counted = 0;
  for (G* gp = sched->runq_head; gp != nullptr; gp = gp->schedlink) ++counted;
  if (counted != queued) {
    fail(absl::StrCat("global runq: runqsize ", queued, " but ", counted,
                      " linked"));
  }
  int64_t local_free = 0;
  for (P* pp : sched->allp) {
    queued += pp->runq.Size() + (pp->runq.Runnext() != nullptr ? 1 : 0);
    local_free += pp->gfree_count;
    int32_t n = 0;
    for (G* gp = pp->gfree; gp != nullptr; gp = gp->schedlink) ++n;
    if (n != pp->gfree_count) {
      fail(absl::StrCat("P", pp->id, ": gfree_count ", pp->gfree_count, " but ",
                        n, " linked"));
    }
  }
  // Ps destroyed by GOMAXPROCS(n): dead, unheld, with nothing queued or
  // cached.
  for (int32_t i = sched->allp.size(); i < sched->allp.allocated(); ++i) {
    P* pp = sched->allp[i];
    if (pp->status.load() != PStatus::kDead || pp->m != nullptr ||
        !pp->runq.Empty() || pp->gfree != nullptr || pp->gfree_count != 0 ||
        pp->syscall_m.load() != nullptr) {
      fail(absl::StrCat("P", i, " beyond GOMAXPROCS ", sched->allp.size(),
                        " is not dead and empty"));
    }
  }
  if (sched->nmspinning.load() != 0) {
    fail(absl::StrCat("nmspinning ", sched->nmspinning.load(),
                      " with the world stopped"));
  }
  int64_t runnable = 0, dead = 0, live = 0;
  {
    LockGuard gl(sched->allglock);
    for (GRecord* rec : sched->allgs) {
      GStatus st = rec->g.status.load();
      if (st == GStatus::kRunnable) ++runnable;
      if (st == GStatus::kDead) {
        ++dead;
      } else {
        ++live;
      }
    }
  }
  int64_t global_free;
  {
    LockGuard fl(sched->gflock);
    global_free = sched->ngfree_stack + sched->ngfree_nostack;
  }
  if (runnable != queued) {
    fail(absl::StrCat(runnable, " runnable goroutines but ", queued,
                      " in run queues"));
  }
  if (dead != local_free + global_free) {
    fail(absl::StrCat(dead, " dead goroutines but ", local_free + global_free,
                      " on free lists"));
  }
  if (live != LiveGoroutines()) {
    fail(absl::StrCat(
        live, " live goroutines but spawned - completed = ", LiveGoroutines()));
  }
  return err;
}

std::string CheckSchedInvariants() {
  StopTheWorld();
  std::string err = CheckSchedInvariantsStopped();
  StartTheWorld();
  return err;
}

}  // namespace gmp::internal
