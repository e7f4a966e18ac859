/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * boot-structs.h: what the two boot protocols hand a kernel, written down
 * from the protocol documents (Xen's PVH start info, Linux's
 * Documentation/arch/x86/boot.rst and zero-page.rst). Offsets are plain
 * numbers so that the bzImage header in assembly can use them too.
 */
#pragma once

/* ---- PVH: struct hvm_start_info, EBX at the 32-bit entry */
#define HVM_START_MAGIC 0x336ec578

#ifndef __ASSEMBLER__
#include <stdint.h>

struct hvm_start_info {
        uint32_t magic;
        uint32_t version;        /* 0, or 1 with the memory map */
        uint32_t flags;
        uint32_t nr_modules;
        uint64_t modlist_paddr;  /* struct hvm_modlist_entry[nr_modules] */
        uint64_t cmdline_paddr;  /* NUL-terminated */
        uint64_t rsdp_paddr;
        /* version >= 1 */
        uint64_t memmap_paddr;   /* struct hvm_memmap_entry[memmap_entries] */
        uint32_t memmap_entries;
        uint32_t reserved;
};

struct hvm_modlist_entry {
        uint64_t paddr;
        uint64_t size;
        uint64_t cmdline_paddr;
        uint64_t reserved;
};

struct hvm_memmap_entry {
        uint64_t addr;
        uint64_t size;
        uint32_t type;           /* e820 numbering */
        uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "hvm_memmap_entry layout");
#endif

/* ---- Linux: struct boot_params (the "zero page"), RSI/ESI at entry */
#define BP_EXT_RAMDISK_IMAGE 0x0c0 /* u32, high half of ramdisk_image */
#define BP_EXT_RAMDISK_SIZE 0x0c4  /* u32 */
#define BP_EXT_CMD_LINE_PTR 0x0c8  /* u32 */
#define BP_E820_ENTRIES 0x1e8      /* u8 */
#define BP_HDR 0x1f1               /* struct setup_header starts here */
#define BP_E820_TABLE 0x2d0        /* 20-byte entries: u64 addr, u64 size, u32 type */
#define BP_E820_MAX 128
#define BP_E820_ENTRY_SIZE 20
#define BP_SIZE 0x1000

/* struct setup_header fields, as offsets into boot_params (and into the
 * first sector of a bzImage file, where the header is the same bytes) */
#define HDR_SETUP_SECTS 0x1f1      /* u8 */
#define HDR_SYSSIZE 0x1f4          /* u32, protected-mode part in 16-byte units */
#define HDR_VID_MODE 0x1fa         /* u16 */
#define HDR_BOOT_FLAG 0x1fe        /* u16 0xaa55 */
#define HDR_JUMP 0x200             /* u16, a short jump over the header */
#define HDR_HEADER 0x202           /* u32 "HdrS" */
#define HDR_VERSION 0x206          /* u16 */
#define HDR_KERNEL_VERSION 0x20e   /* u16, offset of a string, minus 0x200 */
#define HDR_TYPE_OF_LOADER 0x210   /* u8, set by the loader */
#define HDR_LOADFLAGS 0x211        /* u8 */
#define HDR_SETUP_MOVE_SIZE 0x212  /* u16 */
#define HDR_CODE32_START 0x214     /* u32 */
#define HDR_RAMDISK_IMAGE 0x218    /* u32, set by the loader */
#define HDR_RAMDISK_SIZE 0x21c     /* u32, set by the loader */
#define HDR_HEAP_END_PTR 0x224     /* u16, set by the loader */
#define HDR_CMD_LINE_PTR 0x228     /* u32, set by the loader */
#define HDR_INITRD_ADDR_MAX 0x22c  /* u32 */
#define HDR_KERNEL_ALIGNMENT 0x230 /* u32 */
#define HDR_RELOCATABLE_KERNEL 0x234 /* u8 */
#define HDR_MIN_ALIGNMENT 0x235    /* u8 */
#define HDR_XLOADFLAGS 0x236       /* u16 */
#define HDR_CMDLINE_SIZE 0x238     /* u32 */
#define HDR_SETUP_DATA 0x250       /* u64 */
#define HDR_PREF_ADDRESS 0x258     /* u64 */
#define HDR_INIT_SIZE 0x260        /* u32 */
#define HDR_HANDOVER_OFFSET 0x264  /* u32 */
#define HDR_END 0x268              /* end of the 2.12 header */

#define HDR_MAGIC 0x53726448       /* "HdrS" */
#define HDR_BOOT_FLAG_VALUE 0xaa55
#define LOADFLAGS_LOADED_HIGH 0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
