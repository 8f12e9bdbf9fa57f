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
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <memory>
#include <vector>

#include "runtime/fatal.h"
#include "runtime/gmp.h"
#include "runtime/sched.h"
#include "runtime/timer.h"

namespace gmp {
namespace internal {

// TimerChan is a timer channel and its generation, shared by the Timer (or
// After's caller) and a firing in flight. Stop and Reset bump `gen`; a
// firing sends only if `gen` is still the one it popped, checked under the
// channel's lock, so no value from before a Stop or Reset arrives after it.
struct TimerChan {
  Chan<absl::Time> c{1};
  std::atomic<uint64_t> gen{0};
};

// TimerRec is one pending timer: a sleeping goroutine (Sleep, on its
// stack) or a timer channel (Timer, After; on the heap).
struct TimerRec {
  int64_t when = 0;
  int64_t seq = 0;                  // FIFO among equal deadlines
  int32_t index = -1;               // position in the heap; -1 when not pending
  G* gp = nullptr;                  // Sleep: the goroutine to ready
  std::shared_ptr<TimerChan> chan;  // timer channel: where to send
  bool heap_owned = false;  // After's: deleted once fired or at Run's end
};

// Timers fires timer channels: a send with no goroutine of its own (on g0
// or sysmon), dropped when the channel is full or the timer was stopped or
// reset since it was popped.
struct Timers {
  // Fire sends the time on `tc` unless it is full or was stopped or reset
  // since the timer popped (its gen is no longer `gen`); returns the
  // receiver to ready, if a parked one took the value. sched->lock held,
  // so that checkdead never sees the timer gone and its receiver not yet
  // runnable (lock order: sched->lock, then a channel's lock; no path takes
  // them the other way round).
  static G* Fire(TimerChan* tc, uint64_t gen) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Chan<absl::Time>& c = tc->c;
    absl::Time now = absl::Now();
    G* ready = nullptr;
    c.lock_.lock();
    if (tc->gen.load(std::memory_order_relaxed) == gen && !c.closed_) {
      c.SendNoWaitLocked(now, &ready);
    }
    c.lock_.unlock();
    return ready;
  }

  // Drain empties the channel's buffer. A goroutine, after bumping gen.
  static void Drain(TimerChan* tc) { (void)tc->c.TryRecv(); }
};

namespace {

// The heap of pending timers, guarded by sched->lock (a plain global: one
// runtime at a time). Each TimerRec knows its index, so Stop removes it in
// O(log n).
std::vector<TimerRec*> timer_heap;
int64_t timer_seq = 0;
// The earliest deadline, 0 when the heap is empty. Written under
// sched->lock, read anywhere.
std::atomic<int64_t> next_when{0};

bool UnlockSched(G*, void*) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  sched->lock.unlock();
  return true;
}

bool Earlier(const TimerRec* a, const TimerRec* b) {
  return a->when != b->when ? a->when < b->when : a->seq < b->seq;
}

void Place(size_t i, TimerRec* t) {
  timer_heap[i] = t;
  t->index = static_cast<int32_t>(i);
}

void SiftUp(size_t i) {
  TimerRec* t = timer_heap[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!Earlier(t, timer_heap[parent])) break;
    Place(i, timer_heap[parent]);
    i = parent;
  }
  Place(i, t);
}

void SiftDown(size_t i) {
  TimerRec* t = timer_heap[i];
  const size_t n = timer_heap.size();
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && Earlier(timer_heap[c + 1], timer_heap[c])) ++c;
    if (!Earlier(timer_heap[c], t)) break;
    Place(i, timer_heap[c]);
    i = c;
  }
  Place(i, t);
}

void UpdateNextLocked() {
  // order: release is redundant: a hint; the heap is read only under
  // sched.lock, held here. Kept defensively.
  next_when.store(timer_heap.empty() ? 0 : timer_heap.front()->when,
                  std::memory_order_release);
}

// AddLocked makes `t` pending at t->when, waking the M that sleeps until a
// later deadline. sched->lock held.
void AddLocked(TimerRec* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  if (!timer_heap.empty() && t->when < timer_heap.front()->when) {
    WakeTimerSleeper();
  }
  t->seq = timer_seq++;
  timer_heap.push_back(t);
  SiftUp(timer_heap.size() - 1);
  UpdateNextLocked();
}

// RemoveLocked takes the pending `t` out of the heap. sched->lock held.
void RemoveLocked(TimerRec* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  const size_t i = static_cast<size_t>(t->index);
  TimerRec* last = timer_heap.back();
  timer_heap.pop_back();
  t->index = -1;
  if (last != t) {
    Place(i, last);
    SiftDown(i);
    SiftUp(static_cast<size_t>(last->index));
  }
  UpdateNextLocked();
}

// WhenAfter is the deadline `d` from now, capped at kMaxWhen (about 146
// years of uptime) without overflow; the headroom above it keeps the timer
// code's own arithmetic on deadlines (e.g. sysmon's overdue check) in range.
int64_t WhenAfter(absl::Duration d) {
  constexpr int64_t kMaxWhen = INT64_MAX / 2;
  const int64_t now = NanoTime();
  if (d <= absl::ZeroDuration()) return now;
  return d < absl::Nanoseconds(kMaxWhen - now)
             ? now + absl::ToInt64Nanoseconds(d)
             : kMaxWhen;
}

void NeedGoroutine(const char* what) {
  if (getg() == nullptr) {
    Throw(std::string(what) + " called outside a goroutine");
  }
}

}  // namespace

int64_t NanoTime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// order: acquire is redundant: callers use the deadline as a number and take
// sched.lock before the heap. May be relaxed; measure first.
int64_t NextTimer() { return next_when.load(std::memory_order_acquire); }

void TimersReset() {
  // Sleepers' records live on their (reclaimed) goroutines' stacks: not
  // touched. Timer channels' are marked stopped; After's are freed.
  for (TimerRec* t : timer_heap) {
    if (t->gp != nullptr) continue;
    t->index = -1;
    if (t->heap_owned) delete t;
  }
  timer_heap.clear();
  timer_heap.shrink_to_fit();
  timer_seq = 0;
  next_when.store(0);
}

// CheckTimers fires every timer due at `now`. With a P the goroutines go to
// its runnext/run queue; without one (sysmon) to the global run queue.
// Timer channels are sent on, and their receivers readied the same way.
int64_t CheckTimers(int64_t now) {
  int64_t next = NextTimer();
  if (next == 0 || now < next) return next;
  M* mp = CurrentM();
  P* pp = mp != nullptr ? mp->p : nullptr;
  G* ready = nullptr;
  sched->lock.lock();
  while (!timer_heap.empty() && timer_heap.front()->when <= now) {
    TimerRec* t = timer_heap.front();
    RemoveLocked(t);
    G* gp = t->gp;
    if (t->chan != nullptr) {
      gp = Timers::Fire(t->chan.get(),
                        t->chan->gen.load(std::memory_order_relaxed));
      if (t->heap_owned) delete t;
      if (gp == nullptr) continue;
    }
    if (pp != nullptr) {
      gp->schedlink = ready;
      ready = gp;
    } else {
      GStatus expected = GStatus::kWaiting;
      if (!gp->status.compare_exchange_strong(expected, GStatus::kRunnable)) {
        Throw("timer: woken goroutine not waiting");
      }
      globrunqput(gp);
      sched->counters.Add(kGoready);
    }
  }
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
  internal::TimerRec rec;  // in this frame until the timer pops it
  rec.when = internal::WhenAfter(d);
  rec.gp = gp;
  internal::sched->lock.lock();
  internal::AddLocked(&rec);
  internal::gopark(&internal::UnlockSched, nullptr,
                   internal::WaitReason::kSleep);
}

Timer::Timer(absl::Duration d)
    : chan_(std::make_shared<internal::TimerChan>()),
      rec_(std::make_unique<internal::TimerRec>()) {
  internal::NeedGoroutine("gmp::Timer");
  internal::CheckPreemptAndFuzzYield();
  rec_->chan = chan_;
  rec_->when = internal::WhenAfter(d);
  internal::LockGuard l(internal::sched->lock);
  internal::AddLocked(rec_.get());
}

Timer::~Timer() {
  // Outside a goroutine the runtime that ran the timer is gone (or stopping
  // it with TimersReset): nothing is pending.
  if (internal::getg() == nullptr) return;
  Stop();
}

Chan<absl::Time>& Timer::C() { return chan_->c; }

bool Timer::Stop() {
  internal::NeedGoroutine("gmp::Timer::Stop");
  bool pending;
  {
    internal::LockGuard l(internal::sched->lock);
    pending = rec_->index >= 0;
    if (pending) internal::RemoveLocked(rec_.get());
    chan_->gen.fetch_add(1, std::memory_order_relaxed);
  }
  internal::Timers::Drain(chan_.get());
  return pending;
}

bool Timer::Reset(absl::Duration d) {
  internal::NeedGoroutine("gmp::Timer::Reset");
  const bool pending = Stop();
  internal::LockGuard l(internal::sched->lock);
  rec_->when = internal::WhenAfter(d);
  internal::AddLocked(rec_.get());
  return pending;
}

std::shared_ptr<Chan<absl::Time>> After(absl::Duration d) {
  internal::NeedGoroutine("gmp::After");
  internal::CheckPreemptAndFuzzYield();
  auto tc = std::make_shared<internal::TimerChan>();
  auto* rec = new internal::TimerRec;
  rec->chan = tc;
  rec->when = internal::WhenAfter(d);
  rec->heap_owned = true;
  {
    internal::LockGuard l(internal::sched->lock);
    internal::AddLocked(rec);
  }
  return std::shared_ptr<Chan<absl::Time>>(tc, &tc->c);
}

}  // namespace gmp
