/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * head.S: the first bytes of bzimage-probe's protected-mode part, loaded
 * at 1 MiB. The Linux boot protocol fixes two entry points here:
 *
 *  - offset 0 (code32_start): 32-bit protected mode, paging off,
 *    ESI = boot_params. Our real-mode stub (setup.S) comes here.
 *  - offset 0x200: 64-bit long mode with identity paging, RSI =
 *    boot_params. Our launcher comes here.
 *
 * Both go on to the runtime's common entry code (runtime/entry.S), which
 * loads our own GDT and page tables.
 */
#include "layout.h"

        .section .head, "ax"
        .code32
        .globl startup_32
startup_32:
        cli
        movl    $SEL_DATA, %eax         /* __BOOT_DS in the loader's GDT and ours */
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    $BOOT_LINUX32, %edi
        jmp     entry32_common

        .org    0x200
        .code64
        .globl startup_64
startup_64:
        cli
        /* The protocol promises no stack: take ours before the first push. */
        leaq    kernel_stack_top(%rip), %rsp
        lgdt    gdt_descriptor(%rip)
        movl    $boot_pml4, %eax
        movq    %rax, %cr3
        pushq   $SEL_CODE64             /* reload CS from our GDT */
        leaq    1f(%rip), %rax
        pushq   %rax
        lretq
1:      movl    $BOOT_LINUX64, %edi
        jmp     entry64_common          /* ESI: boot_params, below 4 GiB */

        .section .note.GNU-stack, "", @progbits
