// runtime/fuzz_hooks.cc — storage for the fuzz hooks table (fuzz_hooks.h).
#include "runtime/fuzz_hooks.h"

#include <atomic>

namespace gmp::internal {

#ifdef GMP_FUZZ_HOOKS
namespace {
std::atomic<const FuzzHooks*> g_hooks{nullptr};
}  // namespace

// Relaxed on both sides: SetFuzzHooks runs outside Run, and every thread
// that reads the table during a Run was started or woken by that Run after
// (thread start, a pooled M's or service thread's wake-up), which orders
// the store before its loads. An acquire load here would cost a
// synchronisation under ThreadSanitizer at every scheduling decision.
void SetFuzzHooks(const FuzzHooks* hooks) {
  g_hooks.store(hooks, std::memory_order_relaxed);
}

const FuzzHooks* CurrentFuzzHooks() {
  return g_hooks.load(std::memory_order_relaxed);
}
#endif

}  // namespace gmp::internal
