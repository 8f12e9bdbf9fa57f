// runtime/trace.h — the scheduler's state dump, for code outside the runtime
// that must explain a hang (the fuzz targets' watchdog, fuzz/program.cc).
//
// Policy-independent: code compiled once and linked against every variant
// may include it.
#ifndef GMPLAB_RUNTIME_TRACE_H_
#define GMPLAB_RUNTIME_TRACE_H_

namespace gmp::internal {

// RequestSchedDump has the running runtime print to stderr: a schedtrace
// line; the global counters (npidle, nmspinning, nmsyscall, nmidle, the
// global run queue and its first goroutines, idle Ps, stop-the-world state,
// the next timer); every P (status, holder, run queue length, runnext,
// syscall M); every M (thread, P, nextp, oldp, current and locked
// goroutine, spinning, in a syscall, idle, parked or dead); and every live
// goroutine (status, wait reason, M, locked thread). Returns whether the
// dump was printed within 5 s (false when no runtime runs).
//
// For hang reports, from any thread that is not one of the runtime's (not
// a signal handler). The runtime's trace thread (trace.cc) prints, so that
// ThreadSanitizer sees its reads ordered after the objects' creation. It
// reads fields without synchronising with their writers (best effort, as
// Go's crash dump does), holds sched.lock and allglock while printing if it
// gets them within 100 ms each, and never waits longer. The runtime keeps
// running meanwhile: a blurred snapshot, a sharp one in a hang.
bool RequestSchedDump();

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_TRACE_H_
