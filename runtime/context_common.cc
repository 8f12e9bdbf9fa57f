// runtime/context_common.cc — the parts of runtime/context.h that do not
// depend on how registers are switched: a thread's own context, the
// bookkeeping MakeContext does before laying out the first frame, the misuse
// error and DestroyContext. context.cc (assembly) and context_ucontext.cc
// each add the switch itself.
#include <cstdint>

#include "runtime/context.h"
#include "runtime/fatal.h"
#include "runtime/sanitizer.h"

namespace gmp::internal {

void InitThreadContext(Context* ctx) {
  *ctx = Context{};
  ctx->is_thread = true;
  ctx->running = true;
  sanitizer::AsanCurrentStackBounds(&ctx->stack_lo, &ctx->stack_size);
  ctx->tsan_fiber = sanitizer::TsanCurrentFiber();
  ctx->owns_tsan_fiber = false;
}

namespace context_internal {

void ResetForEntry(Context* ctx, void* stack_lo, size_t size,
                   ContextEntry entry, void* arg) {
  const auto lo = reinterpret_cast<uintptr_t>(stack_lo);
  if (stack_lo == nullptr || size < 1024 || (lo & 15) != 0) {
    Throw("MakeContext: bad stack (null, under 1 KiB, or not 16-byte aligned)");
  }
  if (ctx->owns_tsan_fiber) sanitizer::TsanDestroyFiber(ctx->tsan_fiber);
  // Frames of a previous user of this stack that never returned leave ASan
  // redzones behind.
  sanitizer::AsanUnpoison(stack_lo, size);
  *ctx = Context{};
  ctx->entry = entry;
  ctx->arg = arg;
  ctx->stack_lo = stack_lo;
  ctx->stack_size = size;
}

}  // namespace context_internal

void ContextNotSuspended(const Context* to) {
  Throw(to->entry == nullptr && !to->is_thread
            ? "SwitchContext to a context that was never made"
            : "SwitchContext to a context that is not suspended (running, "
              "finished, or resumed twice)");
}

void DestroyContext(Context* ctx) {
  if (ctx->owns_tsan_fiber) sanitizer::TsanDestroyFiber(ctx->tsan_fiber);
  ctx->tsan_fiber = nullptr;
  ctx->owns_tsan_fiber = false;
}

}  // namespace gmp::internal
