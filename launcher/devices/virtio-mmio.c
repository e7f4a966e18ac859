/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-mmio.c: the virtio-mmio transport, version 2 (spec 4.2.2).
 *
 * The driver talks to the device through 32-bit registers in the first 0x100
 * bytes of the region, and reads the device's config space after them.
 * Bringing a device up goes (spec 3.1.1): reset (Status = 0), ACKNOWLEDGE,
 * DRIVER, read DeviceFeatures and write the subset it wants to
 * DriverFeatures, set FEATURES_OK and read Status back to see whether we
 * agreed, set up each queue (QueueSel, QueueNum, the three ring addresses,
 * QueueReady = 1), and finally DRIVER_OK. From then on it writes QueueNotify
 * after adding buffers, and we raise the interrupt line when we have used
 * some; the driver reads InterruptStatus to learn why and writes the bits to
 * InterruptACK.
 *
 * The driver is hostile like everything else in the guest, so each register
 * write is checked against the state it is allowed in (a table below says
 * which register does what); a write in the wrong state is dropped, not
 * half-applied. Errors that leave a queue unusable set DEVICE_NEEDS_RESET
 * and stop that queue, and only a reset (Status = 0) brings it back.
 *
 * Interrupts: the launcher's IOAPIC pin for us is edge-triggered, and the
 * driver's handler may still be running (status read, not yet acked) when
 * we use more buffers. So every new notification makes a fresh rising edge,
 * lowering the line first if it is still high; the line drops when the
 * driver has acked every bit. No edge is ever lost that way, at the price of
 * a spurious interrupt now and then, which the driver handles (it finds
 * nothing new in the used ring).
 */
#include <endian.h>
#include <string.h>

#include "io.h"
#include "log.h"
#include "virtio-mmio.h"

/* Beyond this many, guest-caused errors are no longer logged: a guest that
 * breaks and resets its device in a loop must not fill our log. */
#define VIRTIO_MMIO_MAX_ERRORS_LOGGED 16

void virtio_mmio_lock(struct virtio_mmio *m) {
        pthread_mutex_lock(&m->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *m) {
        pthread_mutex_unlock(&m->lock);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *m, unsigned i) {
        return i < m->ops->n_queues ? &m->queues[i] : NULL;
}

bool virtio_mmio_has_feature(const struct virtio_mmio *m, unsigned bit) {
        return bit < 64 && (m->status & VIRTIO_STATUS_FEATURES_OK) && (m->driver_features & VIRTIO_FEATURE(bit));
}

static void set_irq(struct virtio_mmio *m, int level) {
        m->host->irq_line(m->host, m->irq, level);
        m->irq_level = level;
}

/* Adds reasons to InterruptStatus and makes a rising edge for them. */
static void interrupt(struct virtio_mmio *m, uint32_t bits) {
        m->interrupt_status |= bits;
        if (m->irq_level)
                set_irq(m, 0);
        set_irq(m, 1);
}

static void log_guest_error(struct virtio_mmio *m, int error, const char *what, unsigned queue) {
        if (m->errors_logged >= VIRTIO_MMIO_MAX_ERRORS_LOGGED)
                return;
        m->errors_logged++;
        log_warning_errno(error, "%s: queue %u: %s, device needs reset: %m%s", m->ops->name, queue, what,
                          m->errors_logged == VIRTIO_MMIO_MAX_ERRORS_LOGGED ? " (not logging further errors)" : "");
}

/* Spec 2.1.2: set DEVICE_NEEDS_RESET, and tell a running driver. */
static void needs_reset(struct virtio_mmio *m) {
        bool was = m->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET;

        m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
        if (!was && (m->status & VIRTIO_STATUS_DRIVER_OK))
                interrupt(m, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_queue_error(struct virtio_mmio *m, unsigned queue, int error) {
        struct virtq *q = virtio_mmio_queue(m, queue);

        if (!q)
                return;
        virtq_set_broken(q);
        log_guest_error(m, error, "broken virtqueue", queue);
        needs_reset(m);
}

void virtio_mmio_signal_used(struct virtio_mmio *m, unsigned queue) {
        struct virtq *q = virtio_mmio_queue(m, queue);

        if (q && virtq_needs_interrupt(q))
                interrupt(m, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *m) {
        m->config_generation++;
        if (m->status & VIRTIO_STATUS_DRIVER_OK)
                interrupt(m, VIRTIO_MMIO_INT_CONFIG);
}

static void device_reset(struct virtio_mmio *m) {
        if (m->ops->reset)
                m->ops->reset(m->opaque);
        for (unsigned i = 0; i < m->ops->n_queues; i++)
                virtq_reset(&m->queues[i]);
        m->status = 0;
        m->device_features_sel = m->driver_features_sel = m->queue_sel = 0;
        m->driver_features = 0;
        m->interrupt_status = 0;
        if (m->irq_level)
                set_irq(m, 0);
}

/* The queue that QueueSel names, if its setup registers may be written now:
 * after feature negotiation (the ring layout may depend on it), before
 * DRIVER_OK (we offer no VIRTIO_F_RING_RESET), and while not enabled. */
static struct virtq *queue_for_setup(struct virtio_mmio *m) {
        struct virtq *q = virtio_mmio_queue(m, m->queue_sel);

        if (!q || virtq_is_ready(q))
                return NULL;
        if ((m->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)) !=
            VIRTIO_STATUS_FEATURES_OK)
                return NULL;
        return q;
}

/* ---- registers: one read and/or write function each, see the table ---- */

static uint32_t magic_read(struct virtio_mmio *m) {
        return VIRTIO_MMIO_MAGIC;
}

static uint32_t version_read(struct virtio_mmio *m) {
        return 2;
}

static uint32_t device_id_read(struct virtio_mmio *m) {
        return m->ops->device_id;
}

static uint32_t vendor_id_read(struct virtio_mmio *m) {
        return VIRTIO_MMIO_VENDOR;
}

static uint32_t device_features_read(struct virtio_mmio *m) {
        if (m->device_features_sel > 1)
                return 0;
        return (uint32_t) (m->device_features >> (32 * m->device_features_sel));
}

static void device_features_sel_write(struct virtio_mmio *m, uint32_t v) {
        m->device_features_sel = v;
}

static void driver_features_write(struct virtio_mmio *m, uint32_t v) {
        unsigned shift;

        /* Only while negotiating: after DRIVER, before FEATURES_OK. */
        if ((m->status & (VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)) != VIRTIO_STATUS_DRIVER)
                return;
        if (m->driver_features_sel > 1)
                return;
        shift = 32 * m->driver_features_sel;
        m->driver_features = (m->driver_features & ~(UINT64_C(0xffffffff) << shift)) | ((uint64_t) v << shift);
}

static void driver_features_sel_write(struct virtio_mmio *m, uint32_t v) {
        m->driver_features_sel = v;
}

static void queue_sel_write(struct virtio_mmio *m, uint32_t v) {
        m->queue_sel = v;
}

static uint32_t queue_num_max_read(struct virtio_mmio *m) {
        /* 0 says "no such queue" (spec 4.2.2). */
        return virtio_mmio_queue(m, m->queue_sel) ? m->ops->queue_max_size : 0;
}

static void queue_num_write(struct virtio_mmio *m, uint32_t v) {
        struct virtq *q = queue_for_setup(m);

        /* Stored as written; virtq_enable() checks it. */
        if (q)
                q->state.size = v;
}

static uint32_t queue_ready_read(struct virtio_mmio *m) {
        struct virtq *q = virtio_mmio_queue(m, m->queue_sel);

        return q && virtq_is_ready(q);
}

static void queue_ready_write(struct virtio_mmio *m, uint32_t v) {
        struct virtq *q = virtio_mmio_queue(m, m->queue_sel);
        int r;

        if (!q)
                return;
        if (v == 0) {
                /* Taking a queue down is allowed while the driver is not
                 * running the device (Linux does it when tearing down). */
                if (!(m->status & VIRTIO_STATUS_DRIVER_OK))
                        virtq_reset(q);
                return;
        }
        if (v != 1 || !queue_for_setup(m))
                return;
        r = virtq_enable(q, virtio_mmio_has_feature(m, VIRTIO_F_RING_INDIRECT_DESC));
        if (r < 0) {
                /* The ring does not fit our rules (size, alignment, RAM).
                 * There is no way to refuse QueueReady, so the queue stays
                 * not ready (as a read-back shows) and the device asks for
                 * a reset. */
                log_guest_error(m, r, "invalid ring layout", m->queue_sel);
                needs_reset(m);
        }
}

static void queue_notify_write(struct virtio_mmio *m, uint32_t v) {
        struct virtq *q = virtio_mmio_queue(m, v);

        /* Spec 3.1.1: no buffers are consumed before DRIVER_OK; those made
         * available earlier are picked up when DRIVER_OK is set. */
        if ((m->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)) != VIRTIO_STATUS_DRIVER_OK)
                return;
        if (!q || !virtq_is_ready(q) || virtq_is_broken(q))
                return;
        m->ops->queue_notify(m->opaque, v);
}

static uint32_t interrupt_status_read(struct virtio_mmio *m) {
        return m->interrupt_status;
}

static void interrupt_ack_write(struct virtio_mmio *m, uint32_t v) {
        m->interrupt_status &= ~v;
        if (m->interrupt_status == 0 && m->irq_level)
                set_irq(m, 0);
}

static uint32_t status_read(struct virtio_mmio *m) {
        return m->status;
}

static bool features_acceptable(const struct virtio_mmio *m) {
        /* Nothing we did not offer, and the modern interface: a version 2
         * device has no legacy mode to fall back to (spec 4.2.2). */
        return (m->driver_features & ~m->device_features) == 0 &&
               (m->driver_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
}

static void status_write(struct virtio_mmio *m, uint32_t v) {
        uint32_t old = m->status & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET, added;

        if (v == 0) {
                device_reset(m);
                return;
        }
        /* DEVICE_NEEDS_RESET is ours: drivers write back what they read, so
         * it may be in v, and it means nothing coming from them. */
        v &= ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
        /* Unknown bits, or clearing a bit other than by reset: wrong. */
        if ((v & ~VIRTIO_STATUS_ALL) || (old & ~v))
                return;
        added = v & ~old;

        if (added & VIRTIO_STATUS_FEATURES_OK) {
                if (!(v & VIRTIO_STATUS_DRIVER))
                        return;
                /* Refusing is done by not setting the bit: the driver reads
                 * Status back and gives up (spec 3.1.1 step 6). */
                if (!features_acceptable(m))
                        v &= ~VIRTIO_STATUS_FEATURES_OK;
        }
        if ((added & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
                return;

        m->status = v | (m->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);

        if ((added & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FAILED))
                /* Whatever the driver queued and kicked before DRIVER_OK was
                 * ignored then; look at every queue once now. */
                for (unsigned i = 0; i < m->ops->n_queues; i++)
                        if (virtq_is_ready(&m->queues[i]) && !virtq_is_broken(&m->queues[i]))
                                m->ops->queue_notify(m->opaque, i);
}

/* The three ring addresses, each written as two 32-bit halves. */
enum queue_area { QUEUE_DESC, QUEUE_DRIVER, QUEUE_DEVICE };

static void queue_addr_write(struct virtio_mmio *m, enum queue_area area, bool high, uint32_t v) {
        struct virtq *q = queue_for_setup(m);
        uint64_t *addr;

        if (!q)
                return;
        addr = area == QUEUE_DESC     ? &q->state.desc_addr
               : area == QUEUE_DRIVER ? &q->state.avail_addr
                                      : &q->state.used_addr;
        if (high)
                *addr = (*addr & UINT64_C(0xffffffff)) | ((uint64_t) v << 32);
        else
                *addr = (*addr & ~UINT64_C(0xffffffff)) | v;
}

static void queue_desc_low_write(struct virtio_mmio *m, uint32_t v) {
        queue_addr_write(m, QUEUE_DESC, false, v);
}
static void queue_desc_high_write(struct virtio_mmio *m, uint32_t v) {
        queue_addr_write(m, QUEUE_DESC, true, v);
}
static void queue_driver_low_write(struct virtio_mmio *m, uint32_t v) {
        queue_addr_write(m, QUEUE_DRIVER, false, v);
}
static void queue_driver_high_write(struct virtio_mmio *m, uint32_t v) {
        queue_addr_write(m, QUEUE_DRIVER, true, v);
}
static void queue_device_low_write(struct virtio_mmio *m, uint32_t v) {
        queue_addr_write(m, QUEUE_DEVICE, false, v);
}
static void queue_device_high_write(struct virtio_mmio *m, uint32_t v) {
        queue_addr_write(m, QUEUE_DEVICE, true, v);
}

/* Spec 1.2 shared memory regions: we have none, and a length of all-ones is
 * how a device says so. */
static uint32_t shm_none_read(struct virtio_mmio *m) {
        return UINT32_MAX;
}

static uint32_t config_generation_read(struct virtio_mmio *m) {
        return m->config_generation;
}

struct virtio_mmio_register {
        const char *name;
        uint32_t (*read)(struct virtio_mmio *m);     /* NULL: write-only, reads 0 */
        void (*write)(struct virtio_mmio *m, uint32_t v); /* NULL: read-only, writes dropped */
};

/* Indexed by offset / 4. Offsets not named here are reserved: they read 0
 * and ignore writes. */
static const struct virtio_mmio_register registers[VIRTIO_MMIO_CONFIG_OFFSET / 4] = {
        [0x000 / 4] = { "MagicValue", magic_read, NULL },
        [0x004 / 4] = { "Version", version_read, NULL },
        [0x008 / 4] = { "DeviceID", device_id_read, NULL },
        [0x00c / 4] = { "VendorID", vendor_id_read, NULL },
        [0x010 / 4] = { "DeviceFeatures", device_features_read, NULL },
        [0x014 / 4] = { "DeviceFeaturesSel", NULL, device_features_sel_write },
        [0x020 / 4] = { "DriverFeatures", NULL, driver_features_write },
        [0x024 / 4] = { "DriverFeaturesSel", NULL, driver_features_sel_write },
        [0x030 / 4] = { "QueueSel", NULL, queue_sel_write },
        [0x034 / 4] = { "QueueNumMax", queue_num_max_read, NULL },
        [0x038 / 4] = { "QueueNum", NULL, queue_num_write },
        [0x044 / 4] = { "QueueReady", queue_ready_read, queue_ready_write },
        [0x050 / 4] = { "QueueNotify", NULL, queue_notify_write },
        [0x060 / 4] = { "InterruptStatus", interrupt_status_read, NULL },
        [0x064 / 4] = { "InterruptACK", NULL, interrupt_ack_write },
        [0x070 / 4] = { "Status", status_read, status_write },
        [0x080 / 4] = { "QueueDescLow", NULL, queue_desc_low_write },
        [0x084 / 4] = { "QueueDescHigh", NULL, queue_desc_high_write },
        [0x090 / 4] = { "QueueDriverLow", NULL, queue_driver_low_write },
        [0x094 / 4] = { "QueueDriverHigh", NULL, queue_driver_high_write },
        [0x0a0 / 4] = { "QueueDeviceLow", NULL, queue_device_low_write },
        [0x0a4 / 4] = { "QueueDeviceHigh", NULL, queue_device_high_write },
        [0x0b0 / 4] = { "SHMLenLow", shm_none_read, NULL },
        [0x0b4 / 4] = { "SHMLenHigh", shm_none_read, NULL },
        [0x0fc / 4] = { "ConfigGeneration", config_generation_read, NULL },
};

/* Config space rule (spec 4.2.2.2): fields are read at their own width,
 * naturally aligned; 64-bit fields as two 32-bit halves, but an aligned
 * 8-byte access does no harm either. */
static bool config_access_ok(const struct virtio_mmio *m, uint64_t offset, unsigned size) {
        if (size != 1 && size != 2 && size != 4 && size != 8)
                return false;
        return offset % size == 0 && range_within(offset, size, m->ops->config_size);
}

void virtio_mmio_read(void *opaque, uint64_t offset, void *data, unsigned size) {
        struct virtio_mmio *m = opaque;
        const struct virtio_mmio_register *reg;
        uint32_t v = 0;

        if (offset >= VIRTIO_MMIO_CONFIG_OFFSET) {
                offset -= VIRTIO_MMIO_CONFIG_OFFSET;
                if (!config_access_ok(m, offset, size)) {
                        memset(data, 0xff, size);
                        return;
                }
                virtio_mmio_lock(m);
                m->ops->config_read(m->opaque, (uint32_t) offset, data, size);
                virtio_mmio_unlock(m);
                return;
        }
        /* Spec 4.2.2.2: registers are 32 bits wide and accessed as such. */
        if (size != 4 || offset % 4 != 0) {
                memset(data, 0xff, size);
                return;
        }
        reg = &registers[offset / 4];
        if (reg->read) {
                virtio_mmio_lock(m);
                v = reg->read(m);
                virtio_mmio_unlock(m);
        }
        v = htole32(v);
        memcpy(data, &v, sizeof(v));
}

void virtio_mmio_write(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct virtio_mmio *m = opaque;
        const struct virtio_mmio_register *reg;
        uint32_t v;

        if (offset >= VIRTIO_MMIO_CONFIG_OFFSET) {
                offset -= VIRTIO_MMIO_CONFIG_OFFSET;
                if (!m->ops->config_write || !config_access_ok(m, offset, size))
                        return;
                virtio_mmio_lock(m);
                m->ops->config_write(m->opaque, (uint32_t) offset, data, size);
                virtio_mmio_unlock(m);
                return;
        }
        if (size != 4 || offset % 4 != 0)
                return;
        reg = &registers[offset / 4];
        if (!reg->write)
                return;
        memcpy(&v, data, sizeof(v));
        virtio_mmio_lock(m);
        reg->write(m, le32toh(v));
        virtio_mmio_unlock(m);
}

int virtio_mmio_init(struct virtio_mmio *m, const struct virtio_mmio_ops *ops, void *opaque,
                     struct device_host *host, unsigned irq) {
        unsigned i;
        int r;

        *m = (struct virtio_mmio) {};
        if (!ops->name || ops->device_id == 0 || ops->n_queues == 0 || ops->n_queues > VIRTIO_MMIO_MAX_QUEUES ||
            ops->config_size > VIRTIO_MMIO_CONFIG_MAX || !ops->features || !ops->config_read || !ops->queue_notify)
                return -EINVAL;
        if (!host || !host->mem || !host->irq_line)
                return -EINVAL;

        for (i = 0; i < ops->n_queues; i++) {
                r = virtq_init(&m->queues[i], host->mem, ops->queue_max_size);
                if (r < 0)
                        goto fail;
        }
        r = -pthread_mutex_init(&m->lock, NULL);
        if (r < 0)
                goto fail;

        m->ops = ops;
        m->opaque = opaque;
        m->host = host;
        m->irq = irq;
        /* VERSION_1: we only speak the modern interface. INDIRECT_DESC:
         * virtqueue.c walks indirect tables with the same bounds as direct
         * chains, and a driver that uses them needs fewer ring slots. */
        m->device_features = ops->features(opaque) | VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
                             VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC);
        return 0;

fail:
        for (unsigned j = 0; j < i; j++)
                virtq_done(&m->queues[j]);
        return r;
}

void virtio_mmio_done(struct virtio_mmio *m) {
        if (!m->ops)
                return;
        for (unsigned i = 0; i < m->ops->n_queues; i++)
                virtq_done(&m->queues[i]);
        pthread_mutex_destroy(&m->lock);
        m->ops = NULL;
}

int virtio_mmio_register(struct virtio_mmio *m, struct io_map *io, uint64_t base) {
        struct io_device dev = {
                .name = m->ops->name,
                .space = IO_MMIO,
                .base = base,
                .len = VIRTIO_MMIO_REGION_SIZE,
                .opaque = m,
                .read = virtio_mmio_read,
                .write = virtio_mmio_write,
        };

        return io_register(io, &dev);
}

void virtio_mmio_save(struct virtio_mmio *m, struct virtio_mmio_state *ret) {
        virtio_mmio_lock(m);
        *ret = (struct virtio_mmio_state) {
                .status = m->status,
                .device_features_sel = m->device_features_sel,
                .driver_features_sel = m->driver_features_sel,
                .queue_sel = m->queue_sel,
                .interrupt_status = m->interrupt_status,
                .config_generation = m->config_generation,
                .driver_features = m->driver_features,
                .n_queues = m->ops->n_queues,
        };
        for (unsigned i = 0; i < m->ops->n_queues; i++)
                virtq_save(&m->queues[i], &ret->queues[i]);
        virtio_mmio_unlock(m);
}

int virtio_mmio_restore(struct virtio_mmio *m, const struct virtio_mmio_state *s) {
        static const struct virtq_state unused_queue = {};
        struct virtq restored[VIRTIO_MMIO_MAX_QUEUES];
        bool features_ok = s->status & VIRTIO_STATUS_FEATURES_OK;
        bool indirect = features_ok && (s->driver_features & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC));
        unsigned i;

        if (s->n_queues != m->ops->n_queues || s->reserved != 0)
                return -EINVAL;
        if (s->status & ~VIRTIO_STATUS_ALL)
                return -EINVAL;
        if ((s->status & VIRTIO_STATUS_DRIVER_OK) && !features_ok)
                return -EINVAL;
        if (s->driver_features & ~m->device_features)
                return -EINVAL;
        if (features_ok && !(s->driver_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1)))
                return -EINVAL;
        if (s->interrupt_status & ~(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
                return -EINVAL;

        virtio_mmio_lock(m);
        for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
                int r;

                if (i >= m->ops->n_queues) {
                        if (memcmp(&s->queues[i], &unused_queue, sizeof(unused_queue)) != 0)
                                goto invalid;
                        continue;
                }
                /* A ready queue was enabled after FEATURES_OK, with the
                 * indirect setting the features imply. */
                if (s->queues[i].ready && (!features_ok || s->queues[i].indirect != indirect))
                        goto invalid;
                /* Into a copy, so that a bad queue leaves all of m as it was. */
                restored[i] = m->queues[i];
                r = virtq_restore(&restored[i], &s->queues[i]);
                if (r < 0) {
                        virtio_mmio_unlock(m);
                        return r;
                }
        }

        for (i = 0; i < m->ops->n_queues; i++)
                m->queues[i] = restored[i];
        m->status = s->status;
        m->device_features_sel = s->device_features_sel;
        m->driver_features_sel = s->driver_features_sel;
        m->queue_sel = s->queue_sel;
        m->interrupt_status = s->interrupt_status;
        m->config_generation = s->config_generation;
        m->driver_features = s->driver_features;
        if (m->interrupt_status)
                interrupt(m, 0);
        else if (m->irq_level)
                set_irq(m, 0);
        virtio_mmio_unlock(m);
        return 0;

invalid:
        virtio_mmio_unlock(m);
        return -EINVAL;
}
