// fuzz/monitor.h — the fuzz targets' view of the scheduler.
//
// The Monitor does two jobs for one gmp::Run at a time:
//
//  * Steering. In fuzz builds (GMP_FUZZ_HOOKS) it installs a
//    gmp::internal::FuzzHooks table whose choices (which victim a thief
//    robs first, whether schedule() skips runnext, whether a runtime call
//    yields) are read from a byte string taken from the fuzz input, so
//    libFuzzer explores schedules as well as programs.
//  * Checking. Every execution the scheduler reports (on_execute/on_stop)
//    is checked at once against:
//      - "no G on two Ms": a G starts running only when it is not running;
//      - "one G per M": an M starts a G only when it runs none;
//      - "locked G on its M": a G locked to M m runs only on m;
//      - "locked G on its thread": a G that the program locked runs only on
//        the OS thread it locked;
//      - "locked thread runs nothing else": while the program holds a lock,
//        the thread runs no other G.
//    The goroutines of the program tell the Monitor when they lock and
//    unlock (NoteLocked/NoteUnlocking), so the check does not trust the
//    scheduler's own bookkeeping.
//
// In builds without the hooks only the goroutine-side checks run (a locked
// goroutine checks its thread after every operation).
//
// All functions may be called from any thread. Begin and End are called
// outside gmp::Run; the Note functions from goroutines.
#ifndef GMPLAB_FUZZ_MONITOR_H_
#define GMPLAB_FUZZ_MONITOR_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gmp_fuzz {

// HooksCompiledIn says whether this build can steer and observe the
// scheduler (the runtime was compiled with GMP_FUZZ_HOOKS).
bool HooksCompiledIn();

// BeginRun resets the Monitor and installs the hooks with `choices` as the
// steering byte string. Call before gmp::Run.
void BeginRun(std::vector<uint8_t> choices);

// EndRun removes the hooks. Call after gmp::Run returned. Returns the
// number of executions observed.
int64_t EndRun();

// CurrentTid returns the calling thread's kernel thread id.
int64_t CurrentTid();

// NoteLocked records that goroutine `goid`, running now, has just locked
// itself to its thread (lock depth 0 -> 1). Returns the thread's tid.
int64_t NoteLocked(int64_t goid);

// NoteUnlocking records that goroutine `goid` is about to drop its last
// lock (depth 1 -> 0). Call before gmp::UnlockOSThread.
void NoteUnlocking(int64_t goid);

}  // namespace gmp_fuzz

#endif  // GMPLAB_FUZZ_MONITOR_H_
