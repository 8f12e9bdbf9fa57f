// runtime/sysmon.cc — sysmon, the runtime's monitor thread.
//
// A plain thread (not an M: it never holds a P or runs goroutines) that
// wakes every millisecond or so and
//   * asks a goroutine that has run for more than 10 ms without a new time
//     slice (its M's exectick unchanged) to yield: it sets G.preempt, which
//     CheckPreemptAndFuzzYield honours at the goroutine's next runtime call.
//     A runnext ping-pong chain inherits its time slice, so it is bounded
//     the same way (as Go's time-slice inheritance);
//   * fires due timers when no M got to them (every P busy), readying their
//     goroutines into the global run queue.
//   * retakes Ps held in a Syscall for more than 20 us (RetakeSyscallPs in
//     syscall.cc) and hands them off.
#include <pthread.h>

#include <atomic>

#include "runtime/gmp.h"
#include "runtime/note.h"
#include "runtime/sched.h"

namespace gmp::internal {
namespace {

constexpr int64_t kForcePreemptNs = 10 * 1000 * 1000;  // Go's forcePreemptNS

pthread_t sysmon_thread;
std::atomic<bool> sysmon_stop{false};
Note sysmon_note;

void Retake(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  for (M* mp = sched->allm; mp != nullptr; mp = mp->alllink) {
    G* gp = mp->curg.load(std::memory_order_acquire);
    uint32_t tick = mp->exectick.load(std::memory_order_relaxed);
    if (gp == nullptr || tick != mp->sysmon_tick) {
      mp->sysmon_tick = tick;
      mp->sysmon_when = now;
      continue;
    }
    if (now - mp->sysmon_when > kForcePreemptNs &&
        !mp->in_syscall.load(std::memory_order_relaxed)) {
      gp->preempt.store(true, std::memory_order_relaxed);
      mp->sysmon_when = now;  // ask again in another 10 ms if ignored
    }
  }
}

void* SysmonMain(void*) {
  while (!sysmon_stop.load(std::memory_order_acquire)) {
    int64_t now = NanoTime();
    {
      LockGuard l(sched->lock);
      Retake(now);
    }
    bool in_syscall = RetakeSyscallPs(now);
    int64_t next = NextTimer();
    if (next != 0 && next + 1000 * 1000 < now) {
      // Overdue by more than 1 ms: the Ms are too busy to notice.
      CheckTimers(now);
    }
    bool idle = sched->npidle.load(std::memory_order_relaxed) ==
                sched->allp.size();
    // Poll fast (20 us) while a P sits in a syscall, so it is retaken soon
    // after 20 us; else 1 ms, or 10 ms when every P is idle.
    sysmon_note.SleepFor(in_syscall ? 20 * 1000
                                    : (idle ? 10 * 1000 * 1000 : 1000 * 1000));
  }
  return nullptr;
}

}  // namespace

void SysmonStart() {
  sysmon_stop.store(false);
  sysmon_note.Clear();
  pthread_create(&sysmon_thread, nullptr, &SysmonMain, nullptr);
}

void SysmonStop() {
  sysmon_stop.store(true, std::memory_order_release);
  sysmon_note.Wakeup();
  pthread_join(sysmon_thread, nullptr);
}

}  // namespace gmp::internal
