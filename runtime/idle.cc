// runtime/idle.cc — Ms without work: the idle M list, starting an M for an
// idle P (startm, newm, wakep), parking one (stopm, stopm_timed) and handing
// off a P its M gives up (handoffp). The submitter's half of the spinning
// protocol (StoreLoad, WakeIfNeeded) is inline in sched.h; the spinner's is
// in findrunnable.cc; proc.cc's essay explains both.
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/fatal.h"
#include "runtime/lock.h"
#include "runtime/sched.h"
#include "runtime/thread_pool.h"

namespace gmp::internal {

static void mput(M* mp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  mp->schedlink = sched->midle;
  sched->midle = mp;
  ++sched->nmidle;
}

static M* mget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  M* mp = sched->midle;
  if (mp != nullptr) {
    sched->midle = mp->schedlink;
    mp->schedlink = nullptr;
    --sched->nmidle;
    if (sched->timer_m == mp) sched->timer_m = nullptr;
  }
  return mp;
}

// ReapFreeMs joins the threads of the Ms on sched.mfree (each ended with a
// locked goroutine and is exiting, or has exited; such a thread is never
// kept for reuse) and deletes the Ms. Any thread but those Ms'; takes
// sched.lock briefly and joins without it.
void ReapFreeMs() {
  M* list;
  {
    LockGuard l(sched->lock);
    list = sched->mfree;
    sched->mfree = nullptr;
  }
  while (list != nullptr) {
    M* mp = list;
    list = mp->alllink;
    JoinM(mp);
    delete[] mp->steal_order;
    delete mp;
  }
}

// newm creates a new M that will start by running with pp (and spinning if
// `spinning`), on an idle pooled thread or a new one (thread_pool.cc). Any
// thread.
//
// The M is started and linked into allm under sched.lock, after a last look
// at `exiting`: so Run, which sets exiting under the lock and then waits for
// everything on allm, never misses an M nor waits for one half-made.
static void newm(P* pp, bool spinning) {
  ReapFreeMs();
  auto* mp = new M;
  // Sized for GOMAXPROCS now; stealWork regrows it after a GOMAXPROCS(n).
  mp->steal_order_cap = static_cast<uint32_t>(sched->allp.size());
  mp->steal_order = new uint32_t[mp->steal_order_cap];
  // order: release is redundant: the new M reads nextp after thread creation or
  // its pool thread's wake Note. Kept defensively (off the hot path).
  mp->nextp.store(pp, std::memory_order_release);
  mp->wake_spinning.store(spinning, std::memory_order_relaxed);
  LockGuard l(sched->lock);
  if (sched->exiting.load(std::memory_order_relaxed)) {
    if (pp != nullptr) pp->status.store(PStatus::kIdle);
    if (spinning) sched->nmspinning.fetch_sub(1);
    delete[] mp->steal_order;
    delete mp;
    return;
  }
  if (sched->mnext - sched->nmfreed >= sched->maxmcount) {
    std::string msg =
        absl::StrCat("thread exhaustion: program exceeds ", sched->maxmcount,
                     "-thread limit (GMP_MAXTHREADS)");
    Throw(msg);
  }
  mp->id = sched->mnext++;
  mp->rand_state = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(mp->id + 1);
  sched->counters.Add(kThreads);
  StartMThread(mp);
  mp->alllink = sched->allm;
  sched->allm = mp;
}

// startm schedules some M to run pp (an idle P if pp is null; if there is
// none, nothing happens). `spinning` means the caller incremented
// nmspinning for the new M, which starts spinning. Any thread.
void startm(P* pp, bool spinning) {
  sched->lock.lock();
  if (sched->exiting.load(std::memory_order_relaxed)) {
    // Exiting: nobody will run pp again; its queue is reclaimed by Run.
    if (pp != nullptr) pp->status.store(PStatus::kIdle);
    sched->lock.unlock();
    if (spinning) sched->nmspinning.fetch_sub(1);
    return;
  }
  if (pp == nullptr) {
    pp = pidleget();
    if (pp == nullptr) {
      sched->lock.unlock();
      if (spinning) {
        // The caller counted us as spinning; undo and re-check, as Go does.
        if (sched->nmspinning.fetch_sub(1) - 1 < 0) {
          Throw("startm: negative nmspinning");
        }
      }
      return;
    }
  }
  M* nmp = mget();
  sched->lock.unlock();
  if (nmp == nullptr) {
    newm(pp, spinning);
    return;
  }
  sched->counters.Add(kWakeups);
  nmp->wake_spinning.store(spinning, std::memory_order_relaxed);
  // order: release is redundant: park.Wakeup below publishes nextp; on the exit
  // nudge, this sched.lock section orders the P. Kept defensively.
  nmp->nextp.store(pp, std::memory_order_release);
  nmp->park.Wakeup();  // publishes nextp / wake_spinning
}

// wakep tries to add one more spinning M to run goroutines, when there is an
// idle P and no M spins. Any thread.
void wakep() {
  if (sched->npidle.load(std::memory_order_relaxed) == 0) return;
  if (sched->nmspinning.load(std::memory_order_relaxed) != 0) return;
#if defined(GMP_CANARY_LOST_WAKEUP)
  // BUG: now and then a wakeup that is needed is skipped.
  static std::atomic<uint32_t> canary_count{0};
  if ((canary_count.fetch_add(1, std::memory_order_relaxed) & 15) == 15) {
    return;
  }
#endif
  int32_t zero = 0;
  if (!sched->nmspinning.compare_exchange_strong(zero, 1)) return;
  startm(nullptr, true);
}

// midle_enter re-arms mp's note and puts mp on the idle list, unless the
// runtime is exiting (then false: mp must not sleep). `timer`: mp sleeps
// until the next timer (sched.timer_m; WakeTimerSleeper). mp's g0.
static bool midle_enter(M* mp, bool timer = false) {
  mp->park.Clear();
  LockGuard l(sched->lock);
  if (sched->exiting.load(std::memory_order_relaxed)) return false;
  mput(mp);
  if (timer) sched->timer_m = mp;
  sched->counters.Add(kParks);
  return true;
}

// stopm parks mp on the idle list until startm hands it a P (or the runtime
// exits). mp holds no P and is not spinning. mp's g0.
void stopm(M* mp) {
  if (mp->p != nullptr) Throw("stopm holding p");
  if (mp->spinning) Throw("stopm spinning");
  if (!midle_enter(mp)) return;
  mp->park.Sleep();
  // order: acquire is redundant: park.Sleep above pairs with startm's Wakeup
  // (sched.lock on the exit nudge). Kept defensively.
  P* pp = mp->nextp.exchange(nullptr, std::memory_order_acquire);
  if (pp != nullptr) {
    mp->spinning = mp->wake_spinning.load(std::memory_order_relaxed);
    acquirep(mp, pp);
  }
}

// stopm_timed is stopm with a deadline, used by the M that sleeps until the
// next timer. Returns with a P if one was handed over, else without.
void stopm_timed(M* mp, int64_t ns) {
  if (!midle_enter(mp, /*timer=*/true)) return;
  bool woken = mp->park.SleepFor(ns);
  sched->counters.Add(kTimerWakeups);
  if (!woken) {
    // Timed out: take ourselves off the idle list, unless a waker already
    // took us (then its Wakeup is coming).
    sched->lock.lock();
    bool found = false;
    for (M** link = &sched->midle; *link != nullptr;
         link = &(*link)->schedlink) {
      if (*link == mp) {
        *link = mp->schedlink;
        mp->schedlink = nullptr;
        --sched->nmidle;
        found = true;
        break;
      }
    }
    if (sched->timer_m == mp) sched->timer_m = nullptr;
    sched->lock.unlock();
    if (found) return;
    mp->park.Sleep();
  }
  // order: acquire is redundant: park.Sleep pairs with startm's Wakeup
  // (sched.lock on the exit nudge). Kept defensively.
  P* pp = mp->nextp.exchange(nullptr, std::memory_order_acquire);
  if (pp != nullptr) {
    mp->spinning = mp->wake_spinning.load(std::memory_order_relaxed);
    acquirep(mp, pp);
  }
}

// WakeTimerSleeper wakes the M that sleeps until the next timer, if any: a
// timer earlier than its deadline was just added. It takes the M off the
// idle list (as a timed-out sleeper does itself) and wakes it without a P;
// findrunnable then takes an idle P, fires what is due and sleeps again
// until the new next deadline.
void WakeTimerSleeper() {
  M* mp = sched->timer_m;
  if (mp == nullptr) return;
  sched->timer_m = nullptr;
  for (M** link = &sched->midle; *link != nullptr; link = &(*link)->schedlink) {
    if (*link == mp) {
      *link = mp->schedlink;
      mp->schedlink = nullptr;
      --sched->nmidle;
      mp->park.Wakeup();
      return;
    }
  }
}

// WorkQueued reports whether the global run queue or any P's local one
// holds a G. Any thread. Without a P, a GOMAXPROCS(n) may run meanwhile:
// the Ps it looks at stay valid (AllP), and a destroyed one's queue was
// moved to the global one.
bool WorkQueued() {
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) return true;
  for (P* p2 : sched->allp) {
    if (!p2->runq.Empty()) return true;
  }
  return false;
}

// handoffp hands off pp from a syscall, a locked M or an exiting M: start an
// M if there is work, else put pp on the idle list. Caller released pp.
void handoffp(P* pp) {
  sched->counters.Add(kHandoffs);
  // Its only G is locked to a thread: pp goes straight there.
  if (handofflockedp(pp)) return;
  // Local or global work: start an M for it.
  if (!pp->runq.Empty() ||
      sched->runqsize.load(std::memory_order_relaxed) != 0) {
    startm(pp, false);
    return;
  }
  // No local work. If nobody spins or idles, a G queued on another P found
  // nobody to wake (its submitter saw npidle == 0 and nmspinning == 0) and
  // pp must help. Go starts a spinning M for pp here; gmplab puts pp on the
  // idle list first and then looks, as a spinner does before it parks
  // (findrunnable): a G queued after the look sees npidle != 0 and its
  // submitter wakes an M. Otherwise every hand-off of an empty P while the
  // other Ps run (a locked goroutine blocking) woke an M that found nothing.
  const bool alone = sched->nmspinning.load() + sched->npidle.load() == 0;
  sched->lock.lock();
  if (sched->gcwaiting.load(std::memory_order_relaxed)) {
    pp->status.store(PStatus::kStop, std::memory_order_relaxed);
    if (sched->stopwait.fetch_sub(1) - 1 == 0) sched->stopnote.Wakeup();
    sched->lock.unlock();
    return;
  }
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    sched->lock.unlock();
    startm(pp, false);
    return;
  }
  // The last running P with a timer pending: keep an M around to fire it.
  if (sched->npidle.load() == sched->allp.size() - 1 && NextTimer() != 0) {
    sched->lock.unlock();
    startm(pp, false);
    return;
  }
  pidleput(pp);
  sched->lock.unlock();
  if (alone) {
    StoreLoad();  // npidle (pidleput) before the queues
    if (WorkQueued()) wakep();
  }
}
}  // namespace gmp::internal
