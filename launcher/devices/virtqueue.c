/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtqueue.c: split virtqueues, the device side; the policy is in
 * virtqueue.h.
 *
 * How a request travels. The driver writes one or more descriptors (guest
 * address, length, flags, next) into the descriptor table, linking them with
 * NEXT into a chain; it puts the index of the chain's first descriptor (the
 * "head") into avail->ring[avail->idx % size], then increments avail->idx
 * and notifies us. We keep last_avail_idx, the next slot we have not
 * consumed: every slot between it and avail->idx is a new chain. Having
 * done the work we put {head, bytes written} into used->ring[used_idx %
 * size], increment used->idx and interrupt the driver, which then reuses the
 * descriptors. Both indices are free-running 16-bit counters; only their
 * difference matters, and it can never honestly exceed the queue size.
 *
 * Why the care. The guest may change any of these bytes while we read them
 * (another vCPU, or simply a buggy or hostile driver), so each field is read
 * exactly once into a local copy and then checked, never re-read after the
 * check. Indices are bounded by the size we accepted, addresses go through
 * guest_memory_ptr(), and chain walks count their steps, so a descriptor
 * loop costs us at most `size` iterations before it is called a loop.
 *
 * Memory ordering. x86 orders plain loads and stores strongly, but the
 * compiler does not, and the spec's barriers exist for every host:
 *  - avail->idx is loaded with acquire semantics, so the ring entries and
 *    descriptors the driver wrote before bumping it are visible to us;
 *  - a used element is written before used->idx is store-released, so the
 *    driver never sees an index covering an element we have not written;
 *  - between publishing used->idx and reading avail->flags we need a full
 *    barrier (store then load), or we could read a stale "no interrupt"
 *    while the driver, having re-enabled interrupts, reads a stale used->idx:
 *    both sides would then wait for the other.
 * Guest RAM is little-endian as the spec demands; le*toh() keeps us honest
 * should this ever run on a big-endian host.
 */
#include <endian.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "virtqueue.h"

/* Ring sizes in bytes for a queue of n entries (spec 2.6), including the
 * event words we do not use: the driver lays them out all the same. */
static uint64_t desc_table_bytes(uint32_t n) {
        return (uint64_t) sizeof(struct virtq_desc) * n;
}
static uint64_t avail_ring_bytes(uint32_t n) {
        return 4 + (uint64_t) sizeof(uint16_t) * n + 2;
}
static uint64_t used_ring_bytes(uint32_t n) {
        return 4 + (uint64_t) sizeof(struct virtq_used_elem) * n + 2;
}

static bool is_power_of_2(uint32_t n) {
        return n != 0 && (n & (n - 1)) == 0;
}

/* Reads one descriptor into *d, once. memcpy because an indirect table
 * need not be aligned; the compiler barrier then stops the compiler from
 * going back to guest memory for a field instead of using the copy it
 * checked. */
static void load_desc(const struct virtq_desc *src, struct virtq_desc *d) {
        memcpy(d, src, sizeof(*d));
        __asm__ __volatile__("" ::: "memory");
        d->addr = le64toh(d->addr);
        d->len = le32toh(d->len);
        d->flags = le16toh(d->flags);
        d->next = le16toh(d->next);
}

int virtq_init(struct virtq *q, const struct guest_memory *mem, uint16_t max_size) {
        *q = (struct virtq) {};
        if (!is_power_of_2(max_size) || max_size > VIRTQ_MAX_SIZE)
                return -EINVAL;
        q->bufs = calloc(max_size, sizeof(struct iovec));
        if (!q->bufs)
                return -ENOMEM;
        q->mem = mem;
        q->max_size = max_size;
        virtq_reset(q);
        return 0;
}

void virtq_done(struct virtq *q) {
        free(q->bufs);
        q->bufs = NULL;
}

void virtq_reset(struct virtq *q) {
        q->state = (struct virtq_state) { .size = q->max_size };
        q->desc = NULL;
        q->avail = NULL;
        q->used = NULL;
        q->shadow_avail_idx = 0;
}

/* The one check of a queue's layout, for enable and restore alike. On
 * success fills in the host views of the three rings. */
static int virtq_map(const struct virtq *q, const struct virtq_state *s, const struct virtq_desc **ret_desc,
                     const struct virtq_avail **ret_avail, struct virtq_used **ret_used) {
        void *desc, *avail, *used;

        if (!is_power_of_2(s->size) || s->size > q->max_size)
                return -EINVAL;
        /* Alignment per spec 2.6: 16 for the table, 2 and 4 for the rings.
         * Beyond the spec's say-so it also lets us read ring fields with
         * naturally aligned (atomic) loads, as guest RAM is page-aligned in
         * our address space. */
        if (s->desc_addr % 16 != 0 || s->avail_addr % 2 != 0 || s->used_addr % 4 != 0)
                return -EINVAL;
        desc = guest_memory_ptr(q->mem, s->desc_addr, desc_table_bytes(s->size));
        avail = guest_memory_ptr(q->mem, s->avail_addr, avail_ring_bytes(s->size));
        used = guest_memory_ptr(q->mem, s->used_addr, used_ring_bytes(s->size));
        if (!desc || !avail || !used)
                return -EFAULT;
        *ret_desc = desc;
        *ret_avail = avail;
        *ret_used = used;
        return 0;
}

int virtq_enable(struct virtq *q, bool indirect) {
        const struct virtq_desc *desc;
        const struct virtq_avail *avail;
        struct virtq_used *used;
        int r;

        r = virtq_map(q, &q->state, &desc, &avail, &used);
        if (r < 0)
                return r;
        q->desc = desc;
        q->avail = avail;
        q->used = used;
        q->state.last_avail_idx = 0;
        q->state.used_idx = 0;
        q->state.ready = true;
        q->state.broken = false;
        q->state.indirect = indirect;
        q->shadow_avail_idx = 0;
        return 0;
}

void virtq_set_broken(struct virtq *q) {
        q->state.broken = true;
}

/* Breaks the queue and says why; every error path of pop comes here. */
static int virtq_fail(struct virtq *q, int error) {
        q->state.broken = true;
        return error;
}

/* Walks the chain starting at head into q->bufs. */
static int virtq_walk(struct virtq *q, uint16_t head, struct virtq_chain *ret) {
        const struct virtq_desc *table = q->desc;
        uint32_t table_size = q->state.size, index = head, steps = 0;
        uint64_t readable = 0, writable = 0;
        unsigned n = 0, n_readable = 0;
        bool in_indirect = false;

        for (;;) {
                struct virtq_desc d;

                /* Within the current table, and no more steps than it has
                 * entries: a chain that visits an entry twice must be longer
                 * than that, so this catches every loop. */
                if (index >= table_size)
                        return -EINVAL;
                if (++steps > table_size)
                        return -ELOOP;
                load_desc(&table[index], &d);

                if (d.flags & VIRTQ_DESC_F_INDIRECT) {
                        void *p;

                        /* Spec 2.6.5.3: only if negotiated, one level, and
                         * not combined with NEXT. The WRITE flag of this
                         * descriptor means nothing and is ignored. */
                        if (!q->state.indirect || in_indirect || (d.flags & VIRTQ_DESC_F_NEXT))
                                return -EINVAL;
                        if (d.len == 0 || d.len % sizeof(struct virtq_desc) != 0 ||
                            d.len / sizeof(struct virtq_desc) > q->state.size)
                                return -EINVAL;
                        p = guest_memory_ptr(q->mem, d.addr, d.len);
                        if (!p)
                                return -EFAULT;
                        table = p;
                        table_size = d.len / sizeof(struct virtq_desc);
                        index = 0;
                        steps = 0;
                        in_indirect = true;
                        continue;
                }

                if (d.len > 0) {
                        bool is_writable = d.flags & VIRTQ_DESC_F_WRITE;
                        void *p;

                        /* Spec 2.6.4.2: readable buffers first. A device
                         * that gets them mixed cannot tell request from
                         * reply, so this is an error, not a quirk. */
                        if (!is_writable && n > n_readable)
                                return -EINVAL;
                        /* Direct part plus an indirect table can exceed
                         * the table bound above; this is the bound on what
                         * we hand out, and on q->bufs. */
                        if (n >= q->state.size)
                                return -ELOOP;
                        p = guest_memory_ptr(q->mem, d.addr, d.len);
                        if (!p)
                                return -EFAULT;
                        if (is_writable) {
                                writable += d.len;
                                if (writable > UINT32_MAX)
                                        return -EOVERFLOW;
                        } else {
                                readable += d.len;
                                if (readable > UINT32_MAX)
                                        return -EOVERFLOW;
                                n_readable++;
                        }
                        q->bufs[n++] = (struct iovec) { .iov_base = p, .iov_len = d.len };
                }

                if (!(d.flags & VIRTQ_DESC_F_NEXT))
                        break;
                index = d.next;
        }

        *ret = (struct virtq_chain) {
                .head = head,
                .n_bufs = n,
                .n_readable = n_readable,
                .readable_len = (uint32_t) readable,
                .writable_len = (uint32_t) writable,
                .bufs = q->bufs,
        };
        return 0;
}

int virtq_pop(struct virtq *q, struct virtq_chain *ret) {
        uint16_t slot, head;
        int r;

        if (!q->state.ready)
                return -ENODEV;
        if (q->state.broken)
                return -EIO;

        if (q->state.last_avail_idx == q->shadow_avail_idx) {
                uint16_t idx = le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));

                /* The driver can have at most `size` chains outstanding;
                 * an index further ahead (or behind us) is garbage. */
                if ((uint16_t) (idx - q->state.last_avail_idx) > q->state.size)
                        return virtq_fail(q, -EINVAL);
                q->shadow_avail_idx = idx;
                if (idx == q->state.last_avail_idx)
                        return 0;
        }

        slot = q->state.last_avail_idx & (q->state.size - 1);
        head = le16toh(__atomic_load_n(&q->avail->ring[slot], __ATOMIC_RELAXED));
        r = virtq_walk(q, head, ret);
        if (r < 0)
                return virtq_fail(q, r);
        q->state.last_avail_idx++;
        return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t written) {
        struct virtq_used_elem *e;

        if (!q->state.ready)
                return -ENODEV;
        if (q->state.broken)
                return -EIO;
        /* head comes from a chain we popped, so is < size; checked anyway, a
         * device bug must not become a guest-visible write elsewhere. */
        if (head >= q->state.size)
                return virtq_fail(q, -EINVAL);

        e = &q->used->ring[q->state.used_idx & (q->state.size - 1)];
        __atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
        __atomic_store_n(&e->len, htole32(written), __ATOMIC_RELAXED);
        q->state.used_idx++;
        __atomic_store_n(&q->used->idx, htole16(q->state.used_idx), __ATOMIC_RELEASE);
        return 0;
}

bool virtq_needs_interrupt(struct virtq *q) {
        uint16_t flags;

        if (!q->state.ready)
                return false;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        flags = le16toh(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED));
        return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Finds where byte offset of one direction's stream lies: returns the
 * buffer index (n_bufs-relative) and the offset into it. */
static void chain_seek(const struct virtq_chain *c, bool writable, uint64_t offset, unsigned *ret_index,
                       size_t *ret_skip) {
        unsigned i = writable ? c->n_readable : 0, end = writable ? c->n_bufs : c->n_readable;

        while (i < end && offset >= c->bufs[i].iov_len) {
                offset -= c->bufs[i].iov_len;
                i++;
        }
        *ret_index = i;
        *ret_skip = (size_t) offset;
}

static size_t chain_copy(const struct virtq_chain *c, bool writable, uint64_t offset, void *host, size_t len) {
        unsigned i, end = writable ? c->n_bufs : c->n_readable;
        size_t skip, done = 0;

        chain_seek(c, writable, offset, &i, &skip);
        for (; i < end && done < len; i++, skip = 0) {
                size_t k = MIN(c->bufs[i].iov_len - skip, len - done);
                uint8_t *guest = (uint8_t *) c->bufs[i].iov_base + skip;

                if (writable)
                        memcpy(guest, (uint8_t *) host + done, k);
                else
                        memcpy((uint8_t *) host + done, guest, k);
                done += k;
        }
        return done;
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t offset, void *dst, size_t len) {
        return chain_copy(c, false, offset, dst, len);
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t offset, const void *src, size_t len) {
        return chain_copy(c, true, offset, (void *) src, len);
}

int virtq_chain_slice(const struct virtq_chain *c, bool writable, uint64_t offset, uint64_t len, struct iovec *iov) {
        uint64_t total = writable ? c->writable_len : c->readable_len;
        unsigned i, end = writable ? c->n_bufs : c->n_readable, n = 0;
        size_t skip;

        if (!range_within(offset, len, total))
                return -ERANGE;
        chain_seek(c, writable, offset, &i, &skip);
        for (; i < end && len > 0; i++, skip = 0) {
                size_t k = (size_t) MIN((uint64_t) c->bufs[i].iov_len - skip, len);

                iov[n++] = (struct iovec) { .iov_base = (uint8_t *) c->bufs[i].iov_base + skip, .iov_len = k };
                len -= k;
        }
        return (int) n;
}

void virtq_save(const struct virtq *q, struct virtq_state *ret) {
        *ret = q->state;
}

int virtq_restore(struct virtq *q, const struct virtq_state *s) {
        const struct virtq_desc *desc = NULL;
        const struct virtq_avail *avail = NULL;
        struct virtq_used *used = NULL;

        if (s->ready > 1 || s->broken > 1 || s->indirect > 1)
                return -EINVAL;
        if (s->ready) {
                int r = virtq_map(q, s, &desc, &avail, &used);
                if (r < 0)
                        return r;
        } else if (s->broken || s->last_avail_idx != 0 || s->used_idx != 0)
                /* An idle queue has nothing in flight; enabling it starts
                 * from zero anyway, so other values can only be corruption.
                 * Its size and addresses are whatever the driver last wrote
                 * and get checked when it enables the queue. */
                return -EINVAL;

        q->state = *s;
        memset(q->state.reserved, 0, sizeof(q->state.reserved));
        q->desc = desc;
        q->avail = avail;
        q->used = used;
        /* Forces a fresh, checked read of avail->idx on the next pop. */
        q->shadow_avail_idx = q->state.last_avail_idx;
        return 0;
}
