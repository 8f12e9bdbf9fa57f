// runtime/procresize.cc — Ps changing hands: acquirep/releasep, the idle P
// list (pidleput, pidleget), and procresize, which changes the number of Ps
// for GOMAXPROCS(n) with the world stopped.
#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/lock.h"
#include "runtime/sched.h"

namespace gmp::internal {

// ---------------------------------------------------------------------------
// P hand-over.

// acquirep associates pp with mp. pp must be idle (off the idle list) and
// mp hold no P. mp's thread.
void acquirep(M* mp, P* pp) {
  if (mp->p != nullptr || pp->m != nullptr) {
    Throw("acquirep: invalid p state");
  }
  mp->p = pp;
  pp->m = mp;
  pp->status.store(PStatus::kRunning, std::memory_order_relaxed);
}

// releasep dissociates mp's P from mp and returns it. mp's thread.
P* releasep(M* mp) {
  P* pp = mp->p;
  if (pp == nullptr || pp->m != mp) Throw("releasep: invalid p state");
  mp->p = nullptr;
  pp->m = nullptr;
  pp->status.store(PStatus::kIdle, std::memory_order_relaxed);
  return pp;
}

void pidleput(P* pp) {
  if (!pp->runq.Empty()) Throw("pidleput: P has non-empty run queue");
  pp->status.store(PStatus::kIdle, std::memory_order_relaxed);
  pp->link = sched->pidle;
  sched->pidle = pp;
  sched->npidle.fetch_add(1, std::memory_order_seq_cst);
  checkdead();
}

P* pidleget() {
  P* pp = sched->pidle;
  if (pp != nullptr) {
    sched->pidle = pp->link;
    pp->link = nullptr;
    sched->npidle.fetch_sub(1, std::memory_order_seq_cst);
    SysmonWake();
  }
  return pp;
}

// TakeIdleP takes pp off the idle list if it is there (exitsyscall wants
// its old P back). sched.lock must be held.
bool TakeIdleP(P* pp) {
  for (P** link = &sched->pidle; *link != nullptr; link = &(*link)->link) {
    if (*link == pp) {
      *link = pp->link;
      pp->link = nullptr;
      sched->npidle.fetch_sub(1, std::memory_order_seq_cst);
      SysmonWake();
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Changing the number of Ps (Go's procresize), for GOMAXPROCS(n).

// pdestroy retires pp, which is beyond the new GOMAXPROCS: its runnext and
// run queue move, in that order, to the front of the global run queue (they
// were due before anything queued there, as in Go's p.destroy); its free Gs
// move to the global free lists; its goroutine-id batch is dropped. Its
// counters stay in it: ReadStats sums every allocated P, live or dead, so
// the totals still add up. pp ends kDead, held by no M, and stays allocated
// (AllP). The world is stopped and sched.lock held; pp is not the caller's.
static void pdestroy(P* pp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  if (pp->m != nullptr || pp->syscall_m.load() != nullptr) {
    Throw(absl::StrCat("procresize: destroying P", pp->id, " still held"));
  }
  G* head = nullptr;
  G* tail = nullptr;
  int32_t n = 0;
  pp->runq.Drain([&](G* gp) {
    if (tail == nullptr) {
      head = gp;
    } else {
      tail->schedlink = gp;
    }
    tail = gp;
    ++n;
  });
  if (n != 0) globrunqputhead(head, tail, n);
  {
    LockGuard l(sched->gflock);
    while (G* gp = pp->gfree) {
      pp->gfree = gp->schedlink;
      gp->schedlink = sched->gfree_stack;
      sched->gfree_stack = gp;
      ++sched->ngfree_stack;
    }
    pp->gfree_count = 0;
  }
  pp->goid_next = pp->goid_end = 0;
  pp->lifo_runs = 0;
  pp->link = nullptr;
  // order: release is redundant: under sched.lock with the world stopped, and
  // plain readers of a dead P hold sched.lock. Kept defensively.
  pp->status.store(PStatus::kDead, std::memory_order_release);
}

// procresize changes the number of Ps to n (1 <= n <= kMaxProcs): new slots
// get a fresh (or a previously destroyed, reused) P in state kStop, ready
// for StartTheWorld to put on the idle list or start an M for; Ps beyond n
// are destroyed (pdestroy). If the calling M's P is destroyed, the M takes
// P 0. The steal order is rebuilt for n Ps. Called by GOMAXPROCS(n) between
// StopTheWorld and StartTheWorld, on the goroutine that stopped the world.
void procresize(int32_t n) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (n < 1 || n > kMaxProcs) {
    Throw(absl::StrCat("procresize: invalid GOMAXPROCS ", n));
  }
  if (!sched->gcwaiting.load()) Throw("procresize: world not stopped");
  M* mp = getg()->m;
  const int32_t old = sched->allp.size();
  LockGuard l(sched->lock);
  // Grow: install or reuse Ps [old, n) before publishing the count, so
  // every reader of size() finds the slots below it filled.
  for (int32_t i = old; i < n; ++i) {
    P* pp;
    if (i < sched->allp.allocated()) {
      pp = sched->allp[i];
      if (pp->status.load() != PStatus::kDead) {
        Throw(absl::StrCat("procresize: reused P", i, " not dead"));
      }
    } else {
      pp = new P;
      pp->id = i;
      sched->allp.Install(pp);
    }
    pp->status.store(PStatus::kStop, std::memory_order_relaxed);
  }
  // Shrink: the calling M gives up a P that goes away and takes P 0.
  if (mp->p->id >= n) {
    P* self = mp->p;
    mp->p = nullptr;
    self->m = nullptr;
    self->status.store(PStatus::kStop, std::memory_order_relaxed);
    P* p0 = sched->allp[0];
    if (p0->status.load() != PStatus::kStop || p0->m != nullptr) {
      Throw("procresize: P0 not stopped");
    }
    acquirep(mp, p0);
  }
  for (int32_t i = n; i < old; ++i) pdestroy(sched->allp[i]);
  sched->steal_order =
      std::make_unique<policy::StealOrder>(static_cast<uint32_t>(n));
  sched->allp.SetSize(n);
}
}  // namespace gmp::internal
