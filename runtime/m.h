// runtime/m.h — M, an OS thread that runs goroutines.
//
// Each M has a scheduler context, g0, on the thread's own stack: schedule()
// runs there. A goroutine switches to g0 to park, yield or exit, leaving in
// M.after what g0 must do with it (Go's mcall fn); Gosched may instead switch
// straight to the next goroutine of the M's P (YieldDirect, yield.cc). An M
// without work parks on its note (stopm, idle.cc); an M whose goroutine is
// locked to it (LockOSThread) runs only that goroutine.
//
// Ownership: all non-atomic fields belong to the M's own thread, except
// schedlink and alllink (sched.lock). Whoever wakes it from stopm writes the
// atomics nextp and wake_spinning before Wakeup; the M takes them after it
// (and sets its own `spinning` from wake_spinning).
#ifndef GMPLAB_RUNTIME_M_H_
#define GMPLAB_RUNTIME_M_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "runtime/context.h"
#include "runtime/g.h"
#include "runtime/note.h"

namespace gmp::internal {

struct P;

// After is what g0 does with the goroutine that just switched out.
enum class After : uint32_t {
  kNone,
  kPark,         // gopark: run unlockf, leave it waiting
  kYield,        // Gosched: on the global run queue's tail
  kGoyield,      // goyield: on the local run queue's tail
  kPreempt,      // preempted by sysmon / stop-the-world: global run queue
  kExit,         // it returned: free it
  kExitSyscall,  // exitsyscall found no P: queue it globally and stop
  kAbandon,      // the runtime is exiting: leave it where it is
};

struct M {
  int64_t id = 0;                 // 0, 1, ... in creation order
  Context g0;                     // the scheduler context on the thread's stack
  std::atomic<G*> curg{nullptr};  // the goroutine it runs, null on g0 (read
                                  // by getg and by mainexit/sysmon)
  P* p = nullptr;                 // the P it holds, or null
  // P handed over by startm/startlockedm/handofflockedp/readylocked: stored
  // with release, taken with acquire, so that taking it is ordered after the
  // giver's releasep even when the sleeper was woken by someone else (Run's
  // exit nudge) before the giver's Wakeup.
  std::atomic<P*> nextp{nullptr};
  std::atomic<bool> wake_spinning{false};  // startm: start spinning
  P* oldp = nullptr;                       // P it held before a Syscall
  bool spinning = false;       // looking for work to steal (counted in
                               // sched.nmspinning)
  G* lockedg = nullptr;        // goroutine locked to this thread, or null
  bool dead = false;           // the thread exits (a locked G exited on it)
  After after = After::kNone;  // set by the G, read by g0
  // Gosched's direct switch (yield.cc, YieldDirect): the G that yielded
  // straight to the G now running on this M, for the resumed side to queue
  // once the yielder's context is saved; and a G taken from the local queue
  // that must not be switched to directly (fresh, or locked to another M),
  // for g0 to run next instead. Both belong to the M's thread.
  G* yielded = nullptr;
  G* yield_next = nullptr;
  bool (*unlockf)(G*, void*) = nullptr;  // gopark's, for g0
  void* unlock_arg = nullptr;
  Note park;                          // stopm / stoplockedm sleep here
  std::atomic<uint32_t> exectick{0};  // bumped when a new time slice
                                      // starts (execute); read by sysmon
  uint32_t sysmon_tick = 0;           // exectick sysmon saw last (sysmon only)
  int64_t sysmon_when = 0;            // when sysmon saw it change (sysmon only)
  M* schedlink = nullptr;             // sched.midle list (owner: sched.lock)
  M* alllink = nullptr;               // sched.allm list (owner: sched.lock)
  std::atomic<int64_t> tid{0};        // OS thread id, once started
  pthread_t thread{};                 // the thread that runs it
  std::atomic<bool> in_syscall{false};  // between entersyscall and exitsyscall
  std::atomic<bool> exited{false};      // its thread is done with it and
                                        // the Sched (WaitMExited)
  bool thread_kept = false;             // its thread went back to the pool
                                        // (else it exits); exited publishes
  uint32_t* steal_order = nullptr;      // scratch for the steal order
  uint32_t steal_order_cap = 0;         // its length (>= GOMAXPROCS when
                                        // used; stealWork regrows it)
  uint64_t rand_state = 0;              // fastrand
  // The thread's C++ exception globals and errno, whose addresses are fixed
  // for the thread's life (set in mstart, on the thread): execute swaps the
  // goroutine's copies in and out through them.
  CxaEhGlobals* eh_globals = nullptr;
  int* errno_location = nullptr;
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_M_H_
