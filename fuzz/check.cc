// fuzz/check.cc — the abort path of FUZZ_CHECK.
#include "fuzz/check.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace gmp_fuzz {
namespace {

// Set by the first Fail of the process.
std::atomic<bool> g_failing{false};

}  // namespace

void Fail(const char* invariant, const char* fmt, ...) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof(buf), "fuzz invariant violated: %s: ",
                        invariant);
  if (n < 0) n = 0;
  if (n < static_cast<int>(sizeof(buf))) {
    va_list ap;
    va_start(ap, fmt);
    int m = std::vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    va_end(ap);
    if (m > 0) n += m;
  }
  if (n > static_cast<int>(sizeof(buf)) - 2) n = sizeof(buf) - 2;
  buf[n++] = '\n';
  // One write, so lines from several threads do not interleave.
  ssize_t unused = ::write(2, buf, n);
  (void)unused;
  // Only the first failure aborts. Goroutines on several threads often see
  // the same broken invariant at once; a second abort would end the process
  // while libFuzzer's crash handler, run by the first, still writes the
  // input out (the handler lets only one thread in, and a later SIGABRT
  // then kills the process), losing the finding. Later callers wait here
  // for the first to end the process.
  if (g_failing.exchange(true)) {
    for (;;) ::pause();
  }
  std::abort();
}

}  // namespace gmp_fuzz
