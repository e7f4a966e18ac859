/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostile-ports: every I/O port and a sweep of unassigned guest-physical
 * addresses, read and written with garbage in every size. Where nothing
 * is (that is: everywhere but the few devices below), a read must give
 * all-ones, a write must vanish, and the guest must go on.
 *
 * Skipped, because a write there is a request the guest may make
 * honestly: COM1 (0x3f8-0x3ff), the i8042 (0x60, 0x64: a reset), the
 * power-off port 0xf4, the ACPI sleep registers 0x600-0x601 (a machine
 * with ACPI, guestd's default: a write there may be the power-off; without
 * ACPI they are unassigned and merely skipped), and KVM's in-kernel PIC (0x20-0x21, 0xa0-0xa1,
 * 0x4d0-0x4d1) and PIT (0x40-0x43, 0x61), whose garbage would only stop
 * the timer this payload does not use anyway; and in memory the LAPIC,
 * the IOAPIC and the virtio-mmio windows on the command line.
 *
 * Prints "hostile-ports: N ports, M addresses, all unassigned reads
 * all-ones" and powers off with 0, or fails naming the first access that
 * read anything else.
 */
#include "runtime.h"

static inline uint16_t inw(uint16_t port)
{
        uint16_t v;
        __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint32_t inl(uint16_t port)
{
        uint32_t v;
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }

static bool port_is_device(uint32_t p)
{
        return (p >= 0x3f8 && p <= 0x3ff) || p == 0x60 || p == 0x64 || (p >= 0xf4 && p <= 0xf7) ||
               p == 0x20 || p == 0x21 || p == 0xa0 || p == 0xa1 || p == 0x4d0 || p == 0x4d1 ||
               (p >= 0x40 && p <= 0x43) || p == 0x61 || p == 0x600 || p == 0x601;
}

/* A 32-bit access at p touches p..p+3; a 16-bit one p..p+1. */
static bool range_has_device(uint32_t p, unsigned size)
{
        for (unsigned i = 0; i < size; i++)
                if (port_is_device(p + i))
                        return true;
        return false;
}

static bool addr_is_device(uint64_t a, const char *cmdline)
{
        if (a >= 0xfec00000ULL && a < 0xfed00000ULL) /* IOAPIC */
                return true;
        if (a >= 0xfee00000ULL && a < 0xfef00000ULL) /* LAPIC */
                return true;
        struct cmdline_token t;
        for (const char *c = cmdline; cmdline_next(&c, &t);) {
                uint64_t size = 0, base = 0;
                size_t n;
                if (!token_key_is(&t, "virtio_mmio.device") || !t.value)
                        continue;
                n = parse_size(t.value, t.value_len, &size);
                if (n == 0 || n >= t.value_len || t.value[n] != '@' || parse_uint(t.value + n + 1, t.value_len - n - 1, 0, &base) == 0)
                        continue;
                if (a + 8 > base && a < base + size)
                        return true;
        }
        return false;
}

int guest_main(void)
{
        const struct boot_info *bi = boot_info();
        uint64_t ram_end = 0, addresses = 0;
        unsigned ports = 0;

        console_puts("hostile-ports: start\n");
        for (uint32_t p = 0; p <= 0xffff; p++) {
                if (port_is_device(p))
                        continue;
                outb((uint16_t) p, (uint8_t) (p ^ 0xa5));
                if (inb((uint16_t) p) != 0xff)
                        guest_fail("hostile-ports: port 0x%x read 0x%x, not 0xff", p, inb((uint16_t) p));
                if ((p & 1) == 0 && p < 0xffff && !range_has_device(p, 2)) {
                        outw((uint16_t) p, 0xdead);
                        if (inw((uint16_t) p) != 0xffff)
                                guest_fail("hostile-ports: port 0x%x (16-bit) did not read all-ones", p);
                }
                if ((p & 3) == 0 && p < 0xfffd && !range_has_device(p, 4)) {
                        outl((uint16_t) p, 0xdeadbeef);
                        if (inl((uint16_t) p) != 0xffffffffu)
                                guest_fail("hostile-ports: port 0x%x (32-bit) did not read all-ones", p);
                }
                ports++;
        }
        console_printf("hostile-ports: %u ports written and read\n", ports);

        for (unsigned i = 0; i < bi->nr_ranges; i++)
                if (bi->ranges[i].type == BOOT_MEMORY_RAM)
                        ram_end = MAX(ram_end, bi->ranges[i].addr + bi->ranges[i].size);
        /* Above RAM up to the hole, the hole itself, and far above: one
         * address every 16 MiB below 4 GiB, then a few high ones. */
        static const uint64_t high[] = { 0x100000000ULL, 0x1000000000ULL, 0x7fffff0000ULL };
        uint64_t a = ALIGN_UP(ram_end, 16 * MIB);
        for (unsigned h = 0;; a += 16 * MIB) {
                if (a >= 4 * GIB) {
                        if (h == ARRAY_SIZE(high))
                                break;
                        a = high[h++];
                }
                if (addr_is_device(a, bi->cmdline))
                        continue;
                if (paging_map_identity(ALIGN_DOWN(a, 2 * MIB), 2 * MIB) < 0)
                        guest_fail("hostile-ports: cannot map 0x%lx", a);
                volatile uint8_t *m = (volatile uint8_t *) a;
                *(volatile uint64_t *) m = 0x0123456789abcdefULL;
                *(volatile uint32_t *) (m + 8) = 0xdeadbeef;
                m[13] = 0x5a;
                if (*(volatile uint64_t *) m != ~0ULL || *(volatile uint32_t *) (m + 8) != 0xffffffffu || m[13] != 0xff)
                        guest_fail("hostile-ports: address 0x%lx did not read all-ones", a);
                addresses++;
                if (a >= 4 * GIB && h == ARRAY_SIZE(high))
                        break;
        }
        console_printf("hostile-ports: %u ports, %lu addresses, all unassigned reads all-ones\n", ports, addresses);
        return GUEST_EXIT_OK;
}
