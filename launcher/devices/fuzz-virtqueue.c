/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-virtqueue.c: libFuzzer target for virtqueue.c. The input is a small
 * header of queue parameters followed by the first bytes of guest RAM, so
 * the fuzzer writes descriptor tables, rings and indirect tables as a
 * hostile driver would. We then pop every chain, check what we got back
 * against the rules virtqueue.h promises (buffers inside guest RAM, bounded
 * count and lengths, readable before writable), exercise the stream helpers
 * and push each chain back. A crash, a sanitizer report or an abort() here
 * is a bug.
 *
 * Built and run by `make fuzz` (tests/fuzz/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memory.h"
#include "util.h"
#include "virtqueue.h"

#define FUZZ_RAM_SIZE (2 * MiB)
#define FUZZ_MAX_SIZE 256

struct fuzz_header {
        uint8_t size_log2;  /* queue size 1 << (size_log2 % 10) unless raw_size */
        uint8_t flags;      /* bit 0: indirect negotiated; bit 1: use raw_size;
                             * bit 2: ring addresses count back from the end of RAM */
        uint16_t raw_size;
        uint16_t desc_off;  /* ring addresses: offsets into the RAM we fill, */
        uint16_t avail_off; /* so that rings land in fuzzer-written bytes */
        uint16_t used_off;
        uint16_t last_avail_idx;
        uint16_t used_idx;
        uint16_t pops; /* how many pops to try, beyond the queue size */
} _packed_;

static struct guest_memory mem;
static size_t dirty; /* bytes of RAM the previous input wrote */


static void check_chain(const struct virtq *q, const struct virtq_chain *c) {
        uint64_t readable = 0, writable = 0;
        uint8_t scratch[64];
        struct iovec iov[FUZZ_MAX_SIZE];
        int n;

        FUZZ_ASSERT(c->head < virtq_size(q));
        FUZZ_ASSERT(c->n_bufs <= virtq_size(q));
        FUZZ_ASSERT(c->n_readable <= c->n_bufs);
        for (unsigned i = 0; i < c->n_bufs; i++) {
                const uint8_t *p = c->bufs[i].iov_base;

                FUZZ_ASSERT(c->bufs[i].iov_len > 0);
                FUZZ_ASSERT(p >= mem.host && p <= mem.host + mem.size);
                FUZZ_ASSERT(c->bufs[i].iov_len <= (size_t) (mem.host + mem.size - p));
                if (i < c->n_readable)
                        readable += c->bufs[i].iov_len;
                else
                        writable += c->bufs[i].iov_len;
        }
        FUZZ_ASSERT(readable == c->readable_len);
        FUZZ_ASSERT(writable == c->writable_len);

        /* The stream helpers, at the edges and across buffers. */
        FUZZ_ASSERT(virtq_chain_read(c, 0, scratch, sizeof(scratch)) == MIN(sizeof(scratch), readable));
        if (readable > 3)
                FUZZ_ASSERT(virtq_chain_read(c, readable - 3, scratch, sizeof(scratch)) == 3);
        FUZZ_ASSERT(virtq_chain_read(c, readable, scratch, 1) == 0);
        memset(scratch, 0x5a, sizeof(scratch));
        FUZZ_ASSERT(virtq_chain_write(c, writable / 2, scratch, sizeof(scratch)) ==
                    MIN(sizeof(scratch), writable - writable / 2));
        n = virtq_chain_slice(c, false, readable / 3, readable - readable / 3, iov);
        FUZZ_ASSERT(n >= 0 && (unsigned) n <= c->n_readable);
        n = virtq_chain_slice(c, true, 0, writable, iov);
        FUZZ_ASSERT(n >= 0 && (unsigned) n == c->n_bufs - c->n_readable);
        FUZZ_ASSERT(virtq_chain_slice(c, true, 1, writable, iov) == -ERANGE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_header h;
        struct virtq q;
        struct virtq_state s;
        size_t ram_bytes;
        unsigned budget;

        if (!mem.host && guest_memory_create(&mem, FUZZ_RAM_SIZE) < 0)
                abort();
        if (size < sizeof(h))
                return 0;
        memcpy(&h, data, sizeof(h));
        data += sizeof(h);
        size -= sizeof(h);

        /* Fresh RAM: clear what the last input wrote, then lay this one in. */
        memset(mem.host, 0, dirty);
        ram_bytes = MIN(size, (size_t) FUZZ_RAM_SIZE);
        memcpy(mem.host, data, ram_bytes);
        dirty = MAX(ram_bytes, (size_t) 0x20000); /* rings may sit past the input */

        if (virtq_init(&q, &mem, FUZZ_MAX_SIZE) < 0)
                abort();
        q.state.size = (h.flags & 2) ? h.raw_size : 1u << (h.size_log2 % 10);
        if (h.flags & 4) {
                /* Rings straddling or just inside the end of RAM. */
                q.state.desc_addr = FUZZ_RAM_SIZE - h.desc_off;
                q.state.avail_addr = FUZZ_RAM_SIZE - h.avail_off;
                q.state.used_addr = FUZZ_RAM_SIZE - h.used_off;
                dirty = FUZZ_RAM_SIZE;
        } else {
                q.state.desc_addr = h.desc_off;
                q.state.avail_addr = h.avail_off;
                q.state.used_addr = h.used_off;
        }
        if (virtq_enable(&q, h.flags & 1) < 0) {
                FUZZ_ASSERT(!virtq_is_ready(&q));
                virtq_done(&q);
                return 0;
        }

        /* Start from arbitrary indices, as after a snapshot restore. */
        virtq_save(&q, &s);
        s.last_avail_idx = h.last_avail_idx;
        s.used_idx = h.used_idx;
        FUZZ_ASSERT(virtq_restore(&q, &s) == 0);

        /* A few more pops than the queue holds chains. (Not asserted to
         * come up empty: the used ring may overlap the avail ring, so our
         * pushes can make more available, as a driver could.) */
        budget = virtq_size(&q) + h.pops % 8;
        for (unsigned i = 0; i < budget; i++) {
                struct virtq_chain c;
                int r = virtq_pop(&q, &c);

                if (r < 0) {
                        FUZZ_ASSERT(virtq_is_broken(&q));
                        FUZZ_ASSERT(virtq_pop(&q, &c) == -EIO);
                        break;
                }
                if (r == 0)
                        break;
                /* check_chain() and push write guest RAM anywhere; the next
                 * input must not see it. */
                dirty = FUZZ_RAM_SIZE;
                check_chain(&q, &c);
                FUZZ_ASSERT(virtq_push(&q, c.head, c.writable_len) == 0);
                (void) virtq_needs_interrupt(&q);
        }

        virtq_done(&q);
        return 0;
}
