// runtime/fuzz_hooks.cc — storage for the fuzz hooks table (fuzz_hooks.h).
#include "runtime/fuzz_hooks.h"

#include <atomic>

namespace gmp::internal {

#ifdef GMP_FUZZ_HOOKS
namespace {
std::atomic<const FuzzHooks*> g_hooks{nullptr};
}  // namespace

void SetFuzzHooks(const FuzzHooks* hooks) {
  g_hooks.store(hooks, std::memory_order_release);
}

const FuzzHooks* CurrentFuzzHooks() {
  return g_hooks.load(std::memory_order_acquire);
}
#endif

}  // namespace gmp::internal
