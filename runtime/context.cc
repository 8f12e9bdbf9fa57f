// runtime/context.cc — the context switch on the assembly path.
//
// Implements runtime/context.h with context_x86_64.S. The switch itself is
// SwitchContextFast (context.h), inlined into SwitchContext's own frame; the
// sanitizer calls sit around the swap in the order DESIGN.md gives:
//
//   ASan start_switch_fiber(&from->fake, to's stack)
//   TSan switch_to_fiber(to's fiber)          <- same frame as the swap
//   swap registers                            ... runs `to` ...
//   record the suspended side's sp            <- back on `from`, maybe on
//   ASan finish_switch_fiber(from->fake)         another thread
//
// The body compiles only when GMP_CONTEXT_UCONTEXT is 0; otherwise
// context_ucontext.cc provides the same functions.
#include "runtime/context.h"

#if !GMP_CONTEXT_UCONTEXT

#include <cstdint>
#include <cstring>

#include "runtime/fatal.h"
#include "runtime/sanitizer.h"

extern "C" {
void gmp_context_trampoline();
// gmp_context_start is where every fresh context begins (called by the
// trampoline on the new stack with the Context* MakeContext stored in the
// initial frame's rbx slot).
[[noreturn]] __attribute__((visibility("hidden"))) void gmp_context_start(
    gmp::internal::Context* ctx, void* old_sp, gmp::internal::Context* from);
}

namespace gmp::internal {

void MakeContext(Context* ctx, void* stack_lo, size_t size, ContextEntry entry,
                 void* arg) {
  context_internal::ResetForEntry(ctx, stack_lo, size, entry, arg);
  const auto lo = reinterpret_cast<uintptr_t>(stack_lo);
  // The initial frame sits at the top of the stack; popping it leaves rsp
  // 16-byte aligned for the trampoline's call, as the ABI wants, and puts the
  // Context* in rbx.
  const uintptr_t top = (lo + size) & ~uintptr_t{15};
  auto* frame = reinterpret_cast<SwitchFrame*>(top - 16 - sizeof(SwitchFrame));
  *frame = SwitchFrame{};
  frame->rbx = reinterpret_cast<uintptr_t>(ctx);
  frame->rip = reinterpret_cast<uintptr_t>(&gmp_context_trampoline);
  ctx->sp = frame;
}

__attribute__((noinline)) void SwitchContext(Context* from, Context* to) {
  SwitchContextFast(from, to);
}

void ExitContext(Context* to) {
  if (to->sp == nullptr || to->running) ContextNotSuspended(to);
  if (GMP_HAVE_TSAN && to->tsan_fiber == nullptr) {
    to->tsan_fiber = sanitizer::TsanCreateFiber();
    to->owns_tsan_fiber = true;
  }
  sanitizer::AsanStartSwitch(nullptr, to->stack_lo, to->stack_size);
  sanitizer::TsanSwitchToFiber(to->tsan_fiber);
  to->running = true;
  // from = null: nobody records where a finished context stopped, and it
  // stays marked running until MakeContext makes it anew.
  gmp_context_switch(to->sp, nullptr);
  __builtin_unreachable();
}

}  // namespace gmp::internal

extern "C" void gmp_context_start(gmp::internal::Context* ctx, void* old_sp,
                                  gmp::internal::Context* from) {
  // First thing on a fresh stack: complete the switch that brought us here,
  // as SwitchContextFast does on its resumed side.
  if (from != nullptr) {
    from->sp = old_sp;
    from->running = false;
  }
  gmp::internal::sanitizer::AsanFinishSwitch(nullptr, nullptr, nullptr);
  ctx->entry(ctx->arg);
  gmp::internal::Throw(
      "context entry function returned (it must end with ExitContext)");
}

#endif  // !GMP_CONTEXT_UCONTEXT
