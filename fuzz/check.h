// fuzz/check.h — invariant checks for the gmplab fuzz targets.
//
// FUZZ_CHECK(cond, "invariant-name", fmt, ...) aborts the process with
//   fuzz invariant violated: <invariant-name>: <details>
// on stderr when `cond` is false. libFuzzer (and the replay driver) report
// the abort as a crash and keep the input; the campaign runner greps the
// invariant's name from the log. Safe to call from any thread, from
// goroutines and from the scheduler hooks (it only formats into a stack
// buffer and writes once). Only the first failure of a process aborts;
// later ones print their line and wait for it (check.cc).
#ifndef GMPLAB_FUZZ_CHECK_H_
#define GMPLAB_FUZZ_CHECK_H_

namespace gmp_fuzz {

// Fail prints the violated invariant and aborts. Never returns.
[[noreturn]] void Fail(const char* invariant, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

}  // namespace gmp_fuzz

#define FUZZ_CHECK(cond, invariant, ...)                   \
  do {                                                     \
    if (__builtin_expect(!(cond), 0)) {                    \
      ::gmp_fuzz::Fail(invariant, __VA_ARGS__);            \
    }                                                      \
  } while (0)

#endif  // GMPLAB_FUZZ_CHECK_H_
