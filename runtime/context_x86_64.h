// runtime/context_x86_64.h — register offsets of the x86-64 context switch.
//
// Shared by context_x86_64.S (which uses the numbers) and context.h (which
// proves them against struct ContextRegs with static_assert(offsetof)). Keep
// this file plain preprocessor definitions: the assembler includes it.
#ifndef GMPLAB_RUNTIME_CONTEXT_X86_64_H_
#define GMPLAB_RUNTIME_CONTEXT_X86_64_H_

// The SysV callee-saved registers, then where to resume.
#define GMP_CTX_RBX 0
#define GMP_CTX_RBP 8
#define GMP_CTX_R12 16
#define GMP_CTX_R13 24
#define GMP_CTX_R14 32
#define GMP_CTX_R15 40
#define GMP_CTX_RSP 48    // stack pointer after the return from the switch
#define GMP_CTX_RIP 56    // resume address
#define GMP_CTX_MXCSR 64  // SSE control/status (control bits are callee-saved)
#define GMP_CTX_FPUCW 68  // x87 control word (callee-saved)
#define GMP_CTX_SIZE 72

// Default MXCSR (all exceptions masked, round to nearest) and x87 control
// word (extended precision, all exceptions masked) for a fresh context.
#define GMP_CTX_MXCSR_INIT 0x1F80
#define GMP_CTX_FPUCW_INIT 0x037F

#endif  // GMPLAB_RUNTIME_CONTEXT_X86_64_H_
