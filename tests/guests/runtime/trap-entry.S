/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trap-entry.S: exception entry stubs and the switch to and from user mode.
 *
 * Every stub makes the stack look the same (error code or 0, vector
 * number, then the general registers: struct trap_frame in trap.c) and
 * calls trap_dispatch(). trap_dispatch() either returns (we resume with
 * IRETQ) or, for a fault from user mode, goes back to user_call()'s caller
 * through user_leave().
 */
#include "layout.h"

        .code64
        .section .text, "ax"

        .macro TRAP_STUB vector, has_error_code
trap_stub_\vector:
        .if \has_error_code == 0
        pushq   $0
        .endif
        pushq   $\vector
        jmp     trap_common
        .endm

        .irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
        TRAP_STUB \v, 0
        .endr
        .irp v, 8,10,11,12,13,14,17,21,29,30
        TRAP_STUB \v, 1
        .endr

trap_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        movq    %rsp, %rdi
        call    trap_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp               /* vector, error code */
        iretq

        .section .rodata, "a"
        .balign 8
        .globl trap_stubs
trap_stubs:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   trap_stub_\v
        .endr

        .section .text, "ax"
/*
 * uint64_t user_enter(uint64_t (*fn)(void *), void *arg, uint64_t user_rsp)
 *
 * Saves the callee-saved registers and the kernel stack pointer, then
 * IRETQs to user_trampoline at CPL 3 with interrupts off. Comes back (as if
 * returning from user_enter) when trap_dispatch() calls user_leave().
 */
        .globl user_enter
user_enter:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, user_kernel_rsp(%rip)
        pushq   $(SEL_USER_DATA | 3)    /* SS */
        pushq   %rdx                    /* RSP */
        pushq   $0x2                    /* RFLAGS: IF off, IOPL 0 */
        pushq   $(SEL_USER_CODE64 | 3)  /* CS */
        leaq    user_trampoline(%rip), %rax
        pushq   %rax                    /* RIP */
        movq    %rdi, %rax              /* fn */
        movq    %rsi, %rdi              /* arg */
        xorl    %esi, %esi
        xorl    %edx, %edx
        iretq

/* void user_leave(uint64_t result): back onto user_enter's kernel stack. */
        .globl user_leave
user_leave:
        movq    user_kernel_rsp(%rip), %rsp
        movq    %rdi, %rax
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

/* Runs at CPL 3: calls fn(arg), then HLT traps (#GP) back to the kernel. */
user_trampoline:
        call    *%rax
1:      hlt
        jmp     1b

        .section .bss, "aw", @nobits
        .balign 8
user_kernel_rsp:
        .space  8

        .section .noinit, "aw", @nobits
        .balign 16
        .space  TRAP_STACK_SIZE
        .globl trap_stack_top
trap_stack_top:
        .space  USER_STACK_SIZE
        .globl user_stack_top
user_stack_top:

        .section .note.GNU-stack, "", @progbits
