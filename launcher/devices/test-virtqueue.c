/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-virtqueue.c: virtqueue.c against a hostile driver. Each test lays out
 * rings in a small guest RAM by hand, the way a driver would (or should
 * not), and checks that the queue either yields exactly the buffers meant
 * or reports the breakage it should, without touching anything outside
 * guest RAM.
 */
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "memory.h"
#include "test.h"
#include "util.h"
#include "virtqueue.h"

/* Guest-physical layout of the test RAM. */
#define RAM_SIZE (2 * MiB)
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA 0x4000
#define TABLE_GPA 0x8000  /* indirect tables */
#define TABLE2_GPA 0x9000
#define DATA_GPA 0x10000

struct fixture {
        struct guest_memory mem;
        struct virtq q;
        uint16_t avail_idx; /* the driver's */
};

static void fixture_setup_full(struct fixture *f, uint64_t ram, uint16_t max_size, uint32_t size, bool indirect) {
        int r;

        *f = (struct fixture) {};
        r = guest_memory_create(&f->mem, ram);
        if (r < 0) {
                fprintf(stderr, "guest_memory_create: %s\n", strerror(-r));
                exit(EXIT_FAILURE);
        }
        r = virtq_init(&f->q, &f->mem, max_size);
        if (r < 0) {
                fprintf(stderr, "virtq_init: %s\n", strerror(-r));
                exit(EXIT_FAILURE);
        }
        f->q.state.size = size;
        f->q.state.desc_addr = DESC_GPA;
        f->q.state.avail_addr = AVAIL_GPA;
        f->q.state.used_addr = USED_GPA;
        CHECK_EQ(virtq_enable(&f->q, indirect), 0);
}

static void fixture_setup(struct fixture *f, uint32_t size, bool indirect) {
        fixture_setup_full(f, RAM_SIZE, 256, size, indirect);
}

static void fixture_teardown(struct fixture *f) {
        virtq_done(&f->q);
        guest_memory_destroy(&f->mem);
}

static void *gpa(struct fixture *f, uint64_t addr) {
        return f->mem.host + addr;
}

static void put_desc(struct fixture *f, uint64_t table, uint32_t index, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next) {
        struct virtq_desc d = {
                .addr = htole64(addr),
                .len = htole32(len),
                .flags = htole16(flags),
                .next = htole16(next),
        };
        memcpy(gpa(f, table + index * sizeof(d)), &d, sizeof(d));
}

static void set_avail_idx(struct fixture *f, uint16_t idx) {
        struct virtq_avail *a = gpa(f, AVAIL_GPA);

        f->avail_idx = idx;
        a->idx = htole16(idx);
}

/* Makes head available, as a driver does: ring entry, then the index. */
static void make_available(struct fixture *f, uint16_t head) {
        struct virtq_avail *a = gpa(f, AVAIL_GPA);

        a->ring[f->avail_idx % f->q.state.size] = htole16(head);
        set_avail_idx(f, f->avail_idx + 1);
}

static const struct virtq_used *used(struct fixture *f) {
        return gpa(f, USED_GPA);
}

/* Makes head available and pops it, expecting result. */
static int pop_head(struct fixture *f, uint16_t head, struct virtq_chain *c) {
        make_available(f, head);
        return virtq_pop(&f->q, c);
}

static void test_init(void) {
        struct guest_memory mem = {};
        struct virtq q;

        CHECK_EQ(guest_memory_create(&mem, RAM_SIZE), 0);
        CHECK_EQ(virtq_init(&q, &mem, 0), -EINVAL);
        CHECK_EQ(virtq_init(&q, &mem, 3), -EINVAL);
        CHECK_EQ(virtq_init(&q, &mem, 100), -EINVAL);
        CHECK_EQ(virtq_init(&q, &mem, 32768), 0);
        CHECK_EQ(q.state.size, 32768);
        CHECK(!virtq_is_ready(&q));
        CHECK_EQ(virtq_size(&q), 0);
        virtq_done(&q);
        virtq_done(&q); /* idempotent */
        guest_memory_destroy(&mem);
}

/* Tries a layout on a fresh queue; returns virtq_enable()'s answer. */
static int try_layout(struct fixture *f, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used_addr) {
        virtq_reset(&f->q);
        f->q.state.size = size;
        f->q.state.desc_addr = desc;
        f->q.state.avail_addr = avail;
        f->q.state.used_addr = used_addr;
        return virtq_enable(&f->q, false);
}

static void test_layout(void) {
        struct fixture f;

        fixture_setup(&f, 16, false);
        /* Sizes: a power of two, 1..max (256 here). */
        CHECK_EQ(try_layout(&f, 0, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 3, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 48, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 512, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 65536, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 0x10010, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK(!virtq_is_ready(&f.q));
        CHECK_EQ(try_layout(&f, 1, DESC_GPA, AVAIL_GPA, USED_GPA), 0);
        CHECK_EQ(try_layout(&f, 256, DESC_GPA, AVAIL_GPA, USED_GPA), 0);
        CHECK_EQ(virtq_size(&f.q), 256);

        /* Alignment: 16, 2, 4. */
        CHECK_EQ(try_layout(&f, 16, DESC_GPA + 8, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA + 1, AVAIL_GPA, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, AVAIL_GPA + 1, USED_GPA), -EINVAL);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, AVAIL_GPA, USED_GPA + 2), -EINVAL);
        CHECK(!virtq_is_ready(&f.q));
        CHECK_EQ(try_layout(&f, 16, DESC_GPA + 16, AVAIL_GPA + 2, USED_GPA + 4), 0);

        /* Outside RAM: past the end, straddling it, in the MMIO hole, at
         * the top of the address space where addr + len wraps. */
        CHECK_EQ(try_layout(&f, 16, RAM_SIZE, AVAIL_GPA, USED_GPA), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, RAM_SIZE - 16 * 8, AVAIL_GPA, USED_GPA), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, RAM_SIZE - 16 * 16, AVAIL_GPA, USED_GPA), 0);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, RAM_SIZE - 6 - 2 * 16 + 2, USED_GPA), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, RAM_SIZE - 6 - 2 * 16, USED_GPA), 0);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, AVAIL_GPA, RAM_SIZE - 6 - 8 * 16 + 2), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, AVAIL_GPA, RAM_SIZE - 6 - 8 * 16 - 2), 0);
        CHECK_EQ(try_layout(&f, 16, GUEST_MMIO_HOLE_START, AVAIL_GPA, USED_GPA), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, UINT64_C(0xfffffffffffffff0), AVAIL_GPA, USED_GPA), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, UINT64_C(0xfffffffffffffffe), USED_GPA), -EFAULT);
        CHECK_EQ(try_layout(&f, 16, DESC_GPA, AVAIL_GPA, UINT64_C(0xfffffffffffffffc)), -EFAULT);
        CHECK(!virtq_is_ready(&f.q));

        /* A queue that is not ready yields nothing and takes nothing. */
        struct virtq_chain c;
        CHECK_EQ(virtq_pop(&f.q, &c), -ENODEV);
        CHECK_EQ(virtq_push(&f.q, 0, 0), -ENODEV);
        CHECK(!virtq_needs_interrupt(&f.q));
        fixture_teardown(&f);
}

static void test_simple_chain(void) {
        struct fixture f;
        struct virtq_chain c;

        fixture_setup(&f, 16, false);
        CHECK_EQ(virtq_pop(&f.q, &c), 0); /* nothing yet */

        /* 5 -> 9 -> 2: readable 16 + 100, writable 1. */
        put_desc(&f, DESC_GPA, 5, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 9);
        put_desc(&f, DESC_GPA, 9, DATA_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT, 2);
        put_desc(&f, DESC_GPA, 2, DATA_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 7 /* ignored: no NEXT */);
        CHECK_EQ(pop_head(&f, 5, &c), 1);
        CHECK_EQ(c.head, 5);
        CHECK_EQ(c.n_bufs, 3);
        CHECK_EQ(c.n_readable, 2);
        CHECK_EQ(c.readable_len, 116);
        CHECK_EQ(c.writable_len, 1);
        CHECK(c.bufs[0].iov_base == gpa(&f, DATA_GPA) && c.bufs[0].iov_len == 16);
        CHECK(c.bufs[1].iov_base == gpa(&f, DATA_GPA + 0x100) && c.bufs[1].iov_len == 100);
        CHECK(c.bufs[2].iov_base == gpa(&f, DATA_GPA + 0x200) && c.bufs[2].iov_len == 1);
        CHECK_EQ(virtq_pop(&f.q, &c), 0);

        CHECK_EQ(virtq_push(&f.q, 5, 1), 0);
        CHECK_EQ(le16toh(used(&f)->idx), 1);
        CHECK_EQ(le32toh(used(&f)->ring[0].id), 5);
        CHECK_EQ(le32toh(used(&f)->ring[0].len), 1);
        CHECK(virtq_needs_interrupt(&f.q));
        ((struct virtq_avail *) gpa(&f, AVAIL_GPA))->flags = htole16(VIRTQ_AVAIL_F_NO_INTERRUPT);
        CHECK(!virtq_needs_interrupt(&f.q));

        /* A single readable-only descriptor and a single writable-only one. */
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 4096, 0, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(c.n_bufs, 1);
        CHECK_EQ(c.n_readable, 1);
        CHECK_EQ(c.writable_len, 0);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 4096, VIRTQ_DESC_F_WRITE, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(c.n_readable, 0);
        CHECK_EQ(c.writable_len, 4096);

        /* A chain using every descriptor of the queue is fine. */
        for (unsigned i = 0; i < 16; i++)
                put_desc(&f, DESC_GPA, i, DATA_GPA + i, 1, i < 15 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t) (i + 1));
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(c.n_bufs, 16);
        CHECK(!virtq_is_broken(&f.q));
        fixture_teardown(&f);
}

/* Expects the chain at head to break the queue with error, and the queue to
 * stay broken. */
static void expect_broken(struct fixture *f, uint16_t head, int error, const char *what) {
        struct virtq_chain c;
        int r = pop_head(f, head, &c);

        if (r != error) {
                fprintf(stderr, "%s: pop returned %d, expected %d\n", what, r, error);
                test_failures++;
        }
        if (!virtq_is_broken(&f->q)) {
                fprintf(stderr, "%s: queue not marked broken\n", what);
                test_failures++;
        }
        CHECK_EQ(virtq_pop(&f->q, &c), -EIO);
        CHECK_EQ(virtq_push(&f->q, head, 0), -EIO);
}

static void test_hostile_chains(void) {
        struct fixture f;

        /* Self-loop. */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 3, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 3);
        expect_broken(&f, 3, -ELOOP, "self-loop");
        fixture_teardown(&f);

        /* Self-loop of zero-length descriptors (no buffers to count). */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 3, 0, 0, VIRTQ_DESC_F_NEXT, 3);
        expect_broken(&f, 3, -ELOOP, "zero-length self-loop");
        fixture_teardown(&f);

        /* Two-cycle, and a cycle entered after a tail. */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
        expect_broken(&f, 0, -ELOOP, "2-cycle");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
        put_desc(&f, DESC_GPA, 2, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        expect_broken(&f, 0, -EINVAL, "cycle back into readable part"); /* order check fires first */
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
        put_desc(&f, DESC_GPA, 2, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        expect_broken(&f, 0, -ELOOP, "tail then cycle");
        fixture_teardown(&f);

        /* next >= queue size, and a head >= queue size. */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 16);
        expect_broken(&f, 0, -EINVAL, "next == size");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0xffff);
        expect_broken(&f, 0, -EINVAL, "next == 0xffff");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        expect_broken(&f, 16, -EINVAL, "head == size");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        expect_broken(&f, 0xffff, -EINVAL, "head == 0xffff");
        fixture_teardown(&f);

        /* Buffers outside RAM: past the end, straddling the end, in the
         * hole, and with addr + len wrapping around 2^64. */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, RAM_SIZE, 1, 0, 0);
        expect_broken(&f, 0, -EFAULT, "addr past RAM");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, RAM_SIZE - 8, 9, VIRTQ_DESC_F_WRITE, 0);
        expect_broken(&f, 0, -EFAULT, "buffer straddling end of RAM");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, GUEST_MMIO_HOLE_START + 0x1000, 16, 0, 0);
        expect_broken(&f, 0, -EFAULT, "buffer in MMIO hole");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, UINT64_C(0xffffffffffffffff), 1, 0, 0);
        expect_broken(&f, 0, -EFAULT, "addr 0xffff...");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, UINT64_C(0xffffffffffffff00), 0x1000, 0, 0);
        expect_broken(&f, 0, -EFAULT, "addr + len overflows");
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, UINT32_MAX, 0, 0);
        expect_broken(&f, 0, -EFAULT, "len 0xffffffff");
        fixture_teardown(&f);

        /* Readable after writable. */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, 0, 0);
        expect_broken(&f, 0, -EINVAL, "readable after writable");
        fixture_teardown(&f);

        /* INDIRECT when not negotiated. */
        fixture_setup(&f, 16, false);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EINVAL, "indirect not negotiated");
        fixture_teardown(&f);
}

static void test_zero_length(void) {
        struct fixture f;
        struct virtq_chain c;

        /* Zero-length descriptors are skipped, wherever they point. */
        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, UINT64_C(0xfffffffffffffff0), 0, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        put_desc(&f, DESC_GPA, 2, GUEST_MMIO_HOLE_START, 0, 0 /* readable, but empty */, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(c.n_bufs, 1);
        CHECK_EQ(c.n_readable, 0);
        CHECK_EQ(c.writable_len, 100);

        /* A chain of nothing at all. */
        put_desc(&f, DESC_GPA, 4, 0, 0, 0, 0);
        CHECK_EQ(pop_head(&f, 4, &c), 1);
        CHECK_EQ(c.n_bufs, 0);
        CHECK_EQ(c.readable_len + c.writable_len, 0);
        CHECK(!virtq_is_broken(&f.q));
        fixture_teardown(&f);
}

static void test_avail_index(void) {
        struct fixture f;
        struct virtq_chain c;

        /* Exactly size outstanding: fine. */
        fixture_setup(&f, 8, false);
        for (unsigned i = 0; i < 8; i++) {
                put_desc(&f, DESC_GPA, i, DATA_GPA, 8, 0, 0);
                make_available(&f, (uint16_t) i);
        }
        for (unsigned i = 0; i < 8; i++) {
                CHECK_EQ(virtq_pop(&f.q, &c), 1);
                CHECK_EQ(c.head, i);
        }
        CHECK_EQ(virtq_pop(&f.q, &c), 0);
        fixture_teardown(&f);

        /* One more than size: broken, before anything is taken. */
        fixture_setup(&f, 8, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, 0, 0);
        set_avail_idx(&f, 9);
        CHECK_EQ(virtq_pop(&f.q, &c), -EINVAL);
        CHECK(virtq_is_broken(&f.q));
        CHECK_EQ(virtq_pop(&f.q, &c), -EIO);
        fixture_teardown(&f);

        /* Far ahead, and after some progress. */
        fixture_setup(&f, 8, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, 0, 0);
        make_available(&f, 0);
        make_available(&f, 0);
        CHECK_EQ(virtq_pop(&f.q, &c), 1);
        CHECK_EQ(virtq_pop(&f.q, &c), 1);
        set_avail_idx(&f, 0x8000);
        CHECK_EQ(virtq_pop(&f.q, &c), -EINVAL);
        fixture_teardown(&f);

        /* Backwards: behind what we consumed. */
        fixture_setup(&f, 8, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, 0, 0);
        make_available(&f, 0);
        make_available(&f, 0);
        CHECK_EQ(virtq_pop(&f.q, &c), 1);
        CHECK_EQ(virtq_pop(&f.q, &c), 1);
        set_avail_idx(&f, 1);
        CHECK_EQ(virtq_pop(&f.q, &c), -EINVAL);
        fixture_teardown(&f);

        /* Wrapping the 16-bit indices is normal operation. */
        fixture_setup(&f, 8, false);
        {
                struct virtq_state s;

                virtq_save(&f.q, &s);
                s.last_avail_idx = 0xfffe;
                s.used_idx = 0xfffe;
                CHECK_EQ(virtq_restore(&f.q, &s), 0);
        }
        put_desc(&f, DESC_GPA, 3, DATA_GPA, 8, 0, 0);
        f.avail_idx = 0xfffe;
        for (unsigned i = 0; i < 4; i++)
                make_available(&f, 3);
        CHECK_EQ(f.avail_idx, 2);
        for (unsigned i = 0; i < 4; i++) {
                CHECK_EQ(virtq_pop(&f.q, &c), 1);
                CHECK_EQ(c.head, 3);
                CHECK_EQ(virtq_push(&f.q, c.head, i), 0);
        }
        CHECK_EQ(virtq_pop(&f.q, &c), 0);
        CHECK_EQ(le16toh(used(&f)->idx), 2);
        CHECK_EQ(le32toh(used(&f)->ring[0xfffe % 8].len), 0);
        CHECK_EQ(le32toh(used(&f)->ring[0xffff % 8].len), 1);
        CHECK_EQ(le32toh(used(&f)->ring[0].len), 2);
        CHECK_EQ(le32toh(used(&f)->ring[1].len), 3);
        fixture_teardown(&f);

        /* The driver changing the ring entry after we read the index
         * changes nothing we checked: the head is read once. */
        fixture_setup(&f, 8, false);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, 0, 0);
        make_available(&f, 1);
        CHECK_EQ(virtq_pop(&f.q, &c), 1);
        CHECK_EQ(virtq_push(&f.q, 7, 0), 0); /* a device may push any head < size */
        CHECK_EQ(virtq_push(&f.q, 8, 0), -EINVAL); /* but not beyond */
        CHECK(virtq_is_broken(&f.q));
        fixture_teardown(&f);
}

static void test_overflow(void) {
        struct fixture f;
        struct virtq_chain c;
        int r;

        /* Two 2 GiB readable buffers total 2^32: one more than the used
         * ring's 32-bit length can say. Needs 4 GiB of (sparse) RAM. */
        r = guest_memory_create(&f.mem, 4 * GiB);
        if (r < 0) {
                fprintf(stderr, "skipping overflow test: cannot make 4 GiB of guest RAM: %s\n", strerror(-r));
                return;
        }
        guest_memory_destroy(&f.mem);

        fixture_setup_full(&f, 4 * GiB, 256, 16, false);
        put_desc(&f, DESC_GPA, 0, 1 * MiB, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, 1 * MiB, 0x7fffffffu, VIRTQ_DESC_F_NEXT, 2);
        put_desc(&f, DESC_GPA, 2, 0, 1, VIRTQ_DESC_F_WRITE, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(c.readable_len, UINT32_MAX);

        put_desc(&f, DESC_GPA, 1, 1 * MiB, 0x80000000u, VIRTQ_DESC_F_NEXT, 2);
        expect_broken(&f, 0, -EOVERFLOW, "readable total 2^32");
        fixture_teardown(&f);

        fixture_setup_full(&f, 4 * GiB, 256, 16, false);
        put_desc(&f, DESC_GPA, 0, 1 * MiB, 0x80000000u, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, 1 * MiB, 0x80000000u, VIRTQ_DESC_F_WRITE, 0);
        expect_broken(&f, 0, -EOVERFLOW, "writable total 2^32");
        fixture_teardown(&f);
}

static void test_indirect(void) {
        struct fixture f;
        struct virtq_chain c;

        /* A good table, unaligned even: 3 entries, walked 0 -> 1, the
         * third unreachable and so never looked at. */
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA + 4, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, TABLE_GPA + 4, 1, DATA_GPA + 0x1000, 513, VIRTQ_DESC_F_WRITE, 0);
        put_desc(&f, TABLE_GPA + 4, 2, UINT64_MAX, UINT32_MAX, VIRTQ_DESC_F_NEXT, 2);
        /* WRITE on the indirect descriptor itself is ignored (spec). */
        put_desc(&f, DESC_GPA, 6, TABLE_GPA + 4, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
        CHECK_EQ(pop_head(&f, 6, &c), 1);
        CHECK_EQ(c.head, 6);
        CHECK_EQ(c.n_bufs, 2);
        CHECK_EQ(c.n_readable, 1);
        CHECK_EQ(c.readable_len, 16);
        CHECK_EQ(c.writable_len, 513);
        CHECK(c.bufs[1].iov_base == gpa(&f, DATA_GPA + 0x1000));

        /* Direct descriptors, then the table as the last one. */
        put_desc(&f, DESC_GPA, 7, DATA_GPA + 0x3000, 8, VIRTQ_DESC_F_NEXT, 6);
        CHECK_EQ(pop_head(&f, 7, &c), 1);
        CHECK_EQ(c.n_bufs, 3);
        CHECK_EQ(c.readable_len, 24);
        fixture_teardown(&f);

        /* A table as long as the queue is fine, one longer is not. */
        fixture_setup(&f, 16, true);
        for (unsigned i = 0; i < 16; i++)
                put_desc(&f, TABLE_GPA, i, DATA_GPA, 1, i < 15 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t) (i + 1));
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16 * 16, VIRTQ_DESC_F_INDIRECT, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(c.n_bufs, 16);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 17 * 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EINVAL, "indirect table longer than queue");
        fixture_teardown(&f);

        /* Direct buffers plus a full table: more buffers than the queue. */
        fixture_setup(&f, 16, true);
        for (unsigned i = 0; i < 16; i++)
                put_desc(&f, TABLE_GPA, i, DATA_GPA, 1, i < 15 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t) (i + 1));
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16 * 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 1, -ELOOP, "direct + indirect longer than queue");
        fixture_teardown(&f);

        /* Bad table lengths and places. */
        static const struct {
                uint64_t addr;
                uint32_t len;
                int error;
                const char *what;
        } bad_tables[] = {
                { TABLE_GPA, 0, -EINVAL, "indirect len 0" },
                { TABLE_GPA, 15, -EINVAL, "indirect len 15" },
                { TABLE_GPA, 24, -EINVAL, "indirect len not a multiple of 16" },
                { TABLE_GPA, 0xfffffff0u, -EINVAL, "indirect len huge" },
                { RAM_SIZE - 16, 32, -EFAULT, "indirect table straddling end of RAM" },
                { GUEST_MMIO_HOLE_START, 16, -EFAULT, "indirect table in MMIO hole" },
                { UINT64_C(0xfffffffffffffff0), 32, -EFAULT, "indirect addr + len overflows" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_tables); i++) {
                fixture_setup(&f, 16, true);
                put_desc(&f, DESC_GPA, 0, bad_tables[i].addr, bad_tables[i].len, VIRTQ_DESC_F_INDIRECT, 0);
                expect_broken(&f, 0, bad_tables[i].error, bad_tables[i].what);
                fixture_teardown(&f);
        }

        /* INDIRECT together with NEXT. */
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
        expect_broken(&f, 0, -EINVAL, "indirect with next");
        fixture_teardown(&f);

        /* Nested: a table entry pointing at a table (itself, or another). */
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EINVAL, "indirect table pointing at itself");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE2_GPA, 0, DATA_GPA, 8, 0, 0);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, TABLE_GPA, 1, TABLE2_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EINVAL, "nested indirect table");
        fixture_teardown(&f);

        /* The abuses of direct chains, inside a table. */
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -ELOOP, "indirect self-loop");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, TABLE_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -ELOOP, "indirect 2-cycle");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, 0, 0, VIRTQ_DESC_F_NEXT, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -ELOOP, "indirect zero-length self-loop");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        /* next within the queue size but beyond the table. */
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
        put_desc(&f, TABLE_GPA, 1, DATA_GPA, 8, 0, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EINVAL, "indirect next beyond table");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, RAM_SIZE - 4, 8, 0, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EFAULT, "indirect buffer outside RAM");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, UINT64_C(0xffffffffffffff00), 0x1000, 0, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EFAULT, "indirect buffer addr + len overflows");
        fixture_teardown(&f);
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, TABLE_GPA, 1, DATA_GPA, 8, 0, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 0, -EINVAL, "indirect readable after writable");
        fixture_teardown(&f);
        /* Direct writable, then a table starting readable. */
        fixture_setup(&f, 16, true);
        put_desc(&f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
        put_desc(&f, DESC_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
        put_desc(&f, DESC_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        expect_broken(&f, 1, -EINVAL, "readable indirect after writable direct");
        fixture_teardown(&f);
}

static void test_reset_recovers(void) {
        struct fixture f;
        struct virtq_chain c;

        fixture_setup(&f, 16, false);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
        expect_broken(&f, 0, -ELOOP, "loop before reset");
        virtq_reset(&f.q);
        CHECK(!virtq_is_broken(&f.q));
        CHECK(!virtq_is_ready(&f.q));
        CHECK_EQ(virtq_pop(&f.q, &c), -ENODEV);

        /* The driver sets the queue up again from scratch. */
        memset(gpa(&f, AVAIL_GPA), 0, 0x1000);
        memset(gpa(&f, USED_GPA), 0, 0x1000);
        f.avail_idx = 0;
        f.q.state.size = 16;
        f.q.state.desc_addr = DESC_GPA;
        f.q.state.avail_addr = AVAIL_GPA;
        f.q.state.used_addr = USED_GPA;
        CHECK_EQ(virtq_enable(&f.q, false), 0);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, 0, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(virtq_push(&f.q, 0, 0), 0);
        CHECK_EQ(le16toh(used(&f)->idx), 1);
        fixture_teardown(&f);
}

static void test_streams(void) {
        struct fixture f;
        struct virtq_chain c;
        struct iovec iov[16];
        uint8_t buf[64];
        int n;

        fixture_setup(&f, 16, false);
        /* readable: "abc" "defgh"; writable: 4 + 2 bytes. */
        memcpy(gpa(&f, DATA_GPA), "abc", 3);
        memcpy(gpa(&f, DATA_GPA + 0x100), "defgh", 5);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 3, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&f, DESC_GPA, 1, DATA_GPA + 0x100, 5, VIRTQ_DESC_F_NEXT, 2);
        put_desc(&f, DESC_GPA, 2, DATA_GPA + 0x200, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
        put_desc(&f, DESC_GPA, 3, DATA_GPA + 0x300, 2, VIRTQ_DESC_F_WRITE, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);

        memset(buf, 0, sizeof(buf));
        CHECK_EQ(virtq_chain_read(&c, 0, buf, sizeof(buf)), 8);
        CHECK(memcmp(buf, "abcdefgh", 8) == 0);
        CHECK_EQ(virtq_chain_read(&c, 2, buf, 3), 3);
        CHECK(memcmp(buf, "cde", 3) == 0);
        CHECK_EQ(virtq_chain_read(&c, 3, buf, 1), 1);
        CHECK(buf[0] == 'd');
        CHECK_EQ(virtq_chain_read(&c, 8, buf, 1), 0);
        CHECK_EQ(virtq_chain_read(&c, UINT64_MAX, buf, 1), 0);

        CHECK_EQ(virtq_chain_write(&c, 3, "XYZ", 3), 3);
        CHECK(memcmp(gpa(&f, DATA_GPA + 0x203), "X", 1) == 0);
        CHECK(memcmp(gpa(&f, DATA_GPA + 0x300), "YZ", 2) == 0);
        CHECK_EQ(virtq_chain_write(&c, 5, "123", 3), 1);
        CHECK_EQ(virtq_chain_write(&c, 6, "1", 1), 0);

        n = virtq_chain_slice(&c, false, 2, 4, iov);
        CHECK_EQ(n, 2);
        CHECK(iov[0].iov_base == gpa(&f, DATA_GPA + 2) && iov[0].iov_len == 1);
        CHECK(iov[1].iov_base == gpa(&f, DATA_GPA + 0x100) && iov[1].iov_len == 3);
        n = virtq_chain_slice(&c, true, 0, 5, iov);
        CHECK_EQ(n, 2);
        CHECK(iov[0].iov_base == gpa(&f, DATA_GPA + 0x200) && iov[0].iov_len == 4);
        CHECK(iov[1].iov_base == gpa(&f, DATA_GPA + 0x300) && iov[1].iov_len == 1);
        CHECK_EQ(virtq_chain_slice(&c, true, 0, 0, iov), 0);
        CHECK_EQ(virtq_chain_slice(&c, true, 6, 0, iov), 0);
        CHECK_EQ(virtq_chain_slice(&c, true, 0, 7, iov), -ERANGE);
        CHECK_EQ(virtq_chain_slice(&c, false, 7, 2, iov), -ERANGE);
        CHECK_EQ(virtq_chain_slice(&c, false, UINT64_MAX, 2, iov), -ERANGE);
        fixture_teardown(&f);
}

static void check_restore_refused(struct fixture *f, const struct virtq_state *s, int error, const char *what) {
        struct virtq_state before, after;
        int r;

        virtq_save(&f->q, &before);
        r = virtq_restore(&f->q, s);
        virtq_save(&f->q, &after);
        if (r != error) {
                fprintf(stderr, "%s: restore returned %d, expected %d\n", what, r, error);
                test_failures++;
        }
        if (memcmp(&before, &after, sizeof(before)) != 0) {
                fprintf(stderr, "%s: refused restore changed the queue\n", what);
                test_failures++;
        }
}

static void test_save_restore(void) {
        struct fixture f;
        struct virtq_state s, bad;
        struct virtq_chain c;

        fixture_setup(&f, 16, true);
        put_desc(&f, DESC_GPA, 0, DATA_GPA, 8, 0, 0);
        CHECK_EQ(pop_head(&f, 0, &c), 1);
        CHECK_EQ(virtq_push(&f.q, 0, 0), 0);
        virtq_save(&f.q, &s);
        CHECK_EQ(s.ready, 1);
        CHECK_EQ(s.indirect, 1);
        CHECK_EQ(s.size, 16);
        CHECK_EQ(s.last_avail_idx, 1);
        CHECK_EQ(s.used_idx, 1);

        bad = s, bad.size = 24;
        check_restore_refused(&f, &bad, -EINVAL, "size not a power of 2");
        bad = s, bad.size = 512;
        check_restore_refused(&f, &bad, -EINVAL, "size above max");
        bad = s, bad.desc_addr = DESC_GPA + 4;
        check_restore_refused(&f, &bad, -EINVAL, "misaligned desc");
        bad = s, bad.used_addr = RAM_SIZE;
        check_restore_refused(&f, &bad, -EFAULT, "used ring outside RAM");
        bad = s, bad.ready = 2;
        check_restore_refused(&f, &bad, -EINVAL, "ready 2");
        bad = s, bad.broken = 0xff;
        check_restore_refused(&f, &bad, -EINVAL, "broken 255");
        bad = s, bad.ready = 0;
        check_restore_refused(&f, &bad, -EINVAL, "idle queue with indices");

        /* A good one, into a fresh queue, carries on where it was. */
        fixture_teardown(&f);
        fixture_setup(&f, 16, false);
        virtq_reset(&f.q);
        CHECK_EQ(virtq_restore(&f.q, &s), 0);
        set_avail_idx(&f, 1);
        CHECK_EQ(virtq_pop(&f.q, &c), 0);
        put_desc(&f, DESC_GPA, 2, DATA_GPA, 8, 0, 0);
        CHECK_EQ(pop_head(&f, 2, &c), 1);
        CHECK_EQ(virtq_push(&f.q, 2, 5), 0);
        CHECK_EQ(le16toh(used(&f)->idx), 2);
        CHECK_EQ(le32toh(used(&f)->ring[1].id), 2);

        /* An idle queue restores with whatever size the driver wrote. */
        virtq_reset(&f.q);
        virtq_save(&f.q, &s);
        s.size = 12345;
        CHECK_EQ(virtq_restore(&f.q, &s), 0);
        CHECK(!virtq_is_ready(&f.q));
        CHECK_EQ(virtq_pop(&f.q, &c), -ENODEV);
        fixture_teardown(&f);
}

int main(void) {
        test_init();
        test_layout();
        test_simple_chain();
        test_hostile_chains();
        test_zero_length();
        test_avail_index();
        test_overflow();
        test_indirect();
        test_reset_recovers();
        test_streams();
        test_save_restore();

        return TEST_RESULT();
}
