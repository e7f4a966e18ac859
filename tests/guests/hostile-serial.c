/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostile-serial: floods COM1. It never waits for the transmitter: it
 * writes 4 KiB at a time with `rep outsb` (one VM exit carries the whole
 * page), and between floods it writes garbage to every UART register:
 * divisor latch on and off, interrupts enabled and not, loopback mode,
 * FIFO control, the scratch register, and reads back the lot.
 *
 * The launcher may drop what nobody reads; it must not buffer without
 * bound, slow the host down or stop serving its guestd. Options:
 * hostile-serial.mib=N stops after about N MiB and powers off with 0
 * (default 0: for ever, until stopped); hostile-serial.regs=0 leaves the
 * other UART registers alone (the data flood only).
 */
#include "runtime.h"

#define COM1 0x3f8

static char page[4096];

int guest_main(void)
{
        uint64_t mib = cmdline_get_uint(boot_info()->cmdline, "hostile-serial.mib", 0), sent = 0;
        uint64_t regs = cmdline_get_uint(boot_info()->cmdline, "hostile-serial.regs", 1);

        console_puts("hostile-serial: flooding COM1\n");
        for (unsigned i = 0; i < sizeof(page); i++)
                page[i] = (char) (i % 64 == 63 ? '\n' : 'A' + i % 26);
        for (uint64_t round = 0; mib == 0 || sent < mib * MIB; round++) {
                const char *p = page;
                uint64_t n = sizeof(page);
                __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"((uint16_t) COM1) : "memory");
                sent += sizeof(page);
                if (regs && round % 16 == 0)
                        for (unsigned reg = 1; reg < 8; reg++) {
                                outb((uint16_t) (COM1 + reg), (uint8_t) (round * 37 + reg * 11));
                                (void) inb((uint16_t) (COM1 + reg));
                        }
                /* Back to a sane line setting so the flood is data, not
                 * divisor bytes. */
                outb(COM1 + 3, 0x03);
                outb(COM1 + 4, 0x00);
        }
        console_printf("\nhostile-serial: %lu bytes sent\n", sent);
        return GUEST_EXIT_OK;
}
