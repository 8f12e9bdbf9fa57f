// runtime/checkdead.cc — deadlock detection (Go's checkdead).
//
// Called under sched.lock each time a P goes idle (pidleput). The runtime is
// dead when no goroutine can ever run again: every P idle (so every local
// run queue empty), the global run queue empty, no M inside a Syscall (its
// goroutine will come back), no timer pending, no stop-the-world going on,
// and goroutines still exist (main at least, since main returning ends the
// runtime). Goroutines locked to threads count like any other: their M
// sleeps in stoplockedm holding no P. Then it is a fatal error with a dump of
// every goroutine (id, status, wait reason, locked thread).
#include "runtime/fatal.h"
#include "runtime/sched.h"

namespace gmp::internal {

void checkdead() {
  // order: acquire is redundant: Run stores main_started under sched.lock, and
  // checkdead runs under it. Kept defensively.
  if (!sched->main_started.load(std::memory_order_acquire)) return;
  if (sched->exiting.load(std::memory_order_relaxed)) return;
  if (sched->gcwaiting.load(std::memory_order_relaxed)) return;
  if (sched->npidle.load() != sched->allp.size()) return;
  if (sched->nmsyscall.load() != 0) return;
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) return;
  if (NextTimer() != 0) return;
  if (LiveGoroutines() <= 0) return;
  Throw("all goroutines are asleep - deadlock!");
}

}  // namespace gmp::internal
