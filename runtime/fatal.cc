// runtime/fatal.cc — Throw: print a Go-style fatal error and abort.
#include "runtime/fatal.h"

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "runtime/g.h"
#include "runtime/proc.h"

namespace gmp::internal {
namespace {

std::atomic<void (*)()> g_dumper{nullptr};
std::atomic<bool> g_throwing{false};

}  // namespace

void SetGoroutineDumper(void (*dump)()) {
  // order: release is redundant: every thread that can Throw is created or
  // woken (Note) after this store. Kept defensively.
  g_dumper.store(dump, std::memory_order_release);
}

void Throw(std::string_view msg) {
  if (g_throwing.exchange(true)) {
    // A second fatal error (another thread, or the dump itself) stops here.
    std::fprintf(stderr, "fatal error: %.*s (during another fatal error)\n",
                 static_cast<int>(msg.size()), msg.data());
    std::fflush(stderr);
    // Give the first thrower a moment to finish its report.
    usleep(200 * 1000);
    std::abort();
  }
  // stderr is unbuffered, and glibc formats for an unbuffered stream through
  // an 8 KiB buffer on the caller's stack: more than a compact goroutine
  // stack holds. A static buffer (flushed below) avoids that. (Added by sync.)
  static char stderr_buf[4096];
  std::setvbuf(stderr, stderr_buf, _IOFBF, sizeof stderr_buf);
  std::fprintf(stderr, "fatal error: %.*s\n", static_cast<int>(msg.size()),
               msg.data());
  if (G* gp = getg(); gp != nullptr) {
    std::fprintf(stderr, "\ngoroutine %lld [running]\n",
                 static_cast<long long>(gp->goid));
  }
  if (std::getenv("GMP_TRACEBACK") != nullptr) {
    // The native stack of the thread that threw (GMP_TRACEBACK=1).
    void* pcs[64];
    int n = backtrace(pcs, 64);
    backtrace_symbols_fd(pcs, n, 2);
  }
  std::fflush(stderr);
  // order: acquire is redundant: every thread that can Throw is created or
  // woken (Note) after SetGoroutineDumper. Kept defensively.
  if (auto* dump = g_dumper.load(std::memory_order_acquire)) dump();
  std::fflush(stderr);
  std::abort();
}

}  // namespace gmp::internal
