/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtqueue.h: split virtqueues (virtio 1.x, spec 2.6), the device side.
 *
 * A virtqueue is three rings in guest RAM that the driver lays out and the
 * device only reads (descriptor table, available ring) or appends to (used
 * ring). Everything in them is written by the guest and so is hostile: this
 * module turns it into a bounded list of host buffers, or into an error that
 * marks the queue broken. It is pure logic over struct guest_memory: no
 * locking (the transport serialises), no interrupts (the transport raises
 * them), no I/O. Transport-neutral, so the same code serves virtio-mmio now
 * and any other transport later.
 *
 * Policy, in one place:
 *  - queue size: a power of two, 1..max_size (max_size <= 32768);
 *  - ring addresses: aligned as spec 2.6 demands (16, 2, 4) and wholly in
 *    guest RAM, checked once when the queue is enabled;
 *  - a chain is at most `size` buffers long all told, so a loop in the
 *    next-links is caught by counting rather than by remembering;
 *  - every buffer lies wholly in guest RAM; readable buffers come before
 *    writable ones; each direction totals at most UINT32_MAX bytes (the
 *    used ring's length field is 32 bits);
 *  - indirect descriptors (VIRTIO_F_RING_INDIRECT_DESC) are supported when
 *    the transport negotiated them: one table per chain, not nested, length
 *    a multiple of 16 and at most `size` entries, its descriptor the last
 *    of the chain (no NEXT), with the same bounds on what it points to;
 *  - zero-length descriptors are allowed, count towards the bound, and
 *    produce no buffer (so their address is never looked at);
 *  - VIRTIO_F_RING_EVENT_IDX is not supported; the driver is told nothing
 *    about suppressing notifications (used->flags stays 0), so it kicks
 *    after every batch it adds.
 * Any violation breaks the queue: virtq_pop() returns a negative errno and
 * keeps returning -EIO until the queue is reset. The caller then sets
 * DEVICE_NEEDS_RESET. Nothing the guest writes can make these functions
 * crash, write outside guest RAM, or loop more than `size` times per call.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "memory.h"

#define VIRTQ_MAX_SIZE 32768u

/* Descriptor flags (spec 2.6.5). */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
/* avail->flags: "don't interrupt me" (spec 2.6.7), a hint we honour. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

/* The ring layouts, little-endian in guest memory (spec 2.6). */
struct virtq_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};

struct virtq_avail {
        uint16_t flags;
        uint16_t idx;
        uint16_t ring[]; /* size entries, then uint16_t used_event */
};

struct virtq_used_elem {
        uint32_t id; /* head of the chain, as popped */
        uint32_t len; /* bytes the device wrote into the chain's writable buffers */
};

struct virtq_used {
        uint16_t flags;
        uint16_t idx;
        struct virtq_used_elem ring[]; /* size entries, then uint16_t avail_event */
};

/* Plain-data state of one queue, as a snapshot stores it. The transport
 * writes size and the three addresses while the queue is not ready; the
 * rest is ours. */
struct virtq_state {
        uint64_t desc_addr;  /* descriptor table */
        uint64_t avail_addr; /* "driver area" */
        uint64_t used_addr;  /* "device area" */
        uint32_t size;       /* as the driver wrote it; checked when enabled */
        uint16_t last_avail_idx; /* next avail ring slot we will look at */
        uint16_t used_idx;       /* next used ring slot we will fill */
        uint8_t ready;
        uint8_t broken;
        uint8_t indirect; /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
        uint8_t reserved[5];
};

/* One popped chain. bufs point into guest RAM: bufs[0, n_readable) are
 * device-readable (driver to device), bufs[n_readable, n_bufs) are
 * device-writable. The array belongs to the queue and is valid until the
 * next virtq_pop() or virtq_reset() on it. */
struct virtq_chain {
        uint16_t head;
        unsigned n_bufs;
        unsigned n_readable;
        uint32_t readable_len; /* bytes in the readable buffers */
        uint32_t writable_len; /* bytes in the writable buffers */
        struct iovec *bufs;
};

struct virtq {
        struct virtq_state state;
        const struct guest_memory *mem;
        uint16_t max_size;
        /* Host views of the rings, set while ready. The guest changes them
         * under our feet: they are only read through the accessors in
         * virtqueue.c, each field once. */
        const struct virtq_desc *desc;
        const struct virtq_avail *avail;
        struct virtq_used *used;
        uint16_t shadow_avail_idx; /* avail->idx as last read, checked */
        struct iovec *bufs;        /* max_size entries, for virtq_chain */
};

/* Sets up an idle queue over mem whose size the driver may choose up to
 * max_size (a power of two, <= VIRTQ_MAX_SIZE). -EINVAL, -ENOMEM. */
int virtq_init(struct virtq *q, const struct guest_memory *mem, uint16_t max_size);
/* Frees what virtq_init() allocated; safe on a zeroed struct. */
void virtq_done(struct virtq *q);

/* Back to the idle state of device reset: not ready, no addresses, size
 * max_size (the reset value of QueueNum/QueueNumMax). */
void virtq_reset(struct virtq *q);

/* Checks state.size and the ring addresses and starts the queue with
 * fresh indices: -EINVAL for a bad size or misaligned ring, -EFAULT for a
 * ring outside RAM (the queue then stays not ready). indirect: whether the
 * driver accepted VIRTIO_F_RING_INDIRECT_DESC. */
int virtq_enable(struct virtq *q, bool indirect);

static inline bool virtq_is_ready(const struct virtq *q) {
        return q->state.ready;
}
static inline bool virtq_is_broken(const struct virtq *q) {
        return q->state.broken;
}
static inline uint16_t virtq_size(const struct virtq *q) {
        return q->state.ready ? (uint16_t) q->state.size : 0;
}

/* Takes the next available chain. Returns 1 and fills *ret, 0 if the driver
 * has made nothing new available, or a negative errno if the queue is (now)
 * broken: -EINVAL for a bad index, flag combination or order, -EFAULT for
 * an address outside RAM, -ELOOP for a chain longer than the queue,
 * -EOVERFLOW for a total length beyond 32 bits, -EIO if it was broken
 * before, -ENODEV if not ready. Reads avail->idx with acquire semantics,
 * so the entries it guards are seen as the driver wrote them. */
int virtq_pop(struct virtq *q, struct virtq_chain *ret);

/* Hands a popped chain back: writes the used element, then publishes it with
 * a release store to used->idx. written: bytes the device put into the
 * writable buffers. -ENODEV if not ready, -EIO if broken. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* After pushing: whether the driver wants an interrupt for it (it did not
 * set VIRTQ_AVAIL_F_NO_INTERRUPT). Has the full barrier that makes this
 * race-free against the driver re-enabling interrupts. */
bool virtq_needs_interrupt(struct virtq *q);

/* Marks the queue broken (the device found something wrong in a chain). */
void virtq_set_broken(struct virtq *q);

/* Copy between a chain's readable (resp. writable) bytes, taken as one
 * stream, and a host buffer. Return the bytes copied: fewer than len if the
 * stream ends first. */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t offset, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t offset, const void *src, size_t len);
/* Fills iov (room for at least c->n_bufs entries) with the part
 * [offset, offset + len) of the readable (writable) stream, for preadv and
 * pwritev. Returns the number of entries, -ERANGE if the range does not fit
 * in the stream. */
int virtq_chain_slice(const struct virtq_chain *c, bool writable, uint64_t offset, uint64_t len, struct iovec *iov);

/* Snapshots. save copies the plain state out; restore validates it as
 * virtq_enable() would (a ready queue's rings must be aligned and in RAM)
 * and takes it, -EINVAL/-EFAULT otherwise, leaving the queue untouched. */
void virtq_save(const struct virtq *q, struct virtq_state *ret);
int virtq_restore(struct virtq *q, const struct virtq_state *s);
