/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * entry.S: from whatever mode the loader left us in to 64-bit C code.
 *
 * Two ways in:
 *  - entry32_common: 32-bit protected mode, paging off, flat DS/ES/SS
 *    (the PVH entry and the bzImage 32-bit entry jump here), with
 *    EDI = BOOT_* protocol and ESI = the boot structure's address;
 *  - entry64_common: already in long mode on our GDT and page tables.
 *
 * The page tables are static data: the first 4 GiB identity-mapped with
 * 2 MiB pages (PML4 -> one PDPT -> four PDs), all user-accessible so that
 * user_call() can run any of our code at CPL 3. Building them at run time
 * would cost thousands of instructions, and kernel mode runs under the
 * instruction emulator on our hosts: as data they cost nothing, which keeps
 * the hello payload, our start-to-exit benchmark, short.
 */
#include "layout.h"

        .section .text.entry, "ax"
        .code32
        .globl entry32_common
entry32_common:
        cli
        cld
        lgdt    gdt_descriptor
        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $boot_pml4, %eax
        movl    %eax, %cr3
        movl    $MSR_EFER, %ecx
        rdmsr                           /* clobbers EDX only; EDI, ESI survive */
        orl     $EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax
        orl     $(CR0_PG | CR0_PE), %eax
        movl    %eax, %cr0
        ljmp    $SEL_CODE64, $entry64_common

        .code64
        .globl entry64_common
entry64_common:
        cli
        movl    $SEL_DATA, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        xorl    %eax, %eax
        movl    %eax, %fs
        movl    %eax, %gs
        movl    %edi, %r12d
        movl    %esi, %r13d
        /*
         * Zero .bss: an ELF loader does it, a bzImage loader need not.
         * The stacks live in .noinit, outside this range, so this stays a
         * few hundred bytes for most payloads.
         */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        shrl    $3, %ecx
        xorl    %eax, %eax
        rep stosq
        movq    $kernel_stack_top, %rsp
        movl    %r12d, %edi
        movl    %r13d, %esi
        call    runtime_start           /* does not return */
1:      hlt
        jmp     1b

        .section .data.boot, "aw"
        .balign 16
        .globl gdt
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x08 flat 32-bit code */
        .quad   0x00af9a000000ffff      /* 0x10 64-bit code */
        .quad   0x00cf92000000ffff      /* 0x18 flat data */
        .quad   0x00cff2000000ffff      /* 0x20 user data (DPL 3) */
        .quad   0x00affa000000ffff      /* 0x28 user 64-bit code (DPL 3) */
        .globl gdt_tss
gdt_tss:
        .quad   0, 0                    /* 0x30 TSS, filled in by trap_init() */
gdt_end:
        .balign 8
        .globl gdt_descriptor
gdt_descriptor:
        .word   gdt_end - gdt - 1
        .quad   gdt

        .section .data.pagetables, "aw"
        .balign 4096
        .globl boot_pml4
boot_pml4:
        .quad   boot_pdpt + (PTE_PRESENT | PTE_WRITE | PTE_USER)
        .fill   511, 8, 0
        .globl boot_pdpt
boot_pdpt:
        .quad   boot_pd + 0x0000 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
        .quad   boot_pd + 0x1000 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
        .quad   boot_pd + 0x2000 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
        .quad   boot_pd + 0x3000 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
        .fill   508, 8, 0
boot_pd:
        .set    page, 0
        .rept   2048
        .quad   (page << 21) + (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE)
        .set    page, page + 1
        .endr

        .section .noinit, "aw", @nobits
        .balign 16
        .space  KERNEL_STACK_SIZE
        .globl kernel_stack_top
kernel_stack_top:

        .section .note.GNU-stack, "", @progbits
