// runtime/sched.h — Sched, the global scheduler state, and the scheduler's
// internal functions shared between its files (proc.cc, lockosthread.cc,
// syscall.cc, stw.cc, time.cc, sysmon.cc, checkdead.cc, trace.cc).
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
#include "runtime/context.h"
#include "runtime/g.h"
#include "runtime/lock.h"
#include "runtime/m.h"
#include "runtime/note.h"
#include "runtime/p.h"
#include "runtime/policy/config.h"
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
// may keep reading it. Slots and counts are atomics; procresize (stw.cc) is
// the only writer, with the world stopped. Range-for visits the live Ps,
// with size() read once, when the loop starts.
class AllP {
 public:
  // size returns the number of live Ps (GOMAXPROCS). Any thread; with the
  // world started it is stable for every M that holds a P (procresize only
  // runs with the world stopped).
  int32_t size() const { return nprocs_.load(std::memory_order_acquire); }
  // allocated returns how many P objects exist (live and dead). Any thread.
  int32_t allocated() const { return nalloc_.load(std::memory_order_acquire); }
  // operator[] returns the P in slot i (i < allocated()). Any thread.
  P* operator[](int32_t i) const {
    return slot_[i].load(std::memory_order_acquire);
  }

  // Install puts a newly allocated pp into slot pp->id == allocated() and
  // counts it. Run's thread at start, or procresize with the world stopped.
  void Install(P* pp) {
    slot_[pp->id].store(pp, std::memory_order_release);
    nalloc_.store(pp->id + 1, std::memory_order_release);
  }
  // SetSize publishes the live count. Run's thread at start, or procresize
  // with the world stopped, after the slots below n are installed.
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
  M* allm ABSL_GUARDED_BY(lock) = nullptr;       // every M not yet freed
  int64_t mnext ABSL_GUARDED_BY(lock) = 0;       // next M id = Ms created
  int32_t nmdead ABSL_GUARDED_BY(lock) = 0;      // Ms whose thread exited
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
  // --- Changed only with the world stopped (procresize, stw.cc). ---
  AllP allp;  // the Ps; allp.size() is GOMAXPROCS (see AllP)
  std::unique_ptr<policy::StealOrder> steal_order;  // for allp.size() Ps;
                                                    // read by Ms holding a P
  // --- Fixed at start. ---
  StackPool* stacks = nullptr;  // the process-wide pool (StackPool::Shared)
  int32_t maxmcount = 10000;  // thread cap ($GMP_MAXTHREADS)
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
// is cleared). Other threads go through QuerySched (proc.cc).
extern Sched* sched;

// exit_begun is set when main returns (mainexit) and cleared by Run at
// start: every runtime call of another goroutine is then an exit point
// (ExitPoint). Apart from Sched so that the hot check reads a line nobody
// writes while the runtime runs.
extern std::atomic<bool> exit_begun;

// CurrentM is the M of the calling thread, or null on a foreign thread. Do
// not cache its result across a context switch.
M* CurrentM();

// --- proc.cc ---
int64_t LiveGoroutines();               // spawned - completed; snapshot
void runqput(P* pp, G* gp, bool next);  // owner of pp
void globrunqput(G* gp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
void globrunqputbatch(G** batch, uint32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
void wakep();                       // any thread
void startm(P* pp, bool spinning);  // any M or thread
void stopm(M* mp);                  // mp's g0
void handoffp(P* pp);               // holder of pp
void acquirep(M* mp, P* pp);        // mp's thread
P* releasep(M* mp);                 // mp's thread
void pidleput(P* pp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
P* pidleget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
bool TakeIdleP(P* pp)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);  // pp off pidle
void mcall(G* gp, After after);                  // gp, on its own stack
void ExitPoint(G* gp);  // gp, on its own stack: abandon gp once exit began
void WakeTimerSleeper() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);
void GoroutineDump();                            // best effort, stderr
int64_t NanoTime();                              // CLOCK_MONOTONIC ns
void procresize(int32_t n);  // world stopped by the caller: n Ps (GOMAXPROCS)
void mstart(M* mp);          // mp's thread (thread_pool.cc): run mp to its end

// --- lockosthread.cc ---
void stoplockedm(M* mp);  // mp's g0: park until its locked G is runnable
void startlockedm(M* mp, G* gp);  // mp's g0: hand our P to gp's M, stop
bool handofflockedp(P* pp);  // handoffp: pp straight to its lone locked G's M
bool readylocked(G* gp);     // goready: an idle P straight to gp's M

// --- stw.cc ---
void gcstopm(M* mp);  // mp's g0: park for a stop-the-world

// --- time.cc ---
// CheckTimers fires due timers (readying their goroutines); returns the
// next deadline in ns or 0 when no timer is pending. Any M with a P.
int64_t CheckTimers(int64_t now);
int64_t NextTimer();  // the next deadline, or 0; any thread
void TimersReset();   // Run's thread, at start and end

// --- syscall.cc ---
int RetakeSyscallPs(int64_t now);  // sysmon; how many Ps it retook

// --- sysmon.cc ---
void SysmonStart();
void SysmonStop();
void SysmonWake();  // a P left the idle list: end sysmon's deep sleep

// --- checkdead.cc ---
void checkdead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock);

// --- trace.cc ---
void TraceStart();
void TraceStop();

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_SCHED_H_
