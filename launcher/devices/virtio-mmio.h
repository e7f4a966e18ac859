/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-mmio.h: the virtio-mmio transport (virtio 1.x spec 4.2), modern
 * register layout only (Version 2). A device type (blk, net) embeds a
 * struct virtio_mmio, describes itself with a struct virtio_mmio_ops, and
 * gets register decoding, feature negotiation, the device status state
 * machine, queue setup and interrupts from here. The guest finds the device
 * through `virtio_mmio.device=512@0x<base>:<irq>` on its command line.
 *
 * Locking: one mutex per device, taken for every register access. The ops
 * are called with it held, and the helpers below marked "lock held" expect
 * it held: from inside an op that is already so; any other thread (an I/O
 * thread, later) takes it with virtio_mmio_lock().
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "virtio.h"
#include "virtqueue.h"

#define VIRTIO_MMIO_REGION_SIZE 0x200
#define VIRTIO_MMIO_CONFIG_OFFSET 0x100
#define VIRTIO_MMIO_CONFIG_MAX (VIRTIO_MMIO_REGION_SIZE - VIRTIO_MMIO_CONFIG_OFFSET)
#define VIRTIO_MMIO_MAX_QUEUES 8
#define VIRTIO_MMIO_MAGIC 0x74726976   /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x64747367  /* "gstd" */

/* What a device type plugs in. All ops are called with the lock held, on
 * the vCPU thread that made the access. */
struct virtio_mmio_ops {
        const char *name; /* for the I/O map and for log lines */
        uint32_t device_id;
        unsigned n_queues;       /* 1..VIRTIO_MMIO_MAX_QUEUES */
        uint16_t queue_max_size; /* QueueNumMax of every queue, a power of two */
        uint32_t config_size;    /* bytes of device config space, <= VIRTIO_MMIO_CONFIG_MAX */

        /* Device-type feature bits offered; the transport adds
         * VIRTIO_F_VERSION_1 and (as virtqueue.c supports it)
         * VIRTIO_F_RING_INDIRECT_DESC. Called once, at init. */
        uint64_t (*features)(void *opaque);
        /* Config space access; offset + size <= config_size and naturally
         * aligned, already checked. data is little-endian. */
        void (*config_read)(void *opaque, uint32_t offset, void *data, unsigned size);
        void (*config_write)(void *opaque, uint32_t offset, const void *data, unsigned size); /* may be NULL */
        /* The driver notified a ready, unbroken queue while DRIVER_OK. */
        void (*queue_notify)(void *opaque, unsigned queue);
        /* The driver reset the device; drop device-specific state. May be NULL. */
        void (*reset)(void *opaque);
};

/* The guest-visible state in plain data, as a snapshot stores it. */
struct virtio_mmio_state {
        uint32_t status;
        uint32_t device_features_sel;
        uint32_t driver_features_sel;
        uint32_t queue_sel;
        uint32_t interrupt_status;
        uint32_t config_generation;
        uint64_t driver_features;
        uint32_t n_queues; /* must match the device on restore */
        uint32_t reserved;
        struct virtq_state queues[VIRTIO_MMIO_MAX_QUEUES];
};

struct virtio_mmio {
        pthread_mutex_t lock;
        const struct virtio_mmio_ops *ops;
        void *opaque;
        struct device_host *host;
        unsigned irq;
        uint64_t device_features;
        /* State other than the queues; queues[i].state holds theirs. */
        uint32_t status;
        uint32_t device_features_sel, driver_features_sel, queue_sel;
        uint32_t interrupt_status;
        uint32_t config_generation;
        uint64_t driver_features;
        int irq_level;
        unsigned errors_logged; /* guest-caused errors logged so far, capped */
        struct virtq queues[VIRTIO_MMIO_MAX_QUEUES];
};

/* Sets up the transport for a device whose ops and opaque are given; irq is
 * the GSI raised through host->irq_line(). -EINVAL for bad ops, -ENOMEM. */
int virtio_mmio_init(struct virtio_mmio *m, const struct virtio_mmio_ops *ops, void *opaque,
                     struct device_host *host, unsigned irq);
/* Frees what init allocated; safe on a zeroed struct. The device must no
 * longer be reachable from the I/O map. */
void virtio_mmio_done(struct virtio_mmio *m);
/* Claims [base, base + VIRTIO_MMIO_REGION_SIZE) of MMIO space for m. */
int virtio_mmio_register(struct virtio_mmio *m, struct io_map *io, uint64_t base);

/* The I/O map ops, public so that tests (and a future PCI shim) can call them. */
void virtio_mmio_read(void *opaque, uint64_t offset, void *data, unsigned size);
void virtio_mmio_write(void *opaque, uint64_t offset, const void *data, unsigned size);

void virtio_mmio_lock(struct virtio_mmio *m);
void virtio_mmio_unlock(struct virtio_mmio *m);

/* Lock held. Queue i (NULL if i >= n_queues). */
struct virtq *virtio_mmio_queue(struct virtio_mmio *m, unsigned i);
/* Lock held. Whether the driver accepted feature bit (after FEATURES_OK). */
bool virtio_mmio_has_feature(const struct virtio_mmio *m, unsigned bit);
/* Lock held. Tells the driver there are used buffers on queue i: raises the
 * interrupt unless the driver asked not to be interrupted. */
void virtio_mmio_signal_used(struct virtio_mmio *m, unsigned queue);
/* Lock held. Queue i is broken (error is why, from virtq_pop() or the
 * device): stops it, sets DEVICE_NEEDS_RESET and, after DRIVER_OK, sends a
 * configuration change interrupt as spec 2.1.2 asks. */
void virtio_mmio_queue_error(struct virtio_mmio *m, unsigned queue, int error);
/* Lock held. The device changed its config space: bumps ConfigGeneration
 * and, after DRIVER_OK, interrupts. */
void virtio_mmio_config_changed(struct virtio_mmio *m);

/* Snapshots, lock taken inside. restore checks everything it reads back
 * (status bits, feature subsets, selectors, every ready queue's rings) and
 * changes nothing on failure (-EINVAL, -EFAULT); on success it sets the
 * interrupt line to match InterruptStatus. */
void virtio_mmio_save(struct virtio_mmio *m, struct virtio_mmio_state *ret);
int virtio_mmio_restore(struct virtio_mmio *m, const struct virtio_mmio_state *s);
