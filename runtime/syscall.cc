// runtime/syscall.cc — entersyscall / exitsyscall: blocking calls that
// release the P (gmp::Syscall).
//
// entersyscall leaves the P attached but in state kSyscall. A short call
// takes it back with one CAS in exitsyscall. When the call lasts longer than
// 20 us and the P could run other goroutines, sysmon retakes it
// (RetakeSyscallPs) and hands it off, so other goroutines run on it while
// this M blocks. exitsyscall then takes the old P back if it is idle or
// sits in another M's syscall (that M finds it gone when its own call
// returns: a syscall steal), else any idle P; failing both it switches to g0,
// which queues the goroutine globally and stops the M (exitsyscall0,
// below). A goroutine locked to its thread stays on it throughout.
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"

namespace gmp::internal {
namespace {

// SyscallErrnoKeeper keeps the caller's errno across entersyscall and
// exitsyscall: what the blocking call finds, and what Syscall's caller reads
// afterwards, is what the goroutine or the call left, not what the runtime's
// own futex calls did. exitsyscall may resume on another thread, so errno is
// written back through a noinline function, which finds that thread's errno
// (glibc declares __errno_location const: an inlined access could reuse the
// first thread's address).
__attribute__((noinline)) void SyscallStoreErrno(int e) {
  asm volatile("" ::: "memory");
  errno = e;
}

class SyscallErrnoKeeper {
 public:
#if defined(GMP_CANARY_ERRNO_NOT_PRESERVED)
  // BUG (canary): errno is not kept; the caller reads what the runtime's
  // futex calls, or another goroutine on the thread it resumed on, left.
  SyscallErrnoKeeper() : saved_(errno), keep_(!policy::CanaryFires()) {}
  ~SyscallErrnoKeeper() {
    if (keep_) SyscallStoreErrno(saved_);
  }
#else
  SyscallErrnoKeeper() : saved_(errno) {}
  ~SyscallErrnoKeeper() { SyscallStoreErrno(saved_); }
#endif
  SyscallErrnoKeeper(const SyscallErrnoKeeper&) = delete;
  SyscallErrnoKeeper& operator=(const SyscallErrnoKeeper&) = delete;

 private:
  const int saved_;
#if defined(GMP_CANARY_ERRNO_NOT_PRESERVED)
  const bool keep_;
#endif
};

}  // namespace

void entersyscall() {
  SyscallErrnoKeeper keep_errno;
  G* gp = getg();
  if (gp == nullptr) Throw("gmp::Syscall called outside a runtime");
  CheckPreemptAndFuzzYield();
  M* mp = gp->m;
  P* pp = mp->p;
  if (pp == nullptr) {
    Throw(absl::StrCat("gmp::Syscall nested in goroutine ", gp->goid));
  }
  pp->counters.Bump(kSyscalls);
  gp->status.store(GStatus::kSyscall, std::memory_order_relaxed);
  sched->nmsyscall.fetch_add(1);
  mp->in_syscall.store(true, std::memory_order_relaxed);
  // Keep pp attached (pp->m == mp) but mark it kSyscall: sysmon may now
  // retake it, and exitsyscall takes it back with one CAS if nobody did.
  mp->oldp = pp;
  mp->p = nullptr;
  pp->syscalltick.store(pp->syscalltick.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
  pp->status.store(PStatus::kSyscall, std::memory_order_relaxed);
  pp->syscall_m.store(mp, std::memory_order_seq_cst);
  // StoreLoad against StopTheWorld (gcwaiting store; then syscall_m load):
  // if a stop-the-world is under way, give the P up now rather than wait for
  // sysmon.
  if (sched->gcwaiting.load(std::memory_order_seq_cst)) {
    M* expected = mp;
    if (pp->syscall_m.compare_exchange_strong(expected, nullptr)) {
      pp->m = nullptr;
      pp->status.store(PStatus::kIdle, std::memory_order_relaxed);
      handoffp(pp);
    }
  }
}

void exitsyscall() {
  SyscallErrnoKeeper keep_errno;  // first: before any futex call
  G* gp = getg();
  M* mp = gp->m;
  mp->in_syscall.store(false, std::memory_order_relaxed);
  P* oldp = mp->oldp;
  mp->oldp = nullptr;
  // Fast path, one CAS on P.syscall_m (on the M, not on the status: the P
  // may have been retaken, run elsewhere and be in another M's syscall by
  // now):
  //   * our P was not retaken: syscall_m is still mp;
  //   * or it sits in another M's syscall (that M took it after ours was
  //     retaken). A P in a syscall is as good as idle, so take it from that
  //     M, which finds it gone when its own call returns: two goroutines
  //     that ping-pong through blocking calls on one P pass the P between
  //     their threads directly, without waiting for sysmon. Not while a
  //     stop-the-world is collecting the Ps.
  // order: acquire is redundant: holder is only the expected value of the
  // acq_rel CAS below, which acquires the P. May be relaxed; measure first.
  M* holder = oldp != nullptr ? oldp->syscall_m.load(std::memory_order_acquire)
                              : nullptr;
  // order: the gcwaiting acquire is redundant: a guard that publishes nothing;
  // the syscall_m CAS arbitrates against StopTheWorld. May be relaxed; measure
  // first.
  if (holder != nullptr &&
      (holder == mp || !sched->gcwaiting.load(std::memory_order_acquire)) &&
      oldp->syscall_m.compare_exchange_strong(holder, nullptr,
                                              std::memory_order_acq_rel)) {
    if (holder != mp) {
      oldp->m = mp;
      oldp->counters.Bump(kSyscallSteals);
    }
    oldp->status.store(PStatus::kRunning, std::memory_order_relaxed);
    mp->p = oldp;
    sched->nmsyscall.fetch_sub(1);
    gp->status.store(GStatus::kRunning, std::memory_order_relaxed);
    ExitPoint(gp);
    return;
  }
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
    ExitPoint(gp);
    return;
  }
  // No P: g0 queues us and we resume when some M runs us again.
  mcall(gp, After::kExitSyscall);
}

// exitsyscall0 runs on g0 when exitsyscall found no P: take any idle P and
// run gp, or queue gp globally and stop (then, if gp is locked to mp,
// wait for it). Returns a G to run at once, or null.
G* exitsyscall0(M* mp, G* gp) {
  sched->lock.lock();
  gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  P* pp = pidleget();
  if (pp == nullptr) globrunqput(gp);
  sched->nmsyscall.fetch_sub(1);
  sched->lock.unlock();
  if (pp != nullptr) {
    acquirep(mp, pp);
    return gp;
  }
  WakeIfNeeded();
  if (mp->lockedg == gp) return nullptr;  // schedule() -> stoplockedm
  stopm(mp);
  return nullptr;
}

// RetakeSyscallPs is sysmon's half: a P whose M has been in one Syscall for
// more than 20 us is taken away and handed off, when there is other work
// for it (or nobody idle or spinning to pick work up); after 10 ms always.
// Returns how many Ps it retook (sysmon then keeps polling fast).
int RetakeSyscallPs(int64_t now) {
  constexpr int64_t kRetakeNs = 20 * 1000;
  constexpr int64_t kAlwaysNs = 10 * 1000 * 1000;
  int retaken = 0;
  for (P* pp : sched->allp) {
    // order: acquire is redundant: it pairs with nothing (entersyscall stores
    // kSyscall relaxed); the syscall_m CAS below is the edge. May be relaxed.
    if (pp->status.load(std::memory_order_acquire) != PStatus::kSyscall) {
      continue;
    }
    uint32_t t = pp->syscalltick.load(std::memory_order_relaxed);
    if (t != pp->sysmon_syscalltick) {
      pp->sysmon_syscalltick = t;
      pp->sysmon_syscallwhen = now;
      continue;
    }
    int64_t in = now - pp->sysmon_syscallwhen;
    if (in < kRetakeNs) continue;
    if (pp->runq.Empty() &&
        sched->runqsize.load(std::memory_order_relaxed) == 0 &&
        sched->nmspinning.load() + sched->npidle.load() > 0 && in < kAlwaysNs) {
      continue;  // nothing for it to do, and others are free anyway
    }
    // order: acquire is redundant: sm is only the expected value of the acq_rel
    // CAS below. Kept defensively (sysmon only).
    M* sm = pp->syscall_m.load(std::memory_order_acquire);
    if (sm != nullptr && pp->syscall_m.compare_exchange_strong(
                             sm, nullptr, std::memory_order_acq_rel)) {
      pp->m = nullptr;
      pp->status.store(PStatus::kIdle, std::memory_order_relaxed);
      sched->counters.Add(kRetakes);
      handoffp(pp);
      ++retaken;
    }
  }
  return retaken;
}

}  // namespace gmp::internal
