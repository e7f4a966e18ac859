/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostile-virtq: a virtio-blk driver that lies. Case after case it hands
 * the first virtio-blk device descriptor chains and rings that no honest
 * driver would: loops, links and heads past the queue, an available index
 * far ahead, buffers outside RAM, in the MMIO hole, wrapping around the
 * address space or overflowing their length, writable buffers before
 * readable ones, rings that are not in RAM, queue sizes that are not
 * allowed, requests for sectors past the end and of unknown types.
 *
 * After each, the device must either have answered (a used-ring entry;
 * for a request it could parse, an error status, never OK) or have given
 * up on the queue (DEVICE_NEEDS_RESET in the status register). Silence,
 * and OK for a bad request, are failures. The device is reset before the
 * next case, and at the end an honest read must still work.
 *
 * Prints "hostile-virtq: CASE: <what the device did>" per case and
 * "hostile-virtq: N cases, all refused" before powering off with 0.
 */
#include "virtio-mmio.h"

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTQ_DESC_F_INDIRECT 4

struct blk_header {
        uint32_t type, reserved;
        uint64_t sector;
};

static struct virtio_mmio_device dev;
static struct virtqueue vq;
static struct blk_header header;
static volatile uint8_t status;
static uint8_t data[512] __attribute__((aligned(512)));
static struct virtq_desc indirect[4] __attribute__((aligned(16)));
static bool have_indirect;
static unsigned n_cases;

enum outcome { ANSWERED_ERROR, ANSWERED_EMPTY, NEEDS_RESET, REFUSED_SETUP };

static void reset_device(void)
{
        uint64_t offered, accepted;

        if (virtio_mmio_negotiate(&dev, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_RING_INDIRECT_DESC),
                                  1ULL << VIRTIO_F_VERSION_1, &offered, &accepted) < 0)
                guest_fail("hostile-virtq: the device no longer negotiates after a reset");
        have_indirect = accepted & (1ULL << VIRTIO_F_RING_INDIRECT_DESC);
        if (virtio_mmio_setup_queue(&dev, &vq, 0) < 0)
                guest_fail("hostile-virtq: queue 0 cannot be set up after a reset");
        virtio_mmio_driver_ok(&dev);
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
        vq.desc[i] = (struct virtq_desc) { .addr = addr, .len = len, .flags = flags, .next = next };
}

/* The honest parts of a read request: header, data, status. */
static void honest_read(uint64_t sector)
{
        header = (struct blk_header) { .type = VIRTIO_BLK_T_IN, .sector = sector };
        status = 0xff;
        desc(0, (uint64_t) &header, sizeof(header), VIRTQ_DESC_F_NEXT, 1);
        desc(1, (uint64_t) data, sizeof(data), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        desc(2, (uint64_t) &status, 1, VIRTQ_DESC_F_WRITE, 0);
}

/* Makes head available (avail_step entries at once), notifies, and says
 * what the device did. Notification is handled synchronously by our
 * launcher; QEMU may take a moment, hence the short poll. */
static enum outcome submit(uint16_t head, uint16_t avail_step)
{
        volatile struct virtq_avail *avail = &vq.avail;
        volatile struct virtq_used *used = &vq.used;

        for (uint16_t i = 0; i < avail_step; i++)
                avail->ring[(uint16_t) (avail->idx + i) % vq.size] = head;
        compiler_barrier();
        avail->idx = (uint16_t) (avail->idx + avail_step);
        compiler_barrier();
        virtio_mmio_write32(&dev, REG_QUEUE_NOTIFY, 0);
        for (uint64_t start = rdtsc(); rdtsc() - start < 200000000ULL;) {
                if (virtio_mmio_status(&dev) & STATUS_DEVICE_NEEDS_RESET)
                        return NEEDS_RESET;
                if (used->idx != vq.last_used) {
                        compiler_barrier();
                        uint32_t len = used->ring[vq.last_used % vq.size].len;
                        vq.last_used++;
                        if (len == 0)
                                return ANSWERED_EMPTY;
                        if (status == VIRTIO_BLK_S_OK)
                                guest_fail("hostile-virtq: the device answered OK to a bad request");
                        if (status == 0xff)
                                guest_fail("hostile-virtq: the device reported %u bytes written but no status", len);
                        return ANSWERED_ERROR;
                }
        }
        guest_fail("hostile-virtq: no answer and no DEVICE_NEEDS_RESET: the request vanished");
}

static void report(const char *name, enum outcome o)
{
        static const char *const what[] = {
                [ANSWERED_ERROR] = "answered with an error status",
                [ANSWERED_EMPTY] = "answered, nothing written",
                [NEEDS_RESET] = "device needs reset",
                [REFUSED_SETUP] = "refused",
        };
        console_printf("hostile-virtq: %s: %s", name, what[o]);
        if (o == ANSWERED_ERROR)
                console_printf(" (%u)", status);
        console_putc('\n');
        n_cases++;
        reset_device();
}

/* A queue whose rings are not usable must not become ready (or must
 * break at once). */
static void bad_ring(const char *name, uint64_t desc_addr, uint32_t num)
{
        virtio_mmio_write32(&dev, REG_STATUS, 0);
        virtio_mmio_write32(&dev, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        virtio_mmio_write32(&dev, REG_DRIVER_FEATURES_SEL, 1);
        virtio_mmio_write32(&dev, REG_DRIVER_FEATURES, 1); /* VERSION_1 */
        virtio_mmio_write32(&dev, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        virtio_mmio_write32(&dev, REG_QUEUE_SEL, 0);
        virtio_mmio_write32(&dev, REG_QUEUE_NUM, num);
        virtio_mmio_write32(&dev, REG_QUEUE_DESC_LOW, (uint32_t) desc_addr);
        virtio_mmio_write32(&dev, REG_QUEUE_DESC_HIGH, (uint32_t) (desc_addr >> 32));
        virtio_mmio_write32(&dev, REG_QUEUE_DRIVER_LOW, (uint32_t) (uint64_t) &vq.avail);
        virtio_mmio_write32(&dev, REG_QUEUE_DRIVER_HIGH, 0);
        virtio_mmio_write32(&dev, REG_QUEUE_DEVICE_LOW, (uint32_t) (uint64_t) &vq.used);
        virtio_mmio_write32(&dev, REG_QUEUE_DEVICE_HIGH, 0);
        virtio_mmio_write32(&dev, REG_QUEUE_READY, 1);
        uint32_t ready = virtio_mmio_read32(&dev, REG_QUEUE_READY), st = virtio_mmio_status(&dev);
        if (ready && !(st & STATUS_DEVICE_NEEDS_RESET))
                guest_fail("hostile-virtq: %s: the queue became ready", name);
        report(name, ready ? NEEDS_RESET : REFUSED_SETUP);
}

int guest_main(void)
{
        const char *cmdline = boot_info()->cmdline;
        uint64_t ram_end = 0;

        console_puts("hostile-virtq: start\n");
        if (virtio_mmio_find(cmdline, VIRTIO_ID_BLOCK, &dev) < 0)
                guest_fail("hostile-virtq: no virtio-blk device");
        for (unsigned i = 0; i < boot_info()->nr_ranges; i++)
                if (boot_info()->ranges[i].type == BOOT_MEMORY_RAM)
                        ram_end = MAX(ram_end, boot_info()->ranges[i].addr + boot_info()->ranges[i].size);
        reset_device();

        honest_read(0);
        desc(2, (uint64_t) &status, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
        report("loop back to the head", submit(0, 1));

        honest_read(0);
        desc(0, (uint64_t) &header, sizeof(header), VIRTQ_DESC_F_NEXT, 0);
        report("descriptor linked to itself", submit(0, 1));

        honest_read(0);
        desc(1, (uint64_t) data, sizeof(data), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 200);
        report("next index past the queue", submit(0, 1));

        honest_read(0);
        report("head index past the queue", submit(500, 1));

        honest_read(0);
        report("available index 1000 ahead", submit(0, 1000));

        honest_read(0);
        desc(1, 0xfff0000000ULL, sizeof(data), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        report("buffer past the end of RAM", submit(0, 1));

        honest_read(0);
        desc(1, 0xd0000000ULL, sizeof(data), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        report("buffer in the MMIO hole", submit(0, 1));

        honest_read(0);
        desc(1, ram_end - 4096, 0xffffffffu, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        report("length runs past the end of RAM", submit(0, 1));

        honest_read(0);
        desc(1, 0xfffffffffffff000ULL, 0x2000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        report("buffer wrapping around 2^64", submit(0, 1));

        honest_read(0);
        desc(0, (uint64_t) data, sizeof(data), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
        desc(1, (uint64_t) &header, sizeof(header), VIRTQ_DESC_F_NEXT, 2);
        report("writable buffer before a readable one", submit(0, 1));

        /* A chain longer than the queue: 0 -> 1 -> ... -> 15 -> 0 ... */
        honest_read(0);
        for (unsigned i = 0; i < vq.size; i++)
                desc(i, (uint64_t) &header, sizeof(header), VIRTQ_DESC_F_NEXT, (uint16_t) ((i + 1) % vq.size));
        report("chain longer than the queue", submit(0, 1));

        honest_read(0);
        desc(0, (uint64_t) &header, 4, VIRTQ_DESC_F_NEXT, 1);
        report("header shorter than a request header", submit(0, 1));

        honest_read(0);
        desc(0, (uint64_t) &header, sizeof(header), 0, 0);
        report("no writable buffer for the status byte", submit(0, 1));

        honest_read(1ULL << 62);
        report("sector far past the end of the disk", submit(0, 1));

        honest_read(0);
        header.type = 0x1234;
        report("unknown request type", submit(0, 1));

        if (have_indirect) {
                honest_read(0);
                indirect[0] = (struct virtq_desc) { (uint64_t) &header, sizeof(header), VIRTQ_DESC_F_NEXT, 1 };
                indirect[1] = (struct virtq_desc) { (uint64_t) indirect, sizeof(indirect), VIRTQ_DESC_F_INDIRECT, 0 };
                desc(0, (uint64_t) indirect, sizeof(indirect), VIRTQ_DESC_F_INDIRECT, 0);
                report("indirect table inside an indirect table", submit(0, 1));

                honest_read(0);
                desc(0, (uint64_t) indirect, 17, VIRTQ_DESC_F_INDIRECT, 0);
                report("indirect table of 17 bytes", submit(0, 1));

                honest_read(0);
                desc(0, 0xfff0000000ULL, 64, VIRTQ_DESC_F_INDIRECT, 0);
                report("indirect table past the end of RAM", submit(0, 1));
        } else
                console_puts("hostile-virtq: indirect descriptors not offered; those cases skipped\n");

        bad_ring("descriptor table past the end of RAM", 0xfff0000000ULL, vq.size);
        bad_ring("descriptor table misaligned", (uint64_t) vq.desc + 1, vq.size);
        bad_ring("queue size not a power of two", (uint64_t) vq.desc, 3);
        bad_ring("queue size 0", (uint64_t) vq.desc, 0);
        bad_ring("queue size 65535", (uint64_t) vq.desc, 65535);

        /* Notifying a queue that does not exist: nothing may happen. */
        virtio_mmio_write32(&dev, REG_QUEUE_NOTIFY, 77);
        virtio_mmio_write32(&dev, REG_QUEUE_NOTIFY, 0xffffffffu);
        if (virtio_mmio_status(&dev) & STATUS_DEVICE_NEEDS_RESET)
                console_puts("hostile-virtq: notify of a missing queue: device needs reset\n");
        else
                console_puts("hostile-virtq: notify of a missing queue: ignored\n");
        n_cases++;
        reset_device();

        /* After all that, an honest request still works. */
        honest_read(0);
        volatile struct virtq_avail *avail = &vq.avail;
        avail->ring[avail->idx % vq.size] = 0;
        compiler_barrier();
        avail->idx++;
        compiler_barrier();
        virtio_mmio_write32(&dev, REG_QUEUE_NOTIFY, 0);
        for (uint64_t start = rdtsc(); vq.used.idx == vq.last_used;)
                if (rdtsc() - start > 20000000000ULL)
                        guest_fail("hostile-virtq: an honest read got no answer after the hostile cases");
        if (status != VIRTIO_BLK_S_OK)
                guest_fail("hostile-virtq: an honest read failed after the hostile cases (status %u)", status);
        console_printf("hostile-virtq: %u cases, all refused; an honest read still works\n", n_cases);
        return GUEST_EXIT_OK;
}
