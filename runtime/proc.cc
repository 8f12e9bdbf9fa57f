// runtime/proc.cc — the G/M/P scheduler: Run, Go, Gosched, schedule.
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
//      world stopped (procresize, below).
//   Sched  the global state (runtime/sched.h): idle M and P lists, the global
//      run queue, global free-G lists, spinning and idle counts.
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
// the Sched through query_sched and query_readers (QuerySched); Run
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
// barriers are the seq_cst fence in WakeIfNeeded and the fetch_sub in
// findrunnable (a locked instruction on x86). "Every run queue" includes
// the global one: a submitter without a P (sysmon firing an overdue timer,
// goready or Go inside a Syscall) queues there, possibly just after the
// spinner's last look under sched.lock (fuzz/FINDINGS.md, F4).
//
// ## Blocking, time and the monitor
//
//   * gopark/goready (here): a G switches to g0, which marks it waiting and
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
// runtime/policy/config.h; this file only names them:
//
//   policy::kRunqSize       size of P.runq (p.h)
//   policy::kRunnext        runqput: whether a new/readied G takes runnext
//   policy::kLifoCap        runqget: bypass runnext after that many runs
//   policy::kFairness       schedule: global queue first every N ticks
//   policy::StealOrder      stealWork: victim order
//   policy::StealAmount     stealWork: how much one steal takes
//   policy::SpinLimit       findrunnable: whether this M may spin
//   policy::kSpinRounds     stealWork: passes over all Ps
//   policy::Stacks, kStackSize   Run: the stack pool
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
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "runtime/context.h"
#include "runtime/fatal.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/gmp.h"
#include "runtime/sanitizer.h"
#include "runtime/sched.h"
#include "runtime/signal_stack.h"
#include "runtime/stack.h"
#include "runtime/stw.h"
#include "runtime/thread_pool.h"

namespace gmp {
namespace internal {

Sched* sched = nullptr;
alignas(64) std::atomic<bool> exit_begun{false};

namespace {

// The calling thread's M (null on Run's thread and foreign threads).
thread_local M* tls_m = nullptr;

// Stats of the last finished Run, for ReadStats after Run returns.
std::mutex last_stats_mu;
Stats last_stats;

constexpr int32_t kGfreeLocalMax = 64;  // gfput moves half beyond this
constexpr int32_t kGfreeBatch = 32;     // moves between P and global
// Global dead Gs that keep their stacks. Beyond this many, gfput gives the
// stacks back to the pool, which keeps them resident as long as recent use
// calls for it and returns the rest to the OS (stack.h); a stack held by a
// dead G would be out of its reach.
constexpr int32_t kGfreeStackMax = 256;
constexpr int64_t kGoidBatch = 16;  // goroutine ids cached per P

inline uint32_t FastRand(uint64_t* state) {
  // xorshift64*
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return static_cast<uint32_t>((x * 0x2545F4914F6CDD1DULL) >> 32);
}

int DefaultProcs() {
  if (const char* env = std::getenv("GMP_MAXPROCS")) {
    int n = std::atoi(env);
    if (n > 0) return n < kMaxProcs ? n : kMaxProcs;
  }
  // The CPUs this thread may run on, as Go's getproccount: under
  // `taskset -c 0` that is 1, whatever the machine has.
  cpu_set_t set;
  unsigned hw = sched_getaffinity(0, sizeof set, &set) == 0
                    ? static_cast<unsigned>(CPU_COUNT(&set))
                    : std::thread::hardware_concurrency();
  if (hw == 0) hw = 1;
  return hw < static_cast<unsigned>(kMaxProcs) ? static_cast<int>(hw)
                                               : kMaxProcs;
}

Stack StackOf(const G* gp) {
  return Stack{gp->stack_lo, gp->stack_size, kDefaultStackKind};
}

void goroutine_entry(void* arg);

}  // namespace

// CurrentM and getg are the only readers of tls_m on goroutine stacks, and
// they are noinline on purpose: a goroutine may resume on another thread
// after any switch, and a compiler that inlines a thread-local read treats
// the variable's address as fixed for the whole caller, so it would reuse
// the old thread's M. (The runtime is one unity TU per variant, so without
// noinline this read would be inlined everywhere.)
__attribute__((noinline)) M* CurrentM() {
  M* mp = tls_m;
  asm volatile("" ::: "memory");
  return mp;
}

__attribute__((noinline)) G* getg() {
  M* mp = CurrentM();
  return mp != nullptr ? mp->curg.load(std::memory_order_relaxed) : nullptr;
}

int64_t NanoTime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

const char* WaitReasonString(WaitReason r) {
  switch (r) {
    case WaitReason::kNone:
      return "";
    case WaitReason::kChanReceive:
      return "chan receive";
    case WaitReason::kChanSend:
      return "chan send";
    case WaitReason::kChanReceiveNilChan:
      return "chan receive (nil chan)";
    case WaitReason::kSelect:
      return "select";
    case WaitReason::kSelectNoCases:
      return "select (no cases)";
    case WaitReason::kSyncMutexLock:
      return "sync.Mutex.Lock";
    case WaitReason::kSyncWaitGroupWait:
      return "sync.WaitGroup.Wait";
    case WaitReason::kSleep:
      return "sleep";
    case WaitReason::kSemacquire:
      return "semacquire";
    case WaitReason::kLockedThread:
      return "locked thread";
    case WaitReason::kPreempted:
      return "preempted";
    case WaitReason::kSyscall:
      return "syscall";
  }
  return "?";
}

const char* GStatusString(GStatus s) {
  switch (s) {
    case GStatus::kIdle:
      return "idle";
    case GStatus::kRunnable:
      return "runnable";
    case GStatus::kRunning:
      return "running";
    case GStatus::kSyscall:
      return "syscall";
    case GStatus::kWaiting:
      return "waiting";
    case GStatus::kDead:
      return "dead";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Global run queue. sched.lock must be held.
//
// runqsize and the global-queue counters change only under sched.lock, so
// they are updated with a plain load and store (no locked instruction);
// lock-free readers see an atomic snapshot.

static inline void AddRunqsize(int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  sched->runqsize.store(sched->runqsize.load(std::memory_order_relaxed) + n,
                        std::memory_order_relaxed);
}

void globrunqput(G* gp) {
  gp->schedlink = nullptr;
  if (sched->runq_tail != nullptr) {
    sched->runq_tail->schedlink = gp;
  } else {
    sched->runq_head = gp;
  }
  sched->runq_tail = gp;
  AddRunqsize(1);
  sched->counters.Bump(kGlobalPuts);
}

// globrunqputchain appends the chain head..tail (n Gs, linked by schedlink).
static void globrunqputchain(G* head, G* tail, int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  tail->schedlink = nullptr;
  if (sched->runq_tail != nullptr) {
    sched->runq_tail->schedlink = head;
  } else {
    sched->runq_head = head;
  }
  sched->runq_tail = tail;
  AddRunqsize(n);
  sched->counters.Bump(kGlobalPuts, n);
}

void globrunqputbatch(G** batch, uint32_t n) {
  if (n == 0) return;
  for (uint32_t i = 0; i + 1 < n; ++i) batch[i]->schedlink = batch[i + 1];
  globrunqputchain(batch[0], batch[n - 1], static_cast<int32_t>(n));
}

static G* globrunqpop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  G* gp = sched->runq_head;
  if (gp == nullptr) return nullptr;
  sched->runq_head = gp->schedlink;
  if (sched->runq_head == nullptr) sched->runq_tail = nullptr;
  gp->schedlink = nullptr;
  AddRunqsize(-1);
  return gp;
}

// globrunqget takes a batch from the global queue for pp: returns one G to
// run and moves up to `max` - 1 more (0 = no limit beyond a fair share and
// half the local ring) into pp's local queue. sched.lock must be held; the
// caller holds pp.
static int32_t GlobBatchSize(int32_t max)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int32_t size = sched->runqsize.load(std::memory_order_relaxed);
  int32_t n = size / sched->allp.size() + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<int32_t>(policy::kRunqSize / 2)) {
    n = policy::kRunqSize / 2;
  }
  return n;
}

static G* globrunqget(P* pp, int32_t max)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int32_t n = GlobBatchSize(max);
  if (n == 0) return nullptr;
  pp->counters.Bump(kGlobalGets, n);
  G* gp = globrunqpop();
  for (int32_t i = 1; i < n; ++i) {
    G* g1 = globrunqpop();
    if (!pp->runq.Put(g1)) {  // cannot happen with n <= half, but be safe
      globrunqput(g1);
      break;
    }
  }
  return gp;
}

// globrunqmove moves the batch globrunqget would take into pp's local
// ring, which must be empty (so the batch keeps its order). sched.lock must
// be held; the caller holds pp.
static void globrunqmove(P* pp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int32_t n = GlobBatchSize(0);
  pp->counters.Bump(kGlobalGets, n);
  for (int32_t i = 0; i < n; ++i) {
    G* g1 = globrunqpop();
    if (!pp->runq.Put(g1)) {  // cannot happen with n <= half, but be safe
      globrunqput(g1);
      break;
    }
  }
}

// ---------------------------------------------------------------------------
// Local run queue.

// runqput puts gp on pp's local run queue: in runnext when `next` (and the
// policy has runnext), kicking the old runnext to the tail; on the tail
// otherwise. A full ring moves half of itself plus gp to the global queue.
// Executed only by the owner of pp.
void runqput(P* pp, G* gp, bool next) {
  if constexpr (policy::kRunnext) {
    if (next) {
      G* old = pp->runq.PutRunnext(gp);
      if (old == nullptr) return;
      gp = old;  // kick the old runnext out to the tail
    }
  }
  for (;;) {
    if (pp->runq.Put(gp)) return;
    G* head = nullptr;
    G* tail = nullptr;
    uint32_t n = pp->runq.OverflowTo(gp, [&](G* x) {
      if (tail == nullptr) {
        head = x;
      } else {
        tail->schedlink = x;
      }
      tail = x;
    });
    if (n != 0) {
      sched->lock.lock();
      globrunqputchain(head, tail, static_cast<int32_t>(n));
      sched->lock.unlock();
      pp->counters.Bump(kOverflows);
      return;
    }
  }
}

// runqget takes the next local G for pp, honouring the LIFO cap and the fuzz
// hook; `*inherit` is set when it came from runnext (it inherits the time
// slice). Executed only by the owner of pp.
static G* runqget(P* pp, bool* inherit) {
  bool skip = false;
  if constexpr (policy::kLifoCap > 0) {
    skip = pp->lifo_runs >= policy::kLifoCap;
  }
#if GMP_FUZZ_ENABLED
  if (GMP_FUZZ_HOOK(skip_runnext)) skip = true;
#endif
  bool from_next = false;
  G* gp = pp->runq.Get(skip, &from_next);
  if (gp == nullptr && skip) gp = pp->runq.Get(false, &from_next);
  if (gp == nullptr) return nullptr;
  if (from_next) {
    ++pp->lifo_runs;
  } else {
    pp->lifo_runs = 0;
  }
  *inherit = from_next;
  return gp;
}

// ---------------------------------------------------------------------------
// Free Gs.

// Stacks are bound lazily (see g.h): a G gets its stack when it first runs,
// preferably the one the last G that died on this P left behind. So a G in
// a run queue usually holds no stack, and a P that runs one short goroutine
// after another keeps running them on the same, cache-hot stack.
//
// The free lists hold G structs, some of them with stacks: pp->gfree keeps
// the most recently freed G (the one whose stack execute takes next) at its
// head; sched.gfree_stack holds dead Gs that kept a stack, sched.gfree_nostack
// those that gave it away (to execute) or never had one (never ran).

// gfput puts the dead gp (with its stack, if any) on pp's free list, moving a
// batch to the global lists when the local one is long; the head, whose stack
// execute reuses next, stays. Owner of pp.
static void gfput(P* pp, G* gp) {
  gp->schedlink = pp->gfree;
  pp->gfree = gp;
  if (++pp->gfree_count < kGfreeLocalMax) return;
  G* keep = pp->gfree;
  pp->gfree = keep->schedlink;
  LockGuard l(sched->gflock);
  while (pp->gfree_count > kGfreeLocalMax - kGfreeBatch) {
    G* g1 = pp->gfree;
    pp->gfree = g1->schedlink;
    --pp->gfree_count;
    if (g1->stack_lo != nullptr && sched->ngfree_stack >= kGfreeStackMax) {
      sched->stacks->Release(StackOf(g1));
      g1->stack_lo = nullptr;
      g1->stack_size = 0;
    }
    if (g1->stack_lo != nullptr) {
      g1->schedlink = sched->gfree_stack;
      sched->gfree_stack = g1;
      ++sched->ngfree_stack;
    } else {
      g1->schedlink = sched->gfree_nostack;
      sched->gfree_nostack = g1;
      ++sched->ngfree_nostack;
    }
  }
  keep->schedlink = pp->gfree;
  pp->gfree = keep;
}

// malg allocates a new G, without a stack, and registers it in allgs.
static G* malg() {
  auto* rec = new GRecord;
  G* gp = &rec->g;
  gp->ctx = &rec->ctx;
  LockGuard l(sched->allglock);
  sched->allgs.push_back(rec);
  return gp;
}

// gfget returns a free G (refilling pp's list from the global ones), or a
// new one. A stack on pp's list stays there (for execute, see bindstack):
// when the G taken has one, it moves to the next free G if that has none,
// and the last free G with a stack is not handed out (a new G is made
// instead); so a G gfget returns carries a stack only when pp's list holds
// more than one. Owner of pp, or pp null (global lists only; the G may then
// carry a stack).
static G* gfget(P* pp) {
  if (pp == nullptr || pp->gfree == nullptr ||
      (pp->gfree->schedlink == nullptr && pp->gfree->stack_lo != nullptr)) {
    G* const last = pp != nullptr ? pp->gfree : nullptr;
    G* got = nullptr;
    {
      LockGuard l(sched->gflock);
      int32_t want = pp == nullptr ? 1 : kGfreeBatch;
      for (int32_t i = 0; i < want; ++i) {
        G* g1 = nullptr;
        if (pp == nullptr && sched->gfree_nostack != nullptr) {
          g1 = sched->gfree_nostack;  // a lone G need not carry a stack
          sched->gfree_nostack = g1->schedlink;
          --sched->ngfree_nostack;
        } else if (sched->gfree_stack != nullptr) {
          g1 = sched->gfree_stack;
          sched->gfree_stack = g1->schedlink;
          --sched->ngfree_stack;
        } else if (sched->gfree_nostack != nullptr) {
          g1 = sched->gfree_nostack;
          sched->gfree_nostack = g1->schedlink;
          --sched->ngfree_nostack;
        } else {
          break;
        }
        if (pp == nullptr) {
          got = g1;
        } else {
          g1->schedlink = pp->gfree;
          pp->gfree = g1;
          ++pp->gfree_count;
        }
      }
    }
    if (pp == nullptr) return got != nullptr ? got : malg();
    if (pp->gfree == nullptr || pp->gfree == last) return malg();
    G* head = pp->gfree;
    if (last != nullptr && head->stack_lo == nullptr) {
      // last (now the tail) holds the stack execute should take next.
      head->stack_lo = last->stack_lo;
      head->stack_size = last->stack_size;
      last->stack_lo = nullptr;
      last->stack_size = 0;
    }
  }
  G* gp = pp->gfree;
  G* next = gp->schedlink;
  pp->gfree = next;
  --pp->gfree_count;
  if (gp->stack_lo != nullptr && next != nullptr && next->stack_lo == nullptr) {
    next->stack_lo = gp->stack_lo;
    next->stack_size = gp->stack_size;
    gp->stack_lo = nullptr;
    gp->stack_size = 0;
  }
  return gp;
}

// bindstack gives the fresh gp a stack, unless it has one: the stack of the
// head of pp's free list (the G that died last on pp) when it has one, else
// a new one from the pool. pp's holder, on g0.
static void bindstack(P* pp, G* gp) {
  if (gp->stack_lo != nullptr) return;
  G* donor = pp->gfree;
  if (donor != nullptr && donor->stack_lo != nullptr) {
    gp->stack_lo = donor->stack_lo;
    gp->stack_size = donor->stack_size;
    donor->stack_lo = nullptr;
    donor->stack_size = 0;
    return;
  }
  Stack st = sched->stacks->Acquire();
  gp->stack_lo = st.lo;
  gp->stack_size = st.size;
}

static int64_t NewGoid(P* pp) {
  if (pp == nullptr) {
    return sched->goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  if (pp->goid_next == pp->goid_end) {
    pp->goid_next =
        sched->goidgen.fetch_add(kGoidBatch, std::memory_order_relaxed) + 1;
    pp->goid_end = pp->goid_next + kGoidBatch;
  }
  return pp->goid_next++;
}

// newproc1 makes a runnable G that will run fn. It gets its stack and
// context when it first runs (execute). pp may be null.
static G* newproc1(P* pp, absl::AnyInvocable<void() &&> fn) {
  G* gp = gfget(pp);
  gp->fn = std::move(fn);
  gp->goid = NewGoid(pp);
  gp->waitreason.store(WaitReason::kNone, std::memory_order_relaxed);
  gp->param = nullptr;
  gp->schedlink = nullptr;
  gp->lockedm.store(nullptr, std::memory_order_relaxed);
  gp->lockcount = 0;
  gp->preempt.store(false, std::memory_order_relaxed);
  gp->fresh = true;
  gp->status.store(GStatus::kRunnable, std::memory_order_release);
  return gp;
}

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

// globrunqputhead puts the chain head..tail (n Gs) at the front of the
// global run queue, in order. sched.lock must be held.
static void globrunqputhead(G* head, G* tail, int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  tail->schedlink = sched->runq_head;
  sched->runq_head = head;
  if (sched->runq_tail == nullptr) sched->runq_tail = tail;
  sched->runqsize.fetch_add(n, std::memory_order_relaxed);
  sched->counters.Add(kGlobalPuts, n);
}

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

// ---------------------------------------------------------------------------
// M lifecycle.

static void mput(M* mp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  mp->schedlink = sched->midle;
  sched->midle = mp;
  ++sched->nmidle;
}

static M* mget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  M* mp = sched->midle;
  if (mp != nullptr) {
    sched->midle = mp->schedlink;
    mp->schedlink = nullptr;
    --sched->nmidle;
    if (sched->timer_m == mp) sched->timer_m = nullptr;
  }
  return mp;
}

// ReapFreeMs joins the threads of the Ms on sched.mfree (each ended with a
// locked goroutine and is exiting, or has exited; such a thread is never
// kept for reuse) and deletes the Ms. Any thread but those Ms'; takes
// sched.lock briefly and joins without it.
static void ReapFreeMs() {
  M* list;
  {
    LockGuard l(sched->lock);
    list = sched->mfree;
    sched->mfree = nullptr;
  }
  while (list != nullptr) {
    M* mp = list;
    list = mp->alllink;
    JoinM(mp);
    delete[] mp->steal_order;
    delete mp;
  }
}

// newm creates a new M that will start by running with pp (and spinning if
// `spinning`), on an idle pooled thread or a new one (thread_pool.cc). Any
// thread.
//
// The M is started and linked into allm under sched.lock, after a last look
// at `exiting`: so Run, which sets exiting under the lock and then waits for
// everything on allm, never misses an M nor waits for one half-made.
static void newm(P* pp, bool spinning) {
  ReapFreeMs();
  auto* mp = new M;
  // Sized for GOMAXPROCS now; stealWork regrows it after a GOMAXPROCS(n).
  mp->steal_order_cap = static_cast<uint32_t>(sched->allp.size());
  mp->steal_order = new uint32_t[mp->steal_order_cap];
  mp->nextp.store(pp, std::memory_order_release);
  mp->wake_spinning.store(spinning, std::memory_order_relaxed);
  LockGuard l(sched->lock);
  if (sched->exiting.load(std::memory_order_relaxed)) {
    if (pp != nullptr) pp->status.store(PStatus::kIdle);
    if (spinning) sched->nmspinning.fetch_sub(1);
    delete[] mp->steal_order;
    delete mp;
    return;
  }
  if (sched->mnext - sched->nmfreed >= sched->maxmcount) {
    std::string msg =
        absl::StrCat("thread exhaustion: program exceeds ", sched->maxmcount,
                     "-thread limit (GMP_MAXTHREADS)");
    Throw(msg);
  }
  mp->id = sched->mnext++;
  mp->rand_state = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(mp->id + 1);
  sched->counters.Add(kThreads);
  StartMThread(mp);
  mp->alllink = sched->allm;
  sched->allm = mp;
}

// startm schedules some M to run pp (an idle P if pp is null; if there is
// none, nothing happens). `spinning` means the caller incremented
// nmspinning for the new M, which starts spinning. Any thread.
void startm(P* pp, bool spinning) {
  sched->lock.lock();
  if (sched->exiting.load(std::memory_order_relaxed)) {
    // Exiting: nobody will run pp again; its queue is reclaimed by Run.
    if (pp != nullptr) pp->status.store(PStatus::kIdle);
    sched->lock.unlock();
    if (spinning) sched->nmspinning.fetch_sub(1);
    return;
  }
  if (pp == nullptr) {
    pp = pidleget();
    if (pp == nullptr) {
      sched->lock.unlock();
      if (spinning) {
        // The caller counted us as spinning; undo and re-check, as Go does.
        if (sched->nmspinning.fetch_sub(1) - 1 < 0) {
          Throw("startm: negative nmspinning");
        }
      }
      return;
    }
  }
  M* nmp = mget();
  sched->lock.unlock();
  if (nmp == nullptr) {
    newm(pp, spinning);
    return;
  }
  sched->counters.Add(kWakeups);
  nmp->wake_spinning.store(spinning, std::memory_order_relaxed);
  nmp->nextp.store(pp, std::memory_order_release);
  nmp->park.Wakeup();  // publishes nextp / wake_spinning
}

// wakep tries to add one more spinning M to run goroutines, when there is an
// idle P and no M spins. Any thread.
void wakep() {
  if (sched->npidle.load(std::memory_order_relaxed) == 0) return;
  if (sched->nmspinning.load(std::memory_order_relaxed) != 0) return;
#if defined(GMP_CANARY_LOST_WAKEUP)
  // BUG: now and then a wakeup that is needed is skipped.
  static std::atomic<uint32_t> canary_count{0};
  if ((canary_count.fetch_add(1, std::memory_order_relaxed) & 15) == 15) {
    return;
  }
#endif
  int32_t zero = 0;
  if (!sched->nmspinning.compare_exchange_strong(zero, 1)) return;
  startm(nullptr, true);
}

// StoreLoad is a full barrier. On x86-64 a locked no-op on the stack is
// cheaper than mfence; TSan does not model fences either way.
static inline void StoreLoad() {
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
// sees runnext non-empty re-takes a P and looks again.
static inline void WakeIfNeeded(bool published_by_rmw = false) {
  if (!published_by_rmw) StoreLoad();
  if (sched->npidle.load(std::memory_order_relaxed) != 0 &&
      sched->nmspinning.load(std::memory_order_relaxed) == 0) {
    wakep();
  }
}

// midle_enter re-arms mp's note and puts mp on the idle list, unless the
// runtime is exiting (then false: mp must not sleep). `timer`: mp sleeps
// until the next timer (sched.timer_m; WakeTimerSleeper). mp's g0.
static bool midle_enter(M* mp, bool timer = false) {
  mp->park.Clear();
  LockGuard l(sched->lock);
  if (sched->exiting.load(std::memory_order_relaxed)) return false;
  mput(mp);
  if (timer) sched->timer_m = mp;
  sched->counters.Add(kParks);
  return true;
}

// stopm parks mp on the idle list until startm hands it a P (or the runtime
// exits). mp holds no P and is not spinning. mp's g0.
void stopm(M* mp) {
  if (mp->p != nullptr) Throw("stopm holding p");
  if (mp->spinning) Throw("stopm spinning");
  if (!midle_enter(mp)) return;
  mp->park.Sleep();
  P* pp = mp->nextp.exchange(nullptr, std::memory_order_acquire);
  if (pp != nullptr) {
    mp->spinning = mp->wake_spinning.load(std::memory_order_relaxed);
    acquirep(mp, pp);
  }
}

// stopm_timed is stopm with a deadline, used by the M that sleeps until the
// next timer. Returns with a P if one was handed over, else without.
static void stopm_timed(M* mp, int64_t ns) {
  if (!midle_enter(mp, /*timer=*/true)) return;
  bool woken = mp->park.SleepFor(ns);
  sched->counters.Add(kTimerWakeups);
  if (!woken) {
    // Timed out: take ourselves off the idle list, unless a waker already
    // took us (then its Wakeup is coming).
    sched->lock.lock();
    bool found = false;
    for (M** link = &sched->midle; *link != nullptr;
         link = &(*link)->schedlink) {
      if (*link == mp) {
        *link = mp->schedlink;
        mp->schedlink = nullptr;
        --sched->nmidle;
        found = true;
        break;
      }
    }
    if (sched->timer_m == mp) sched->timer_m = nullptr;
    sched->lock.unlock();
    if (found) return;
    mp->park.Sleep();
  }
  P* pp = mp->nextp.exchange(nullptr, std::memory_order_acquire);
  if (pp != nullptr) {
    mp->spinning = mp->wake_spinning.load(std::memory_order_relaxed);
    acquirep(mp, pp);
  }
}

// WakeTimerSleeper wakes the M that sleeps until the next timer, if any: a
// timer earlier than its deadline was just added. It takes the M off the
// idle list (as a timed-out sleeper does itself) and wakes it without a P;
// findrunnable then takes an idle P, fires what is due and sleeps again
// until the new next deadline.
void WakeTimerSleeper() {
  M* mp = sched->timer_m;
  if (mp == nullptr) return;
  sched->timer_m = nullptr;
  for (M** link = &sched->midle; *link != nullptr; link = &(*link)->schedlink) {
    if (*link == mp) {
      *link = mp->schedlink;
      mp->schedlink = nullptr;
      --sched->nmidle;
      mp->park.Wakeup();
      return;
    }
  }
}

// WorkQueued reports whether the global run queue or any P's local one
// holds a G. Any thread. Without a P, a GOMAXPROCS(n) may run meanwhile:
// the Ps it looks at stay valid (AllP), and a destroyed one's queue was
// moved to the global one.
static bool WorkQueued() {
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) return true;
  for (P* p2 : sched->allp) {
    if (!p2->runq.Empty()) return true;
  }
  return false;
}

// handoffp hands off pp from a syscall, a locked M or an exiting M: start an
// M if there is work, else put pp on the idle list. Caller released pp.
void handoffp(P* pp) {
  sched->counters.Add(kHandoffs);
  // Its only G is locked to a thread: pp goes straight there.
  if (handofflockedp(pp)) return;
  // Local or global work: start an M for it.
  if (!pp->runq.Empty() ||
      sched->runqsize.load(std::memory_order_relaxed) != 0) {
    startm(pp, false);
    return;
  }
  // No local work. If nobody spins or idles, a G queued on another P found
  // nobody to wake (its submitter saw npidle == 0 and nmspinning == 0) and
  // pp must help. Go starts a spinning M for pp here; gmplab puts pp on the
  // idle list first and then looks, as a spinner does before it parks
  // (findrunnable): a G queued after the look sees npidle != 0 and its
  // submitter wakes an M. Otherwise every hand-off of an empty P while the
  // other Ps run (a locked goroutine blocking) woke an M that found nothing.
  const bool alone = sched->nmspinning.load() + sched->npidle.load() == 0;
  sched->lock.lock();
  if (sched->gcwaiting.load(std::memory_order_relaxed)) {
    pp->status.store(PStatus::kStop, std::memory_order_relaxed);
    if (sched->stopwait.fetch_sub(1) - 1 == 0) sched->stopnote.Wakeup();
    sched->lock.unlock();
    return;
  }
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    sched->lock.unlock();
    startm(pp, false);
    return;
  }
  // The last running P with a timer pending: keep an M around to fire it.
  if (sched->npidle.load() == sched->allp.size() - 1 && NextTimer() != 0) {
    sched->lock.unlock();
    startm(pp, false);
    return;
  }
  pidleput(pp);
  sched->lock.unlock();
  if (alone) {
    StoreLoad();  // npidle (pidleput) before the queues
    if (WorkQueued()) wakep();
  }
}

// resetspinning is called by a spinning M that found work: it stops
// spinning and, if it was the last spinner, wakes another M.
static void resetspinning(M* mp) {
  mp->spinning = false;
  int32_t nmspinning = sched->nmspinning.fetch_sub(1) - 1;
  if (nmspinning < 0) Throw("findrunnable: negative nmspinning");
  wakep();
}

// ---------------------------------------------------------------------------
// Finding work.

// stealWork makes `rounds` passes over the other Ps in the policy's order,
// stealing from each; runnext only on the last pass. mp holds a P, so the
// world is started and GOMAXPROCS, allp and sched.steal_order cannot change
// under it (procresize runs with every P stopped).
static G* stealWork(M* mp, int rounds) {
  P* pp = mp->p;
  const uint32_t nprocs = static_cast<uint32_t>(sched->allp.size());
  if (nprocs == 1) return nullptr;
  if (mp->steal_order_cap < nprocs) {  // GOMAXPROCS grew since newm
    delete[] mp->steal_order;
    mp->steal_order = new uint32_t[nprocs];
    mp->steal_order_cap = nprocs;
  }
  for (int round = 0; round < rounds; ++round) {
    const bool last = round == rounds - 1;
    uint32_t n = sched->steal_order->Fill(
        FastRand(&mp->rand_state), static_cast<uint32_t>(pp->id),
        mp->steal_order,
        [](uint32_t i) { return sched->allp[i]->runq.Size(); });
    int first = -1;
#if GMP_FUZZ_ENABLED
    first = GMP_FUZZ_HOOK(pick_victim, pp->id, static_cast<int>(nprocs));
    if (first >= static_cast<int>(nprocs)) first = -1;
#endif
    for (int k = first >= 0 ? -1 : 0; k < static_cast<int>(n); ++k) {
      P* p2 = sched->allp[k < 0 ? first : mp->steal_order[k]];
      if (p2 == pp) continue;
      if (sched->gcwaiting.load(std::memory_order_relaxed) ||
          sched->exiting.load(std::memory_order_relaxed)) {
        return nullptr;
      }
      if (p2->status.load(std::memory_order_relaxed) == PStatus::kIdle) {
        continue;
      }
      uint32_t stolen = 0;
      G* gp = pp->runq.StealFrom<policy::StealAmount>(
          p2->runq, last,
          [p2] {
            // The victim may be about to run its runnext (it just readied
            // it); give it a moment before taking it away.
            if (p2->status.load(std::memory_order_relaxed) ==
                PStatus::kRunning) {
              usleep(3);
            }
          },
          &stolen);
      if (gp != nullptr) {
        pp->counters.Bump(kSteals);
        pp->counters.Bump(kStolenGs, stolen);
        return gp;
      }
    }
  }
  return nullptr;
}

// findrunnable finds a runnable goroutine for mp, blocking (stopm) until it
// does. Returns null when the runtime exits. mp's g0; mp holds a P on entry
// and on return.
static G* findrunnable(M* mp, bool* inherit) {
top:
  if (sched->exiting.load(std::memory_order_acquire)) return nullptr;
  if (mp->p == nullptr) {
    // Woken without a P (a timed sleep ended): try to get one.
    sched->lock.lock();
    P* pp = pidleget();
    sched->lock.unlock();
    if (pp == nullptr) {
      stopm(mp);
      goto top;
    }
    acquirep(mp, pp);
  }
  if (sched->gcwaiting.load(std::memory_order_acquire)) {
    gcstopm(mp);
    goto top;
  }
  P* pp = mp->p;
  if (NextTimer() != 0) CheckTimers(NanoTime());
  *inherit = false;
  if (G* gp = runqget(pp, inherit)) return gp;
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    sched->lock.lock();
    G* gp = globrunqget(pp, 0);
    sched->lock.unlock();
    if (gp != nullptr) return gp;
  }
  // Steal.
  if (mp->spinning ||
      policy::SpinLimit::MaySpin(sched->nmspinning.load(), sched->allp.size(),
                                 sched->npidle.load())) {
    if (!mp->spinning) {
      mp->spinning = true;
      sched->nmspinning.fetch_add(1);
      pp->counters.Bump(kSpins);
    }
    if (G* gp = stealWork(mp, policy::kSpinRounds)) return gp;
  } else if constexpr (!policy::SpinLimit::kAllowsSpinning) {
    // Nobody ever spins: make one pass ourselves before parking.
    if (G* gp = stealWork(mp, 1)) return gp;
  }
  if (sched->gcwaiting.load(std::memory_order_acquire)) goto top;

  // Nothing: give up the P and park.
  sched->lock.lock();
  if (sched->gcwaiting.load(std::memory_order_relaxed) ||
      sched->exiting.load(std::memory_order_relaxed)) {
    sched->lock.unlock();
    goto top;
  }
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    G* gp = globrunqget(pp, 0);
    sched->lock.unlock();
    if (gp != nullptr) return gp;
    goto top;
  }
  if (!pp->runq.Empty()) {
    // A G landed locally (a timer fired into runnext).
    sched->lock.unlock();
    goto top;
  }
  releasep(mp);
  pidleput(pp);
  sched->lock.unlock();

  // The spinner's half of the protocol: stop spinning, StoreLoad, and look
  // at every queue once more.
  if (mp->spinning) {
    mp->spinning = false;
    if (sched->nmspinning.fetch_sub(1) - 1 < 0) {
      Throw("findrunnable: negative nmspinning");
    }
    // The global queue too: a submitter without a P (sysmon firing an
    // overdue timer, goready or Go inside a Syscall) queues there after our
    // look under sched.lock above, sees nmspinning != 0 and relies on us.
    if (WorkQueued()) {
      sched->lock.lock();
      P* idle = pidleget();
      sched->lock.unlock();
      if (idle != nullptr) {
        acquirep(mp, idle);
        mp->spinning = true;
        sched->nmspinning.fetch_add(1);
        goto top;
      }
    }
  }

  // Park; with a timer pending, one M sleeps until it is due, and no
  // longer polls meanwhile: a timer added earlier wakes it (Sleep calls
  // WakeTimerSleeper).
  int64_t next = NextTimer();
  if (next != 0 && !sched->timer_sleeper.exchange(true)) {
    int64_t wait = next - NanoTime();
    if (wait < 1000) wait = 1000;
    stopm_timed(mp, wait);
    sched->timer_sleeper.store(false);
  } else {
    stopm(mp);
  }
  goto top;
}

// schedule finds a G to run on mp and returns it (null: mp must exit).
// mp's g0.
static G* schedule(M* mp, bool* inherit) {
top:
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
    if (sched->exiting.load(std::memory_order_acquire)) return nullptr;
    *inherit = false;
    return mp->lockedg;
  }
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

// ThreadSlots are where a switch on mp's thread swaps a goroutine's
// exception globals and errno in and out (gmp.h, "Per-thread state"):
// mp's own, except in the two canary builds that plant a missing swap.
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
  SwitchContextFast(&mp->g0, gp->ctx);
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

// exitsyscall0 runs on g0 when exitsyscall found no P: take any idle P and
// run gp, or queue gp globally and stop (then, if gp is locked to mp,
// wait for it). Returns a G to run at once, or null.
static G* exitsyscall0(M* mp, G* gp) {
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

// AfterSwitch does on g0 what the G that just switched out asked for.
// Returns a G to run at once (inheriting the time slice), or null.
static G* AfterSwitch(M* mp, G* gp, bool* inherit) {
  After after = mp->after;
  mp->after = After::kNone;
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

// ---------------------------------------------------------------------------
// Goroutine side.

// FinishDirectYield runs first on a goroutine resumed by a switch: if the
// goroutine that switched to it yielded directly (YieldDirect), that one's
// context is saved now and it can be queued where another M may take it.
static inline void FinishDirectYield(G* gp) {
  M* mp = gp->m;
  if (G* prev = mp->yielded; __builtin_expect(prev != nullptr, 0)) {
    mp->yielded = nullptr;
    sched->lock.lock();
    globrunqput(prev);
    sched->lock.unlock();
  }
}

void mcall(G* gp, After after) {
  M* mp = gp->m;
  mp->after = after;
  SwitchContextFast(gp->ctx, &mp->g0);
  // Resumed, possibly on another M (gp->m says which), by g0 or by a
  // goroutine that yielded to us directly. A goroutine picked up after main
  // returned goes no further.
  FinishDirectYield(gp);
  ExitPoint(gp);
}

// YieldDirect is Gosched without the hop through g0: gp switches straight to
// the next G of its P's local queue, which g0 would have run next, and is
// queued globally (as Gosched queues it) by that G once gp's context is
// saved (FinishDirectYield). Only in the plain case: gp holds a P and is not
// locked, no preemption, stop-the-world, exit or timer is pending, the
// fairness tick does not call for the global queue, and the next G is
// neither fresh (its stack is bound on g0) nor locked to another M (then
// g0 runs it: yield_next). Returns whether gp yielded (and has resumed);
// false: the caller yields through g0. gp, on its own stack.
static bool YieldDirect(G* gp) {
  M* mp = gp->m;
  P* pp = mp->p;
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

// Abandon leaves gp where it is and lets its M exit: the runtime is
// exiting. gp, on its own stack; never returns. Out of line and cold, so
// that its callers' frames (goroutine_entry, mcall, the runtime calls) do
// not grow: compact stacks are small.
[[noreturn]] __attribute__((noinline, cold)) static void Abandon(G* gp) {
  M* mp = gp->m;
  mp->after = After::kAbandon;
  SwitchContextFast(gp->ctx, &mp->g0);
  Throw(absl::StrCat("goroutine ", gp->goid, " resumed after exit"));
}

// ExitPoint abandons gp (on its own stack) once main has returned, so that
// every runtime call of a goroutine still alive then is the end of it. Its
// stack is reclaimed by Run without unwinding. Cheap otherwise: one load of
// a line written only at start and exit.
void ExitPoint(G* gp) {
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
  sched->exiting.store(true, std::memory_order_release);
  exit_begun.store(true, std::memory_order_release);
  sched->lock.unlock();
  // Wake every parked M and ask running goroutines to stop at their next
  // runtime call.
  LockGuard l(sched->lock);
  for (M* mp = sched->allm; mp != nullptr; mp = mp->alllink) {
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

void gopark(bool (*unlockf)(G* gp, void* arg), void* arg, WaitReason reason) {
  G* gp = getg();
  if (gp == nullptr) Throw("gopark called outside a goroutine");
  M* mp = gp->m;
  if (mp->p == nullptr) {
    Throw(absl::StrCat("gopark called without a P (inside Syscall?): g",
                       gp->goid, " m", mp->id, " tls m",
                       tls_m != nullptr ? tls_m->id : -1, " status ",
                       GStatusString(gp->status.load())));
  }
  mp->unlockf = unlockf;
  mp->unlock_arg = arg;
  gp->waitreason.store(reason, std::memory_order_relaxed);
  gp->waitsince_ns = 0;
  mcall(gp, After::kPark);
  gp->waitreason.store(WaitReason::kNone, std::memory_order_relaxed);
}

void goready(G* gp) {
  GStatus expected = GStatus::kWaiting;
  if (!gp->status.compare_exchange_strong(expected, GStatus::kRunnable,
                                          std::memory_order_acq_rel)) {
    Throw(absl::StrCat("goready: goroutine ", gp->goid, " is ",
                       GStatusString(expected), ", not waiting"));
  }
  // Locked to another thread: with a P idle, straight to that thread.
  if (gp->lockedm.load(std::memory_order_relaxed) != nullptr &&
      readylocked(gp)) {
    sched->counters.Add(kGoready);
    return;
  }
  M* mp = CurrentM();
  P* pp = mp != nullptr ? mp->p : nullptr;
  if (pp != nullptr) {
    pp->counters.Bump(kGoready);
    runqput(pp, gp, true);
    WakeIfNeeded(/*published_by_rmw=*/policy::kRunnext);
  } else {
    sched->counters.Add(kGoready);
    sched->lock.lock();
    globrunqput(gp);
    sched->lock.unlock();
    WakeIfNeeded();
  }
}

void CheckPreemptAndFuzzYield() {
  G* gp = getg();
  if (gp == nullptr) return;
  ExitPoint(gp);
  if (__builtin_expect(gp->preempt.load(std::memory_order_relaxed), 0)) {
    gp->preempt.store(false, std::memory_order_relaxed);
    if (gp->m->p == nullptr) return;  // in a syscall: nothing to give up
    mcall(gp, After::kPreempt);
    return;
  }
#if GMP_FUZZ_ENABLED
  if (GMP_FUZZ_HOOK(inject_yield) && gp->m->p != nullptr) {
    mcall(gp, After::kYield);
  }
#endif
}

void goyield() {
  G* gp = getg();
  if (gp == nullptr || gp->m->p == nullptr) return;
  mcall(gp, After::kGoyield);
}

// GoroutineDump prints every goroutine (id, status, wait reason, locked
// thread) to stderr. Best effort: it does not wait long for allglock.
void GoroutineDump() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Sched* s = sched;
  if (s == nullptr) return;
  bool locked = false;
  for (int i = 0; i < 1000 && !(locked = s->allglock.try_lock()); ++i) {
    usleep(100);
  }
  if (!locked) {
    std::fprintf(stderr, "\n(goroutine dump skipped: allglock busy)\n");
    return;
  }
  for (GRecord* rec : s->allgs) {
    G* gp = &rec->g;
    // Acquire: pairs with newproc1's release, so goid is the new life's.
    GStatus st = gp->status.load(std::memory_order_acquire);
    if (st == GStatus::kDead || st == GStatus::kIdle) continue;
    std::fprintf(stderr, "\ngoroutine %lld [%s",
                 static_cast<long long>(gp->goid), GStatusString(st));
    if (st == GStatus::kWaiting &&
        gp->waitreason.load(std::memory_order_relaxed) != WaitReason::kNone) {
      std::fprintf(
          stderr, ", %s",
          WaitReasonString(gp->waitreason.load(std::memory_order_relaxed)));
    }
    std::fprintf(stderr, "]:");
    if (M* lm = gp->lockedm.load(std::memory_order_relaxed)) {
      std::fprintf(stderr, " locked to thread %lld (m%lld)",
                   static_cast<long long>(lm->tid.load()),
                   static_cast<long long>(lm->id));
    }
    std::fprintf(stderr, "\n");
  }
  s->allglock.unlock();
  std::fflush(stderr);
}

namespace {

Stats CollectStats(Sched* s) {
  int64_t v[kNumCounters] = {};
  for (int c = 0; c < kNumCounters; ++c) v[c] = s->counters.Get(Counter(c));
  // Every allocated P: one destroyed by GOMAXPROCS(n) keeps its counters.
  for (int32_t i = 0; i < s->allp.allocated(); ++i) {
    P* pp = s->allp[i];
    for (int c = 0; c < kNumCounters; ++c) v[c] += pp->counters.Get(Counter(c));
  }
  Stats st;
#define GMP_STATS_COPY(Enum, field, per_op, meaning) st.field = v[Enum];
  GMP_SCHED_COUNTERS(GMP_STATS_COPY)
#undef GMP_STATS_COPY
  if (s->stacks != nullptr) {
    const StackPool::Counts c = s->stacks->counts();
    st.stacks_fresh = c.fresh;
    st.stacks_reused = c.reused;
    st.stacks_refilled = c.refilled;
    st.stacks_returned = c.returned;
    st.stacks_resident_free =
        static_cast<int64_t>(s->stacks->resident_cached());
  }
  st.variant = policy::DescribeVariant();
  return st;
}

std::atomic<bool> g_running{false};

// The queries (GOMAXPROCS(), NumGoroutine(), ReadStats()) may be called from
// any thread at any time, also while Run starts or tears down. A thread
// outside the runtime reads the Sched through query_sched and counts itself
// in query_readers meanwhile; Run clears query_sched and then waits for
// query_readers to drain before it frees anything a query reads. Both sides
// are seq_cst (store, then load the other's word), so either the reader
// sees null or Run sees the reader.
std::atomic<Sched*> query_sched{nullptr};
std::atomic<int32_t> query_readers{0};

// QuerySched pins the running runtime for a query: get() is it or null.
class QuerySched {
 public:
  QuerySched() {
    if (getg() != nullptr) {  // a goroutine of the running runtime
      s_ = sched;
      return;
    }
#if defined(GMP_CANARY_QUERY_UNSYNCHRONIZED)
    // BUG (canary): a foreign thread reads Run's plain `sched` without
    // pinning it, racing with Run, which sets it, frees the Ps and clears it.
    if (policy::CanaryFires()) {
      s_ = sched;
      return;
    }
#endif
    query_readers.fetch_add(1, std::memory_order_seq_cst);
    s_ = query_sched.load(std::memory_order_seq_cst);
    pinned_ = true;
  }
  ~QuerySched() {
    if (pinned_) query_readers.fetch_sub(1, std::memory_order_release);
  }
  QuerySched(const QuerySched&) = delete;
  QuerySched& operator=(const QuerySched&) = delete;
  Sched* get() const { return s_; }

 private:
  Sched* s_ = nullptr;
  bool pinned_ = false;
};

// QueryUnpublish makes s invisible to queries and waits until none reads
// it. Run's thread, before it frees the Ps.
void QueryUnpublish() {
  query_sched.store(nullptr, std::memory_order_seq_cst);
  while (query_readers.load(std::memory_order_seq_cst) != 0) sched_yield();
}

}  // namespace

// Live counts goroutines that exist now (spawned - completed).
static int64_t LiveGoroutinesOf(Sched* s) {
  int64_t n = s->counters.Get(kSpawned) - s->counters.Get(kCompleted);
  for (int32_t i = 0; i < s->allp.allocated(); ++i) {
    P* pp = s->allp[i];
    n += pp->counters.Get(kSpawned) - pp->counters.Get(kCompleted);
  }
  return n;
}

int64_t LiveGoroutines() { return LiveGoroutinesOf(sched); }

}  // namespace internal

// ---------------------------------------------------------------------------
// Public API.

using internal::G;
using internal::GStatus;
using internal::M;
using internal::P;
using internal::Sched;
using internal::sched;

void Run(absl::AnyInvocable<void() &&> main,
         Options options) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (G* gp = internal::getg()) {
    internal::Throw(
        absl::StrCat("gmp::Run called from inside goroutine ", gp->goid));
  }
  if (internal::g_running.exchange(true)) {
    internal::Throw("gmp::Run called while another runtime is running");
  }
  auto owned = std::make_unique<Sched>();
  Sched* s = owned.get();
  const int nprocs = options.procs > 0 ? (options.procs < internal::kMaxProcs
                                              ? options.procs
                                              : internal::kMaxProcs)
                                       : internal::DefaultProcs();
  if (const char* env = std::getenv("GMP_MAXTHREADS")) {
    int n = std::atoi(env);
    if (n > 0) s->maxmcount = n;
  }
  s->steal_order = std::make_unique<internal::policy::StealOrder>(
      static_cast<uint32_t>(nprocs));
  size_t stack_size =
      options.stack_size != 0
          ? options.stack_size
          : (internal::policy::kStackSize != 0 ? internal::policy::kStackSize
                                               : internal::DefaultStackSize());
  s->stacks =
      internal::StackPool::Shared(internal::kDefaultStackKind, stack_size);
  for (int i = 0; i < nprocs; ++i) {
    auto* pp = new P;
    pp->id = i;
    s->allp.Install(pp);
  }
  s->allp.SetSize(nprocs);
  internal::InstallStackOverflowHandler();
  sched = s;
  internal::query_sched.store(s, std::memory_order_seq_cst);
  {
    internal::LockGuard l(s->lock);
    for (int i = nprocs - 1; i >= 0; --i) internal::pidleput(s->allp[i]);
  }
  internal::TimersReset();
  internal::SetGoroutineDumper(&internal::GoroutineDump);
  internal::exit_begun.store(false, std::memory_order_relaxed);

  G* mg = internal::newproc1(nullptr, std::move(main));
  s->main_g = mg;
  s->counters.Add(internal::kSpawned);
  {
    internal::LockGuard l(s->lock);
    internal::globrunqput(mg);
    s->main_started.store(true, std::memory_order_release);
  }
  // The monitors (and the SIGQUIT handler) are in place before main can run.
  internal::SysmonStart();
  internal::TraceStart();
  internal::startm(nullptr, false);

  s->main_done.Sleep();

  internal::TraceStop();
  internal::SysmonStop();
  // Every M sees `exiting` at its next scheduling point and returns from its
  // thread. Nudge the ones parked or running.
  {
    internal::LockGuard l(s->lock);
    for (M* mp = s->allm; mp != nullptr; mp = mp->alllink) {
      mp->park.Wakeup();
    }
  }
  // Wait for every M not freed yet: allm, which no longer changes once
  // exiting is set (startm checks it under the lock; a dying M leaves allm
  // only before), then mfree. Each M's thread either goes back to the
  // thread pool for the next Run or exits and is joined (JoinM).
  M* allm;
  {
    internal::LockGuard l(s->lock);
    allm = s->allm;
  }
  for (M* mp = allm; mp != nullptr; mp = mp->alllink) internal::JoinM(mp);
  internal::ReapFreeMs();  // Ms that ended with a locked goroutine
  // Reclaim every G: the dead ones and those still alive.
  int64_t reclaimed = 0;
  {
    internal::LockGuard l(s->allglock);
    for (internal::GRecord* rec : s->allgs) {
      G* gp = &rec->g;
      GStatus st = gp->status.load(std::memory_order_relaxed);
      if (st != GStatus::kDead) ++reclaimed;
      internal::DestroyContext(gp->ctx);
      if (gp->stack_lo != nullptr) {
        internal::sanitizer::AsanUnpoison(gp->stack_lo, gp->stack_size);
        s->stacks->Release(internal::StackOf(gp));
      }
      gp->fn = nullptr;
      delete rec;
    }
    s->allgs.clear();
  }
  s->counters.Add(internal::kReclaimed, reclaimed);
  // The pool outlives this Run: keep its floor of resident stacks for the
  // next one and return the rest to the OS.
  s->stacks->TrimToFloor();
  {
    Stats st = internal::CollectStats(s);
    std::lock_guard<std::mutex> l(internal::last_stats_mu);
    internal::last_stats = st;
  }
  internal::SetGoroutineDumper(nullptr);
  internal::TimersReset();
  internal::QueryUnpublish();
  sched = nullptr;
  for (M* mp = allm; mp != nullptr;) {
    M* next = mp->alllink;
    delete[] mp->steal_order;
    delete mp;
    mp = next;
  }
  // Every P ever allocated, live or destroyed by GOMAXPROCS(n) (AllP).
  for (int32_t i = 0; i < s->allp.allocated(); ++i) delete s->allp[i];
  owned.reset();
  internal::g_running.store(false);
}

void Go(absl::AnyInvocable<void() &&> fn) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  G* cur = internal::getg();
  if (cur == nullptr) {
    internal::Throw("gmp::Go called outside a runtime (not from a goroutine)");
  }
  internal::CheckPreemptAndFuzzYield();
  P* pp = cur->m->p;
  G* newg = internal::newproc1(pp, std::move(fn));
  if (pp != nullptr) {
    pp->counters.Bump(internal::kSpawned);
    internal::runqput(pp, newg, true);
    internal::WakeIfNeeded(/*published_by_rmw=*/internal::policy::kRunnext);
  } else {
    // Inside a Syscall: no P, so the global queue.
    sched->counters.Add(internal::kSpawned);
    {
      internal::LockGuard l(sched->lock);
      internal::globrunqput(newg);
    }
    internal::WakeIfNeeded();
  }
}

void Gosched() {
  G* gp = internal::getg();
  if (gp == nullptr) {
    internal::Throw(
        "gmp::Gosched called outside a runtime (not from a goroutine)");
  }
  internal::ExitPoint(gp);
  if (gp->m->p == nullptr) return;  // inside a Syscall
  if (internal::YieldDirect(gp)) return;
  internal::mcall(gp, internal::After::kYield);
}

int64_t GoroutineId() {
  G* gp = internal::getg();
  return gp != nullptr ? gp->goid : 0;
}

int NumGoroutine() {
  internal::QuerySched q;
  if (q.get() == nullptr) return 0;
  // The per-P counters are read one after another while goroutines start on
  // one P and end on another, so the sum can be off for a moment, even below
  // zero. Like Go's gcount, clamp it: at least the caller, when it is one.
  int64_t n = internal::LiveGoroutinesOf(q.get());
  const int64_t floor = internal::getg() != nullptr ? 1 : 0;
  return static_cast<int>(n < floor ? floor : n);
}

int GOMAXPROCS() {
  internal::QuerySched q;
  if (q.get() == nullptr) return internal::DefaultProcs();
  return q.get()->allp.size();
}

int GOMAXPROCS(int n) {
  if (n < 1) return GOMAXPROCS();
  G* gp = internal::getg();
  if (gp == nullptr) {
    internal::Throw(
        "gmp::GOMAXPROCS(n) called outside a runtime (not from a goroutine)");
  }
  if (gp->m->p == nullptr) {
    internal::Throw("gmp::GOMAXPROCS(n) called inside Syscall");
  }
  if (n > internal::kMaxProcs) n = internal::kMaxProcs;  // as Go clamps
  internal::StopTheWorld();
  const int prev = sched->allp.size();
  if (n != prev) internal::procresize(n);
  internal::StartTheWorld();
  return prev;
}

Stats ReadStats() {
  {
    internal::QuerySched q;
    if (q.get() != nullptr) return internal::CollectStats(q.get());
  }
  std::lock_guard<std::mutex> l(internal::last_stats_mu);
  Stats st = internal::last_stats;
  if (st.variant.empty()) st.variant = internal::policy::DescribeVariant();
  return st;
}

}  // namespace gmp
