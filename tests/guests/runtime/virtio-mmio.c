/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-mmio.c: the driver side of virtio over MMIO (virtio 1.x, section
 * 4.2), modern layout only.
 *
 * Devices are found the way Linux finds them when there is no device tree
 * or ACPI: "virtio_mmio.device=<size>@<base>:<irq>" entries on the kernel
 * command line (QEMU's microvm with acpi=off and our launcher both add
 * them). A guest cannot trust that a window holds a device, so every
 * candidate's magic and version are checked before use.
 *
 * Requests are synchronous: one descriptor chain, notify, then poll the
 * used ring's index. Under the instruction emulator a poll is a memory
 * read, not a VM exit, so this is cheap enough; the timeout is in TSC
 * ticks so it means about the same under emulation and natively.
 */
#include "virtio-mmio.h"

/* 20 G TSC ticks: 5 s at 4 GHz, 20 s at 1 GHz. */
#define VIRTQ_TIMEOUT_TICKS 20000000000ULL

uint32_t virtio_mmio_read32(struct virtio_mmio_device *dev, unsigned off)
{
        return *(volatile uint32_t *) (dev->regs + off);
}

void virtio_mmio_write32(struct virtio_mmio_device *dev, unsigned off, uint32_t v)
{
        *(volatile uint32_t *) (dev->regs + off) = v;
}

#define reg_read virtio_mmio_read32
#define reg_write virtio_mmio_write32

bool virtio_mmio_parse_location(const char *s, size_t len, struct virtio_mmio_location *ret)
{
        uint64_t size, base, irq;
        size_t n = parse_size(s, len, &size), i = n;
        if (n == 0 || size == 0 || i >= len || s[i++] != '@')
                return false;
        n = parse_uint(s + i, len - i, 0, &base);
        if (n == 0)
                return false;
        i += n;
        if (i >= len || s[i++] != ':')
                return false;
        n = parse_uint(s + i, len - i, 10, &irq);
        if (n == 0 || irq > UINT32_MAX)
                return false;
        i += n;
        if (i < len) { /* an optional ":<platform device id>" */
                uint64_t id;
                if (s[i++] != ':' || (n = parse_uint(s + i, len - i, 10, &id)) == 0 || i + n != len)
                        return false;
        }
        *ret = (struct virtio_mmio_location) { .size = size, .base = base, .irq = (unsigned) irq };
        return true;
}

int virtio_mmio_find(const char *cmdline, uint32_t device_id, struct virtio_mmio_device *ret)
{
        struct cmdline_token t;
        unsigned seen = 0;
        bool found = false;
        for (const char *c = cmdline; cmdline_next(&c, &t);) {
                if (!token_key_is(&t, "virtio_mmio.device"))
                        continue;
                seen++;
                struct virtio_mmio_location loc;
                if (!t.value || !virtio_mmio_parse_location(t.value, t.value_len, &loc)) {
                        console_printf("virtio-mmio: cannot parse \"%.*s\"\n", (int) t.value_len, t.value ? t.value : "");
                        continue;
                }
                if (loc.size < REG_CONFIG || paging_map_identity(loc.base, loc.size) < 0) {
                        console_printf("virtio-mmio: 0x%lx@0x%lx: window too small or cannot be mapped\n", loc.size, loc.base);
                        continue;
                }
                struct virtio_mmio_device dev = {
                        .base = loc.base, .size = loc.size, .irq = loc.irq,
                        .regs = (volatile uint8_t *) loc.base,
                };
                uint32_t magic = reg_read(&dev, REG_MAGIC);
                dev.version = reg_read(&dev, REG_VERSION);
                dev.device_id = reg_read(&dev, REG_DEVICE_ID);
                dev.vendor_id = reg_read(&dev, REG_VENDOR_ID);
                console_printf("virtio-mmio: 0x%lx@0x%lx irq %u: magic 0x%x version %u device %u vendor 0x%x\n",
                               loc.size, loc.base, loc.irq, magic, dev.version, dev.device_id, dev.vendor_id);
                if (magic != VIRTIO_MMIO_MAGIC || dev.device_id == 0)
                        continue;
                if (dev.version != 2) {
                        console_printf("virtio-mmio: 0x%lx: version %u is not the modern interface; skipped\n", loc.base, dev.version);
                        continue;
                }
                if (!found && dev.device_id == device_id) {
                        *ret = dev;
                        found = true;
                }
        }
        if (seen == 0)
                console_puts("virtio-mmio: no virtio_mmio.device= entries on the command line\n");
        return found ? 0 : -1;
}

uint32_t virtio_mmio_status(struct virtio_mmio_device *dev)
{
        return reg_read(dev, REG_STATUS);
}

int virtio_mmio_negotiate(struct virtio_mmio_device *dev, uint64_t wanted, uint64_t required,
                          uint64_t *ret_offered, uint64_t *ret_accepted)
{
        reg_write(dev, REG_STATUS, 0);
        for (unsigned i = 0; reg_read(dev, REG_STATUS) != 0; i++)
                if (i > 1000000)
                        return -1;
        reg_write(dev, REG_STATUS, STATUS_ACKNOWLEDGE);
        reg_write(dev, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);

        reg_write(dev, REG_DEVICE_FEATURES_SEL, 0);
        uint64_t offered = reg_read(dev, REG_DEVICE_FEATURES);
        reg_write(dev, REG_DEVICE_FEATURES_SEL, 1);
        offered |= (uint64_t) reg_read(dev, REG_DEVICE_FEATURES) << 32;
        uint64_t accepted = offered & wanted;
        *ret_offered = offered;
        *ret_accepted = accepted;
        if ((accepted & required) != required) {
                reg_write(dev, REG_STATUS, STATUS_FAILED);
                return -1;
        }

        reg_write(dev, REG_DRIVER_FEATURES_SEL, 0);
        reg_write(dev, REG_DRIVER_FEATURES, (uint32_t) accepted);
        reg_write(dev, REG_DRIVER_FEATURES_SEL, 1);
        reg_write(dev, REG_DRIVER_FEATURES, (uint32_t) (accepted >> 32));
        reg_write(dev, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        if (!(reg_read(dev, REG_STATUS) & STATUS_FEATURES_OK)) {
                reg_write(dev, REG_STATUS, STATUS_FAILED);
                return -1;
        }
        return 0;
}

int virtio_mmio_setup_queue(struct virtio_mmio_device *dev, struct virtqueue *vq, unsigned index)
{
        reg_write(dev, REG_QUEUE_SEL, index);
        if (reg_read(dev, REG_QUEUE_READY) != 0)
                return -1;
        uint32_t max = reg_read(dev, REG_QUEUE_NUM_MAX);
        if (max == 0)
                return -1;
        memset(vq, 0, sizeof(*vq));
        vq->index = index;
        /* A split queue's size need not be a power of 2 in virtio 1.x, but
         * take the largest power of 2 that fits anyway. */
        vq->size = VIRTQ_SIZE;
        while (vq->size > max)
                vq->size /= 2;
        reg_write(dev, REG_QUEUE_NUM, vq->size);
        uint64_t desc = (uint64_t) vq->desc, driver = (uint64_t) &vq->avail, device = (uint64_t) &vq->used;
        reg_write(dev, REG_QUEUE_DESC_LOW, (uint32_t) desc);
        reg_write(dev, REG_QUEUE_DESC_HIGH, (uint32_t) (desc >> 32));
        reg_write(dev, REG_QUEUE_DRIVER_LOW, (uint32_t) driver);
        reg_write(dev, REG_QUEUE_DRIVER_HIGH, (uint32_t) (driver >> 32));
        reg_write(dev, REG_QUEUE_DEVICE_LOW, (uint32_t) device);
        reg_write(dev, REG_QUEUE_DEVICE_HIGH, (uint32_t) (device >> 32));
        reg_write(dev, REG_QUEUE_READY, 1);
        return 0;
}

void virtio_mmio_driver_ok(struct virtio_mmio_device *dev)
{
        reg_write(dev, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

int virtqueue_transfer(struct virtio_mmio_device *dev, struct virtqueue *vq, const struct virtq_buffer *bufs,
                       unsigned n, uint32_t *ret_len)
{
        if (n == 0 || n > vq->size)
                return -1;
        /* One chain at a time, so it can always start at descriptor 0. */
        for (unsigned i = 0; i < n; i++)
                vq->desc[i] = (struct virtq_desc) {
                        .addr = (uint64_t) bufs[i].addr,
                        .len = bufs[i].len,
                        .flags = (uint16_t) ((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) | (bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0)),
                        .next = (uint16_t) (i + 1 < n ? i + 1 : 0),
                };
        volatile struct virtq_avail *avail = &vq->avail;
        avail->ring[avail->idx % vq->size] = 0;
        compiler_barrier(); /* x86 keeps stores in order; the compiler must too */
        avail->idx = (uint16_t) (avail->idx + 1);
        compiler_barrier();
        reg_write(dev, REG_QUEUE_NOTIFY, vq->index);

        volatile struct virtq_used *used = &vq->used;
        uint64_t start = rdtsc();
        while (used->idx == vq->last_used)
                if (rdtsc() - start > VIRTQ_TIMEOUT_TICKS)
                        return -1;
        compiler_barrier();
        uint32_t len = used->ring[vq->last_used % vq->size].len;
        vq->last_used++;
        /* We poll, but acknowledge the interrupt so the line goes down. */
        uint32_t isr = reg_read(dev, REG_INTERRUPT_STATUS);
        if (isr)
                reg_write(dev, REG_INTERRUPT_ACK, isr);
        if (ret_len)
                *ret_len = len;
        return 0;
}

uint32_t virtio_mmio_config32(struct virtio_mmio_device *dev, unsigned off)
{
        return reg_read(dev, REG_CONFIG + off);
}

uint64_t virtio_mmio_config64(struct virtio_mmio_device *dev, unsigned off)
{
        uint32_t gen, lo, hi;
        do {
                gen = reg_read(dev, REG_CONFIG_GENERATION);
                lo = reg_read(dev, REG_CONFIG + off);
                hi = reg_read(dev, REG_CONFIG + off + 4);
        } while (gen != reg_read(dev, REG_CONFIG_GENERATION));
        return lo | (uint64_t) hi << 32;
}
