// runtime/test_util.h — helpers shared by the runtime's tests.
//
// Test-only: included by *_test.cc files, never by the runtime itself.
#ifndef GMPLAB_RUNTIME_TEST_UTIL_H_
#define GMPLAB_RUNTIME_TEST_UTIL_H_

#include <dirent.h>

#include <chrono>
#include <utility>

#include "gtest/gtest.h"
#include "runtime/gmp.h"

namespace gmp::testing_util {

// RunOn runs `fn` as the main goroutine of a runtime with `procs` Ps.
template <class F>
void RunOn(int procs, F fn) {
  Options options;
  options.procs = procs;
  Run(std::move(fn), options);
}

// CountThreads returns the number of threads of this process
// (/proc/self/task).
inline int CountThreads() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

// UseThreadsafeDeathTests makes death tests re-run the binary: a fork of a
// process whose earlier tests started runtime threads would inherit a
// runtime without them.
inline void UseThreadsafeDeathTests() {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
}

// WaitFor yields (from a goroutine) until `cond` holds; false after
// `seconds` without.
template <class Cond>
bool WaitFor(Cond cond, double seconds = 20) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(seconds);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    Gosched();
  }
  return true;
}

}  // namespace gmp::testing_util

#endif  // GMPLAB_RUNTIME_TEST_UTIL_H_
