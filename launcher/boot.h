/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * boot.h: loading a kernel into guest memory and describing the CPU state
 * it expects at its first instruction. Two protocols:
 *
 *  - PVH: an ELF file whose XEN_ELFNOTE_PHYS32_ENTRY note names a 32-bit
 *    entry point. The guest starts in flat 32-bit protected mode without
 *    paging, EBX pointing at struct hvm_start_info (command line, memory
 *    map, modules such as the initrd). Linux's vmlinux and our test payloads
 *    use it; QEMU boots the same files.
 *  - The Linux x86 boot protocol for bzImage, 64-bit entry: the setup
 *    header tells where the protected-mode kernel goes; we build the "zero
 *    page" (struct boot_params: e820 map, command line, initrd) and enter
 *    at load address + 0x200 in long mode with identity-mapped page tables,
 *    RSI pointing at the zero page.
 *
 * Fixed guest-physical layout below 1 MiB (all of it ours, the kernel goes
 * at 1 MiB or above):
 *   0x0500  GDT               0x6000  hvm_start_info, memmap, modlist
 *   0x7000  zero page         0x9000  PML4, 0xa000 PDPT, 0xb000.. 4 PDs
 *   0x20000 command line      0x9fc00 MP table (reserved in the e820 map)
 */
#pragma once

#include "guest-limits.h"

#include <stdint.h>

#include "memory.h"

#define BOOT_GDT_ADDR 0x500
#define BOOT_START_INFO_ADDR 0x6000
#define BOOT_MEMMAP_ADDR 0x6100
#define BOOT_MODLIST_ADDR 0x6400
#define BOOT_ZERO_PAGE_ADDR 0x7000
#define BOOT_PML4_ADDR 0x9000
#define BOOT_PDPT_ADDR 0xa000
#define BOOT_PD_ADDR 0xb000
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX GUEST_CMDLINE_SIZE /* guest-limits.h */
#define BOOT_MPTABLE_ADDR 0x9fc00
#define BOOT_LOW_RAM_END 0x9fc00     /* RAM below here; reserved up to 1 MiB */
#define BOOT_KERNEL_MIN_ADDR 0x100000

/* GDT selectors; the Linux boot protocol wants __BOOT_CS 0x10, __BOOT_DS 0x18. */
#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE64 0x10
#define BOOT_SEL_DATA 0x18
#define BOOT_SEL_TSS 0x20

enum boot_mode {
        BOOT_MODE_PVH,   /* 32-bit protected mode, paging off, EBX = start info */
        BOOT_MODE_LINUX64, /* long mode, identity paging, RSI = zero page */
};

struct boot_entry {
        enum boot_mode mode;
        const char *protocol;  /* "PVH ELF" or "bzImage" */
        uint64_t entry;        /* first instruction */
        uint64_t arg;          /* EBX (PVH) or RSI (Linux) */
        uint64_t kernel_start, kernel_end; /* where the image lies */
        uint64_t initrd_start, initrd_size;
};

/* Loads kernel (and initrd, if initrd_fd >= 0) into mem, writes the boot
 * structures for the protocol the file is in, and says how to enter it.
 * Logs why and returns -ENOEXEC for a file in neither format, -E2BIG or
 * -ENOMEM when it does not fit. */
int boot_load(struct guest_memory *mem, int kernel_fd, int initrd_fd, const char *cmdline, struct boot_entry *ret);
/* After boot_load(): where the guest finds the ACPI RSDP (acpi.h), the way
 * the protocol e was loaded by says it: hvm_start_info.rsdp_paddr (PVH),
 * boot_params.acpi_rsdp_addr (bzImage). */
int boot_set_acpi_rsdp(struct guest_memory *mem, const struct boot_entry *e, uint64_t rsdp);

/* One e820/PVH memory map entry. */
struct boot_mem_range {
        uint64_t addr, size;
        uint32_t type; /* 1 RAM, 2 reserved */
};
#define BOOT_MAX_MEM_RANGES 8
/* The guest's memory map as both protocols report it. Returns the count. */
unsigned boot_memory_map(const struct guest_memory *mem, struct boot_mem_range ranges[static BOOT_MAX_MEM_RANGES]);
