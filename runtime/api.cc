// runtime/api.cc — the public API of runtime/gmp.h that the scheduler
// itself provides: Run, Go, Gosched, GoroutineId, NumGoroutine, GOMAXPROCS
// and ReadStats.
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/lock.h"
#include "runtime/sanitizer.h"
#include "runtime/sched.h"
#include "runtime/signal_stack.h"
#include "runtime/stack.h"
#include "runtime/stack_scavenger.h"
#include "runtime/stw.h"
#include "runtime/thread_pool.h"

namespace gmp {
namespace internal {
namespace {

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

std::atomic<bool> g_running{false};

}  // namespace
}  // namespace internal

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
  internal::QueryPublish(s);
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
    // order: release is redundant: sched.lock orders main_g for checkdead,
    // which runs under it. Kept defensively (once per Run).
    s->main_started.store(true, std::memory_order_release);
  }
  // The monitors (and the SIGQUIT handler) are in place before main can run.
  internal::SysmonStart();
  internal::TraceStart();
  internal::StackScavengerStart();
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
  // The pool outlives this Run: its free stacks stay resident for a window,
  // for a Run that follows soon, and the scavenger then returns all but the
  // floor to the OS (stack_scavenger.h).
  internal::StackScavengerRunEnded(s->stacks);
  internal::SaveLastStats(s);
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
  Stats st = internal::LastStats();
  if (st.variant.empty()) st.variant = internal::policy::DescribeVariant();
  return st;
}

}  // namespace gmp
