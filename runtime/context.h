// runtime/context.h — the machine context switch between goroutine stacks.
//
// A Context is one resumable flow of control: the registers a suspended
// goroutine (or an M's scheduler context, g0) needs to go on, plus what the
// sanitizers must know about its stack. This is the lowest layer of the
// runtime; it knows nothing of G, M or P.
//
//   Context g0, g;
//   InitThreadContext(&g0);   // the thread's own stack
//   MakeContext(&g, stack.lo, stack.size, Entry, arg);
//   SwitchContext(&g0, &g);   // runs Entry(arg) on g, which switches back
//                             // with SwitchContext(&g, &g0) or, when done,
//                             // with ExitContext(&g0)
//   DestroyContext(&g);
//
// Two implementations, chosen at build time by GMP_CONTEXT_UCONTEXT
// (runtime/policy/context_switch.h):
//   0 (default)  context_x86_64.S: pushes rbx, rbp, r12-r15, the resume
//                address, MXCSR and the x87 control word as a SwitchFrame on
//                the stack it leaves, keeps that stack pointer in Context::sp
//                and pops the other side's frame (a few ns).
//   1            context_ucontext.cc: getcontext/makecontext/swapcontext, for
//                other platforms and as a comparison point (it makes a
//                sigprocmask system call per switch).
//
// Thread safety: a Context is used by one thread at a time, but a context
// suspended on one OS thread may be resumed on another. Nothing here caches
// thread-local state across a switch; callers must not either (re-read TLS
// after SwitchContext returns, which is why it is noinline).
#ifndef GMPLAB_RUNTIME_CONTEXT_H_
#define GMPLAB_RUNTIME_CONTEXT_H_

#include <cstddef>
#include <cstdint>

#include "runtime/policy/context_switch.h"  // GMP_CONTEXT_UCONTEXT

#if GMP_CONTEXT_UCONTEXT
#include <ucontext.h>

#include "runtime/sanitizer.h"
#elif defined(__x86_64__)
#include "runtime/context_x86_64.h"
#include "runtime/sanitizer.h"
#else
#error "no assembly context switch for this CPU: use GMP_CONTEXT_UCONTEXT=1"
#endif

namespace gmp::internal {

// ContextEntry is what a fresh context runs. It must never return: it ends
// with ExitContext (returning is a fatal error).
using ContextEntry = void (*)(void* arg);

#if !GMP_CONTEXT_UCONTEXT
// SwitchFrame is what context_x86_64.S pushes on a stack it leaves and pops
// from the stack it resumes; a suspended context's Context::sp points at it.
// Offsets are fixed by context_x86_64.h and checked below.
struct SwitchFrame {
  uint32_t mxcsr = GMP_CTX_MXCSR_INIT;
  uint16_t fpucw = GMP_CTX_FPUCW_INIT;
  uint16_t pad = 0;
  uint64_t r12 = 0;
  uint64_t r13 = 0;
  uint64_t r14 = 0;
  uint64_t r15 = 0;
  uint64_t rbx = 0;
  uint64_t rbp = 0;
  uint64_t rip = 0;  // resume address
};
static_assert(offsetof(SwitchFrame, mxcsr) == GMP_FRAME_MXCSR);
static_assert(offsetof(SwitchFrame, fpucw) == GMP_FRAME_FPUCW);
static_assert(offsetof(SwitchFrame, r12) == GMP_FRAME_R12);
static_assert(offsetof(SwitchFrame, r13) == GMP_FRAME_R13);
static_assert(offsetof(SwitchFrame, r14) == GMP_FRAME_R14);
static_assert(offsetof(SwitchFrame, r15) == GMP_FRAME_R15);
static_assert(offsetof(SwitchFrame, rbx) == GMP_FRAME_RBX);
static_assert(offsetof(SwitchFrame, rbp) == GMP_FRAME_RBP);
static_assert(offsetof(SwitchFrame, rip) == GMP_FRAME_RIP);
static_assert(sizeof(SwitchFrame) == GMP_FRAME_SIZE);
#endif

// Context is a saved flow of control plus its sanitizer bookkeeping. Treat
// the fields as private to context*.cc; they are public only so that the
// type is complete for embedding (e.g. right after a G).
struct Context {
#if GMP_CONTEXT_UCONTEXT
  ucontext_t uc;  // the saved machine state
#else
  // The saved stack pointer: the SwitchFrame of a suspended context, null
  // while it runs (must stay first, see GMP_CONTEXT_SP). Written by whoever
  // resumes after this context is switched out, right after the switch, on
  // that thread; cleared by the context itself when it resumes.
  void* sp = nullptr;
#endif
  ContextEntry entry = nullptr;  // what a fresh context runs
  void* arg = nullptr;           // entry's argument
  // Stack bounds [stack_lo, stack_lo + stack_size): the goroutine stack, or
  // for a thread context (g0) the thread's stack as ASan knows it. ASan is
  // given these when a switch goes *to* this context.
  void* stack_lo = nullptr;
  size_t stack_size = 0;
  // TSan fiber: for a MakeContext context created lazily at the first switch
  // into it (so a context that never ran owns none) and owned; for a thread
  // context the thread's own fiber, never destroyed.
  void* tsan_fiber = nullptr;
  bool owns_tsan_fiber = false;
  bool is_thread = false;  // set by InitThreadContext
  // running: set when something switches to this context, cleared when it is
  // switched out; a switch to a running context is a fatal error.
  bool running = false;
  // ASan fake-stack slot: where start_switch_fiber saves this context's fake
  // stack while it is switched out.
  void* asan_fake_stack = nullptr;
};

// InitThreadContext makes `ctx` describe the calling thread's own (native)
// stack, i.e. an M's g0. Nothing runs; the first SwitchContext(ctx, other)
// fills the registers in. Call on the thread itself.
void InitThreadContext(Context* ctx);

// MakeContext prepares `ctx` so that the next SwitchContext into it calls
// entry(arg) on the stack [stack_lo, stack_lo + size). `stack_lo` must be
// 16-byte aligned and `size` at least 1 KiB. Reusable: may be called again on
// a context whose previous entry has exited (with ExitContext) or that never
// ran; any TSan fiber it owned is released first. Must not be called on a
// context that is running or suspended mid-way.
void MakeContext(Context* ctx, void* stack_lo, size_t size, ContextEntry entry,
                 void* arg);

// SwitchContext saves the calling flow into `from` and resumes `to`; it
// returns when something switches back to `from` (possibly on another OS
// thread). It announces the switch to TSan and ASan in its own frame, and is
// noinline so that no thread-local address survives across it.
void SwitchContext(Context* from, Context* to);

// ExitContext is the last switch away from a finished context: it resumes
// `to` and never returns. The dying context's ASan fake stack is released;
// its TSan fiber stays until DestroyContext or the next MakeContext, which
// may be called as soon as anyone else runs.
[[noreturn]] void ExitContext(Context* to);

// DestroyContext releases what `ctx` holds of the sanitizers (its TSan fiber
// when it owns one; never a thread's own fiber). `ctx` must not be running.
// Afterwards it may be reused with MakeContext or InitThreadContext.
void DestroyContext(Context* ctx);

// ContextNotSuspended is the fatal error for a switch to a context that is
// not suspended: it is running (here or on another thread), it finished, or
// it was never made.
[[noreturn]] void ContextNotSuspended(const Context* to);

namespace context_internal {
// ResetForEntry is the part of MakeContext both switch implementations share
// (context_common.cc): it checks the stack, drops a fiber of a previous use,
// unpoisons the stack for ASan and records entry, arg and the stack bounds.
void ResetForEntry(Context* ctx, void* stack_lo, size_t size,
                   ContextEntry entry, void* arg);
}  // namespace context_internal

#if !GMP_CONTEXT_UCONTEXT
static_assert(offsetof(Context, sp) == GMP_CONTEXT_SP);

// SwitchResult is what the resumed side of gmp_context_switch receives: the
// stack pointer of the context that was switched out, and that context.
struct SwitchResult {
  void* old_sp;
  Context* from;
};
extern "C" SwitchResult gmp_context_switch(void* to_sp, Context* from);
#endif

// SwitchContextFast is SwitchContext inlined into its caller, for hot paths
// (the scheduler's own switches, benchmarks). Same contract, same sanitizer
// announcements in the caller's frame (which then is "the swap's frame").
// Inlined, the resumed side lands straight in its caller instead of
// returning through a frame shared by all contexts. Whether that is faster
// depends on the CPU's return and indirect-branch predictors and on what
// runs between switches: on the VM gmplab's reports are measured on,
// bench/context_bench.cc's bare pair costs about 23 ns per round trip with
// SwitchContext and 150 ns with this, while in the scheduler each wins some
// workloads (the switch_call variant, policy::kInlineSwitch, measures
// it). The caller must, as with SwitchContext, re-read
// thread-local state after it through noinline accessors.
GMP_ALWAYS_INLINE void SwitchContextFast(Context* from, Context* to) {
#if GMP_CONTEXT_UCONTEXT
  SwitchContext(from, to);
#else
  void* const to_sp = to->sp;
  if (__builtin_expect(to_sp == nullptr || to->running, 0)) {
    ContextNotSuspended(to);
  }
  if (GMP_HAVE_TSAN && to->tsan_fiber == nullptr) {
    to->tsan_fiber = sanitizer::TsanCreateFiber();
    to->owns_tsan_fiber = true;
  }
  sanitizer::AsanStartSwitch(&from->asan_fake_stack, to->stack_lo,
                             to->stack_size);
  sanitizer::TsanSwitchToFiber(to->tsan_fiber);
  to->running = true;
  const SwitchResult r = gmp_context_switch(to_sp, from);
  // Resumed, maybe on another thread: record where the context we came from
  // stopped and that it no longer runs (r.from is null when it finished, see
  // ExitContext; `from` itself was marked running by whoever resumed it).
  if (r.from != nullptr) {
    r.from->sp = r.old_sp;
    r.from->running = false;
  }
  sanitizer::AsanFinishSwitch(from->asan_fake_stack, nullptr, nullptr);
#endif
}

// SchedSwitch is the scheduler's switch between g0 and a goroutine (execute,
// mcall): SwitchContextFast or SwitchContext, per the variant's
// policy::kInlineSwitch (context_switch.h).
GMP_ALWAYS_INLINE void SchedSwitch(Context* from, Context* to) {
  if constexpr (policy::kInlineSwitch) {
    SwitchContextFast(from, to);
  } else {
    SwitchContext(from, to);
  }
}

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_CONTEXT_H_
