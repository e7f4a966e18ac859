/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvh-entry.S: makes a payload a PVH kernel. The ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY (type 18, owner "Xen") names the 32-bit entry;
 * a PVH loader (our launcher, QEMU) starts us there in flat 32-bit protected
 * mode, paging off, with EBX pointing at struct hvm_start_info.
 *
 * The note's value is 8 bytes wide, as Linux's is on x86-64: QEMU reads a
 * whole 64-bit word there, and a loader that reads 32 bits gets the same
 * number.
 */
#include "layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

        .section .note.Xen, "a", @note
        .balign 4
        .long   4                       /* name size: "Xen\0" */
        .long   8                       /* descriptor size */
        .long   XEN_ELFNOTE_PHYS32_ENTRY
        .asciz  "Xen"
        .balign 4
        .quad   pvh_start32
        .balign 4

        .section .text.entry, "ax"
        .code32
        .globl pvh_start32
pvh_start32:
        movl    %ebx, %esi
        movl    $BOOT_PVH, %edi
        jmp     entry32_common

        .section .note.GNU-stack, "", @progbits
