// runtime/proc.cc — the G/M/P scheduler: schedule, execute, the switch to
// g0 and back (mcall, AfterSwitch), an M's life (mstart) and the exit.
//
// # Design
//
// Goroutine scheduler, after Go's runtime/proc.go. The scheduler distributes
// ready-to-run goroutines over worker threads. The main concepts are:
//
//   G  a goroutine: a function, its own stack and saved machine context
//      (runtime/g.h). The stack is bound when the G first runs (execute),
//      so a queued G that never ran holds none.
//   M  an OS thread that runs goroutines (runtime/m.h). Each M has g0, a
//      scheduler context on the thread's own stack. Goroutines switch to g0
//      to park, yield or exit; g0 runs schedule() and switches to the next G.
//      (Gosched, in the plain case, switches to the next G itself:
//      YieldDirect.)
//   P  a processor, the right to run goroutines (runtime/p.h). There are
//      exactly GOMAXPROCS Ps; an M must hold one to run goroutines. A P owns
//      a local run queue (a lock-free ring plus `runnext`, runtime/runq.h)
//      and a cache of free Gs. GOMAXPROCS(n) changes the number with the
//      world stopped (procresize.cc).
//   Sched  the global state (runtime/sched.h): idle M and P lists, the global
//      run queue, global free-G lists, spinning and idle counts. sched.h
//      also says which file holds which part of the scheduler.
//
// The thread that calls gmp::Run is not an M: it creates the main G, starts
// the first M and sleeps until main returns, then stops every M, waits for
// every M's thread and frees everything. So Run is reentrant and leaves
// nothing behind but idle threads: an M's thread that ended clean goes back
// to a process-wide pool, and the next Run's newm reuses it instead of
// creating one; sysmon and the trace thread sleep between Runs likewise
// (thread_pool.cc).
// Goroutines still alive stop at their next scheduling point or runtime call
// and are reclaimed without unwinding. When main returns, mainexit sets
// sched.exiting (which every scheduling point reads) and exit_begun, one
// flag on a line of its own that ExitPoint reads at every runtime call
// (CheckPreemptAndFuzzYield and the calls that do not go through it), after
// every mcall returns (a G resumed or readied after exit began) and when a
// fresh G first runs: a G found there switches to g0 with After::kAbandon
// and its M exits. An M also never executes a G it picked once exiting is
// set. So no G runs user code after main returned except up to its next
// runtime call. Two kinds delay Run's return: one inside a Syscall (until
// the call returns) and one looping without any runtime call.
//
// An M whose locked G exits (goexit0 marks it dead) hands its P off and
// leaves allm for sched.mfree before its thread exits (it is never reused);
// the next newm (or Run) joins that thread and deletes the M. The thread cap
// ($GMP_MAXTHREADS) counts mnext - nmfreed, the Ms not freed, as Go counts
// mcount() - nmfreed. Once exiting is set, a dying M stays on allm and Run
// joins it with the others.
//
// The queries (GOMAXPROCS(), NumGoroutine(), ReadStats()) may run on any
// thread at any time. A thread that is not a goroutine of this runtime pins
// the Sched through query_sched and query_readers (QuerySched, stats.cc); Run
// unpublishes it and waits for the readers to drain before it frees the Ps.
//
// ## Invariants
//
//   * A G runs on at most one M at a time; while it runs, G.m is that M and
//     M.curg is the G. A G that is not running is in exactly one place: a run
//     queue (local or global; status runnable), a wait structure owned by
//     whoever will goready it (status waiting), a free list (dead), or the
//     hands of exactly one g0 that is about to put it somewhere, or of the
//     G it yielded to directly (M.yielded, Gosched's YieldDirect), which
//     queues it first thing after the switch.
//   * A P is held by at most one M (P.m / M.p); an idle P is on sched.pidle
//     with an empty local run queue; sched.npidle == len(pidle).
//   * sched.allp.size() (GOMAXPROCS) changes only with the world stopped, so
//     it is constant for every M that holds a P. Ps beyond it (destroyed by
//     a shrink) are kDead, held by no M, on no list, with empty queues and
//     free lists, and stay allocated until Run ends: a thread that read a P
//     pointer without holding a P (sysmon, schedtrace, a spinner's last
//     look, an M in a Syscall) may keep reading it.
//   * An M holding a P is running a G, running schedule(), or spinning. An M
//     without a P is idle on sched.midle (parked on its note), parked in
//     stoplockedm waiting for its locked G, inside a Syscall, or exiting.
//   * A locked M (M.lockedg != null) runs only its locked G. When that G
//     blocks, the M hands its P off and parks (stoplockedm); whoever finds
//     the G runnable hands it a P (startlockedm, or readylocked and
//     handofflockedp without a middle M).
//   * A spinning M holds a P and is counted in sched.nmspinning.
//
// ## Spinning and the no-lost-wakeup protocol
//
// An M is "spinning" when it has no local work and is looking for some to
// steal. We keep just enough spinning Ms to pick up new work quickly without
// burning all CPUs. The rule (Go's): whoever makes a goroutine runnable —
// Go, goready, an overflow to the global queue — and sees an idle P and no
// spinning M, wakes one (wakep), which starts spinning. A spinning M that
// finds work stops spinning and, if it was the last spinner, wakes another
// (resetspinning), so a burst of new work ramps up parallelism one M at a
// time. The delicate moment is a spinner giving up while new work appears:
//
//   submitter:  put G in a queue;   StoreLoad;  if nmspinning == 0: wakep()
//   spinner:    nmspinning -= 1;    StoreLoad;  look at every run queue again
//
// With a full barrier on both sides, at least one of them sees the other:
// either the submitter sees nmspinning == 0 and wakes an M, or the
// ex-spinner sees the new G and goes back to spinning with an idle P. The
// barriers are the StoreLoad in WakeIfNeeded (sched.h) and the fetch_sub in
// findrunnable (findrunnable.cc; a locked instruction on x86). "Every run
// queue" includes the global one: a submitter without a P (sysmon firing an
// overdue timer, goready or Go inside a Syscall) queues there, possibly just
// after the spinner's last look under sched.lock (fuzz/FINDINGS.md, F4).
//
// ## Blocking, time and the monitor
//
//   * gopark/goready (park.cc): a G switches to g0, which marks it waiting and
//     runs the caller's unlock function; goready puts it in runnext.
//   * Syscall (syscall.cc): the P stays attached in state kSyscall; exit
//     takes it back with one CAS on P.syscall_m, or takes its old P out of
//     another M's syscall the same way; sysmon (sysmon.cc) retakes a P
//     stuck in a call for more than 20 us and hands it off.
//   * Sleep (time.cc): one global timer heap under sched.lock, fired by any
//     M in schedule/findrunnable, by the idle M that sleeps until the next
//     deadline (sched.timer_m; it does not poll: a Sleep earlier than the
//     heap's first deadline wakes it, WakeTimerSleeper), and by sysmon when
//     every M is busy. sysmon sleeps deep while every P is idle, until a P
//     leaves the idle list (pidleget, TakeIdleP: SysmonWake) or just after
//     the next deadline; so an idle runtime does not tick.
//   * sysmon also asks a G that has run 10 ms without a new time slice to
//     yield (G.preempt), honoured at its next runtime call.
//   * checkdead (checkdead.cc) runs whenever a P goes idle.
//   * Stop-the-world (stw.cc) parks every other P at a scheduling point.
//     GOMAXPROCS(n) resizes allp in that window (procresize): a destroyed
//     P's queue goes to the front of the global queue, its free Gs to the
//     global lists; its counters stay in it, and ReadStats sums every P ever
//     allocated.
//
// ## Field ownership
//
//   G: see g.h. Only the running M writes a running G; g0 of the M it just
//      switched out of owns it until g0 publishes it (run queue, unlockf).
//   M: its own thread, except nextp/wake_spinning (the waker, published by
//      Note::Wakeup) and schedlink/alllink (sched.lock).
//   P: the holder, except runq (lock-free protocol), status and schedtick
//      (atomics read by thieves, sysmon and stop-the-world).
//   Sched: see the ABSL_GUARDED_BY annotations in sched.h.
//
// ## Policy
//
// Everything a variant can change is a compile-time type or constant from
// runtime/policy/config.h; the scheduler's files only name them:
//
//   policy::kRunqSize       size of P.runq (p.h)
//   policy::kRunnext        runqput (globrunq.cc): whether a new/readied G
//                           takes runnext
//   policy::kLifoCap        runqget (globrunq.cc): bypass runnext after
//                           that many runs
//   policy::kFairness       schedule: global queue first every N ticks
//   policy::StealOrder      stealWork (findrunnable.cc): victim order
//   policy::StealAmount     stealWork: how much one steal takes
//   policy::SpinLimit       findrunnable: whether this M may spin
//   policy::kSpinRounds     stealWork: passes over all Ps
//   policy::Stacks, kStackSize   Run (api.cc): the stack pool
//
// ## Rejected designs
//
//   * One global locked queue: simple, but every spawn and yield would take
//     the same lock (Go's pre-1.1 scheduler).
//   * The Run thread as M0: it would have to survive a locked goroutine that
//     exits on it (Go wedges m0 in that case); a separate waiter is simpler.
//   * Unwinding the stacks of goroutines still alive when main returns: their
//     destructors could call back into a runtime that is shutting down. As in
//     Go, they simply stop; their stacks are reclaimed (see Run).
#include <cxxabi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/context.h"
#include "runtime/fatal.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/lock.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace gmp::internal {

Sched* sched = nullptr;
alignas(64) std::atomic<bool> exit_begun{false};

namespace {

// The calling thread's M (null on Run's thread and foreign threads).
thread_local M* tls_m = nullptr;
void goroutine_entry(void* arg);

}  // namespace

// CurrentM and getg are the only readers of tls_m on goroutine stacks, and
// they are noinline on purpose: a goroutine may resume on another thread
// after any switch, and a compiler that inlines a thread-local read treats
// the variable's address as fixed for the whole caller, so it would reuse
// the old thread's M. (Most variants compile the runtime as one unity TU,
// so without noinline this read would be inlined everywhere.)
__attribute__((noinline)) M* CurrentM() {
  M* mp = tls_m;
  asm volatile("" ::: "memory");
  return mp;
}

__attribute__((noinline)) G* getg() {
  M* mp = CurrentM();
  return mp != nullptr ? mp->curg.load(std::memory_order_relaxed) : nullptr;
}

// schedule finds a G to run on mp and returns it (null: mp must exit).
// mp's g0.
static G* schedule(M* mp, bool* inherit) {
top:
  // order: acquire is redundant: exiting carries no plain data; on true,
  // mstart's tail takes sched.lock, under which mainexit stored it. May be
  // relaxed; measure first.
  if (sched->exiting.load(std::memory_order_acquire)) return nullptr;
  if (mp->lockedg != nullptr) {
#if defined(GMP_CANARY_LOCKED_FOREIGN)
    // BUG: now and then a locked M runs a foreign goroutine.
    static std::atomic<uint32_t> canary_count{0};
    bool foreign =
        mp->p != nullptr &&
        (canary_count.fetch_add(1, std::memory_order_relaxed) & 15) == 15;
    bool unused = false;
    if (G* gp = foreign ? mp->p->runq.Get(true, &unused) : nullptr) {
      *inherit = false;
      return gp;
    }
#endif
    stoplockedm(mp);
    // order: acquire is redundant: the exit nudge's Note orders exiting;
    // otherwise a flag poll before mstart's sched.lock. Kept defensively.
    if (sched->exiting.load(std::memory_order_acquire)) return nullptr;
    *inherit = false;
    return mp->lockedg;
  }
  // order: acquire is redundant: gcstopm touches only its own M and P before
  // taking sched.lock, under which gcwaiting is stored. May be relaxed; measure
  // first.
  if (sched->gcwaiting.load(std::memory_order_acquire)) {
    gcstopm(mp);
    goto top;
  }
  P* pp = mp->p;
  G* gp = nullptr;
  *inherit = false;
  if (NextTimer() != 0) CheckTimers(NanoTime());
  if constexpr (policy::kFairness > 0) {
    if (pp->schedtick.load(std::memory_order_relaxed) % policy::kFairness ==
            0 &&
        sched->runqsize.load(std::memory_order_relaxed) > 0) {
      sched->lock.lock();
      gp = globrunqget(pp, 1);
      sched->lock.unlock();
    }
  }
  if (gp == nullptr) gp = runqget(pp, inherit);
  if (gp == nullptr) {
    gp = findrunnable(mp, inherit);
    if (gp == nullptr) return nullptr;
  }
  // A spinning M that found work stops spinning and maybe wakes another.
  if (mp->spinning) resetspinning(mp);
  if (M* lm = gp->lockedm.load(std::memory_order_relaxed);
      lm != nullptr && lm != mp) {
    // gp is wired to another thread: give it our P and stop.
    startlockedm(mp, gp);
    goto top;
  }
  return gp;
}

// execute runs gp on mp until a goroutine switches back to g0; a fresh gp
// first gets its stack (bindstack) and context. `inherit`: gp continues the
// current time slice (no schedtick). Returns the goroutine that switched
// back: gp, or another one that gp (or its successors) yielded to directly
// (YieldDirect). mp's g0, holding a P.
static G* execute(M* mp, G* gp, bool inherit) {
  P* pp = mp->p;
#if !defined(GMP_CANARY_LOCKED_FOREIGN)
  if (mp->lockedg != nullptr && mp->lockedg != gp) {
    Throw(absl::StrCat("execute: locked m", mp->id, " would run goroutine ",
                       gp->goid, " instead of its locked goroutine ",
                       mp->lockedg->goid));
  }
#endif
  gp->m = mp;
  mp->curg.store(gp, std::memory_order_release);  // sysmon, stop-the-world
  gp->status.store(GStatus::kRunning, std::memory_order_relaxed);
  if (!inherit) {
    pp->schedtick.store(pp->schedtick.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
    mp->exectick.store(mp->exectick.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  }
#if GMP_FUZZ_ENABLED
  GMP_FUZZ_HOOK(on_execute, gp->goid, mp->id,
                mp->tid.load(std::memory_order_relaxed),
                gp->lockedm.load(std::memory_order_relaxed) != nullptr
                    ? gp->lockedm.load(std::memory_order_relaxed)->id
                    : -1);
#endif
  if (gp->fresh) {
    gp->fresh = false;
    bindstack(pp, gp);
    MakeContext(gp->ctx, gp->stack_lo, gp->stack_size, &goroutine_entry, gp);
    gp->eh = CxaEhGlobals{};
    gp->saved_errno = 0;
  }
  // Every switch between a goroutine and g0 passes here, on mp's thread (g0
  // never migrates): swap the goroutine's exception globals and errno in,
  // and back out when it switches to g0 (gmp.h, "Per-thread state").
  CanaryScratch scratch;
  const ThreadSlots slots = ThreadSlotsOf(mp, &scratch);
  CxaEhGlobals* const eh = slots.eh;
  int* const err = slots.err;
  const CxaEhGlobals g0_eh = *eh;
  const int g0_errno = *err;
  *eh = gp->eh;
  *err = gp->saved_errno;
  SchedSwitch(&mp->g0, gp->ctx);
  // The goroutine that switched back: curg, which a direct yield moves on.
  G* const out = mp->curg.load(std::memory_order_relaxed);
  out->eh = *eh;
  out->saved_errno = *err;
  *eh = g0_eh;
  *err = g0_errno;
  mp->curg.store(nullptr, std::memory_order_relaxed);
  // A locked M re-arms its note before its G can be published (queued or
  // parked) and found by startlockedm; see stoplockedm.
  if (mp->lockedg != nullptr) mp->park.Clear();
#if GMP_FUZZ_ENABLED
  GMP_FUZZ_HOOK(on_stop, out->goid, mp->id, mp->after == After::kExit);
#endif
  CheckStackCanary(StackOf(out));
  return out;
}

// goexit0 finishes the dead gp on g0: frees it, and when it exited while
// locked, marks mp to exit its thread.
static void goexit0(M* mp, G* gp) {
  P* pp = mp->p;
  bool locked = gp->lockedm.load(std::memory_order_relaxed) != nullptr;
  gp->status.store(GStatus::kDead, std::memory_order_relaxed);
  gp->m = nullptr;
  gp->lockedm.store(nullptr, std::memory_order_relaxed);
  gp->lockcount = 0;
  gp->waitreason.store(WaitReason::kNone, std::memory_order_relaxed);
  gp->param = nullptr;
  gp->preempt.store(false, std::memory_order_relaxed);
  if (mp->lockedg == gp) mp->lockedg = nullptr;
  pp->counters.Bump(kCompleted);
  // Under TSan a finished goroutine's fiber goes now, not when its G is
  // reused: a program that finishes many goroutines before spawning more
  // would otherwise keep a fiber (a shadow stack and a trace part, two
  // mappings) per free G and run into vm.max_map_count. The next use of gp
  // gets a fresh fiber, so it inherits no happens-before history.
  DestroyContext(gp->ctx);
  gfput(pp, gp);
  if (locked) mp->dead = true;  // the thread goes with the goroutine
}

// AfterSwitch does on g0 what the G that just switched out asked for.
// Returns a G to run at once (inheriting the time slice), or null.
static G* AfterSwitch(M* mp, G* gp, bool* inherit) {
  After after = mp->after;
  mp->after = After::kNone;
  // order: acquire is redundant: the flag only decides whether to queue the G;
  // shared data goes through sched.lock or the run queue. May be relaxed;
  // measure first.
  const bool exiting = sched->exiting.load(std::memory_order_acquire);
  switch (after) {
    case After::kYield:
    case After::kPreempt:
      // As in Go, a yielding or preempted G goes to the global queue, not
      // the local one: local yielders would otherwise starve everything in
      // the global queue whenever the fairness tick is off (fairness_off).
      gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
      if (after == After::kPreempt) mp->p->counters.Bump(kPreempts);
      if (!exiting) {
        sched->lock.lock();
        globrunqput(gp);
        // With nothing local, schedule() would come straight back for a
        // global batch: take it now, under the same lock acquisition.
        if (mp->yield_next == nullptr && mp->p->runq.Empty()) {
          globrunqmove(mp->p);
        }
        sched->lock.unlock();
      }
      if (G* next = mp->yield_next) {
        // YieldDirect took next from the local queue but could not switch
        // to it: run it now, as schedule() would have.
        mp->yield_next = nullptr;
        if (exiting) {
          runqput(mp->p, next, true);
          return nullptr;
        }
        if (next->lockedm.load(std::memory_order_relaxed) != nullptr) {
          startlockedm(mp, next);
          return nullptr;
        }
        *inherit = false;
        return next;
      }
      return nullptr;
    case After::kGoyield:
      // Go's goyield: the local run queue's tail, so that what this P runs
      // next (e.g. a Mutex waiter just handed the lock, in runnext) goes
      // first and the yielder follows on the same P.
      gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
      if (!exiting) runqput(mp->p, gp, false);
      return nullptr;
    case After::kPark: {
      mp->p->counters.Bump(kGopark);
      // order: release is redundant: every waker takes the lock unlockf
      // releases before goready. May be relaxed; measure first (a dump could
      // show a stale waitreason).
      gp->status.store(GStatus::kWaiting, std::memory_order_release);
      auto unlockf = mp->unlockf;
      void* arg = mp->unlock_arg;
      mp->unlockf = nullptr;
      mp->unlock_arg = nullptr;
      if (unlockf != nullptr && !unlockf(gp, arg)) {
        gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
        gp->waitreason.store(WaitReason::kNone, std::memory_order_relaxed);
        if (exiting) return nullptr;
        *inherit = true;
        return gp;
      }
      return nullptr;
    }
    case After::kExit:
      goexit0(mp, gp);
      return nullptr;
    case After::kExitSyscall:
      if (exiting) {
        sched->nmsyscall.fetch_sub(1);
        return nullptr;
      }
      *inherit = false;
      return exitsyscall0(mp, gp);
    case After::kAbandon:
    case After::kNone:
      return nullptr;
  }
  return nullptr;
}

// schedloop is the life of an M on its g0: schedule, execute, repeat.
static void schedloop(M* mp) {
  G* gp = nullptr;
  bool inherit = false;
  for (;;) {
    if (gp == nullptr) {
      gp = schedule(mp, &inherit);
      if (gp == nullptr) return;
    }
#if defined(GMP_CANARY_EXIT_PREEMPT_ONCE)
    // BUG (canary): a G picked just before main returned still runs.
    if (!policy::CanaryFires() &&
        sched->exiting.load(std::memory_order_acquire)) {
      return;
    }
#else
    // order: acquire is redundant: a flag poll; on true, mstart's tail
    // synchronizes through sched.lock. May be relaxed; measure first.
    if (sched->exiting.load(std::memory_order_acquire)) return;
#endif
    gp = execute(mp, gp, inherit);
    gp = AfterSwitch(mp, gp, &inherit);
    if (mp->dead) return;
  }
}

// mstart is the life of mp on the calling thread, a pooled M thread
// (thread_pool.cc), which set up the alternate signal stack and the timer
// slack; it returns when mp ends. Everything per M is set here and cleared
// at the end, so that the thread can run another M in a later Run.
void mstart(M* mp) {
  tls_m = mp;
  mp->tid.store(static_cast<int64_t>(syscall(SYS_gettid)),
                std::memory_order_relaxed);
  InitThreadContext(&mp->g0);
  mp->eh_globals = reinterpret_cast<CxaEhGlobals*>(abi::__cxa_get_globals());
  mp->errno_location = &errno;
  // order: acquire is redundant: newm's store is ordered by the pool thread's
  // wake Note or by thread creation. Kept defensively.
  if (P* pp = mp->nextp.exchange(nullptr, std::memory_order_acquire)) {
    mp->spinning = mp->wake_spinning.load(std::memory_order_relaxed);
    acquirep(mp, pp);
  }
  schedloop(mp);
  // Leaving: drop the P (if any) and any spinning count.
  if (mp->spinning) {
    mp->spinning = false;
    sched->nmspinning.fetch_sub(1);
  }
  if (mp->p != nullptr) {
    P* pp = releasep(mp);
    // order: acquire is redundant: if stale, startm re-checks exiting under
    // sched.lock; if true, the tail takes sched.lock. Kept defensively.
    if (mp->dead && !sched->exiting.load(std::memory_order_acquire)) {
      handoffp(pp);
    } else {
      sched->lock.lock();
      pp->status.store(PStatus::kIdle, std::memory_order_relaxed);
      // Leave pp off the idle list: the runtime is exiting.
      sched->lock.unlock();
    }
  }
  {
    LockGuard l(sched->lock);
    ++sched->nmdead;
#if defined(GMP_CANARY_LOCKED_EXIT_NOT_REAPED)
    // BUG (canary): the M stays on allm until Run ends and keeps counting
    // against the thread cap.
    if (mp->dead && !sched->exiting.load(std::memory_order_relaxed) &&
        !policy::CanaryFires()) {
#else
    if (mp->dead && !sched->exiting.load(std::memory_order_relaxed)) {
#endif
      // A locked goroutine took this thread with it while the runtime runs:
      // leave allm for mfree, where the next newm (or Run) joins the thread
      // and frees the M. Once exiting is set, Run joins allm instead.
      M** link = &sched->allm;
      while (*link != mp) link = &(*link)->alllink;
      *link = mp->alllink;
      mp->alllink = sched->mfree;
      sched->mfree = mp;
      ++sched->nmfreed;
    }
  }
  tls_m = nullptr;
}

void mcall(G* gp, After after) {
  M* mp = gp->m;
  mp->after = after;
  SchedSwitch(gp->ctx, &mp->g0);
  // Resumed, possibly on another M (gp->m says which), by g0 or by a
  // goroutine that yielded to us directly. A goroutine picked up after main
  // returned goes no further.
  FinishDirectYield(gp);
  ExitPoint(gp);
}

// Abandon leaves gp where it is and lets its M exit: the runtime is
// exiting. gp, on its own stack; never returns. Out of line and cold, so
// that its callers' frames (goroutine_entry, mcall, the runtime calls) do
// not grow: compact stacks are small.
[[noreturn]] __attribute__((noinline, cold)) static void Abandon(G* gp) {
  M* mp = gp->m;
  mp->after = After::kAbandon;
  SchedSwitch(gp->ctx, &mp->g0);
  Throw(absl::StrCat("goroutine ", gp->goid, " resumed after exit"));
}

// ExitPoint abandons gp (on its own stack) once main has returned, so that
// every runtime call of a goroutine still alive then is the end of it. Its
// stack is reclaimed by Run without unwinding. Cheap otherwise: one load of
// a line written only at start and exit.
void ExitPoint(G* gp) {
  // order: acquire is redundant: on true it reads only main_g, set before any M
  // started; Abandon goes through sched.lock. May be relaxed; measure first.
  if (__builtin_expect(exit_begun.load(std::memory_order_acquire), 0) &&
      gp != sched->main_g) {
#if defined(GMP_CANARY_EXIT_PREEMPT_ONCE)
    // BUG (canary): only the preempt request mainexit posts, once, to the
    // goroutines running then stops a goroutine; one that missed it (picked
    // up just after) goes on, and one that polls with TryRecv/TrySend/
    // TryLock never returns to the scheduler.
    if (policy::CanaryFires()) return;
#endif
    Abandon(gp);
  }
}

namespace {

// mainexit runs when the main goroutine returns: the runtime exits.
void mainexit() {
  sched->lock.lock();
  // order: release is redundant: stored under sched.lock, and no reader uses
  // main's plain data outside a lock. Kept defensively (once per Run).
  sched->exiting.store(true, std::memory_order_release);
  // order: release is redundant, as for exiting: readers act only through
  // Abandon and sched.lock. Kept defensively.
  exit_begun.store(true, std::memory_order_release);
  sched->lock.unlock();
  // Wake every parked M and ask running goroutines to stop at their next
  // runtime call.
  LockGuard l(sched->lock);
  for (M* mp = sched->allm; mp != nullptr; mp = mp->alllink) {
    // order: acquire needed: pairs with execute's curg release; it alone orders
    // malg's plain init of a G spawned by another goroutine before the preempt
    // store. exit_test's PreemptsAGoroutineSpawnedByAnother catches relaxed.
    if (G* gp = mp->curg.load(std::memory_order_acquire)) {
      gp->preempt.store(true, std::memory_order_relaxed);
    }
    mp->park.Wakeup();
  }
  sched->main_done.Wakeup();
}

void goroutine_entry(void* arg) {
  G* gp = static_cast<G*>(arg);
  FinishDirectYield(gp);  // not needed today: only g0 starts a fresh G
  ExitPoint(gp);          // first run after main returned: never start
  try {
    std::move(gp->fn)();
  } catch (const std::exception& e) {
    Throw(absl::StrCat("unhandled exception in goroutine ", gp->goid, ": ",
                       e.what()));
  } catch (...) {
    Throw(absl::StrCat("unhandled exception in goroutine ", gp->goid));
  }
  gp->fn = nullptr;  // run the closure's destructors on this goroutine
  if (gp == sched->main_g) mainexit();
  M* mp = gp->m;
  mp->after = After::kExit;
  ExitContext(&mp->g0);
}

}  // namespace

}  // namespace gmp::internal
