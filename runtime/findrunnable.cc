// runtime/findrunnable.cc — finding work for an M whose P ran out: the
// local and global queues, stealing from other Ps in the policy's order
// (stealWork), spinning, and the spinner's half of the no-lost-wakeup
// protocol before the M parks (proc.cc's essay).
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "runtime/fatal.h"
#include "runtime/fuzz_hooks.h"
#include "runtime/sched.h"

namespace gmp::internal {
namespace {

inline uint32_t FastRand(uint64_t* state) {
  // xorshift64*
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return static_cast<uint32_t>((x * 0x2545F4914F6CDD1DULL) >> 32);
}

}  // namespace

// resetspinning is called by a spinning M that found work: it stops
// spinning and, if it was the last spinner, wakes another M.
void resetspinning(M* mp) {
  mp->spinning = false;
  int32_t nmspinning = sched->nmspinning.fetch_sub(1) - 1;
  if (nmspinning < 0) Throw("findrunnable: negative nmspinning");
  wakep();
}

// stealWork makes `rounds` passes over the other Ps in the policy's order,
// stealing from each; runnext only on the last pass. mp holds a P, so the
// world is started and GOMAXPROCS, allp and sched.steal_order cannot change
// under it (procresize runs with every P stopped).
static G* stealWork(M* mp, int rounds) {
  P* pp = mp->p;
  const uint32_t nprocs = static_cast<uint32_t>(sched->allp.size());
  if (nprocs == 1) return nullptr;
  if (mp->steal_order_cap < nprocs) {  // GOMAXPROCS grew since newm
    delete[] mp->steal_order;
    mp->steal_order = new uint32_t[nprocs];
    mp->steal_order_cap = nprocs;
  }
  for (int round = 0; round < rounds; ++round) {
    const bool last = round == rounds - 1;
    uint32_t n = sched->steal_order->Fill(
        FastRand(&mp->rand_state), static_cast<uint32_t>(pp->id),
        mp->steal_order,
        [](uint32_t i) { return sched->allp[i]->runq.Size(); });
    int first = -1;
#if GMP_FUZZ_ENABLED
    first = GMP_FUZZ_HOOK(pick_victim, pp->id, static_cast<int>(nprocs));
    if (first >= static_cast<int>(nprocs)) first = -1;
#endif
    for (int k = first >= 0 ? -1 : 0; k < static_cast<int>(n); ++k) {
      P* p2 = sched->allp[k < 0 ? first : mp->steal_order[k]];
      if (p2 == pp) continue;
      if (sched->gcwaiting.load(std::memory_order_relaxed) ||
          sched->exiting.load(std::memory_order_relaxed)) {
        return nullptr;
      }
      if (p2->status.load(std::memory_order_relaxed) == PStatus::kIdle) {
        continue;
      }
      uint32_t stolen = 0;
      G* gp = pp->runq.StealFrom<policy::StealAmount>(
          p2->runq, last,
          [p2] {
            // The victim may be about to run its runnext (it just readied
            // it); give it a moment before taking it away.
            if (p2->status.load(std::memory_order_relaxed) ==
                PStatus::kRunning) {
              usleep(3);
            }
          },
          &stolen);
      if (gp != nullptr) {
        pp->counters.Bump(kSteals);
        pp->counters.Bump(kStolenGs, stolen);
        return gp;
      }
    }
  }
  return nullptr;
}

// findrunnable finds a runnable goroutine for mp, blocking (stopm) until it
// does. Returns null when the runtime exits. mp's g0; mp holds a P on entry
// and on return.
G* findrunnable(M* mp, bool* inherit) {
top:
  // order: acquire is redundant: exiting carries no plain data, and mainexit
  // stores it under sched.lock. May be relaxed; measure first.
  if (sched->exiting.load(std::memory_order_acquire)) return nullptr;
  if (mp->p == nullptr) {
    // Woken without a P (a timed sleep ended): try to get one.
    sched->lock.lock();
    P* pp = pidleget();
    sched->lock.unlock();
    if (pp == nullptr) {
      stopm(mp);
      goto top;
    }
    acquirep(mp, pp);
  }
  // order: acquire is redundant: stopwait and stopnote are atomic, and gcstopm
  // takes sched.lock. May be relaxed; measure first.
  if (sched->gcwaiting.load(std::memory_order_acquire)) {
    gcstopm(mp);
    goto top;
  }
  P* pp = mp->p;
  if (NextTimer() != 0) CheckTimers(NanoTime());
  *inherit = false;
  if (G* gp = runqget(pp, inherit)) return gp;
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    sched->lock.lock();
    G* gp = globrunqget(pp, 0);
    sched->lock.unlock();
    if (gp != nullptr) return gp;
  }
  // Steal.
  if (mp->spinning ||
      policy::SpinLimit::MaySpin(sched->nmspinning.load(), sched->allp.size(),
                                 sched->npidle.load())) {
    if (!mp->spinning) {
      mp->spinning = true;
      sched->nmspinning.fetch_add(1);
      pp->counters.Bump(kSpins);
    }
    if (G* gp = stealWork(mp, policy::kSpinRounds)) return gp;
  } else if constexpr (!policy::SpinLimit::kAllowsSpinning) {
    // Nobody ever spins: make one pass ourselves before parking.
    if (G* gp = stealWork(mp, 1)) return gp;
  }
  // order: acquire is redundant: control flow only; top reloads gcwaiting. May
  // be relaxed; measure first.
  if (sched->gcwaiting.load(std::memory_order_acquire)) goto top;

  // Nothing: give up the P and park.
  sched->lock.lock();
  if (sched->gcwaiting.load(std::memory_order_relaxed) ||
      sched->exiting.load(std::memory_order_relaxed)) {
    sched->lock.unlock();
    goto top;
  }
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    G* gp = globrunqget(pp, 0);
    sched->lock.unlock();
    if (gp != nullptr) return gp;
    goto top;
  }
  if (!pp->runq.Empty()) {
    // A G landed locally (a timer fired into runnext).
    sched->lock.unlock();
    goto top;
  }
  releasep(mp);
  pidleput(pp);
  sched->lock.unlock();

  // The spinner's half of the protocol: stop spinning, StoreLoad, and look
  // at every queue once more.
  if (mp->spinning) {
    mp->spinning = false;
    if (sched->nmspinning.fetch_sub(1) - 1 < 0) {
      Throw("findrunnable: negative nmspinning");
    }
    // The global queue too: a submitter without a P (sysmon firing an
    // overdue timer, goready or Go inside a Syscall) queues there after our
    // look under sched.lock above, sees nmspinning != 0 and relies on us.
    if (WorkQueued()) {
      sched->lock.lock();
      P* idle = pidleget();
      sched->lock.unlock();
      if (idle != nullptr) {
        acquirep(mp, idle);
        mp->spinning = true;
        sched->nmspinning.fetch_add(1);
        goto top;
      }
    }
  }

  // Park; with a timer pending, one M sleeps until it is due, and no
  // longer polls meanwhile: a timer added earlier wakes it (Sleep calls
  // WakeTimerSleeper).
  int64_t next = NextTimer();
  if (next != 0 && !sched->timer_sleeper.exchange(true)) {
    int64_t wait = next - NanoTime();
    if (wait < 1000) wait = 1000;
    stopm_timed(mp, wait);
    sched->timer_sleeper.store(false);
  } else {
    stopm(mp);
  }
  goto top;
}
}  // namespace gmp::internal
