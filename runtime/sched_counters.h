// runtime/sched_counters.h — the one list of the scheduler's counters.
//
// GMP_SCHED_COUNTERS(X) lists them as X(Enum, field, per_op, meaning). It
// generates gmp::Stats's fields (runtime/gmp.h), the runtime's Counter enum
// (runtime/stats.h), ReadStats's sums, and the per-op counters every
// benchmark reports (bench/workloads/counters.h: the rows whose per_op is 1). A
// new counter is one line here and a Bump or Add where it happens.
#ifndef GMPLAB_RUNTIME_SCHED_COUNTERS_H_
#define GMPLAB_RUNTIME_SCHED_COUNTERS_H_

#define GMP_SCHED_COUNTERS(X)                                                 \
  X(kSpawned, spawned, 0, "goroutines created by Go (and Run's main)")        \
  X(kCompleted, completed, 0, "goroutines that returned")                     \
  X(kReclaimed, reclaimed, 0, "goroutines still alive when Run returned")     \
  X(kSteals, steals, 1, "successful steal operations")                        \
  X(kStolenGs, stolen_gs, 1, "goroutines moved by steals")                    \
  X(kSpins, spins, 1, "times an M started spinning")                          \
  X(kParks, parks, 1, "times an M parked (stopm)")                            \
  X(kWakeups, wakeups, 1, "times a parked M was woken (startm/wakep)")        \
  X(kHandoffs, handoffs, 1, "P hand-offs (handoffp, syscall retake, locked)") \
  X(kGlobalPuts, global_puts, 1, "goroutines put on the global run queue")    \
  X(kGlobalGets, global_gets, 0, "goroutines taken from the global queue")    \
  X(kOverflows, overflows, 0, "local run queue overflows to the global one")  \
  X(kGopark, gopark, 1, "goroutine parks (channels, mutex, sleep, ...)")      \
  X(kGoready, goready, 0, "goroutines readied")                               \
  X(kPreempts, preempts, 1, "preemption requests honoured")                   \
  X(kSyscalls, syscalls, 0, "Syscall calls")                                  \
  X(kRetakes, retakes, 0, "Ps retaken by sysmon from syscalls")               \
  X(kSyscallSteals, syscall_steals, 0,                                        \
    "Ps taken back by exitsyscall from another M's syscall")                  \
  X(kThreads, threads, 0, "Ms created")                                       \
  X(kTimerWakeups, timer_wakeups, 0,                                          \
    "times the M sleeping until the next timer woke")                         \
  X(kSysmonWakeups, sysmon_wakeups, 0, "times sysmon woke up")

#endif  // GMPLAB_RUNTIME_SCHED_COUNTERS_H_
