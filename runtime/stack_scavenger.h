// runtime/stack_scavenger.h — returning a stack pool's memory once no Run
// uses it.
//
// Inside a Run, a StackPool keeps resident at most max(its floor, recent
// peak - live) free stacks and returns the rest (stack.h). When a Run ends
// its pool keeps every free stack resident for one more window
// (StackPool::window), so that a Run that follows soon (a benchmark's next
// call, a test's next case, a server's next batch) reuses their pages
// instead of faulting them in again. The stack scavenger is a resident
// service thread (thread_pool.h): once a pool's window after the end of
// its last Run passes without a new acquire, it trims the pool to its floor
// (StackPool::TrimToFloor). So the memory of a finished Run goes back to
// the OS within about a window whether or not the program runs gmplab
// again.
//
// Internal to the runtime. Policy-independent.
#ifndef GMPLAB_RUNTIME_STACK_SCAVENGER_H_
#define GMPLAB_RUNTIME_STACK_SCAVENGER_H_

namespace gmp::internal {

class StackPool;

// StackScavengerStart starts the scavenger (the first Run creates its
// thread). Run's thread, at Run start.
void StackScavengerStart();

// StackScavengerRunEnded hands `pool`, the pool of the Run that is ending,
// to the scavenger: its free stacks stay resident for one window, then go
// back to the OS unless a Run acquired from it meanwhile. Run's thread.
void StackScavengerRunEnded(StackPool* pool);

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_STACK_SCAVENGER_H_
