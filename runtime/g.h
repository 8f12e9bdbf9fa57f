// runtime/g.h — G, a goroutine.
//
// A G is a function with its own stack and saved machine context. G structs
// are never freed while a runtime runs: a dead G goes onto a free list (its
// P's, then the global one) and is reused by a later Go.
//
// Stacks are bound lazily: gmp::Go only records the function (G.fresh). The
// G gets a stack and its first context when an M first executes it: the
// stack of the most recently freed G on that P (which then stays on the free
// list without one), else one from the pool. So a G that is queued and never
// ran holds no stack (unless it was reused with one, see gfget in gfree.cc),
// and a G that ran keeps its stack until it dies and past that, on the free
// list, until a new G takes it or gfput hands it back to the pool (beyond
// kGfreeStackMax dead Gs with stacks on the global list).
//
// Ownership: a running G is owned by the M that runs it (G.m). A runnable G
// is owned by the run queue it sits in; a waiting G by whatever will ready it
// (a channel's wait queue, a timer, a WaitGroup, ...), and that owner may use
// `param` and `schedlink`. A dead G is owned by a free list.
#ifndef GMPLAB_RUNTIME_G_H_
#define GMPLAB_RUNTIME_G_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "runtime/proc.h"

namespace gmp::internal {

struct M;
struct Context;  // runtime/context.h

// GStatus is a goroutine's state, as Go's _Gidle, _Grunnable, ...
enum class GStatus : uint32_t {
  kIdle,      // just allocated, not yet initialised
  kRunnable,  // in a run queue, not running
  kRunning,   // running on an M that holds a P (or about to)
  kSyscall,   // in a blocking call (Syscall), its M has no P or may lose it
  kWaiting,   // parked by gopark; see waitreason
  kDead,      // finished, on a free list
};

// GStatusString returns Go's name for `s`: "runnable", "running", ...
const char* GStatusString(GStatus s);

// CxaEhGlobals is the C++ ABI's per-thread exception state, as
// __cxa_get_globals() returns it (struct __cxa_eh_globals, the same layout
// in libstdc++ and libc++abi on x86-64): the stack of caught exceptions
// (what `throw;` and std::current_exception() see) and the number of
// exceptions thrown but not yet caught (std::uncaught_exceptions()).
struct CxaEhGlobals {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

struct G {
  // --- Fields the synchronisation layer may use. ---
  int64_t goid = 0;                             // unique id, main is 1
  std::atomic<GStatus> status{GStatus::kIdle};  // see GStatus
  // why parked (kWaiting); atomic because the goroutine dump (SIGQUIT,
  // checkdead) reads it from another thread
  std::atomic<WaitReason> waitreason{WaitReason::kNone};
  void* param = nullptr;   // free for the owner of a waiting G (sudog, ...)
  G* schedlink = nullptr;  // intrusive link: run queues, wait lists, free lists

  // --- Scheduler-private fields. ---
  M* m = nullptr;  // the M running it, while running (owner: that M)
  std::atomic<M*> lockedm{nullptr};  // the M it is wired to by LockOSThread
                                     // (written by the G; read by dumps)
  uint32_t lockcount = 0;  // LockOSThread nesting depth (owner: the G)
  std::atomic<bool> preempt{false};  // sysmon asks it to yield (set: sysmon)
  bool fresh = false;  // spawned, never run: execute binds a stack (if it has
                       // none) and makes ctx before the first switch
  void* stack_lo = nullptr;  // its stack, or null when it has none
  size_t stack_size = 0;
  absl::AnyInvocable<void() &&> fn;  // what it runs (owner: the G)
  Context* ctx = nullptr;  // its saved machine context; allocated together
                           // with the G (see sched.h), never freed apart
  // Per-thread state that follows the goroutine (gmp.h): its copy while it
  // is switched out, saved and restored by execute (proc.cc).
  CxaEhGlobals eh;
  int saved_errno = 0;
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_G_H_
