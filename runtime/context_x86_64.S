// runtime/context_x86_64.S — the x86-64 System V context switch.
//
// Three routines, called only from context.cc:
//
//   void gmp_context_swap(ContextRegs* from, const ContextRegs* to)
//     Saves the callee-saved registers, the stack pointer as it will be after
//     this call returns, the return address, MXCSR and the x87 control word
//     into *from, then loads *to and jumps to its resume address. Caller-saved
//     registers need no saving: to the caller this is an ordinary call.
//   void gmp_context_jump(const ContextRegs* to)
//     The same without saving: the last switch of a finished context.
//   gmp_context_trampoline
//     Where a fresh context (see MakeContext) starts: rbx holds its Context*;
//     calls gmp_context_start(ctx), which never returns.
//
// Offsets come from context_x86_64.h and are checked against struct
// ContextRegs in context.h. This file is compiled into every variant; it is
// empty when the variant uses the ucontext fallback (GMP_CONTEXT_UCONTEXT=1).
#include "runtime/context_x86_64.h"

#if defined(__x86_64__) && !(defined(GMP_CONTEXT_UCONTEXT) && GMP_CONTEXT_UCONTEXT)

        .text

        .globl  gmp_context_swap
        .hidden gmp_context_swap
        .type   gmp_context_swap, @function
        .p2align 4
gmp_context_swap:
        .cfi_startproc
        movq    (%rsp), %rax            // resume address = our return address
        leaq    8(%rsp), %rcx           // rsp once we have returned
        movq    %rbx, GMP_CTX_RBX(%rdi)
        movq    %rbp, GMP_CTX_RBP(%rdi)
        movq    %r12, GMP_CTX_R12(%rdi)
        movq    %r13, GMP_CTX_R13(%rdi)
        movq    %r14, GMP_CTX_R14(%rdi)
        movq    %r15, GMP_CTX_R15(%rdi)
        movq    %rcx, GMP_CTX_RSP(%rdi)
        movq    %rax, GMP_CTX_RIP(%rdi)
        stmxcsr GMP_CTX_MXCSR(%rdi)
        fnstcw  GMP_CTX_FPUCW(%rdi)

        movq    GMP_CTX_RBX(%rsi), %rbx
        movq    GMP_CTX_RBP(%rsi), %rbp
        movq    GMP_CTX_R12(%rsi), %r12
        movq    GMP_CTX_R13(%rsi), %r13
        movq    GMP_CTX_R14(%rsi), %r14
        movq    GMP_CTX_R15(%rsi), %r15
        ldmxcsr GMP_CTX_MXCSR(%rsi)
        fldcw   GMP_CTX_FPUCW(%rsi)
        movq    GMP_CTX_RSP(%rsi), %rsp
        jmpq    *GMP_CTX_RIP(%rsi)
        .cfi_endproc
        .size   gmp_context_swap, .-gmp_context_swap

        .globl  gmp_context_jump
        .hidden gmp_context_jump
        .type   gmp_context_jump, @function
        .p2align 4
gmp_context_jump:
        .cfi_startproc
        movq    GMP_CTX_RBX(%rdi), %rbx
        movq    GMP_CTX_RBP(%rdi), %rbp
        movq    GMP_CTX_R12(%rdi), %r12
        movq    GMP_CTX_R13(%rdi), %r13
        movq    GMP_CTX_R14(%rdi), %r14
        movq    GMP_CTX_R15(%rdi), %r15
        ldmxcsr GMP_CTX_MXCSR(%rdi)
        fldcw   GMP_CTX_FPUCW(%rdi)
        movq    GMP_CTX_RSP(%rdi), %rsp
        jmpq    *GMP_CTX_RIP(%rdi)
        .cfi_endproc
        .size   gmp_context_jump, .-gmp_context_jump

        .globl  gmp_context_trampoline
        .hidden gmp_context_trampoline
        .type   gmp_context_trampoline, @function
        .p2align 4
gmp_context_trampoline:
        .cfi_startproc
        .cfi_undefined rip              // the outermost frame: unwinders stop here
        xorl    %ebp, %ebp              // end of the frame-pointer chain
        movq    %rbx, %rdi              // the Context*
        call    gmp_context_start@PLT   // never returns
        ud2
        .cfi_endproc
        .size   gmp_context_trampoline, .-gmp_context_trampoline

#endif

        .section .note.GNU-stack,"",@progbits
