// runtime/time.cc — timers and gmp::Sleep.
//
// Design: one global timer heap guarded by sched.lock, not Go's per-P heaps.
// Any M fires due timers: every schedule() and findrunnable() looks at the
// earliest deadline (one atomic load, `next_when`) and fires what is due; an
// M that goes idle while a timer is pending sleeps until it is due (one
// such M at a time, sched.timer_sleeper; a Sleep with an earlier deadline
// wakes it, WakeTimerSleeper in idle.cc); sysmon fires timers too, so a
// sleeper wakes on time even when every P is busy. This makes "timers of a
// busy P are stolen" hold trivially — no timer belongs to a P — at the price
// of one lock shared by all Sleep calls, which is fine for Sleep's rates
// (microseconds apart at most). Holding sched.lock while popping and
// readying also keeps checkdead exact: a timer is either in the heap or its
// goroutine is in a run queue, never in between.
#include <algorithm>
#include <atomic>
#include <ctime>
#include <vector>

#include "absl/time/time.h"
#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"

namespace gmp {
namespace internal {
namespace {

struct Timer {
  int64_t when;
  int64_t seq;  // FIFO among equal deadlines
  G* gp;
};
struct TimerLater {
  bool operator()(const Timer& a, const Timer& b) const {
    return a.when != b.when ? a.when > b.when : a.seq > b.seq;
  }
};

// The heap, guarded by sched->lock (a plain global: one runtime at a time).
std::vector<Timer> timer_heap;
int64_t timer_seq = 0;
// The earliest deadline, 0 when the heap is empty. Written under
// sched->lock, read anywhere.
std::atomic<int64_t> next_when{0};

bool UnlockSched(G*, void*) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  sched->lock.unlock();
  return true;
}

void UpdateNextLocked() {
  next_when.store(timer_heap.empty() ? 0 : timer_heap.front().when,
                  std::memory_order_release);
}

}  // namespace

int64_t NanoTime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t NextTimer() { return next_when.load(std::memory_order_acquire); }

void TimersReset() {
  timer_heap.clear();
  timer_heap.shrink_to_fit();
  timer_seq = 0;
  next_when.store(0);
}

// CheckTimers fires every timer due at `now`. With a P the goroutines go to
// its runnext/run queue; without one (sysmon) to the global run queue.
int64_t CheckTimers(int64_t now) {
  int64_t next = NextTimer();
  if (next == 0 || now < next) return next;
  M* mp = CurrentM();
  P* pp = mp != nullptr ? mp->p : nullptr;
  G* ready = nullptr;
  sched->lock.lock();
  while (!timer_heap.empty() && timer_heap.front().when <= now) {
    std::pop_heap(timer_heap.begin(), timer_heap.end(), TimerLater());
    G* gp = timer_heap.back().gp;
    timer_heap.pop_back();
    if (pp != nullptr) {
      gp->schedlink = ready;
      ready = gp;
    } else {
      GStatus expected = GStatus::kWaiting;
      if (!gp->status.compare_exchange_strong(expected, GStatus::kRunnable)) {
        Throw("timer: sleeping goroutine not waiting");
      }
      globrunqput(gp);
      sched->counters.Add(kGoready);
    }
  }
  UpdateNextLocked();
  next = NextTimer();
  if (pp == nullptr) {
    sched->lock.unlock();
    // The submitter's half of the spinning protocol (proc.cc's essay):
    // StoreLoad, the queued Gs before nmspinning; then wakep if nobody spins.
    WakeIfNeeded();
    return next;
  }
  sched->lock.unlock();
  // Ready in deadline order: the earliest ends up... in the run queue
  // first, the last one in runnext. Fine for sleepers.
  G* rev = nullptr;
  while (ready != nullptr) {
    G* n = ready->schedlink;
    ready->schedlink = rev;
    rev = ready;
    ready = n;
  }
  while (rev != nullptr) {
    G* n = rev->schedlink;
    rev->schedlink = nullptr;
    goready(rev);
    rev = n;
  }
  return next;
}

}  // namespace internal

void Sleep(absl::Duration d) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  internal::G* gp = internal::getg();
  if (gp == nullptr) internal::Throw("gmp::Sleep called outside a runtime");
  internal::CheckPreemptAndFuzzYield();
  if (d <= absl::ZeroDuration()) return;  // as Go's: no yield either
  if (d == absl::InfiniteDuration()) {
    // Forever: a park with no timer, which nothing wakes; checkdead counts
    // it as asleep (gmp.h).
    internal::gopark(nullptr, nullptr, internal::WaitReason::kSleep);
    return;
  }
  // A deadline beyond kMaxWhen (about 146 years of uptime) is kMaxWhen,
  // computed without overflow; the headroom above it keeps the timer code's
  // own arithmetic on deadlines (e.g. sysmon's overdue check) in range.
  constexpr int64_t kMaxWhen = INT64_MAX / 2;
  const int64_t now = internal::NanoTime();
  const int64_t when = d < absl::Nanoseconds(kMaxWhen - now)
                           ? now + absl::ToInt64Nanoseconds(d)
                           : kMaxWhen;
  internal::Sched* s = internal::sched;
  s->lock.lock();
  // An M may be sleeping until a later deadline: wake it for this one.
  if (!internal::timer_heap.empty() &&
      when < internal::timer_heap.front().when) {
    internal::WakeTimerSleeper();
  }
  internal::timer_heap.push_back(
      internal::Timer{when, internal::timer_seq++, gp});
  std::push_heap(internal::timer_heap.begin(), internal::timer_heap.end(),
                 internal::TimerLater());
  internal::UpdateNextLocked();
  internal::gopark(&internal::UnlockSched, nullptr,
                   internal::WaitReason::kSleep);
}

}  // namespace gmp
