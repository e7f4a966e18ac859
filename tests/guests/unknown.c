/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unknown: accesses to ports and MMIO addresses no device claims. On a PC
 * an unclaimed bus reads as all-ones and swallows writes; the launcher
 * must do the same and keep running. Prints "unknown OK" and powers off
 * with 0, or fails naming the access that read wrong.
 */
#include "runtime.h"

#define UNCLAIMED_MMIO 0xe0000000ull /* in the PCI hole, below the IOAPIC */

static inline uint32_t inl(uint16_t port)
{
        uint32_t v;
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}

int guest_main(void)
{
        static const uint16_t ports[] = { 0x100, 0x2f8, 0x378, 0xcf8, 0x1234, 0xfff0 };
        volatile uint32_t *mmio = (volatile uint32_t *) UNCLAIMED_MMIO;

        for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
                outb(ports[i], 0x5a);
                outl(ports[i] & ~3u, 0x12345678);
                if (inb(ports[i]) != 0xff)
                        guest_fail("port 0x%x read 0x%x, not 0xff", ports[i], inb(ports[i]));
                if (inl(ports[i] & ~3u) != 0xffffffffu)
                        guest_fail("port 0x%x (32-bit) did not read all-ones", ports[i] & ~3u);
        }
        if (paging_map_identity(UNCLAIMED_MMIO, 2ull << 20) < 0)
                guest_fail("cannot map 0x%llx", UNCLAIMED_MMIO);
        mmio[0] = 0xdeadbeef;
        mmio[1] = 0;
        if (mmio[0] != 0xffffffffu || mmio[1] != 0xffffffffu)
                guest_fail("MMIO at 0x%llx did not read all-ones", UNCLAIMED_MMIO);
        if (*(volatile uint8_t *) (UNCLAIMED_MMIO + 0x123) != 0xff)
                guest_fail("MMIO byte read did not give 0xff");
        console_puts("unknown OK\n");
        return GUEST_EXIT_OK;
}
