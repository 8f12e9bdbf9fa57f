// runtime/sysmon.cc — sysmon, the runtime's monitor thread.
//
// A plain thread (not an M: it never holds a P or runs goroutines), kept
// from one Run to the next and asleep in between (thread_pool.h), that
// wakes every 20 us while it finds Ps to retake, backing off to 1 ms when
// it finds none, and sleeps deep once every P is idle (as Go's sysmon does):
// until a P leaves the idle list (SysmonWake) or shortly after the next
// timer is due, at most 1 s. So an idle runtime does not tick. It
//   * asks a goroutine that has run for more than 10 ms without a new time
//     slice (its M's exectick unchanged) to yield: it sets G.preempt, which
//     CheckPreemptAndFuzzYield honours at the goroutine's next runtime call.
//     A runnext ping-pong chain inherits its time slice, so it is bounded
//     the same way (as Go's time-slice inheritance);
//   * fires due timers when no M got to them (every P busy), readying their
//     goroutines into the global run queue.
//   * retakes Ps held in a Syscall for more than 20 us (RetakeSyscallPs in
//     syscall.cc) and hands them off.
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>

#include "runtime/gmp.h"
#include "runtime/note.h"
#include "runtime/sched.h"
#include "runtime/thread_pool.h"

namespace gmp::internal {
namespace {

constexpr int64_t kForcePreemptNs = 10 * 1000 * 1000;  // Go's forcePreemptNS

std::atomic<bool> sysmon_stop{false};
Note sysmon_note;

// Retake asks goroutines that ran too long to yield; returns how many it
// asked.
int Retake(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int asked = 0;
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
      ++asked;
    }
  }
  return asked;
}

// SysmonMain is sysmon's life for one Run, on the sysmon ServiceThread.
void SysmonMain() {
  constexpr int64_t kMinDelayNs = 20 * 1000;
  constexpr int64_t kBusyDelayNs = 1000 * 1000;
  constexpr int64_t kIdleDelayNs = 10 * 1000 * 1000;
  constexpr int64_t kDeepSleepNs = 1000 * 1000 * 1000;
  // A 20 us poll is pointless under the default 50 us timer slack.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  int64_t delay_ns = kMinDelayNs;
  int idle_polls = 0;
  // order: acquire is redundant: the flag carries no data; sysmon_note and
  // ServiceThread's idle_ Note order the rest. Kept defensively.
  while (!sysmon_stop.load(std::memory_order_acquire)) {
    sched->counters.Add(kSysmonWakeups);
    int64_t now = NanoTime();
    int acted;
    {
      LockGuard l(sched->lock);
      acted = Retake(now);
    }
    acted += RetakeSyscallPs(now);
    int64_t next = NextTimer();
    if (next != 0 && next + 1000 * 1000 < now) {
      // Overdue by more than 1 ms: the Ms are too busy to notice.
      CheckTimers(now);
    }
    // Poll fast (20 us) while there is something to retake, so a P blocked
    // in a syscall is retaken soon after 20 us; after 50 polls that found
    // nothing, back off by doubling, up to 1 ms while some P is busy
    // (preemption and overdue timers need a look that often) or 10 ms when
    // all are idle. Polling fast all the time would steal a core's worth of
    // wake-ups from goroutines that merely pass through short syscalls.
    bool all_idle =
        sched->npidle.load(std::memory_order_relaxed) == sched->allp.size();
    if (acted > 0) {
      idle_polls = 0;
      delay_ns = kMinDelayNs;
    } else if (++idle_polls > 50) {
      delay_ns = std::min(2 * delay_ns, all_idle ? kIdleDelayNs : kBusyDelayNs);
    }
    if (all_idle && idle_polls > 50) {
      // Deep sleep. Publish sysmon_wait, then look again (StoreLoad against
      // pidleget's npidle decrement, then its sysmon_wait load): either we
      // see the P taken or its taker sees us waiting and wakes us. The
      // fence orders Clear before the look at sysmon_stop (SysmonStop sets
      // it, then wakes the note).
      sysmon_note.Clear();
      std::atomic_thread_fence(std::memory_order_seq_cst);
      sched->sysmon_wait.store(true, std::memory_order_seq_cst);
      if (sched->npidle.load(std::memory_order_seq_cst) == sched->allp.size() &&
          !sysmon_stop.load(std::memory_order_seq_cst)) {
        int64_t sleep = kDeepSleepNs;
        if (int64_t next = NextTimer(); next != 0) {
          // A safety net only: the M sleeping until that timer fires it.
          sleep = std::clamp<int64_t>(next - now + 2 * 1000 * 1000, 0,
                                      kDeepSleepNs);
        }
        if (sleep > 0) sysmon_note.SleepFor(sleep);
      }
      // order: acq_rel is redundant: only one side must win (atomicity); the
      // seq_cst store and fence before it give the ordering. Kept defensively.
      if (!sched->sysmon_wait.exchange(false, std::memory_order_acq_rel)) {
        // A P left the idle list and its taker claimed the wake-up: wait
        // for its Wakeup (it may still be on the way), then poll closely.
        sysmon_note.Sleep();
        idle_polls = 0;
        delay_ns = kMinDelayNs;
      }
      sysmon_note.Clear();
      std::atomic_thread_fence(std::memory_order_seq_cst);
      continue;
    }
    sysmon_note.SleepFor(delay_ns);
  }
}

// The thread is kept across Runs (thread_pool.h); it runs SysmonMain once
// per Run.
constinit ServiceThread sysmon_thread("sysmon", &SysmonMain);

}  // namespace

// SysmonWake ends sysmon's deep sleep: a P just left the idle list. Any
// thread; cheap when sysmon is awake (one load).
void SysmonWake() {
  // order: acq_rel is redundant: sysmon_note delivers the wake, and sched.lock
  // publishes the P leaving the idle list. Kept defensively.
  if (sched->sysmon_wait.load(std::memory_order_seq_cst) &&
      sched->sysmon_wait.exchange(false, std::memory_order_acq_rel)) {
    sysmon_note.Wakeup();
  }
}

void SysmonStart() {
  sysmon_stop.store(false);
  sysmon_note.Clear();
  sysmon_thread.Start();
}

void SysmonStop() {
  // order: release is redundant: sysmon_note.Wakeup below publishes it. Kept
  // defensively.
  sysmon_stop.store(true, std::memory_order_release);
  sysmon_note.Wakeup();
  sysmon_thread.Stop();
}

}  // namespace gmp::internal
