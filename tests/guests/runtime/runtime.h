/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runtime.h: the small freestanding runtime every test payload links
 * against (tests/guests/runtime/). One copy, shared by all payloads.
 *
 * What a payload gets before guest_main() runs:
 *  - 64-bit long mode, CPL 0, interrupts off, our own GDT (selectors 0x10
 *    code, 0x18 data, the same numbers the Linux boot protocol uses) and
 *    our own page tables: the first 4 GiB identity-mapped with 2 MiB pages,
 *    user-accessible, so user-mode (CPL 3) code can run anywhere in it;
 *  - a zeroed .bss and a 16 KiB stack;
 *  - the boot structure it was handed (PVH hvm_start_info or Linux
 *    boot_params), parsed on demand by boot_info().
 *
 * Kernel mode is slow on our development hosts (it runs under KVM's
 * instruction emulator, a few million instructions a second, see
 * shared/HOST-KVM.md), so bulk work belongs in user mode: user_call() runs a
 * function at CPL 3, natively, and returns its result.
 *
 * The runtime never emits instructions that emulator cannot execute (INT3,
 * FWAIT, XSAVE, CLAC/STAC, POPCNT); the build flags keep the compiler from
 * emitting them either.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t) (a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t) (a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define KIB ((uint64_t) 1024)
#define MIB ((uint64_t) 1024 * 1024)
#define GIB ((uint64_t) 1024 * 1024 * 1024)

/* Power-off values a payload reports on port 0xf4 (0 is success). */
#define GUEST_EXIT_OK 0
#define GUEST_EXIT_FAIL 1      /* a check failed ("PROBE FAIL: ...") */
#define GUEST_EXIT_EXCEPTION 2 /* an unexpected CPU exception in kernel mode */

/* The payload's own code; its return value is the power-off value. */
int guest_main(void);

/* ---- libc-lite (lib.c); the compiler may call the mem* ones itself */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
/* Parses an unsigned number: base 0 means C rules (0x hex, 0 octal, else
 * decimal). Returns the characters used, 0 if none or on overflow. */
size_t parse_uint(const char *s, size_t len, unsigned base, uint64_t *ret);
/* Like Linux's memparse(): a number (C rules) with an optional K/M/G/T/P/E
 * suffix. Returns the characters used, 0 if none. */
size_t parse_size(const char *s, size_t len, uint64_t *ret);

/* ---- console.c: COM1 (8250 UART at 0x3f8), polled */
void console_putc(char c);
void console_write(const char *s, size_t len);
void console_puts(const char *s);
/* printf-lite: %d %i %u %x %X %p %s %c %%, flags '0' '-', width,
 * precision (".N" and ".*", for %s), length 'l', 'll', 'z'. */
int console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int console_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int format_string(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int format_string_va(char *buf, size_t size, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* ---- power.c */
/* Writes code to the isa-debug-exit port 0xf4: 0 means success. If the
 * machine is still running afterwards, says so and halts forever. */
_Noreturn void guest_poweroff(uint32_t code);
/* Asks for a CPU reset through the i8042 (outb 0xfe to port 0x64). */
_Noreturn void guest_reset(void);
/* Makes the CPU triple fault (an exception with an empty IDT). */
_Noreturn void guest_triple_fault(void);
_Noreturn void guest_halt_forever(void);
/* Prints "PROBE FAIL: <reason>" and powers off with GUEST_EXIT_FAIL. */
_Noreturn void guest_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- boot-info.c: what the loader handed us, in one shape for both
 * boot protocols */
enum boot_protocol {
        BOOT_PROTOCOL_PVH = 1,      /* PVH 32-bit entry, EBX = hvm_start_info */
        BOOT_PROTOCOL_LINUX32 = 2,  /* bzImage 32-bit entry (our real-mode stub) */
        BOOT_PROTOCOL_LINUX64 = 3,  /* bzImage 64-bit entry, RSI = boot_params */
};
#define BOOT_MEMORY_RAM 1
#define BOOT_MAX_RANGES 128
#define BOOT_MAX_MODULES 8

struct boot_range {
        uint64_t addr, size;
        uint32_t type; /* e820 numbering: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable */
};

struct boot_module {
        uint64_t addr, size;
};

struct boot_info {
        enum boot_protocol protocol;
        uint64_t structure_addr; /* hvm_start_info or boot_params */
        char cmdline[BOOT_CMDLINE_MAX];
        bool cmdline_truncated;
        unsigned nr_ranges;
        struct boot_range ranges[BOOT_MAX_RANGES];
        unsigned nr_modules;
        struct boot_module modules[BOOT_MAX_MODULES];
};

const struct boot_info *boot_info(void);
enum boot_protocol boot_protocol(void);
uint64_t boot_structure_addr(void);
const char *boot_memory_type_to_string(uint32_t type);
/* Where this payload's image lies in memory, .bss and stacks included. */
uint64_t image_start(void);
uint64_t image_end(void);

/* ---- cmdline.c: the kernel command line, split as Linux splits it
 * (spaces separate tokens, double quotes group) */
struct cmdline_token {
        const char *key;    /* not NUL-terminated */
        size_t key_len;
        const char *value;  /* quotes removed; NULL when there is no '=' */
        size_t value_len;
};
/* Returns the next token after *cursor and advances it; false at the end. */
bool cmdline_next(const char **cursor, struct cmdline_token *ret);
/* Finds the first token whose key is key. */
bool cmdline_find(const char *cmdline, const char *key, struct cmdline_token *ret);
/* key=<number>: returns def when absent; fails the payload on garbage. */
uint64_t cmdline_get_uint(const char *cmdline, const char *key, uint64_t def);
bool token_key_is(const struct cmdline_token *t, const char *key);
bool token_value_is(const struct cmdline_token *t, const char *value);

/* ---- trap.c: IDT, TSS and user mode */
/* Installs exception handlers (an unexpected exception in kernel mode
 * prints what happened and powers off with GUEST_EXIT_EXCEPTION) and the
 * TSS that user_call() needs. */
void trap_init(void);
/* Runs fn(arg) at CPL 3 on the user stack and returns 0 with its result in
 * *ret_result, or -1 if it faulted (the fault is printed). fn gets back to
 * the kernel by returning: the trampoline executes HLT, which faults (#GP)
 * at CPL 3. Needs trap_init(). */
int user_call(uint64_t (*fn)(void *arg), void *arg, uint64_t *ret_result);

/* ---- paging.c */
extern uint64_t boot_pml4[512];
/* Makes [addr, addr + size) identity-mapped (2 MiB pages) when it lies
 * below 512 GiB; the first 4 GiB always are. Returns 0 or -1. */
int paging_map_identity(uint64_t addr, uint64_t size);
void paging_flush_tlb(void);

/* ---- cpu helpers */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint64_t rdtsc(void)
{
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t) hi << 32) | lo;
}
static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- fnv1a.h has the checksum the probes and the host tool share */
