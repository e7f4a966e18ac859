/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostile-mmio: writes garbage to every register of every virtio-mmio
 * device on the command line, with every access size (1, 2, 4 and 8
 * bytes), at every byte offset of the window, in a few rounds with
 * different values: all zeros, all ones, a pattern, and the value just
 * read back. Status, queue addresses, queue sizes, feature selectors and
 * notifies all get nonsense, in whatever order the loop reaches them, so
 * the device sees half-configured queues "ready", notifies of queues
 * with rings anywhere, and writes to its read-only registers and config
 * space.
 *
 * The device may do anything a device may do about that (ignore it, give
 * up on the queue, mark itself DEVICE_NEEDS_RESET); the launcher must not
 * crash, hang or end the guest. Afterwards a reset must bring the device
 * back: the payload negotiates again and checks the magic value still
 * reads right. Prints "hostile-mmio: N accesses, device still works" and
 * powers off with 0.
 */
#include "virtio-mmio.h"

static uint64_t accesses;

static void poke(volatile uint8_t *regs, unsigned off, unsigned size, uint64_t v)
{
        switch (size) {
        case 1: *(volatile uint8_t *) (regs + off) = (uint8_t) v; break;
        case 2: *(volatile uint16_t *) (regs + off) = (uint16_t) v; break;
        case 4: *(volatile uint32_t *) (regs + off) = (uint32_t) v; break;
        default: *(volatile uint64_t *) (regs + off) = v; break;
        }
        accesses++;
}

static uint64_t peek(volatile uint8_t *regs, unsigned off, unsigned size)
{
        accesses++;
        switch (size) {
        case 1: return *(volatile uint8_t *) (regs + off);
        case 2: return *(volatile uint16_t *) (regs + off);
        case 4: return *(volatile uint32_t *) (regs + off);
        default: return *(volatile uint64_t *) (regs + off);
        }
}

int guest_main(void)
{
        const char *cmdline = boot_info()->cmdline;
        static const uint64_t values[] = { 0, ~0ULL, 0xdeadbeefcafef00dULL, 0x0000000100000001ULL };
        struct virtio_mmio_device dev;
        struct cmdline_token t;
        unsigned devices = 0;

        console_puts("hostile-mmio: start\n");
        for (const char *c = cmdline; cmdline_next(&c, &t);) {
                struct virtio_mmio_location loc;
                if (!token_key_is(&t, "virtio_mmio.device") || !t.value || !virtio_mmio_parse_location(t.value, t.value_len, &loc))
                        continue;
                if (loc.size < 0x100 || paging_map_identity(loc.base, loc.size) < 0)
                        continue;
                volatile uint8_t *regs = (volatile uint8_t *) loc.base;
                devices++;
                for (unsigned round = 0; round <= ARRAY_SIZE(values); round++)
                        for (unsigned size = 1; size <= 8; size *= 2)
                                for (unsigned off = 0; off + size <= loc.size; off += size) {
                                        uint64_t v = round < ARRAY_SIZE(values) ? values[round] ^ off : peek(regs, off, size);
                                        poke(regs, off, size, v);
                                }
                console_printf("hostile-mmio: 0x%lx: garbage written, %lu accesses so far\n", loc.base, accesses);
        }
        if (devices == 0)
                guest_fail("hostile-mmio: no virtio_mmio.device= entries");

        /* A reset brings it back. */
        if (virtio_mmio_find(cmdline, VIRTIO_ID_BLOCK, &dev) < 0)
                guest_fail("hostile-mmio: the virtio-blk device is gone");
        uint64_t offered, accepted;
        if (virtio_mmio_negotiate(&dev, 1ULL << VIRTIO_F_VERSION_1, 1ULL << VIRTIO_F_VERSION_1, &offered, &accepted) < 0)
                guest_fail("hostile-mmio: the device does not negotiate after a reset");
        if (virtio_mmio_read32(&dev, REG_MAGIC) != VIRTIO_MMIO_MAGIC)
                guest_fail("hostile-mmio: the magic value changed");
        console_printf("hostile-mmio: %lu accesses on %u device(s), device still works\n", accesses, devices);
        return GUEST_EXIT_OK;
}
