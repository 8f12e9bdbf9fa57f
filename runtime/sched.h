// runtime/sched.h — Sched, the global scheduler state, and the scheduler's
// internal functions shared between its files, grouped below by the file
// that defines them:
//
//   proc.cc          schedule, execute, the switch to g0 and back, mstart
//   park.cc          gopark, goready (declared in proc.h)
//   globrunq.cc      the global run queue; runqput/runqget
//   gfree.cc         G allocation, free-G lists, newproc1
//   procresize.cc    acquirep/releasep, the idle P list, procresize
//   idle.cc          idle Ms: startm, wakep, stopm, handoffp
//   findrunnable.cc  finding work: stealing, spinning
//   yield.cc         Gosched's direct yield
//   stats.cc         counters and the queries
//   api.cc           Run, Go, Gosched, ... (gmp.h)
//   lockosthread.cc, stw.cc, time.cc, syscall.cc, sysmon.cc, checkdead.cc,
//   trace.cc
//
// One Sched exists per running gmp::Run (the global `sched`, null outside a
// runtime). See the design essay at the top of proc.cc for the invariants and
// the spinning protocol.
#ifndef GMPLAB_RUNTIME_SCHED_H_
#define GMPLAB_RUNTIME_SCHED_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "runtime/context.h"
#include "runtime/g.h"
#include "runtime/gmp.h"
#include "runtime/lock.h"
#include "runtime/m.h"
#include "runtime/note.h"
#include "runtime/p.h"
#include "runtime/policy/config.h"
#include "runtime/sanitizer.h"
#include "runtime/stack.h"
#include "runtime/stats.h"

namespace gmp::internal {

// GRecord is how a G is allocated: the G and its machine context together
// (G.ctx points at `ctx`). Never freed until the runtime ends.
struct GRecord {
  G g;
  Context ctx;
};

// kMaxProcs is the most Ps a runtime may have (Options.procs,
// $GMP_MAXPROCS and GOMAXPROCS(n) clamp to it, as Go clamps to
// _MaxGomaxprocs).
inline constexpr int32_t kMaxProcs = 1024;

// AllP is sched.allp: the Ps of the runtime, indexed by P.id.
//
// The first size() slots are the live Ps (size() is GOMAXPROCS); slots
// [size(), allocated()) hold Ps destroyed by a shrinking GOMAXPROCS(n)
// (status kDead, empty queues and free lists). A P object, once allocated,
// is never freed or moved until Run ends, and a later growth reuses it: so
// any thread that read a P pointer (sysmon, the schedtrace/SIGQUIT thread, a
// spinner re-checking queues without a P, an M in a Syscall holding oldp)
// may keep reading it. Slots and counts are atomics; procresize
// (procresize.cc) is the only writer, with the world stopped. Range-for visits
// the live Ps, with size() read once, when the loop starts.
class AllP {
 public:
  // size returns the number of live Ps (GOMAXPROCS). Any thread; with the
  // world started it is stable for every M that holds a P (procresize only
  // runs with the world stopped).
  // order: acquire needed on weakly ordered CPUs: pairs with SetSize, so a
  // reader without a P loads the slots after the count. TSan sees the slot's
  // own acquire instead.
  int32_t size() const { return nprocs_.load(std::memory_order_acquire); }
  // allocated returns how many P objects exist (live and dead). Any thread.
  // order: acquire needed on weakly ordered CPUs: pairs with Install's count
  // release, so a stats reader never reads a null slot. TSan sees the slot's
  // own acquire instead.
  int32_t allocated() const { return nalloc_.load(std::memory_order_acquire); }
  // operator[] returns the P in slot i (i < allocated()). Any thread.
  P* operator[](int32_t i) const {
    // order: acquire is redundant: readers first acquire size() or allocated(),
    // released after the slot. May be relaxed; measure first.
    return slot_[i].load(std::memory_order_acquire);
  }

  // Install puts a newly allocated pp into slot pp->id == allocated() and
  // counts it. Run's thread at start, or procresize with the world stopped.
  void Install(P* pp) {
    // order: release is redundant: the count releases come after it and readers
    // acquire a count first. Kept defensively (off the hot path).
    slot_[pp->id].store(pp, std::memory_order_release);
    // order: release needed on weakly ordered CPUs: orders the slot store
    // before the new count. TSan sees the slot's own release, so it cannot see
    // this one.
    nalloc_.store(pp->id + 1, std::memory_order_release);
  }
  // SetSize publishes the live count. Run's thread at start, or procresize
  // with the world stopped, after the slots below n are installed.
  // order: release needed on weakly ordered CPUs: orders the slot stores before
  // the live count for readers without a P. TSan sees the slot's own release
  // instead.
  void SetSize(int32_t n) { nprocs_.store(n, std::memory_order_release); }

  class Iterator {
   public:
    Iterator(const AllP* a, int32_t i) : a_(a), i_(i) {}
    P* operator*() const { return (*a_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const AllP* a_;
    int32_t i_;
  };
  // Range-for over the live Ps (a range-for calls end() once, so it sees
  // one size(); the Ps it visits stay valid even if procresize runs
  // meanwhile).
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

 private:
  std::atomic<int32_t> nprocs_{0};  // live Ps (GOMAXPROCS)
  std::atomic<int32_t> nalloc_{0};  // P objects allocated (live + dead)
  std::atomic<P*> slot_[kMaxProcs] = {};
};

struct Sched {
  // --- Guarded by lock. ---
  Lock lock;
  M* midle ABSL_GUARDED_BY(lock) = nullptr;  // idle Ms waiting for work
  int32_t nmidle ABSL_GUARDED_BY(lock) = 0;
  M* allm ABSL_GUARDED_BY(lock) = nullptr;   // every M not yet freed
  int64_t mnext ABSL_GUARDED_BY(lock) = 0;   // next M id = Ms created
  int32_t nmdead ABSL_GUARDED_BY(lock) = 0;  // Ms whose thread exited
  // Ms whose thread ended with a locked goroutine while the runtime ran: off
  // allm, linked by alllink, waiting to be joined and deleted (ReapFreeMs).
  M* mfree ABSL_GUARDED_BY(lock) = nullptr;
  int64_t nmfreed ABSL_GUARDED_BY(lock) = 0;     // Ms moved to mfree; the
                                                 // thread cap counts
                                                 // mnext - nmfreed
  M* timer_m ABSL_GUARDED_BY(lock) = nullptr;    // the M on midle sleeping
                                                 // until the next timer
  P* pidle ABSL_GUARDED_BY(lock) = nullptr;      // idle Ps
  G* runq_head ABSL_GUARDED_BY(lock) = nullptr;  // global run queue
  G* runq_tail ABSL_GUARDED_BY(lock) = nullptr;
  // --- Atomics, read without lock, written under lock unless noted. ---
  std::atomic<int32_t> npidle{0};      // len(pidle)
  std::atomic<int32_t> nmspinning{0};  // spinning Ms (any thread, CAS/add)
  std::atomic<int32_t> runqsize{0};    // len(global runq)
  std::atomic<int32_t> nmsyscall{0};   // Ms inside a Syscall
  // --- Free Gs, guarded by gflock. ---
  Lock gflock;
  G* gfree_stack ABSL_GUARDED_BY(gflock) = nullptr;  // dead Gs, stacks kept
  int32_t ngfree_stack ABSL_GUARDED_BY(gflock) = 0;
  G* gfree_nostack ABSL_GUARDED_BY(gflock) = nullptr;  // dead Gs, no stack
  int32_t ngfree_nostack ABSL_GUARDED_BY(gflock) = 0;
  // --- Every G ever allocated, guarded by allglock. ---
  Lock allglock;
  std::vector<GRecord*> allgs ABSL_GUARDED_BY(allglock);
  // --- Changed only with the world stopped (procresize). ---
  AllP allp;  // the Ps; allp.size() is GOMAXPROCS (see AllP)
  std::unique_ptr<policy::StealOrder> steal_order;  // for allp.size() Ps;
                                                    // read by Ms holding a P
  // --- Fixed at start. ---
  StackPool* stacks = nullptr;  // the process-wide pool (StackPool::Shared)
  int32_t maxmcount = 10000;    // thread cap ($GMP_MAXTHREADS)
  // --- Lifecycle. ---
  std::atomic<int64_t> goidgen{0};   // last goroutine id handed out
  std::atomic<bool> exiting{false};  // main returned; everyone leaves
  Note main_done;                    // Run's thread waits here
  std::atomic<bool> main_started{false};
  G* main_g = nullptr;                     // the main goroutine (fixed)
  std::atomic<bool> timer_sleeper{false};  // an idle M sleeps until the
                                           // next timer
  std::atomic<bool> sysmon_wait{false};    // sysmon sleeps deep: every P
                                           // was idle (SysmonWake)
  // --- Stop the world (stw.cc). ---
  std::atomic<bool> gcwaiting{false};  // a stop-the-world is in progress
  std::atomic<int32_t> stopwait{0};    // Ps still to stop
  Note stopnote;                       // the stopper waits here
  Lock stwlock;                        // one stop-the-world at a time
  // --- Counters bumped without a P. ---
  Counters counters;
};

// sched is the running runtime, or null. Set and cleared by Run only; read
// by the runtime's own threads (created after it is set, joined before it
// is cleared). Other threads go through QuerySched (stats.cc).
extern Sched* sched;

// exit_begun is set when main returns (mainexit) and cleared by Run at
// start: every runtime call of another goroutine is then an exit point
// (ExitPoint). Apart from Sched so that the hot check reads a line nobody
// writes while the runtime runs.
extern std::atomic<bool> exit_begun;

// CurrentM is the M of the calling thread, or null on a foreign thread. Do
// not cache its result across a context switch.
M* CurrentM();

// --- proc.cc: schedule, execute, the switch to g0 and back ---
void mcall(G* gp, After after);  // gp, on its own stack
void ExitPoint(G* gp);  // gp, on its own stack: abandon gp once exit began
void mstart(M* mp);     // mp's thread (thread_pool.cc): run mp to its end

// ThreadSlots are where a switch on mp's thread swaps a goroutine's
// exception globals and errno in and out (gmp.h, "Per-thread state"):
// mp's own, except in the two canary builds that plant a missing swap.
// execute (proc.cc) and YieldDirect (yield.cc).
struct ThreadSlots {
  CxaEhGlobals* eh;
  int* err;
};
// CanaryScratch is the caller's stand-in for the thread's slots in those
// canary builds; elsewhere it is unused and optimised away.
struct CanaryScratch {
  CxaEhGlobals eh;
  int err = 0;
};
GMP_ALWAYS_INLINE ThreadSlots ThreadSlotsOf(M* mp,
                                            [[maybe_unused]] CanaryScratch* s) {
  ThreadSlots slots{mp->eh_globals, mp->errno_location};
#if defined(GMP_CANARY_EXC_STATE_NOT_SWITCHED)
  // BUG (canary): the swap works on a scratch copy, so the goroutine runs on
  // its thread's exception globals, as g0 and every other goroutine there
  // left them, and leaves its own behind when it switches out.
  if (policy::CanaryFires()) slots.eh = &s->eh;
#endif
#if defined(GMP_CANARY_ERRNO_NOT_PRESERVED)
  // BUG (canary): the goroutine runs on its thread's errno, whatever the
  // runtime or another goroutine left there.
  if (policy::CanaryFires()) slots.err = &s->err;
#endif
  return slots;
}

// --- globrunq.cc: the global run queue and a P's run-queue glue ---
void globrunqput(G* gp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
void globrunqputbatch(G** batch, uint32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
// globrunqputhead: the chain head..tail (n Gs) at the queue's front.
void globrunqputhead(G* head, G* tail, int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
// globrunqget: one G to run, up to max - 1 more (0: a fair share) to pp's
// ring. The caller holds pp.
G* globrunqget(P* pp, int32_t max) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
// globrunqmove: globrunqget's batch into pp's empty ring, in order.
void globrunqmove(P* pp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
void runqput(P* pp, G* gp, bool next);  // owner of pp
G* runqget(P* pp, bool* inherit);       // owner of pp

// --- gfree.cc: G allocation and the free-G lists ---
G* newproc1(P* pp, absl::AnyInvocable<void() &&> fn);  // pp's owner, or null
void gfput(P* pp, G* gp);      // owner of pp: the dead gp on pp's free list
void bindstack(P* pp, G* gp);  // pp's holder, on g0: a stack for fresh gp

// StackOf is the stack gp holds (stack_lo null: none).
inline Stack StackOf(const G* gp) {
  return Stack{gp->stack_lo, gp->stack_size, kDefaultStackKind};
}

// --- procresize.cc: Ps changing hands, and their number ---
void acquirep(M* mp, P* pp);  // mp's thread
P* releasep(M* mp);           // mp's thread
void pidleput(P* pp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
P* pidleget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
bool TakeIdleP(P* pp)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);  // pp off pidle
void procresize(int32_t n);  // world stopped by the caller: n Ps (GOMAXPROCS)

// --- idle.cc: idle Ms, starting and stopping them ---
void wakep();                         // any thread
void startm(P* pp, bool spinning);    // any M or thread
void stopm(M* mp);                    // mp's g0
void stopm_timed(M* mp, int64_t ns);  // mp's g0: stopm until the deadline
void handoffp(P* pp);                 // holder of pp
void WakeTimerSleeper() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
bool WorkQueued();  // any thread: a G in the global or any local queue
void ReapFreeMs();  // any thread but the freed Ms': join and delete them

// StoreLoad is a full barrier. On x86-64 a locked no-op on the stack is
// cheaper than mfence; TSan does not model fences either way.
inline void StoreLoad() {
#if defined(__x86_64__) && !GMP_HAVE_TSAN
  asm volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// WakeIfNeeded is the submitter's half of the spinning protocol, called
// after making a G runnable: StoreLoad, then wakep if nobody spins.
// `published_by_rmw`: the G was published by an atomic read-modify-write
// (runnext's exchange), which is a full barrier already; a G that runnext
// kicked to the ring's tail meanwhile does not matter, since a spinner that
// sees runnext non-empty re-takes a P and looks again. Any thread.
inline void WakeIfNeeded(bool published_by_rmw = false) {
  if (!published_by_rmw) StoreLoad();
  if (sched->npidle.load(std::memory_order_relaxed) != 0 &&
      sched->nmspinning.load(std::memory_order_relaxed) == 0) {
    wakep();
  }
}

// --- findrunnable.cc: finding work, stealing, spinning ---
G* findrunnable(M* mp, bool* inherit);  // mp's g0, holding a P
void resetspinning(M* mp);              // mp's g0: a spinning mp found work

// --- yield.cc: Gosched's direct yield ---
bool YieldDirect(G* gp);  // gp, on its own stack; false: yield through g0

// FinishDirectYield runs first on a goroutine resumed by a switch: if the
// goroutine that switched to it yielded directly (YieldDirect), that one's
// context is saved now and it can be queued where another M may take it.
inline void FinishDirectYield(G* gp) {
  M* mp = gp->m;
  if (G* prev = mp->yielded; __builtin_expect(prev != nullptr, 0)) {
    mp->yielded = nullptr;
    sched->lock.lock();
    globrunqput(prev);
    sched->lock.unlock();
  }
}

// --- stats.cc: counters and the queries ---
int64_t LiveGoroutines();  // spawned - completed; snapshot
int64_t LiveGoroutinesOf(Sched* s);
Stats CollectStats(Sched* s);  // sums s's counters and every P's
void SaveLastStats(Sched* s);  // Run's thread, at the end: for ReadStats
Stats LastStats();             // the last finished Run's, or empty
void QueryPublish(Sched* s);   // Run's thread: s answers queries
void QueryUnpublish();         // Run's thread: s answers none; wait for readers

// QuerySched pins the running runtime for a query (GOMAXPROCS(),
// NumGoroutine(), ReadStats()), which may come from any thread at any
// time, also while Run starts or tears down: get() is it or null.
class QuerySched {
 public:
  QuerySched();
  ~QuerySched();
  QuerySched(const QuerySched&) = delete;
  QuerySched& operator=(const QuerySched&) = delete;
  Sched* get() const { return s_; }

 private:
  Sched* s_ = nullptr;
  bool pinned_ = false;
};

// --- lockosthread.cc ---
void stoplockedm(M* mp);  // mp's g0: park until its locked G is runnable
void startlockedm(M* mp, G* gp);  // mp's g0: hand our P to gp's M, stop
bool handofflockedp(P* pp);  // handoffp: pp straight to its lone locked G's M
bool readylocked(G* gp);     // goready: an idle P straight to gp's M

// --- stw.cc ---
void gcstopm(M* mp);  // mp's g0: park for a stop-the-world

// --- time.cc ---
int64_t NanoTime();  // CLOCK_MONOTONIC ns
// CheckTimers fires due timers (readying their goroutines); returns the
// next deadline in ns or 0 when no timer is pending. Any M with a P.
int64_t CheckTimers(int64_t now);
int64_t NextTimer();  // the next deadline, or 0; any thread
void TimersReset();   // Run's thread, at start and end

// --- syscall.cc ---
int RetakeSyscallPs(int64_t now);  // sysmon; how many Ps it retook
// exitsyscall0: g0's half of an exitsyscall that found no P. Returns a G to
// run at once, or null.
G* exitsyscall0(M* mp, G* gp);

// --- sysmon.cc ---
void SysmonStart();
void SysmonStop();
void SysmonWake();  // a P left the idle list: end sysmon's deep sleep

// --- checkdead.cc ---
void checkdead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);

// --- trace.cc ---
void TraceStart();
void TraceStop();
void GoroutineDump();  // every goroutine to stderr; best effort

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_SCHED_H_
