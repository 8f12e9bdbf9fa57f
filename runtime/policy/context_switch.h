// runtime/policy/context_switch.h — how a variant switches between goroutine
// stacks.
//
// GMP_CONTEXT_UCONTEXT (default 0): 0 is the hand-written x86-64 switch
// (runtime/context_x86_64.S), 1 the getcontext/swapcontext fallback
// (runtime/context_ucontext.cc). runtime/context.h, context.cc,
// context_ucontext.cc and context_x86_64.S choose their code by it; this
// header is where its default lives, so it stays usable from assembly.
//
// GMP_INLINE_SWITCH (default 1): whether the scheduler's switches between g0
// and a goroutine (execute, mcall in proc.cc) are SwitchContextFast, inlined
// into the scheduler, or SwitchContext, a call (context.h). Which is faster
// depends on the CPU's branch predictors and on the workload: the report's
// switch_call variant measures it.
#ifndef GMPLAB_RUNTIME_POLICY_CONTEXT_SWITCH_H_
#define GMPLAB_RUNTIME_POLICY_CONTEXT_SWITCH_H_

#include "runtime/policy/variant_guard.h"

#ifndef GMP_CONTEXT_UCONTEXT
#define GMP_CONTEXT_UCONTEXT 0
#endif
#ifndef GMP_INLINE_SWITCH
#define GMP_INLINE_SWITCH 1
#endif

#ifndef __ASSEMBLER__
namespace gmp::internal::policy {

// kUcontext: whether this variant switches through ucontext instead of asm.
inline constexpr bool kUcontext = GMP_CONTEXT_UCONTEXT != 0;
// kInlineSwitch: whether the scheduler's own switches are inlined.
inline constexpr bool kInlineSwitch = GMP_INLINE_SWITCH != 0;

}  // namespace gmp::internal::policy
#endif  // __ASSEMBLER__

#endif  // GMPLAB_RUNTIME_POLICY_CONTEXT_SWITCH_H_
