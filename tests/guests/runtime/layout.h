/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout.h: numbers shared by the runtime's assembly and C code.
 * Plain #defines only: it is included from .S files.
 */
#pragma once

/* GDT selectors. 0x10/0x18 are what the Linux boot protocol calls
 * __BOOT_CS/__BOOT_DS, and what our launcher uses too. */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x10
#define SEL_DATA 0x18
#define SEL_USER_DATA 0x20 /* used with RPL 3: 0x23 */
#define SEL_USER_CODE64 0x28 /* used with RPL 3: 0x2b */
#define SEL_TSS 0x30

/* enum boot_protocol, as the entry code passes it in EDI */
#define BOOT_PVH 1
#define BOOT_LINUX32 2
#define BOOT_LINUX64 3

#define KERNEL_STACK_SIZE 16384
#define TRAP_STACK_SIZE 8192
#define USER_STACK_SIZE 16384

/* Page table entry bits */
#define PTE_PRESENT 0x001
#define PTE_WRITE 0x002
#define PTE_USER 0x004
#define PTE_LARGE 0x080

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x20

/* Longest command line we take, with its NUL (the bzImage header says
 * cmdline_size = this - 1). */
#define BOOT_CMDLINE_MAX 4096
