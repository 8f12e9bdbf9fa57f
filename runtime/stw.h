// runtime/stw.h — stop-the-world (Go's stopTheWorld / gcstopm).
//
// StopTheWorld brings every P to a stop: each M finishes what it runs up to
// its goroutine's next scheduling point or runtime call (which honours the
// preempt request), then parks. Only the calling goroutine keeps running.
// It is used to check the scheduler's global invariants at a quiet moment,
// and by GOMAXPROCS(n) to change the number of Ps (procresize.cc).
#ifndef GMPLAB_RUNTIME_STW_H_
#define GMPLAB_RUNTIME_STW_H_

#include <string>

namespace gmp::internal {

// StopTheWorld stops every other P. Call from a goroutine; one at a time
// (a second caller yields until the first has restarted the world). A
// goroutine that loops without runtime calls delays it indefinitely. If
// main returns meanwhile, the calling goroutine stops for good (it never
// returns; Run reclaims it).
void StopTheWorld();

// StartTheWorld restarts the Ps stopped by StopTheWorld. Same goroutine.
void StartTheWorld();

// CheckSchedInvariantsStopped checks the scheduler's global invariants and
// returns a description of every violation ("" when all hold). The world
// must be stopped by the caller.
std::string CheckSchedInvariantsStopped();

// CheckSchedInvariants stops the world, checks, and restarts it. Call from
// a goroutine.
std::string CheckSchedInvariants();

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_STW_H_
