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
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/note.h"
#include "runtime/sched.h"

namespace gmp::internal {
namespace {

pthread_t trace_thread;
std::atomic<bool> trace_stop{false};
std::atomic<bool> sigquit{false};
Note trace_note;
int64_t trace_start = 0;
struct sigaction old_quit;

void OnSigquit(int) {
  sigquit.store(true);
  trace_note.Wakeup();  // a futex call: async-signal-safe
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

void* TraceMain(void* arg) {
  int64_t period_ns = *static_cast<int64_t*>(arg);
  delete static_cast<int64_t*>(arg);
  int64_t next = NanoTime() + period_ns;
  while (!trace_stop.load(std::memory_order_acquire)) {
    int64_t wait = period_ns > 0 ? next - NanoTime() : 100 * 1000 * 1000;
    if (wait > 0) trace_note.SleepFor(wait);
    trace_note.Clear();
    if (sigquit.load()) {
      std::fputs("SIGQUIT: quit\n", stderr);
      PrintSchedLine();
      GoroutineDump();
      _exit(2);
    }
    if (period_ns > 0 && NanoTime() >= next) {
      PrintSchedLine();
      next += period_ns;
    }
  }
  return nullptr;
}

}  // namespace

void TraceStart() {
  int64_t period_ms = 0;
  if (const char* env = std::getenv("GMP_SCHEDTRACE")) {
    period_ms = std::atoll(env);
  }
  trace_start = NanoTime();
  trace_stop.store(false);
  sigquit.store(false);
  trace_note.Clear();
  struct sigaction sa = {};
  sa.sa_handler = &OnSigquit;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGQUIT, &sa, &old_quit);
  pthread_create(&trace_thread, nullptr, &TraceMain,
                 new int64_t(period_ms > 0 ? period_ms * 1000000 : 0));
}

void TraceStop() {
  trace_stop.store(true, std::memory_order_release);
  trace_note.Wakeup();
  pthread_join(trace_thread, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
}

}  // namespace gmp::internal
