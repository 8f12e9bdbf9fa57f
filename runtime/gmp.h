// runtime/gmp.h — the public API of the gmplab runtime.
//
// gmplab runs goroutines (G) on OS threads (M) through processors (P), the way
// Go's runtime does. This header is a contract: benchmarks, fuzzers and outside
// programs are written against it. Link it through a variant, e.g.
// `//variants:go_default`; `//runtime:gmp` is the same as go_default.
//
//   gmp::Run([] {
//     gmp::WaitGroup wg;
//     gmp::Chan<int> ch(1);
//     wg.Add(1);
//     gmp::Go([&] { ch.Send(42); wg.Done(); });
//     wg.Wait();
//     assert(*ch.Recv() == 42);
//   });
//
// Misuse (Go outside a runtime, send on a closed channel, unlock of an
// unlocked Mutex, a deadlock, ...) prints a Go-style `fatal error: ...` to
// stderr and aborts. It never hangs and never corrupts silently.
//
// Per-thread state. A goroutine may resume on another OS thread after any
// runtime call (Gosched, channel operations, Mutex, WaitGroup, Sleep,
// Syscall, LockOSThread, Go, ...) and whenever it is preempted at one.
// What follows the goroutine, switched with it at every switch:
//   - the C++ exception state (__cxa_get_globals(): the caught-exception
//     stack and the uncaught count), so `throw;`, std::current_exception()
//     and std::uncaught_exceptions() are right in a handler, or in a
//     destructor run by unwinding, that blocked in between;
//   - errno: after a runtime call, errno is what the goroutine left before
//     it (the runtime's own system calls do not change it), and after
//     Syscall what the blocking call left. One caveat: glibc declares
//     __errno_location() const, so within one function a compiler may reuse
//     the errno address it computed before a runtime call. Read errno right
//     after the call that set it, or in a separate (non-inlined) function.
// What does not follow: every `thread_local` of the program and its
// libraries. gmplab cannot know them, and copying them at each switch would
// cost every switch; a thread_local read after a runtime call may belong to
// another goroutine's thread, so keep per-goroutine state in the
// goroutine's own variables (or pin it with LockOSThread). The same holds
// for other per-thread kernel state: signal mask, CPU affinity, thread id.
#ifndef GMPLAB_RUNTIME_GMP_H_
#define GMPLAB_RUNTIME_GMP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "runtime/sched_counters.h"

namespace gmp {

// Options configures one Run. Zero means "the default": procs comes from
// $GMP_MAXPROCS, else the number of CPUs the calling thread may run on (its
// sched_getaffinity mask, as Go counts them: 1 under `taskset -c 0`);
// stack_size is the variant's stack size.
struct Options {
  int procs = 0;
  size_t stack_size = 0;
};

// Run starts a runtime, runs `main` as the main goroutine and returns when
// main returns, as a Go program exits. Goroutines still alive then are counted
// in the stats and reclaimed without unwinding (their destructors do not
// run): from the moment main returns, every runtime call of another
// goroutine, blocking or not (Go, Gosched, Sleep, Syscall, LockOSThread,
// UnlockOSThread and every Chan, Mutex and WaitGroup operation, TryRecv,
// TrySend and TryLock included), is where it stops, and a goroutine that
// had not run yet, or was waiting, never runs user code again. Two kinds
// delay Run's return: a goroutine inside a Syscall's blocking call (until
// the call returns) and a goroutine that loops without making any runtime
// call at all (the queries GoroutineId, NumGoroutine, GOMAXPROCS() and
// ReadStats do not count). Run may be called again and again in one
// process, but not from inside a goroutine. The OS threads of a Run's Ms,
// sysmon and the trace thread are kept for the next Run (at most 64 idle
// M threads), except a thread whose goroutine exited locked or was still
// locked when main returned: those exit, as in Go. So threads stay in
// /proc/self/task between Runs, and a thread_local of the program may keep
// its value from one Run to the next. $GMP_MAXTHREADS counts the Ms of the
// current Run only, not idle threads kept from earlier Runs.
void Run(absl::AnyInvocable<void() &&> main, Options options = {});

// Go starts `fn` as a new goroutine. Must be called from a goroutine.
void Go(absl::AnyInvocable<void() &&> fn);

// Gosched yields the processor, letting other goroutines run.
void Gosched();

// LockOSThread wires the calling goroutine to its current thread: it will
// only run there, and the thread runs nothing else, until UnlockOSThread has
// been called as many times. A goroutine that exits while locked takes its
// thread with it.
void LockOSThread();
void UnlockOSThread();

// GoroutineId returns the calling goroutine's id (main is 1).
int64_t GoroutineId();
// NumGoroutine, GOMAXPROCS() and ReadStats are queries: callable from any
// thread at any time, also while another thread's Run starts or returns
// (Run waits for queries in progress before it frees what they read).
//
// NumGoroutine returns the number of goroutines that exist now (0 outside a
// runtime). While goroutines start and end it is a snapshot that may be off
// by those in flight; it is never below 0, nor below 1 from a goroutine.
int NumGoroutine();
// GOMAXPROCS returns the number of Ps of the current runtime (outside a
// runtime: the number a Run with default Options would get).
int GOMAXPROCS();
// GOMAXPROCS(n) sets the number of Ps to n and returns the previous number,
// as Go's runtime.GOMAXPROCS: n < 1 only queries (callable anywhere, like
// GOMAXPROCS()); n above 1024, the runtime's maximum (also the cap of
// Options.procs and $GMP_MAXPROCS), is clamped to it, as Go clamps to its
// _MaxGomaxprocs. Setting must be called from a goroutine holding a P: from
// outside a runtime or inside Syscall it is a fatal error. It stops the
// world (every goroutine pauses at its next scheduling point or runtime
// call), then Ps are added, or removed with their queued goroutines moved to
// the global run queue, and the world restarts; goroutines blocked, sleeping
// or in a Syscall meanwhile are unaffected. The caller may resume on another
// P. A goroutine looping without runtime calls delays it indefinitely.
int GOMAXPROCS(int n);

// Sleep parks the calling goroutine for at least `d`. A zero or negative `d`
// returns at once (after honouring a pending preemption request, without
// yielding). A huge `d` (beyond about 146 years) sleeps until that cap; like
// any pending timer it keeps the runtime from being reported as deadlocked.
// absl::InfiniteDuration() parks the goroutine with no timer at all: it
// never wakes, and when every goroutine is asleep that way the runtime dies
// with "fatal error: all goroutines are asleep - deadlock!" (gmplab's
// choice; Go has no infinite duration, and `select {}` behaves so).
void Sleep(absl::Duration d);

namespace internal {
void entersyscall();
void exitsyscall();
}  // namespace internal

namespace internal {
// CallBlocking runs Syscall's call in a frame of its own. Inlined into the
// caller, a call that sets errno would leave its errno address (that of the
// thread the call ran on) for the compiler to reuse when the caller reads
// errno after Syscall, on the thread exitsyscall resumed it on.
template <class F>
[[gnu::noinline]] auto CallBlocking(F&& blocking_call) {
  return std::forward<F>(blocking_call)();
}
}  // namespace internal

// Syscall runs a blocking call with the P released, so other goroutines run
// meanwhile (Go's entersyscall/exitsyscall). Returns what the call returns;
// errno afterwards is what the call left (see "Per-thread state" above):
// `n = Syscall([&] { return read(fd, buf, len); }); if (n < 0) use(errno);`
// is right even when the goroutine resumes on another thread.
template <class F>
auto Syscall(F&& blocking_call) {
  struct Exit {
    ~Exit() { internal::exitsyscall(); }
  };
  internal::entersyscall();
  Exit exit;
  return internal::CallBlocking(std::forward<F>(blocking_call));
}

// Stats are the runtime's counters over the running Run (ReadStats while a
// runtime runs, from any thread) or over the last Run (outside one; all
// zero before the first). Its counter fields are GMP_SCHED_COUNTERS's.
struct Stats {
#define GMP_STATS_FIELD(Enum, field, per_op, meaning) int64_t field = 0;
  GMP_SCHED_COUNTERS(GMP_STATS_FIELD)
#undef GMP_STATS_FIELD
  // Goroutine stacks of this runtime's pool, which is shared by every Run of
  // the process (so these count since the process started, not per Run):
  int64_t stacks_fresh = 0;     // carved from new memory
  int64_t stacks_reused = 0;    // handed out again, pages still resident
  int64_t stacks_refilled = 0;  // handed out again after their pages went back
  int64_t stacks_returned = 0;  // free stacks whose pages went back to the OS
  int64_t stacks_resident_free = 0;  // free stacks kept resident, now
  std::string variant;         // the policy choices this runtime was built with
};
Stats ReadStats();

}  // namespace gmp

#include "runtime/chan.h"       // IWYU pragma: export
#include "runtime/mutex.h"      // IWYU pragma: export
#include "runtime/select.h"     // IWYU pragma: export
#include "runtime/timer.h"      // IWYU pragma: export
#include "runtime/waitgroup.h"  // IWYU pragma: export

#endif  // GMPLAB_RUNTIME_GMP_H_
