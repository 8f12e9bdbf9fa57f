// runtime/context_x86_64.S — the x86-64 System V context switch.
//
//   SwitchResult gmp_context_switch(void* to_sp /*rdi*/, Context* from /*rsi*/)
//     Pushes a SwitchFrame (MXCSR, x87 control word, rbx, rbp, r12-r15 and,
//     already there, the return address) on the current stack, switches to
//     `to_sp`, pops the frame found there and jumps to its resume address.
//     Caller-saved registers need no saving: to the caller this is an
//     ordinary call. The *resumed* side receives the suspended side's stack
//     pointer in rax and `from` in rdx (the returned SwitchResult) and stores
//     the one into the other (context.h, SwitchContextFast). Handing the
//     stack pointer over in a register, and resuming by a jump straight into
//     the caller, keeps the switch near Boost.Context's speed: storing it
//     before the jump, or returning through a shared frame, doubles the cost
//     (measured on the AMD EPYC this project runs on).
//   gmp_context_trampoline
//     The resume address of a fresh context (see MakeContext): calls
//     gmp_context_start(ctx, old_sp, from) with the Context* that MakeContext
//     left in the frame's rbx slot and the SwitchResult every resumed side
//     gets. Never returns.
//
// Offsets come from context_x86_64.h and are checked against struct
// SwitchFrame in context.h. This file is compiled into every variant; it is
// empty when the variant uses the ucontext fallback (GMP_CONTEXT_UCONTEXT=1).
#include "runtime/context_x86_64.h"
#include "runtime/policy/context_switch.h"  // GMP_CONTEXT_UCONTEXT

#if defined(__x86_64__) && !GMP_CONTEXT_UCONTEXT

        .text

        .globl  gmp_context_switch
        .type   gmp_context_switch, @function
        .p2align 4
gmp_context_switch:
        .cfi_startproc
        leaq    -(GMP_FRAME_SIZE - 8)(%rsp), %rsp   // the return address is the frame's rip
        .cfi_adjust_cfa_offset GMP_FRAME_SIZE - 8
        stmxcsr GMP_FRAME_MXCSR(%rsp)
        fnstcw  GMP_FRAME_FPUCW(%rsp)
        movq    %r12, GMP_FRAME_R12(%rsp)
        movq    %r13, GMP_FRAME_R13(%rsp)
        movq    %r14, GMP_FRAME_R14(%rsp)
        movq    %r15, GMP_FRAME_R15(%rsp)
        movq    %rbx, GMP_FRAME_RBX(%rsp)
        movq    %rbp, GMP_FRAME_RBP(%rsp)

        movq    %rsp, %rax                  // the suspended side's sp, for the resumed side
        movq    %rdi, %rsp                  // onto the other stack

        movq    GMP_FRAME_RIP(%rsp), %r8
        ldmxcsr GMP_FRAME_MXCSR(%rsp)
        fldcw   GMP_FRAME_FPUCW(%rsp)
        movq    GMP_FRAME_R12(%rsp), %r12
        movq    GMP_FRAME_R13(%rsp), %r13
        movq    GMP_FRAME_R14(%rsp), %r14
        movq    GMP_FRAME_R15(%rsp), %r15
        movq    GMP_FRAME_RBX(%rsp), %rbx
        movq    GMP_FRAME_RBP(%rsp), %rbp
        leaq    GMP_FRAME_SIZE(%rsp), %rsp
        movq    %rsi, %rdx                  // SwitchResult{rax = old sp, rdx = from}
        jmpq    *%r8
        .cfi_endproc
        .size   gmp_context_switch, .-gmp_context_switch

        .globl  gmp_context_trampoline
        .hidden gmp_context_trampoline
        .type   gmp_context_trampoline, @function
        .p2align 4
gmp_context_trampoline:
        .cfi_startproc
        .cfi_undefined rip                  // the outermost frame: unwinders stop here
        xorl    %ebp, %ebp                  // end of the frame-pointer chain
        movq    %rbx, %rdi                  // the Context* MakeContext stored
        movq    %rax, %rsi                  // SwitchResult{old sp, from}, as
                                            // every resumed side gets it
        call    gmp_context_start@PLT       // never returns
        ud2
        .cfi_endproc
        .size   gmp_context_trampoline, .-gmp_context_trampoline

#endif

        .section .note.GNU-stack,"",@progbits
