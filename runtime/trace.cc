// runtime/trace.cc — observability: GMP_SCHEDTRACE and the SIGQUIT dump.
//
// GMP_SCHEDTRACE=<ms> prints, every <ms> milliseconds while a runtime runs, a
// line in the shape of Go's schedtrace:
//
//   SCHED 12ms: gomaxprocs=4 idleprocs=2 threads=5 spinningthreads=0
//   idlethreads=2 runqueue=0 [0 3 0 1]
//
// SIGQUIT (kill -QUIT, Ctrl-\) prints that line and every goroutine (id,
// status, wait reason, locked thread), then exits with status 2, as a Go
// program does. The signal handler only sets a flag and wakes the trace
// thread, which does the printing outside the handler.
//
// RequestSchedDump (trace.h) has the trace thread print the whole scheduler
// state (every P, M and goroutine) for hang reports such as the fuzz
// targets' watchdog.
#include "runtime/trace.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/note.h"
#include "runtime/proc.h"
#include "runtime/sched.h"
#include "runtime/thread_pool.h"

namespace gmp::internal {
namespace {

// The trace thread is resident (thread_pool.h): it reads the Sched only
// under trace_lock and while trace_on, which Run's thread sets and clears
// under it (TraceStart, TraceStop). So a Run neither wakes nor waits for the
// thread unless GMP_SCHEDTRACE asks for ticks.
Lock trace_lock;
bool trace_on ABSL_GUARDED_BY(trace_lock) = false;        // a Run is traced
bool trace_quit ABSL_GUARDED_BY(trace_lock) = false;      // process exit
int64_t trace_period_ns ABSL_GUARDED_BY(trace_lock) = 0;  // GMP_SCHEDTRACE
int64_t trace_next ABSL_GUARDED_BY(trace_lock) = 0;       // next tick (ns)
std::atomic<bool> sigquit{false};
Note trace_note;
int64_t trace_start = 0;  // Run's start (ns), for the lines' timestamps
struct sigaction old_quit;

void OnSigquit(int) {
  const int saved_errno = errno;  // the interrupted code's
  sigquit.store(true);
  trace_note.Wakeup();  // a futex call: async-signal-safe
  errno = saved_errno;
}

void PrintSchedLine() {
  std::string line;
  {
    LockGuard l(sched->lock);
    int32_t threads = static_cast<int32_t>(sched->mnext) - sched->nmdead;
    absl::StrAppend(&line, "SCHED ", (NanoTime() - trace_start) / 1000000,
                    "ms: gomaxprocs=", sched->allp.size(),
                    " idleprocs=", sched->npidle.load(), " threads=", threads,
                    " spinningthreads=", sched->nmspinning.load(),
                    " idlethreads=", sched->nmidle,
                    " runqueue=", sched->runqsize.load(), " [");
    // Live Ps only; a GOMAXPROCS(n) running meanwhile cannot free a P (see
    // AllP), so one snapshot of the count is enough.
    const int32_t nprocs = sched->allp.size();
    for (int32_t i = 0; i < nprocs; ++i) {
      P* pp = sched->allp[i];
      absl::StrAppend(&line, i == 0 ? "" : " ",
                      pp->runq.Size() + (pp->runq.Runnext() ? 1 : 0));
    }
    line += "]\n";
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

// Racy reads a field that other threads write without synchronising with
// the reader. DumpSchedState only: a best-effort dump of a runtime that may
// be hung, so it must not wait for the writers; TSan would stop the process
// at the first such read (halt_on_error) before the dump is out, so the
// read is not instrumented. Scalars and pointers only.
template <typename T>
__attribute__((no_sanitize("thread"), noinline)) T Racy(const T& field) {
  return field;
}

// TryLockFor takes `l` if it is free within about 100 ms. DumpSchedState.
bool TryLockFor(Lock& l) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (int i = 0; i < 1000; ++i) {
    if (l.try_lock()) return true;
    usleep(100);
  }
  return false;
}

// Goid names a G for the dump: its id, or -1 for null.
long long Goid(G* gp) {
  return gp == nullptr ? -1 : static_cast<long long>(Racy(gp->goid));
}

const char* PStatusName(PStatus st) {
  switch (st) {
    case PStatus::kIdle:
      return "idle";
    case PStatus::kRunning:
      return "running";
    case PStatus::kSyscall:
      return "syscall";
    case PStatus::kStop:
      return "stop";
    case PStatus::kDead:
      return "dead";
  }
  return "?";
}

// PrintGoroutines prints every live goroutine of s to `out`, one line each:
// id, status, wait reason and the thread it is locked to, in the shape of
// Go's traceback headers, each after a blank line (GoroutineDump); with
// `detail` (DumpSchedState), on consecutive lines, also the M it last ran
// on, its LockOSThread depth, a pending preemption and which one is main.
// allglock must be held.
void PrintGoroutines(Sched* s, FILE* out, bool detail)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->allglock) {
  for (GRecord* rec : s->allgs) {
    G* gp = &rec->g;
    // Acquire: pairs with newproc1's release, so goid is the new life's.
    // order: acquire needed on weakly ordered CPUs; goid is read through Racy,
    // so TSan cannot see it.
    GStatus st = gp->status.load(std::memory_order_acquire);
    if (st == GStatus::kDead || st == GStatus::kIdle) continue;
    std::fprintf(out, "%sgoroutine %lld [%s", detail ? "" : "\n", Goid(gp),
                 GStatusString(st));
    WaitReason why = gp->waitreason.load(std::memory_order_relaxed);
    if (st == GStatus::kWaiting && why != WaitReason::kNone) {
      std::fprintf(out, ", %s", WaitReasonString(why));
    }
    std::fprintf(out, "]:");
    if (M* m = detail ? Racy(gp->m) : nullptr) {
      std::fprintf(out, " m=M%lld", static_cast<long long>(Racy(m->id)));
    }
    if (M* lm = gp->lockedm.load(std::memory_order_relaxed)) {
      std::fprintf(out, " locked to thread %lld (M%lld)",
                   static_cast<long long>(lm->tid.load()),
                   static_cast<long long>(Racy(lm->id)));
      if (detail) std::fprintf(out, " lockcount=%u", Racy(gp->lockcount));
    }
    if (detail) {
      if (gp->preempt.load()) std::fprintf(out, " preempt");
      if (gp == s->main_g) std::fprintf(out, " (main)");
    }
    std::fprintf(out, "\n");
  }
}

std::atomic<bool> dump_request{false};  // RequestSchedDump asks
Note dump_done;                         // the trace thread has dumped

// DumpSchedState prints what RequestSchedDump (trace.h) promises. The trace
// thread only, under trace_lock while trace_on (which Run's thread sets
// under that lock after it built the Sched), and it takes sched.lock and
// allglock, so ThreadSanitizer sees its reads ordered after the objects'
// construction; a foreign thread (the fuzz watchdog) has no such order and
// TSan would stop it at its first read.
void DumpSchedState() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Sched* s = sched;
  if (s == nullptr) {
    std::fputs("sched dump: no runtime is running\n", stderr);
    return;
  }
  FILE* out = stderr;
  const int64_t now = NanoTime();
  const bool locked = TryLockFor(s->lock);
  std::fprintf(out, "sched dump at %lldms%s\n",
               static_cast<long long>((now - trace_start) / 1000000),
               locked ? "" : " (sched.lock busy: read without it)");
  const int32_t nprocs = s->allp.size();
  int32_t threads = static_cast<int32_t>(Racy(s->mnext)) - Racy(s->nmdead);
  std::fprintf(
      out,
      "SCHED gomaxprocs=%d idleprocs=%d threads=%d spinningthreads=%d "
      "idlethreads=%d runqueue=%d nmsyscall=%d gcwaiting=%d stopwait=%d "
      "exiting=%d main_started=%d timer_sleeper=%d\n",
      nprocs, s->npidle.load(), threads, s->nmspinning.load(), Racy(s->nmidle),
      s->runqsize.load(), s->nmsyscall.load(), s->gcwaiting.load(),
      s->stopwait.load(), s->exiting.load(), s->main_started.load(),
      s->timer_sleeper.load());
  int64_t next = NextTimer();
  if (next == 0) {
    std::fprintf(out, "timers: none pending\n");
  } else {
    std::fprintf(out, "timers: next in %lldus\n",
                 static_cast<long long>((next - now) / 1000));
  }
  std::fprintf(out, "global runq:");
  int shown = 0;
  for (G* gp = Racy(s->runq_head); gp != nullptr && shown < 32;
       gp = Racy(gp->schedlink), ++shown) {
    std::fprintf(out, " %lld", Goid(gp));
  }
  std::fprintf(out, "%s\n", shown == 32 ? " ..." : "");
  std::fprintf(out, "pidle:");
  shown = 0;
  for (P* pp = Racy(s->pidle); pp != nullptr && shown <= kMaxProcs;
       pp = Racy(pp->link), ++shown) {
    std::fprintf(out, " P%d", Racy(pp->id));
  }
  std::fprintf(out, "\n");
  for (int32_t i = 0; i < s->allp.allocated(); ++i) {
    P* pp = s->allp[i];
    M* holder = Racy(pp->m);
    M* sm = pp->syscall_m.load();
    std::fprintf(
        out,
        "  P%d: status=%s m=%lld runq=%u runnext=%lld syscall_m=%lld "
        "schedtick=%u syscalltick=%u%s\n",
        i, PStatusName(pp->status.load()),
        holder == nullptr ? -1LL : static_cast<long long>(Racy(holder->id)),
        pp->runq.Size(), Goid(pp->runq.Runnext()),
        sm == nullptr ? -1LL : static_cast<long long>(Racy(sm->id)),
        pp->schedtick.load(), pp->syscalltick.load(),
        i >= nprocs ? " (beyond GOMAXPROCS)" : "");
  }
  for (M* mp = Racy(s->allm); mp != nullptr; mp = Racy(mp->alllink)) {
    bool idle = false;
    int guard = 0;
    for (M* q = Racy(s->midle); q != nullptr && guard < 100000;
         q = Racy(q->schedlink), ++guard) {
      if (q == mp) idle = true;
    }
    P* pp = Racy(mp->p);
    P* nextp = mp->nextp.load();
    P* oldp = Racy(mp->oldp);
    std::fprintf(
        out,
        "  M%lld: tid=%lld p=%d nextp=%d oldp=%d curg=%lld lockedg=%lld "
        "spinning=%d wake_spinning=%d in_syscall=%d idle=%d park=%s "
        "dead=%d exited=%d exectick=%u\n",
        static_cast<long long>(Racy(mp->id)),
        static_cast<long long>(mp->tid.load()),
        pp == nullptr ? -1 : Racy(pp->id),
        nextp == nullptr ? -1 : Racy(nextp->id),
        oldp == nullptr ? -1 : Racy(oldp->id), Goid(mp->curg.load()),
        Goid(Racy(mp->lockedg)), Racy(mp->spinning), mp->wake_spinning.load(),
        mp->in_syscall.load(), idle, mp->park.Woken() ? "woken" : "clear",
        Racy(mp->dead), mp->exited.load(), mp->exectick.load());
  }
  if (locked) s->lock.unlock();
  if (!TryLockFor(s->allglock)) {
    std::fprintf(out, "(goroutine list skipped: allglock busy)\n");
    std::fflush(out);
    return;
  }
  PrintGoroutines(s, out, /*detail=*/true);
  s->allglock.unlock();
  std::fflush(out);
}

// TraceMain is the trace thread's life: until process exit, it serves dump
// requests, SIGQUIT and GMP_SCHEDTRACE ticks of the Run being traced.
void TraceMain() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (;;) {
    // Clear before looking: a Wakeup after this is not lost, and every
    // reason to wake is a flag looked at below.
    trace_note.Clear();
    int64_t wait = -1;  // none: sleep until woken
    {
      LockGuard l(trace_lock);
      if (trace_quit) return;
      const bool request = dump_request.exchange(false);
      if (trace_on) {
        if (request) {
          DumpSchedState();
          dump_done.Wakeup();
        }
        if (sigquit.load()) {
          std::fputs("SIGQUIT: quit\n", stderr);
          PrintSchedLine();
          GoroutineDump();
          _exit(2);
        }
        if (trace_period_ns > 0) {
          const int64_t now = NanoTime();
          if (now >= trace_next) {
            PrintSchedLine();
            trace_next += trace_period_ns;
          }
          wait = trace_next > now ? trace_next - now : 0;
        }
      }
    }
    if (wait < 0) {
      trace_note.Sleep();
    } else if (wait > 0) {
      trace_note.SleepFor(wait);
    }
  }
}

void TraceQuit() {
  {
    LockGuard l(trace_lock);
    trace_quit = true;
  }
  trace_note.Wakeup();
}

constinit ServiceThread trace_thread("trace thread", &TraceMain, &TraceQuit);

}  // namespace

// GoroutineDump prints every goroutine (id, status, wait reason, locked
// thread) to stderr: Throw's dump (SetGoroutineDumper) and SIGQUIT's. Best
// effort: it does not wait long for allglock.
void GoroutineDump() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Sched* s = sched;
  if (s == nullptr) return;
  if (!TryLockFor(s->allglock)) {
    std::fprintf(stderr, "\n(goroutine dump skipped: allglock busy)\n");
    return;
  }
  PrintGoroutines(s, stderr, /*detail=*/false);
  s->allglock.unlock();
  std::fflush(stderr);
}

bool RequestSchedDump() {
  dump_done.Clear();
  dump_request.store(true);
  trace_note.Wakeup();
  return dump_done.SleepFor(5ll * 1000 * 1000 * 1000);
}

void TraceStart() {
  int64_t period_ms = 0;
  if (const char* env = std::getenv("GMP_SCHEDTRACE")) {
    period_ms = std::atoll(env);
  }
  sigquit.store(false);
  const int64_t period_ns = period_ms > 0 ? period_ms * 1000000 : 0;
  {
    LockGuard l(trace_lock);
    trace_start = NanoTime();
    trace_on = true;
    trace_period_ns = period_ns;
    trace_next = trace_start + period_ns;
  }
  trace_thread.Start();                    // the first Run creates it
  if (period_ns > 0) trace_note.Wakeup();  // ticks from now on
  struct sigaction sa = {};
  sa.sa_handler = &OnSigquit;
  sigemptyset(&sa.sa_mask);
  // On the M's alternate signal stack (signal_stack.h): the interrupted
  // goroutine's stack may not have room for a signal frame.
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  sigaction(SIGQUIT, &sa, &old_quit);
}

void TraceStop() {
  sigaction(SIGQUIT, &old_quit, nullptr);
  LockGuard l(trace_lock);  // waits for a dump in progress
  trace_on = false;
  trace_period_ns = 0;
}

}  // namespace gmp::internal
