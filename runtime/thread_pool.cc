// runtime/thread_pool.cc — the OS threads behind Ms and the runtime's
// service threads, kept across Runs.
//
// Creating and joining a thread is the largest fixed cost of a short Run
// (under ThreadSanitizer several times the cost of the Run's scheduling),
// so a thread outlives the Run it served:
//
//   * An M's thread (an MThread here) runs mstart for one M. When that M
//     ends at the end of a Run, the thread parks on the process's idle list
//     (at most kMaxIdleThreads of them) and the next Run's newm hands it a
//     fresh M instead of calling pthread_create. Run still waits for every
//     M: the thread publishes M.exited (release) after its last touch of
//     the M or the Sched, and Run waits for it (WaitMExited) before it frees
//     either; a thread not kept is joined as before.
//   * A thread is kept only when it is clean: its M is not dead (a goroutine
//     that exits locked takes its thread with it, as in Go) and no goroutine
//     is locked to it when the Run ends (an abandoned locked goroutine may
//     have changed the thread's state). Such threads exit and are joined.
//   * The runtime's own state on a kept thread is reset: mstart sets the
//     thread's M, g0 context, exception globals and errno location anew for
//     each M and clears the M pointer when the M ends. The alternate signal
//     stack and the timer slack belong to the thread and stay.
//   * The service threads are ServiceThreads, created by the first Run:
//     sysmon runs its body once per Run between Start and Stop and sleeps
//     in between; the trace thread is resident (it sleeps until a dump, a
//     SIGQUIT or a GMP_SCHEDTRACE tick asks for it, and a Run neither wakes
//     nor waits for it); so is the stack scavenger (stack_scavenger.h),
//     which a Run's end wakes and never waits for.
//
// The thread cap ($GMP_MAXTHREADS) counts the Ms of the current Run, so an
// idle pooled thread does not count. At process exit (atexit) the idle
// threads are woken and joined, so that nothing outlives the process's
// static state; a thread still serving a Run then (exit called from a
// goroutine) is left alone. A forked child has none of the parent's threads:
// the pool and the service threads start afresh there.
//
// What a program sees: the threads a Run used may run the next Run's
// goroutines, so a thread_local of the program keeps its value from one Run
// to the next on that thread (gmp.h), and threads stay in /proc/self/task
// between Runs.
#include "runtime/thread_pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <new>

#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/sched.h"
#include "runtime/signal_stack.h"

namespace gmp::internal {
namespace {

// kMaxIdleThreads bounds the idle M threads kept between Runs; a Run that
// used more joins the rest.
constexpr int32_t kMaxIdleThreads = 64;
constexpr size_t kMThreadStackSize = 1 << 20;

// MThread is one OS thread that runs Ms, one after another.
struct MThread {
  pthread_t thread{};
  Note wake;                   // StartMThread hands it an M: m, then Wakeup
  std::atomic<M*> m{nullptr};  // the M to run next; null: exit
  MThread* next = nullptr;     // the idle list (pool.lock)
};

struct Pool {
  Lock lock;
  MThread* idle ABSL_GUARDED_BY(lock) = nullptr;  // parked, waiting for an M
  int32_t nidle ABSL_GUARDED_BY(lock) = 0;
  bool shutdown ABSL_GUARDED_BY(lock) = false;  // process exit: keep none
  int64_t created ABSL_GUARDED_BY(lock) = 0;    // M threads ever created
};
constinit Pool pool;

// m_exit_seq is bumped after every M end (FinishM); WaitMExited sleeps on
// it. Process-wide, so an M's thread never touches freed memory to say it
// is done.
constinit std::atomic<uint32_t> m_exit_seq{0};

void FutexWait(std::atomic<uint32_t>* word, uint32_t seen) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE,
          seen, nullptr, nullptr, 0);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE,
          INT_MAX, nullptr, nullptr, 0);
}

void AtForkChild() ABSL_NO_THREAD_SAFETY_ANALYSIS;
void ShutdownAtExit();

// RegisterProcessHooks installs the atexit and fork handlers, once.
void RegisterProcessHooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(&ShutdownAtExit);
    pthread_atfork(nullptr, nullptr, &AtForkChild);
  });
}

// PoolPut parks t on the idle list, unless the list is full or the process
// exits; returns whether it did. t's thread, with t.wake cleared before.
bool PoolPut(MThread* t) {
  LockGuard l(pool.lock);
  if (pool.shutdown || pool.nidle >= kMaxIdleThreads) return false;
  t->next = pool.idle;
  pool.idle = t;
  ++pool.nidle;
  return true;
}

// FinishM publishes that mp's thread is done with mp and with the Sched:
// `kept`, whether the thread went back to the pool (else it exits and must
// be joined), then M.exited. The thread's last touch of mp.
void FinishM(M* mp, bool kept) {
  mp->thread_kept = kept;
  mp->exited.store(true, std::memory_order_release);
  // order: release needed on weakly ordered CPUs: orders exited before the seq
  // bump, or a waiter sleeps through the wake. Atomics only, so TSan cannot see
  // it.
  m_exit_seq.fetch_add(1, std::memory_order_release);
  FutexWakeAll(&m_exit_seq);
}

void* MThreadMain(void* arg) {
  auto* t = static_cast<MThread*>(arg);
  SetupSignalStack();
  // The M that sleeps until the next timer wakes when it is due, not up to
  // the default 50 us of timer slack later.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  for (;;) {
    // order: acquire is redundant: wake.Sleep pairs with StartMThread's Wakeup
    // after the store; a new thread is ordered by its creation. Kept
    // defensively.
    M* mp = t->m.exchange(nullptr, std::memory_order_acquire);
    if (mp == nullptr) break;  // process exit
    mstart(mp);
    // Clean for the next Run? Then park on the idle list before saying we
    // are done, so that the next Run finds this thread there.
    bool kept = !mp->dead && mp->lockedg == nullptr;
    if (kept) {
      t->wake.Clear();
      kept = PoolPut(t);
    }
    FinishM(mp, kept);  // mp may be freed from here on
    if (!kept) break;
    t->wake.Sleep();
  }
  TeardownSignalStack();
  delete t;
  return nullptr;
}

void JoinIdle() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  MThread* list;
  {
    LockGuard l(pool.lock);
    pool.shutdown = true;
    list = pool.idle;
    pool.idle = nullptr;
    pool.nidle = 0;
  }
  while (list != nullptr) {
    MThread* t = list;
    list = t->next;
    pthread_t th = t->thread;  // t deletes itself once woken
    t->wake.Wakeup();          // m is null: exit
    pthread_join(th, nullptr);
  }
}

}  // namespace

void StartMThread(M* mp) {
  RegisterProcessHooks();
  MThread* t = nullptr;
  {
    LockGuard l(pool.lock);
    if (pool.idle != nullptr) {
      t = pool.idle;
      pool.idle = t->next;
      t->next = nullptr;
      --pool.nidle;
    } else {
      ++pool.created;
    }
  }
  if (t != nullptr) {
    mp->thread = t->thread;
    // order: release is redundant: t->wake.Wakeup below publishes m. Kept
    // defensively.
    t->m.store(mp, std::memory_order_release);
    t->wake.Wakeup();  // publishes m and everything mp's creator wrote
    return;
  }
  t = new MThread;
  t->m.store(mp, std::memory_order_relaxed);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kMThreadStackSize);
  int err = pthread_create(&t->thread, &attr, &MThreadMain, t);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    Throw(absl::StrCat("newm: pthread_create failed: errno ", err));
  }
  mp->thread = t->thread;
}

void WaitMExited(M* mp) {
  for (;;) {
    // order: acquire needed on weakly ordered CPUs: keeps the exited load after
    // reading seen, or the futex wait misses FinishM's wake. Atomics only, so
    // TSan cannot see it.
    const uint32_t seen = m_exit_seq.load(std::memory_order_acquire);
    if (mp->exited.load(std::memory_order_acquire)) return;
    FutexWait(&m_exit_seq, seen);
  }
}

void JoinM(M* mp) {
  WaitMExited(mp);
  if (!mp->thread_kept) pthread_join(mp->thread, nullptr);
}

ThreadPoolStats ReadThreadPoolStats() {
  LockGuard l(pool.lock);
  return ThreadPoolStats{pool.created, pool.nidle};
}

// ---------------------------------------------------------------------------
// Service threads.

ServiceThread* ServiceThread::all_ = nullptr;

void ServiceThread::ShutdownAll() {
  for (ServiceThread* s = all_; s != nullptr; s = s->next_) s->Shutdown();
}

void ServiceThread::ForgetAllInChild() {
  for (ServiceThread* s = all_; s != nullptr; s = s->next_) {
    s->started_.store(false, std::memory_order_relaxed);
    s->active_.store(false, std::memory_order_relaxed);
  }
}

void ServiceThread::Start() {
  RegisterProcessHooks();
  if (quit_fn_ != nullptr) {  // resident: only create it
    if (started_.load(std::memory_order_relaxed)) return;
    if (!listed_) {
      next_ = all_;
      all_ = this;
      listed_ = true;
    }
    int err = pthread_create(&thread_, nullptr, &ServiceThread::Main, this);
    if (err != 0) {
      Throw(absl::StrCat(name_, ": pthread_create failed: errno ", err));
    }
    started_.store(true, std::memory_order_relaxed);
    return;
  }
  idle_.Clear();
  active_.store(true, std::memory_order_relaxed);
  if (!started_.load(std::memory_order_relaxed)) {
    go_.Clear();
    quit_.store(false, std::memory_order_relaxed);
    if (!listed_) {  // Run's thread; Runs do not overlap
      next_ = all_;
      all_ = this;
      listed_ = true;
    }
    int err = pthread_create(&thread_, nullptr, &ServiceThread::Main, this);
    if (err != 0) {
      Throw(absl::StrCat(name_, ": pthread_create failed: errno ", err));
    }
    started_.store(true, std::memory_order_relaxed);
  }
  go_.Wakeup();  // publishes what the caller set up for this Run
}

void ServiceThread::Stop() {
  if (quit_fn_ != nullptr) return;  // resident
  idle_.Sleep();  // the body returned: it no longer reads the Sched
  active_.store(false, std::memory_order_relaxed);
}

void* ServiceThread::Main(void* arg) {
  auto* self = static_cast<ServiceThread*>(arg);
  if (self->quit_fn_ != nullptr) {  // resident
    self->body_();
    return nullptr;
  }
  for (;;) {
    self->go_.Sleep();
    self->go_.Clear();  // Start wakes it again only after Stop saw idle_
    // order: acquire is redundant: go_.Sleep above pairs with Shutdown's Wakeup
    // after the store. Kept defensively.
    if (self->quit_.load(std::memory_order_acquire)) return nullptr;
    self->body_();
    self->idle_.Wakeup();
  }
}

void ServiceThread::Shutdown() {
  if (quit_fn_ != nullptr) {
    if (!started_.load(std::memory_order_relaxed)) return;
    quit_fn_();
    pthread_join(thread_, nullptr);
    started_.store(false, std::memory_order_relaxed);
    return;
  }
  if (!started_.load(std::memory_order_relaxed) ||
      active_.load(std::memory_order_relaxed)) {
    return;  // never started, or serving a Run that exit interrupted
  }
  // order: release is redundant: go_.Wakeup below publishes it. Kept
  // defensively.
  quit_.store(true, std::memory_order_release);
  go_.Wakeup();
  pthread_join(thread_, nullptr);
  started_.store(false, std::memory_order_relaxed);
}

namespace {

void ShutdownAtExit() {
  ServiceThread::ShutdownAll();
  JoinIdle();
}

// AtForkChild: the child has only the thread that forked. Forget the
// parent's idle threads (their MThreads leak, once per fork) and service
// threads, so that a Run in the child creates its own.
void AtForkChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  new (&pool.lock) Lock();
  pool.idle = nullptr;
  pool.nidle = 0;
  ServiceThread::ForgetAllInChild();
}

}  // namespace
}  // namespace gmp::internal
