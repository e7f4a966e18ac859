/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * power.c: ending the guest. Our launcher and QEMU's isa-debug-exit device
 * (iobase 0xf4) both take a 32-bit write to port 0xf4 as "power off with
 * this value": 0 is success, anything else a failure the payload reports.
 */
#include "runtime.h"

#define DEBUG_EXIT_PORT 0xf4
#define I8042_COMMAND_PORT 0x64
#define I8042_PULSE_RESET 0xfe

_Noreturn void guest_halt_forever(void)
{
        for (;;)
                __asm__ volatile("cli; hlt");
}

_Noreturn void guest_poweroff(uint32_t code)
{
        outl(DEBUG_EXIT_PORT, code);
        console_printf("poweroff: writing %u to port 0x%x did not stop the machine; halting\n", code, DEBUG_EXIT_PORT);
        guest_halt_forever();
}

_Noreturn void guest_reset(void)
{
        outb(I8042_COMMAND_PORT, I8042_PULSE_RESET);
        console_puts("reset: the i8042 reset request did not reset the machine; halting\n");
        guest_halt_forever();
}

_Noreturn void guest_triple_fault(void)
{
        /* An empty IDT turns the #GP from a non-canonical access into a
         * double fault and then a triple fault (no INT3 or UD2: KVM's
         * emulator would stop on those with an internal error instead). */
        struct {
                uint16_t limit;
                uint64_t base;
        } __attribute__((packed)) empty_idt = { 0, 0 };
        __asm__ volatile("lidt %0" : : "m"(empty_idt));
        __asm__ volatile("movq (%0), %%rax" : : "r"(0x8000000000000000ULL) : "rax", "memory");
        console_puts("triple fault: still running; halting\n");
        guest_halt_forever();
}

_Noreturn void guest_fail(const char *fmt, ...)
{
        va_list ap;
        console_puts("PROBE FAIL: ");
        va_start(ap, fmt);
        console_vprintf(fmt, ap);
        va_end(ap);
        console_puts("\n");
        guest_poweroff(GUEST_EXIT_FAIL);
}
