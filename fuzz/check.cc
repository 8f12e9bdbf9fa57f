// fuzz/check.cc — the abort path of FUZZ_CHECK.
#include "fuzz/check.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace gmp_fuzz {

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
  std::abort();
}

}  // namespace gmp_fuzz
