// runtime/context_ucontext.cc — the context switch on the ucontext fallback.
//
// Implements runtime/context.h with getcontext/makecontext/swapcontext when
// a variant sets GMP_CONTEXT_UCONTEXT=1 (e.g. //variants:ucontext). It serves
// platforms without an assembly switch and is a comparison point: glibc's
// swapcontext also saves and restores the signal mask, a system call per
// switch. The sanitizer protocol is the same as on the assembly path
// (context.cc); swapcontext is called directly in SwitchContext's frame.
#include "runtime/context.h"

#if GMP_CONTEXT_UCONTEXT

#include <ucontext.h>

#include <cstdint>

#include "runtime/fatal.h"
#include "runtime/sanitizer.h"

namespace gmp::internal {
namespace {

// ContextStart is where every fresh context begins. makecontext passes only
// int arguments, so the Context* arrives in two halves.
[[noreturn]] void ContextStart(unsigned int lo, unsigned int hi) {
  sanitizer::AsanFinishSwitch(nullptr, nullptr, nullptr);
  auto* ctx = reinterpret_cast<Context*>((static_cast<uintptr_t>(hi) << 32) |
                                         static_cast<uintptr_t>(lo));
  ctx->entry(ctx->arg);
  Throw("context entry function returned (it must end with ExitContext)");
}

}  // namespace

void MakeContext(Context* ctx, void* stack_lo, size_t size, ContextEntry entry,
                 void* arg) {
  context_internal::ResetForEntry(ctx, stack_lo, size, entry, arg);
  if (getcontext(&ctx->uc) != 0) Throw("MakeContext: getcontext failed");
  ctx->uc.uc_stack.ss_sp = stack_lo;
  ctx->uc.uc_stack.ss_size = size;
  ctx->uc.uc_link = nullptr;
  const auto p = reinterpret_cast<uintptr_t>(ctx);
  makecontext(&ctx->uc, reinterpret_cast<void (*)()>(&ContextStart), 2,
              static_cast<unsigned int>(p), static_cast<unsigned int>(p >> 32));
}

__attribute__((noinline)) void SwitchContext(Context* from, Context* to) {
  if (to->running || (to->entry == nullptr && !to->is_thread)) {
    ContextNotSuspended(to);
  }
  if (GMP_HAVE_TSAN && to->tsan_fiber == nullptr) {
    to->tsan_fiber = sanitizer::TsanCreateFiber();
    to->owns_tsan_fiber = true;
  }
  sanitizer::AsanStartSwitch(&from->asan_fake_stack, to->stack_lo,
                             to->stack_size);
  sanitizer::TsanSwitchToFiber(to->tsan_fiber);
  from->running = false;
  to->running = true;
  if (swapcontext(&from->uc, &to->uc) != 0) Throw("swapcontext failed");
  sanitizer::AsanFinishSwitch(from->asan_fake_stack, nullptr, nullptr);
}

void ExitContext(Context* to) {
  if (to->running || (to->entry == nullptr && !to->is_thread)) {
    ContextNotSuspended(to);
  }
  if (GMP_HAVE_TSAN && to->tsan_fiber == nullptr) {
    to->tsan_fiber = sanitizer::TsanCreateFiber();
    to->owns_tsan_fiber = true;
  }
  sanitizer::AsanStartSwitch(nullptr, to->stack_lo, to->stack_size);
  sanitizer::TsanSwitchToFiber(to->tsan_fiber);
  to->running = true;  // the dying context stays marked running
  setcontext(&to->uc);
  Throw("setcontext failed");
}

}  // namespace gmp::internal

#endif  // GMP_CONTEXT_UCONTEXT
