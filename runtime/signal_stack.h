// runtime/signal_stack.h — stack overflow reporting: SIGSEGV handler and
// per-thread alternate signal stacks.
//
// A goroutine that runs off its guarded stack faults in the guard below it.
// The handler installed by InstallStackOverflowHandler runs on the thread's
// alternate signal stack (the faulting stack is unusable), recognises the
// fault as a guard hit (FindStackGuardHit, stack.h) or as a fault just below
// the stack pointer, prints
//
//   fatal error: stack overflow
//
//   guard page hit at 0x...: goroutine stack [0x..., 0x...) (65536 bytes,
//   guard 16384)
//
// and aborts. Any other SIGSEGV/SIGBUS is handed to the handler that was
// installed before ours: it is called (and may recover, e.g. a handler that
// maps the page in; ours stays installed), or, when that was the default
// action, the default is restored and the signal re-raised. So real bugs
// still crash as such and sanitizers still report them.
//
// Every signal handler of the runtime (this one, SIGQUIT's in trace.cc) is
// installed with SA_ONSTACK: a goroutine stack may be as small as 4 KiB
// (compact stacks) and a signal frame with AVX-512 state takes about 3 KiB,
// so a handler must never run on it. Every M has an alternate stack.
#ifndef GMPLAB_RUNTIME_SIGNAL_STACK_H_
#define GMPLAB_RUNTIME_SIGNAL_STACK_H_

#include <cstddef>

namespace gmp::internal {

// kSignalStackSize is the size of the alternate signal stack SetupSignalStack
// maps (at least; more if the system asks for more).
inline constexpr size_t kSignalStackSize = 64 * 1024;

// InstallStackOverflowHandler installs the SIGSEGV/SIGBUS handler, once per
// process (later calls do nothing). Any thread may call it.
void InstallStackOverflowHandler();

// SetupSignalStack gives the calling thread an alternate signal stack so the
// handler can run when the thread's current stack is exhausted. Every M calls
// it when it starts. A thread that already has one at least 16 KiB large
// (e.g. from ASan) keeps it. Idempotent per thread.
void SetupSignalStack();

// TeardownSignalStack removes and frees the stack SetupSignalStack mapped for
// the calling thread (if any). Call before the thread exits.
void TeardownSignalStack();

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_SIGNAL_STACK_H_
