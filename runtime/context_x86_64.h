// runtime/context_x86_64.h — the frame layout of the x86-64 context switch.
//
// A suspended context keeps its registers in a SwitchFrame at the top of its
// own stack (as Boost.Context's fcontext does) and only the address of that
// frame, its saved stack pointer, in Context::sp. Shared by
// context_x86_64.S (which uses the numbers) and context.h (which proves them
// against struct SwitchFrame with static_assert(offsetof)). Plain
// preprocessor definitions only: the assembler includes this file.
#ifndef GMPLAB_RUNTIME_CONTEXT_X86_64_H_
#define GMPLAB_RUNTIME_CONTEXT_X86_64_H_

// SwitchFrame, from the saved stack pointer upwards.
#define GMP_FRAME_MXCSR 0x00  // SSE control/status word (control: callee-saved)
#define GMP_FRAME_FPUCW 0x04  // x87 control word (callee-saved)
#define GMP_FRAME_R12 0x08    // the SysV callee-saved registers
#define GMP_FRAME_R13 0x10
#define GMP_FRAME_R14 0x18
#define GMP_FRAME_R15 0x20
#define GMP_FRAME_RBX 0x28
#define GMP_FRAME_RBP 0x30
#define GMP_FRAME_RIP 0x38   // resume address (the switch's return address)
#define GMP_FRAME_SIZE 0x40  // the stack pointer after resuming = sp + this

// Offset of the saved stack pointer in struct Context.
#define GMP_CONTEXT_SP 0x00

// Default MXCSR (all exceptions masked, round to nearest) and x87 control
// word (extended precision, all exceptions masked) for a fresh context.
#define GMP_CTX_MXCSR_INIT 0x1F80
#define GMP_CTX_FPUCW_INIT 0x037F

#endif  // GMPLAB_RUNTIME_CONTEXT_X86_64_H_
