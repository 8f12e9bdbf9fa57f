// runtime/fatal.h — Go-style fatal errors.
//
// Misuse of the runtime (Go outside a runtime, send on a closed channel, a
// deadlock, ...) is never silent: Throw prints `fatal error: <msg>` to stderr,
// names the goroutine that caused it, dumps every goroutine when a runtime is
// running, and aborts the process.
#ifndef GMPLAB_RUNTIME_FATAL_H_
#define GMPLAB_RUNTIME_FATAL_H_

#include <string_view>

namespace gmp::internal {

// Throw prints "fatal error: <msg>\n", then "\ngoroutine <id> [running]:" for
// the calling goroutine (if any) and a dump of all goroutines, and calls
// abort(). Callable from anywhere: goroutines, g0, plain threads, signal-free
// contexts. A Throw during a Throw (e.g. from the dump) aborts at once.
[[noreturn]] void Throw(std::string_view msg);

// SetGoroutineDumper installs the function Throw calls to dump every
// goroutine to stderr (the scheduler installs it while a runtime runs; null
// removes it). It must not allocate much or take scheduler locks that the
// throwing thread may hold; it is best effort.
void SetGoroutineDumper(void (*dump)());

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_FATAL_H_
