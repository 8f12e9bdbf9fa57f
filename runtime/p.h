// runtime/p.h — P, a processor: the right to run goroutines.
//
// There are exactly GOMAXPROCS Ps (sched.allp.size()); GOMAXPROCS(n) changes
// the number with the world stopped (procresize.cc). A P destroyed by
// a shrink stays allocated, kDead, until Run ends (see AllP in sched.h), and
// a later growth reuses it. An M must hold a P to run Go code. A P
// carries the state that should be local to one running thread: the local
// run queue with its runnext slot, a cache of free Gs, a goroutine-id cache
// and the hot counters.
//
// Ownership: only the M that holds the P (P.m) touches its non-atomic
// fields; an idle P (on sched.pidle) is owned by sched.lock. runq is shared
// with thieves through its own lock-free protocol (runq.h). status is
// atomic because thieves and stop-the-world read it.
#ifndef GMPLAB_RUNTIME_P_H_
#define GMPLAB_RUNTIME_P_H_

#include <atomic>
#include <cstdint>

#include "runtime/g.h"
#include "runtime/policy/config.h"
#include "runtime/runq.h"
#include "runtime/stats.h"

namespace gmp::internal {

struct M;

enum class PStatus : uint32_t {
  kIdle,     // on sched.pidle, no M
  kRunning,  // held by an M running goroutines or the scheduler
  kSyscall,  // its M is in a blocking call; sysmon may retake it
  kStop,     // stopped by stop-the-world
  kDead,     // beyond GOMAXPROCS after a shrink: no M, empty queue and
             // free list; kept allocated for late readers (sched.h AllP)
};

using LocalRunQueue = RunQueue<G, policy::kRunqSize>;

struct P {
  int32_t id = 0;                               // index in sched.allp
  std::atomic<PStatus> status{PStatus::kIdle};  // see PStatus
  M* m = nullptr;                               // holder (owner: holder)
  P* link = nullptr;                   // sched.pidle list (owner: sched.lock)
  std::atomic<uint32_t> schedtick{0};  // bumped by every execute that does
                                       // not inherit a time slice (owner;
                                       // read by sysmon)
  uint32_t lifo_runs = 0;              // consecutive runs from runnext (owner)
  std::atomic<M*> syscall_m{nullptr};  // the M in a Syscall holding this
                                       // P; whoever CASes it to null
                                       // (that M, sysmon, stop-the-world)
                                       // owns the P
  std::atomic<uint32_t> syscalltick{0};  // bumped by each entersyscall
  uint32_t sysmon_syscalltick = 0;       // syscalltick sysmon saw last (sysmon)
  int64_t sysmon_syscallwhen = 0;        // when sysmon saw it change (sysmon)
  G* gfree = nullptr;                    // local free Gs with stacks (owner)
  int32_t gfree_count = 0;
  int64_t goid_next = 0;  // goroutine-id cache [next, end) (owner)
  int64_t goid_end = 0;
  Counters counters;   // hot counters (Bump by owner)
  LocalRunQueue runq;  // local run queue + runnext
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_P_H_
