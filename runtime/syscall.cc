// runtime/syscall.cc — entersyscall / exitsyscall: blocking calls that
// release the P (gmp::Syscall).
//
// entersyscall hands the P off at once (Go's entersyscallblock), so other
// goroutines run on it while this M blocks in the call. exitsyscall takes the
// old P back if it is idle, else any idle P; failing both it switches to g0,
// which queues the goroutine globally and stops the M (exitsyscall0 in
// proc.cc). A goroutine locked to its thread stays on it throughout.
#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"

namespace gmp::internal {

void entersyscall() {
  G* gp = getg();
  if (gp == nullptr) Throw("gmp::Syscall called outside a runtime");
  CheckPreemptAndFuzzYield();
  M* mp = gp->m;
  if (mp->p == nullptr) {
    Throw(absl::StrCat("gmp::Syscall nested in goroutine ", gp->goid));
  }
  mp->p->counters.Bump(kSyscalls);
  gp->status.store(GStatus::kSyscall, std::memory_order_relaxed);
  sched->nmsyscall.fetch_add(1);
  mp->in_syscall.store(true, std::memory_order_relaxed);
  P* pp = releasep(mp);
  mp->oldp = pp;
  handoffp(pp);
}

void exitsyscall() {
  G* gp = getg();
  M* mp = gp->m;
  mp->in_syscall.store(false, std::memory_order_relaxed);
  P* oldp = mp->oldp;
  mp->oldp = nullptr;
  P* pp = nullptr;
  sched->lock.lock();
  if (!sched->exiting.load(std::memory_order_relaxed) &&
      !sched->gcwaiting.load(std::memory_order_relaxed)) {
    if (oldp != nullptr && TakeIdleP(oldp)) {
      pp = oldp;
    } else {
      pp = pidleget();
    }
  }
  if (pp != nullptr) sched->nmsyscall.fetch_sub(1);
  sched->lock.unlock();
  if (pp != nullptr) {
    acquirep(mp, pp);
    gp->status.store(GStatus::kRunning, std::memory_order_relaxed);
    return;
  }
  // No P: g0 queues us and we resume when some M runs us again.
  mcall(gp, After::kExitSyscall);
}

}  // namespace gmp::internal
