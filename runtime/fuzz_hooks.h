// runtime/fuzz_hooks.h — fuzz-only hooks into scheduling decisions.
//
// Compiled in only when GMP_FUZZ_HOOKS is defined (the `fuzz` and `fuzz-asan`
// configs). A fuzzer installs a FuzzHooks table before gmp::Run; the
// scheduler consults it at its decision points, so the fuzz input steers which
// victim is robbed, when runnext is skipped and where a yield is injected (in
// the spirit of Go's race-mode randomizeScheduler and of PCT). It also reports
// every execution so the fuzzer can check the scheduler's invariants.
//
// In normal builds every hook is an inline no-op and costs nothing.
#ifndef GMPLAB_RUNTIME_FUZZ_HOOKS_H_
#define GMPLAB_RUNTIME_FUZZ_HOOKS_H_

#include <cstdint>

namespace gmp::internal {

struct FuzzHooks {
  // PickVictim returns the P index to rob first (0 <= result < nprocs), or -1
  // for the policy's own order.
  int (*pick_victim)(int thief, int nprocs) = nullptr;
  // SkipRunnext returns true to ignore runnext on this schedule() call.
  bool (*skip_runnext)() = nullptr;
  // InjectYield returns true to make the goroutine yield at this runtime call.
  bool (*inject_yield)() = nullptr;
  // OnExecute is called on the M's thread just before goroutine `goid`
  // starts or resumes running on M `mid` (whose OS tid is `tid`). `lockedm`
  // is the M the goroutine is locked to, or -1.
  void (*on_execute)(int64_t goid, int64_t mid, int64_t tid,
                     int64_t lockedm) = nullptr;
  // OnStop is called on the same thread right after goroutine `goid` stops
  // running on M `mid` (it parked, yielded, blocked or exited).
  void (*on_stop)(int64_t goid, int64_t mid, bool exited) = nullptr;
  // OnLockedHandoff is called on the giving M's thread after it stored the P
  // in the locked M's nextp and before it wakes that M (WakeLockedM): a test
  // holds it there to let the exit nudge wake the locked M first.
  void (*on_locked_handoff)() = nullptr;
};

#ifdef GMP_FUZZ_HOOKS
// SetFuzzHooks installs `hooks` (nullptr removes them). Call outside Run.
void SetFuzzHooks(const FuzzHooks* hooks);
const FuzzHooks* CurrentFuzzHooks();
// One load of the table per use.
#define GMP_FUZZ_HOOK(name, ...)                                          \
  ([&]() {                                                                \
    const ::gmp::internal::FuzzHooks* gmp_fuzz_hooks_ =                   \
        ::gmp::internal::CurrentFuzzHooks();                              \
    return gmp_fuzz_hooks_ != nullptr && gmp_fuzz_hooks_->name != nullptr \
               ? gmp_fuzz_hooks_->name(__VA_ARGS__)                       \
               : decltype(gmp_fuzz_hooks_->name(__VA_ARGS__))();          \
  }())
#define GMP_FUZZ_ENABLED 1
#else
#define GMP_FUZZ_ENABLED 0
#endif

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_FUZZ_HOOKS_H_
