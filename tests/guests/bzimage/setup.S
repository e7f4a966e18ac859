/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * setup.S: the real-mode part of bzimage-probe.bzImage: the boot sector
 * with the Linux setup header at 0x1f1, and a small real-mode stub.
 *
 * A 64-bit boot protocol loader (our launcher) reads the header, builds its
 * own boot_params and enters the protected-mode part at load address +
 * 0x200 in long mode; it never runs anything here.
 *
 * A real-mode loader (QEMU with its firmware) loads these sectors at some
 * segment S, fills in the loader fields of the header (type_of_loader,
 * cmd_line_ptr, ramdisk_*, heap_end_ptr) and jumps to S+0x20:0, i.e. offset
 * 0x200, in real mode with DS = S. Such a loader leaves the rest of
 * boot_params to the kernel, so the stub does what Linux's setup code does
 * for us: it uses the loaded sectors themselves as boot_params (they are
 * laid out for it: the header at 0x1f1, zeros where the e820 table goes,
 * the stub's code beyond the 4 KiB of boot_params), asks the BIOS for the
 * memory map (INT 15h, AX=E820h) into e820_table, and enters the
 * protected-mode part at code32_start in 32-bit protected mode with
 * ESI = boot_params, as the 32-bit boot protocol specifies.
 *
 * The header says protocol 2.12: a 64-bit entry (XLF_KERNEL_64), loaded
 * high at 1 MiB, not relocatable. The linker script (bzimage.ld) computes
 * setup_sects, syssize and init_size.
 */
#include "boot-structs.h"
#include "layout.h"

#define SMAP 0x534d4150 /* "SMAP" */
#define SETUP_STACK_SIZE 2048

        .section .setup, "ax"
        .code16
setup_start:
        /* The boot sector: not bootable from a disk; boot_params space. */
        .org    HDR_SETUP_SECTS
        .byte   bzimage_setup_sects
        .word   0                       /* root_flags */
        .long   bzimage_syssize         /* protected-mode part, 16-byte units */
        .word   0                       /* ram_size (obsolete) */
        .word   0xffff                  /* vid_mode: "normal" */
        .word   0                       /* root_dev */
        .org    HDR_BOOT_FLAG
        .word   HDR_BOOT_FLAG_VALUE
        .org    HDR_JUMP
        .byte   0xeb, setup_jump - 1f   /* the real-mode entry: jump over the header */
1:
        .org    HDR_HEADER
        .ascii  "HdrS"
        .word   0x020c                  /* protocol version 2.12 */
        .long   0                       /* realmode_swtch */
        .word   0x1000                  /* start_sys_seg (obsolete) */
        .word   version_string - 0x200  /* kernel_version */
        .org    HDR_TYPE_OF_LOADER
        .byte   0                       /* type_of_loader: the loader sets it */
        .byte   LOADFLAGS_LOADED_HIGH   /* loadflags */
        .word   0                       /* setup_move_size */
        .org    HDR_CODE32_START
        .long   0x100000                /* code32_start */
        .long   0                       /* ramdisk_image */
        .long   0                       /* ramdisk_size */
        .long   0                       /* bootsect_kludge */
        .word   0                       /* heap_end_ptr */
        .byte   0                       /* ext_loader_ver */
        .byte   0                       /* ext_loader_type */
        .org    HDR_CMD_LINE_PTR
        .long   0                       /* cmd_line_ptr */
        .long   0x7fffffff              /* initrd_addr_max */
        .long   0x100000                /* kernel_alignment */
        .byte   0                       /* relocatable_kernel: no, load at 1 MiB */
        .byte   20                      /* min_alignment: 1 MiB */
        .org    HDR_XLOADFLAGS
        .word   XLF_KERNEL_64           /* entry at load address + 0x200 in long mode */
        .long   BOOT_CMDLINE_MAX - 1    /* cmdline_size */
        .long   0                       /* hardware_subarch: PC */
        .quad   0                       /* hardware_subarch_data */
        .long   0                       /* payload_offset */
        .long   0                       /* payload_length */
        .org    HDR_SETUP_DATA
        .quad   0                       /* setup_data */
        .quad   0x100000                /* pref_address */
        .org    HDR_INIT_SIZE
        .long   bzimage_init_size       /* memory from 1 MiB the kernel needs */
        .long   0                       /* handover_offset: no EFI handover */
        .org    HDR_END
setup_jump:
        jmp     setup_main

        /* The rest of boot_params (e820_table at 0x2d0 and more): zeros. */
        .org    BP_SIZE
setup_main:
        cli
        cld
        movw    %ds, %ax
        movw    %ax, %es
        movw    %ax, %ss
        movw    $setup_stack_top, %sp   /* our own stack: no need to trust heap_end_ptr */
        pushw   %ds                     /* make CS = DS, whichever of S:0x200 */
        pushw   $2f                     /* or S+0x20:0 we came in by */
        lretw
2:
        /* The BIOS memory map, entry by entry, straight into e820_table. */
        movb    $0, BP_E820_ENTRIES
        movw    $BP_E820_TABLE, e820_next
        xorl    %ebx, %ebx
3:      movw    %ds, %ax
        movw    %ax, %es
        movw    e820_next, %di
        movl    $0xe820, %eax
        movl    $BP_E820_ENTRY_SIZE, %ecx
        movl    $SMAP, %edx
        int     $0x15
        jc      4f                      /* error, or past the end on some BIOSes */
        cmpl    $SMAP, %eax
        jne     4f
        incb    BP_E820_ENTRIES
        addw    $BP_E820_ENTRY_SIZE, e820_next
        testl   %ebx, %ebx
        jz      4f                      /* that was the last one */
        cmpb    $BP_E820_MAX, BP_E820_ENTRIES
        jb      3b
4:
        /* Protected mode with a flat GDT of our own, then code32_start. */
        movw    %ds, %ax
        movzwl  %ax, %esi
        shll    $4, %esi                /* ESI: boot_params, i.e. these sectors */
        movl    %esi, %eax
        addl    $gdt16, %eax
        movl    %eax, gdt16_pointer + 2
        lgdtl   gdt16_pointer
        movl    HDR_CODE32_START, %eax
        movl    %eax, code32_pointer
        xorl    %ebx, %ebx              /* the 32-bit protocol wants EBX, EBP, EDI zero */
        xorl    %ebp, %ebp
        xorl    %edi, %edi
        movl    %cr0, %eax
        orb     $CR0_PE, %al
        movl    %eax, %cr0
        ljmpl   *code32_pointer         /* CS = __BOOT_CS; startup_32 loads the rest */

        .balign 8
gdt16:
        .quad   0
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x10 __BOOT_CS: flat 32-bit code */
        .quad   0x00cf92000000ffff      /* 0x18 __BOOT_DS: flat data */
gdt16_pointer:
        .word   4 * 8 - 1
        .long   0                       /* linear address, filled in above */
code32_pointer:
        .long   0
        .word   0x10
e820_next:
        .word   0
version_string:
        .asciz  "guestd bzimage-probe"
        .balign 16
        .space  SETUP_STACK_SIZE
setup_stack_top:

        .section .note.GNU-stack, "", @progbits
