/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-virtio-blk.c: the whole virtio-blk device driven the way a guest
 * drives it, through its MMIO registers on an I/O map, with rings and buffers in
 * a guest_memory and a temporary file as the disk. A fake device_host
 * records the interrupt line, so we can check that each completion makes a
 * rising edge. Covers the good path (negotiation, read, write, flush,
 * get-id, indirect chains, snapshots) and the guest getting it wrong
 * (features, register misuse, read-only disk, bad sectors, bad status
 * byte, broken rings).
 */
#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "memory.h"
#include "test.h"
#include "util.h"
#include "virtio-blk.h"
#include "virtio-mmio.h"
#include "virtqueue.h"

/* Register offsets, spec 4.2.2. */
enum {
        REG_MAGIC = 0x000,
        REG_VERSION = 0x004,
        REG_DEVICE_ID = 0x008,
        REG_VENDOR_ID = 0x00c,
        REG_DEVICE_FEATURES = 0x010,
        REG_DEVICE_FEATURES_SEL = 0x014,
        REG_DRIVER_FEATURES = 0x020,
        REG_DRIVER_FEATURES_SEL = 0x024,
        REG_QUEUE_SEL = 0x030,
        REG_QUEUE_NUM_MAX = 0x034,
        REG_QUEUE_NUM = 0x038,
        REG_QUEUE_READY = 0x044,
        REG_QUEUE_NOTIFY = 0x050,
        REG_INTERRUPT_STATUS = 0x060,
        REG_INTERRUPT_ACK = 0x064,
        REG_STATUS = 0x070,
        REG_QUEUE_DESC_LOW = 0x080,
        REG_QUEUE_DESC_HIGH = 0x084,
        REG_QUEUE_DRIVER_LOW = 0x090,
        REG_QUEUE_DRIVER_HIGH = 0x094,
        REG_QUEUE_DEVICE_LOW = 0x0a0,
        REG_QUEUE_DEVICE_HIGH = 0x0a4,
        REG_SHM_LEN_LOW = 0x0b0,
        REG_CONFIG_GENERATION = 0x0fc,
        REG_CONFIG = 0x100,
};

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_FLUSH 9

#define BASE UINT64_C(0xd0000000)
#define BASE_RO UINT64_C(0xd0001000)
#define IRQ 5
#define IRQ_RO 6

#define RAM_SIZE (4 * MiB)
#define QSIZE 16
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define TABLE_GPA 0x4000
#define HDR_GPA 0x5000
#define STATUS_GPA 0x5100
#define DATA_GPA 0x10000
#define DATA2_GPA 0x30000

#define DISK_SECTORS 2048
#define DISK_ID "guestd-test-disk"

/* The fake host: one interrupt line per device, edges counted. */
struct fake_host {
        struct device_host host; /* first, so the callbacks can cast back */
        int level[32];
        unsigned rising[32];
        unsigned exits;
};

static void fake_irq_line(struct device_host *h, unsigned irq, int level) {
        struct fake_host *f = (struct fake_host *) h;

        if (irq >= ELEMENTSOF(f->level)) {
                fprintf(stderr, "irq %u out of range\n", irq);
                test_failures++;
                return;
        }
        if (level && !f->level[irq])
                f->rising[irq]++;
        f->level[irq] = level;
}

static void fake_request_exit(struct device_host *h, enum guest_exit e, const char *reason) {
        ((struct fake_host *) h)->exits++;
}

/* A minimal driver: one device, one queue of QSIZE, synchronous requests
 * that always use descriptors from 0 up. */
struct driver {
        struct io_map *io;
        struct guest_memory *mem;
        struct fake_host *fh;
        uint64_t base;
        unsigned irq;
        uint16_t avail_idx;
        uint16_t used_seen;
};

static uint32_t rd(struct driver *d, uint64_t reg) {
        uint32_t v;

        CHECK(io_dispatch(d->io, IO_MMIO, d->base + reg, &v, 4, false));
        return le32toh(v);
}

static void wr(struct driver *d, uint64_t reg, uint32_t v) {
        v = htole32(v);
        CHECK(io_dispatch(d->io, IO_MMIO, d->base + reg, &v, 4, true));
}

static void *gpa(struct driver *d, uint64_t addr) {
        return d->mem->host + addr;
}

static uint64_t device_features(struct driver *d) {
        uint64_t f;

        wr(d, REG_DEVICE_FEATURES_SEL, 1);
        f = (uint64_t) rd(d, REG_DEVICE_FEATURES) << 32;
        wr(d, REG_DEVICE_FEATURES_SEL, 0);
        return f | rd(d, REG_DEVICE_FEATURES);
}

static void set_driver_features(struct driver *d, uint64_t f) {
        wr(d, REG_DRIVER_FEATURES_SEL, 0);
        wr(d, REG_DRIVER_FEATURES, (uint32_t) f);
        wr(d, REG_DRIVER_FEATURES_SEL, 1);
        wr(d, REG_DRIVER_FEATURES, (uint32_t) (f >> 32));
}

/* Negotiation up to FEATURES_OK; returns whether the device agreed. */
static bool negotiate(struct driver *d, uint64_t features) {
        wr(d, REG_STATUS, 0);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        set_driver_features(d, features);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
        return rd(d, REG_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

static void setup_queue(struct driver *d, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used) {
        memset(gpa(d, AVAIL_GPA), 0, 0x1000);
        memset(gpa(d, USED_GPA), 0, 0x1000);
        d->avail_idx = d->used_seen = 0;
        wr(d, REG_QUEUE_SEL, 0);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 0);
        CHECK_EQ(rd(d, REG_QUEUE_NUM_MAX), VIRTIO_BLK_QUEUE_SIZE);
        wr(d, REG_QUEUE_NUM, size);
        wr(d, REG_QUEUE_DESC_LOW, (uint32_t) desc);
        wr(d, REG_QUEUE_DESC_HIGH, (uint32_t) (desc >> 32));
        wr(d, REG_QUEUE_DRIVER_LOW, (uint32_t) avail);
        wr(d, REG_QUEUE_DRIVER_HIGH, (uint32_t) (avail >> 32));
        wr(d, REG_QUEUE_DEVICE_LOW, (uint32_t) used);
        wr(d, REG_QUEUE_DEVICE_HIGH, (uint32_t) (used >> 32));
        wr(d, REG_QUEUE_READY, 1);
}

static void driver_ok(struct driver *d) {
        wr(d, REG_STATUS, rd(d, REG_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* The whole bring-up, as Linux does it; features: what the driver takes. */
static void bring_up(struct driver *d, uint64_t features) {
        CHECK(negotiate(d, features));
        setup_queue(d, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 1);
        driver_ok(d);
        CHECK_EQ(rd(d, REG_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                            VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void put_desc(struct driver *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next) {
        struct virtq_desc desc = {
                .addr = htole64(addr),
                .len = htole32(len),
                .flags = htole16(flags),
                .next = htole16(next),
        };
        memcpy(gpa(d, table + i * sizeof(desc)), &desc, sizeof(desc));
}

static void put_header(struct driver *d, uint32_t type, uint64_t sector) {
        struct {
                uint32_t type, reserved;
                uint64_t sector;
        } h = { htole32(type), 0, htole64(sector) };
        memcpy(gpa(d, HDR_GPA), &h, sizeof(h));
}

/* Makes head available and notifies; returns how many chains the device
 * used (0 or 1 for our synchronous requests). */
static unsigned kick(struct driver *d, uint16_t head) {
        struct virtq_avail *a = gpa(d, AVAIL_GPA);
        struct virtq_used *u = gpa(d, USED_GPA);
        uint16_t before = d->used_seen;

        a->ring[d->avail_idx % QSIZE] = htole16(head);
        d->avail_idx++;
        __atomic_store_n(&a->idx, htole16(d->avail_idx), __ATOMIC_RELEASE);
        wr(d, REG_QUEUE_NOTIFY, 0);
        d->used_seen = le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
        return (uint16_t) (d->used_seen - before);
}

static const struct virtq_used_elem *last_used(struct driver *d) {
        struct virtq_used *u = gpa(d, USED_GPA);

        return &u->ring[(uint16_t) (d->used_seen - 1) % QSIZE];
}

static uint8_t status_byte(struct driver *d) {
        return *(uint8_t *) gpa(d, STATUS_GPA);
}

/* One request in the usual three descriptors (two for no data); returns
 * the status byte, or 0xee if the device did not complete it. */
static uint8_t request(struct driver *d, uint32_t type, uint64_t sector, uint64_t data, uint32_t len) {
        bool device_writes = type != BLK_T_OUT;

        put_header(d, type, sector);
        *(uint8_t *) gpa(d, STATUS_GPA) = 0xee;
        if (len > 0) {
                put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
                put_desc(d, DESC_GPA, 1, data, len, VIRTQ_DESC_F_NEXT | (device_writes ? VIRTQ_DESC_F_WRITE : 0), 2);
                put_desc(d, DESC_GPA, 2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
        } else {
                put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
                put_desc(d, DESC_GPA, 1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
        }
        if (kick(d, 0) != 1)
                return 0xee;
        CHECK_EQ(le32toh(last_used(d)->id), 0);
        return status_byte(d);
}

static void ack_interrupt(struct driver *d) {
        wr(d, REG_INTERRUPT_ACK, rd(d, REG_INTERRUPT_STATUS));
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed) {
        for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t) (i * 7 + seed + (i >> 9));
}

static int make_disk(uint64_t bytes) {
        char path[] = "/tmp/test-virtio-blk.XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);

        if (fd < 0)
                return -errno;
        unlink(path);
        if (ftruncate(fd, (off_t) bytes) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

struct world {
        struct fake_host fh;
        struct guest_memory mem;
        struct io_map io;
        int disk_fd;
        struct virtio_blk *blk;
        struct driver d;
};

static void world_setup(struct world *w, bool read_only) {
        int r;

        *w = (struct world) { .disk_fd = -EBADF };
        w->fh.host.irq_line = fake_irq_line;
        w->fh.host.request_exit = fake_request_exit;
        w->fh.host.mem = &w->mem;
        if (guest_memory_create(&w->mem, RAM_SIZE) < 0) {
                fprintf(stderr, "guest_memory_create failed\n");
                exit(EXIT_FAILURE);
        }
        /* A partial last sector, which the capacity leaves out. */
        w->disk_fd = make_disk(DISK_SECTORS * 512 + 100);
        if (w->disk_fd < 0) {
                fprintf(stderr, "cannot make a temporary disk: %s\n", strerror(-w->disk_fd));
                exit(EXIT_FAILURE);
        }
        r = virtio_blk_create(&w->io, &w->fh.host, BASE, IRQ, w->disk_fd, read_only, DISK_ID, &w->blk);
        if (r < 0) {
                fprintf(stderr, "virtio_blk_create: %s\n", strerror(-r));
                exit(EXIT_FAILURE);
        }
        w->d = (struct driver) { .io = &w->io, .mem = &w->mem, .fh = &w->fh, .base = BASE, .irq = IRQ };
}

static void world_teardown(struct world *w) {
        CHECK_EQ(w->fh.exits, 0);
        w->blk = virtio_blk_free(w->blk);
        w->disk_fd = safe_close(w->disk_fd);
        guest_memory_destroy(&w->mem);
}

static const uint64_t default_features = VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(BLK_F_FLUSH) |
                                         VIRTIO_FEATURE(BLK_F_SEG_MAX);

static void test_create(void) {
        struct world w;
        struct virtio_blk *b = NULL;
        int pipefd[2], rofd;
        char path[64];

        world_setup(&w, false);
        CHECK_EQ(virtio_blk_capacity(w.blk), DISK_SECTORS);
        /* Overlapping region. */
        CHECK_EQ(virtio_blk_create(&w.io, &w.fh.host, BASE + 0x100, IRQ, w.disk_fd, false, NULL, &b), -EEXIST);
        /* Id too long (21 bytes); 20 is fine. */
        CHECK_EQ(virtio_blk_create(&w.io, &w.fh.host, BASE_RO, IRQ_RO, w.disk_fd, false, "123456789012345678901", &b),
                 -EINVAL);
        /* Not a file or block device. */
        CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0);
        CHECK_EQ(virtio_blk_create(&w.io, &w.fh.host, BASE_RO, IRQ_RO, pipefd[0], true, NULL, &b), -EINVAL);
        safe_close(pipefd[0]);
        safe_close(pipefd[1]);
        /* Opened read-only but asked to be writable. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", w.disk_fd);
        rofd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(rofd >= 0);
        CHECK_EQ(virtio_blk_create(&w.io, &w.fh.host, BASE_RO, IRQ_RO, rofd, false, NULL, &b), -EBADF);
        CHECK(b == NULL);
        CHECK_EQ(virtio_blk_create(&w.io, &w.fh.host, BASE_RO, IRQ_RO, rofd, true, "12345678901234567890", &b), 0);
        CHECK(b != NULL);
        b = virtio_blk_free(b);
        CHECK(virtio_blk_free(NULL) == NULL);
        safe_close(rofd);
        /* The fd stays ours: still open after the device is gone. */
        world_teardown(&w);
}

static void test_identity(void) {
        struct world w;
        struct driver *d = &w.d;
        uint8_t b1;
        uint16_t b2;
        uint32_t v;
        uint64_t v8;

        world_setup(&w, false);
        CHECK_EQ(rd(d, REG_MAGIC), 0x74726976);
        CHECK_EQ(rd(d, REG_VERSION), 2);
        CHECK_EQ(rd(d, REG_DEVICE_ID), VIRTIO_ID_BLOCK);
        CHECK(rd(d, REG_VENDOR_ID) != 0);
        CHECK_EQ(rd(d, REG_SHM_LEN_LOW), 0xffffffff); /* no shared memory regions */
        CHECK_EQ(rd(d, 0x018), 0);                     /* reserved */
        CHECK_EQ(rd(d, REG_QUEUE_NUM), 0);             /* write-only */

        /* Config space: capacity as two halves, then as one 8-byte read;
         * seg_max; zeros up to the end of the 1.1 layout; all-ones past it. */
        CHECK_EQ(rd(d, REG_CONFIG + 0), DISK_SECTORS);
        CHECK_EQ(rd(d, REG_CONFIG + 4), 0);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_CONFIG, &v8, 8, false));
        CHECK_EQ(le64toh(v8), DISK_SECTORS);
        CHECK_EQ(rd(d, REG_CONFIG + 12), VIRTIO_BLK_QUEUE_SIZE - 2);
        CHECK_EQ(rd(d, REG_CONFIG + 56), 0);
        CHECK_EQ(rd(d, REG_CONFIG + 60), 0xffffffff);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_CONFIG + 1, &b1, 1, false));
        CHECK_EQ(b1, (DISK_SECTORS >> 8) & 0xff);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_CONFIG + 1, &b2, 2, false)); /* misaligned */
        CHECK_EQ(b2, 0xffff);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_CONFIG + 2, &b2, 2, false));
        CHECK_EQ(le16toh(b2), 0);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + 0x1fe, &b2, 2, false));
        CHECK_EQ(b2, 0xffff);
        /* Config writes change nothing (nothing is writable). */
        wr(d, REG_CONFIG, 0x1234);
        CHECK_EQ(rd(d, REG_CONFIG), DISK_SECTORS);
        CHECK_EQ(rd(d, REG_CONFIG_GENERATION), 0);

        /* Registers are 32-bit, aligned: anything else reads all-ones and
         * writes nothing. */
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_MAGIC, &b2, 2, false));
        CHECK_EQ(b2, 0xffff);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_MAGIC, &b1, 1, false));
        CHECK_EQ(b1, 0xff);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_MAGIC + 2, &v, 4, false));
        CHECK_EQ(v, 0xffffffff);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_MAGIC, &v8, 8, false));
        CHECK_EQ(v8, UINT64_MAX);
        b1 = VIRTIO_STATUS_ACKNOWLEDGE;
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_STATUS, &b1, 1, true));
        CHECK_EQ(rd(d, REG_STATUS), 0);
        v = htole32(VIRTIO_STATUS_ACKNOWLEDGE);
        CHECK(io_dispatch(d->io, IO_MMIO, BASE + REG_STATUS + 1, &v, 4, true));
        CHECK_EQ(rd(d, REG_STATUS), 0);
        /* Past our 0x200 bytes: not ours. */
        CHECK(!io_dispatch(d->io, IO_MMIO, BASE + VIRTIO_MMIO_REGION_SIZE, &v, 4, false));

        /* Queue 1 does not exist. */
        wr(d, REG_QUEUE_SEL, 1);
        CHECK_EQ(rd(d, REG_QUEUE_NUM_MAX), 0);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 0);
        wr(d, REG_QUEUE_SEL, 0xffffffff);
        CHECK_EQ(rd(d, REG_QUEUE_NUM_MAX), 0);
        wr(d, REG_QUEUE_SEL, 0);
        CHECK_EQ(rd(d, REG_QUEUE_NUM_MAX), VIRTIO_BLK_QUEUE_SIZE);
        world_teardown(&w);
}

static void test_negotiation(void) {
        struct world w;
        struct driver *d = &w.d;
        uint64_t f;

        world_setup(&w, false);
        f = device_features(d);
        CHECK(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
        CHECK(f & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC));
        CHECK(f & VIRTIO_FEATURE(BLK_F_FLUSH));
        CHECK(f & VIRTIO_FEATURE(BLK_F_SEG_MAX));
        CHECK(!(f & VIRTIO_FEATURE(BLK_F_RO)));
        CHECK(!(f & VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX)));
        wr(d, REG_DEVICE_FEATURES_SEL, 2);
        CHECK_EQ(rd(d, REG_DEVICE_FEATURES), 0);

        /* A legacy driver (no VERSION_1), or one taking what was not
         * offered, does not get FEATURES_OK. */
        CHECK(!negotiate(d, VIRTIO_FEATURE(BLK_F_FLUSH)));
        CHECK(!negotiate(d, default_features | VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX)));
        CHECK(!negotiate(d, default_features | VIRTIO_FEATURE(63)));
        /* ...and cannot go on to DRIVER_OK. */
        wr(d, REG_STATUS, rd(d, REG_STATUS) | VIRTIO_STATUS_DRIVER_OK);
        CHECK(!(rd(d, REG_STATUS) & VIRTIO_STATUS_DRIVER_OK));
        /* Nor set up queues. */
        setup_queue(d, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 0);

        /* FEATURES_OK without DRIVER, or skipping to DRIVER_OK: ignored. */
        wr(d, REG_STATUS, 0);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FEATURES_OK);
        CHECK_EQ(rd(d, REG_STATUS), 0);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
        CHECK_EQ(rd(d, REG_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
        /* Unknown status bits: ignored. */
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | 16);
        CHECK_EQ(rd(d, REG_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
        /* Features written before DRIVER are ignored. */
        set_driver_features(d, default_features);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
        CHECK(!(rd(d, REG_STATUS) & VIRTIO_STATUS_FEATURES_OK));

        /* The good way; then features can no longer change. */
        CHECK(negotiate(d, default_features));
        set_driver_features(d, VIRTIO_FEATURE(BLK_F_FLUSH));
        {
                struct virtio_mmio_state s;

                virtio_blk_save(w.blk, &s);
                CHECK_EQ(s.driver_features, default_features);
        }
        /* Clearing a bit other than by reset: ignored. */
        wr(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FEATURES_OK);
        CHECK_EQ(rd(d, REG_STATUS),
                 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);

        /* Queue setup in the right state; then the ready queue's registers
         * are frozen, also after DRIVER_OK. */
        setup_queue(d, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 1);
        wr(d, REG_QUEUE_DESC_LOW, 0x7000);
        driver_ok(d);
        wr(d, REG_QUEUE_READY, 0);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 1);
        {
                struct virtio_mmio_state s;

                virtio_blk_save(w.blk, &s);
                CHECK_EQ(s.queues[0].desc_addr, DESC_GPA);
                CHECK_EQ(s.queues[0].size, QSIZE);
                CHECK_EQ(s.queues[0].indirect, 0);
        }
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);

        /* Reset clears everything the driver set. */
        wr(d, REG_STATUS, 0);
        CHECK_EQ(rd(d, REG_STATUS), 0);
        CHECK_EQ(rd(d, REG_QUEUE_READY), 0);
        CHECK_EQ(rd(d, REG_INTERRUPT_STATUS), 0);
        CHECK_EQ(w.fh.level[IRQ], 0);
        world_teardown(&w);
}

static void test_bad_queue_layout(void) {
        static const struct {
                uint32_t size;
                uint64_t desc, avail, used;
        } bad[] = {
                { 3, DESC_GPA, AVAIL_GPA, USED_GPA },
                { 0, DESC_GPA, AVAIL_GPA, USED_GPA },
                { VIRTIO_BLK_QUEUE_SIZE * 2, DESC_GPA, AVAIL_GPA, USED_GPA },
                { QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA },
                { QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA },
                { QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
                { QSIZE, RAM_SIZE, AVAIL_GPA, USED_GPA },
                { QSIZE, DESC_GPA, UINT64_C(0xfffffffffffffffe), USED_GPA },
                { QSIZE, DESC_GPA, AVAIL_GPA, GUEST_MMIO_HOLE_START },
        };
        struct world w;
        struct driver *d = &w.d;

        world_setup(&w, false);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK(negotiate(d, default_features));
                setup_queue(d, bad[i].size, bad[i].desc, bad[i].avail, bad[i].used);
                /* Not ready; the device wants a reset (no interrupt: the
                 * driver is not running yet). */
                CHECK_EQ(rd(d, REG_QUEUE_READY), 0);
                CHECK(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
                CHECK_EQ(w.fh.rising[IRQ], 0);
                wr(d, REG_STATUS, 0);
                CHECK_EQ(rd(d, REG_STATUS), 0);
        }
        /* After all that, a good setup works. */
        bring_up(d, default_features);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        world_teardown(&w);
}

static void test_round_trip(void) {
        struct world w;
        struct driver *d = &w.d;
        uint8_t pattern[4096], back[4096];
        unsigned edges;

        world_setup(&w, false);
        bring_up(d, default_features);

        /* Write 8 sectors at sector 8, in one data descriptor. */
        fill_pattern(pattern, sizeof(pattern), 1);
        memcpy(gpa(d, DATA_GPA), pattern, sizeof(pattern));
        edges = w.fh.rising[IRQ];
        CHECK_EQ(request(d, BLK_T_OUT, 8, DATA_GPA, sizeof(pattern)), BLK_S_OK);
        CHECK_EQ(le32toh(last_used(d)->len), 1);
        /* The interrupt rose, and says "used buffers". */
        CHECK_EQ(w.fh.rising[IRQ], edges + 1);
        CHECK_EQ(w.fh.level[IRQ], 1);
        CHECK_EQ(rd(d, REG_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
        ack_interrupt(d);
        CHECK_EQ(w.fh.level[IRQ], 0);
        CHECK_EQ(rd(d, REG_INTERRUPT_STATUS), 0);

        /* It is in the file. */
        CHECK_EQ(pread_full(w.disk_fd, back, sizeof(back), 8 * 512), 0);
        CHECK(memcmp(back, pattern, sizeof(back)) == 0);

        /* Read it back, into two descriptors split mid-sector. */
        memset(gpa(d, DATA2_GPA), 0, sizeof(back));
        put_header(d, BLK_T_IN, 8);
        put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 3);
        put_desc(d, DESC_GPA, 3, DATA2_GPA, 1000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
        put_desc(d, DESC_GPA, 5, DATA2_GPA + 1000, 4096 - 1000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
        put_desc(d, DESC_GPA, 7, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
        *(uint8_t *) gpa(d, STATUS_GPA) = 0xee;
        CHECK_EQ(kick(d, 0), 1);
        CHECK_EQ(status_byte(d), BLK_S_OK);
        CHECK_EQ(le32toh(last_used(d)->len), 4097);
        CHECK(memcmp(gpa(d, DATA2_GPA), pattern, sizeof(pattern)) == 0);

        /* Without acking first: a new completion still makes a new edge. */
        CHECK_EQ(w.fh.level[IRQ], 1);
        edges = w.fh.rising[IRQ];
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        CHECK_EQ(w.fh.rising[IRQ], edges + 1);
        ack_interrupt(d);

        /* Header, data and status all in one writable-after-readable pair
         * of descriptors: framing is the driver's business (spec 2.6.4). */
        put_header(d, BLK_T_IN, 8);
        put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(d, DESC_GPA, 1, DATA2_GPA, 513, VIRTQ_DESC_F_WRITE, 0);
        memset(gpa(d, DATA2_GPA), 0, 513);
        CHECK_EQ(kick(d, 0), 1);
        CHECK_EQ(*(uint8_t *) gpa(d, DATA2_GPA + 512), BLK_S_OK);
        CHECK(memcmp(gpa(d, DATA2_GPA), pattern, 512) == 0);

        /* Flush, get-id. */
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        memset(gpa(d, DATA_GPA), 0xaa, 32);
        CHECK_EQ(request(d, BLK_T_GET_ID, 0, DATA_GPA, VIRTIO_BLK_ID_BYTES), BLK_S_OK);
        CHECK(memcmp(gpa(d, DATA_GPA), DISK_ID, strlen(DISK_ID)) == 0);
        for (size_t i = strlen(DISK_ID); i < VIRTIO_BLK_ID_BYTES; i++)
                CHECK_EQ(*(uint8_t *) gpa(d, DATA_GPA + i), 0);
        CHECK_EQ(*(uint8_t *) gpa(d, DATA_GPA + VIRTIO_BLK_ID_BYTES), 0xaa);
        /* A short id buffer gets what fits. */
        memset(gpa(d, DATA_GPA), 0xaa, 32);
        CHECK_EQ(request(d, BLK_T_GET_ID, 0, DATA_GPA, 4), BLK_S_OK);
        CHECK(memcmp(gpa(d, DATA_GPA), DISK_ID, 4) == 0);
        CHECK_EQ(*(uint8_t *) gpa(d, DATA_GPA + 4), 0xaa);

        /* The last sector is readable and writable. */
        CHECK_EQ(request(d, BLK_T_OUT, DISK_SECTORS - 1, DATA_GPA, 512), BLK_S_OK);
        CHECK_EQ(request(d, BLK_T_IN, DISK_SECTORS - 1, DATA_GPA, 512), BLK_S_OK);
        /* A zero-length read is fine too. */
        CHECK_EQ(request(d, BLK_T_IN, DISK_SECTORS, 0, 0), BLK_S_OK);
        CHECK_EQ(w.fh.exits, 0);
        world_teardown(&w);
}

static void test_indirect(void) {
        struct world w;
        struct driver *d = &w.d;
        uint8_t pattern[2048];

        world_setup(&w, false);
        bring_up(d, default_features | VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC));

        fill_pattern(pattern, sizeof(pattern), 3);
        memcpy(gpa(d, DATA_GPA), pattern, sizeof(pattern));
        put_header(d, BLK_T_OUT, 100);
        put_desc(d, TABLE_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(d, TABLE_GPA, 1, DATA_GPA, 1024, VIRTQ_DESC_F_NEXT, 2);
        put_desc(d, TABLE_GPA, 2, DATA_GPA + 1024, 1024, VIRTQ_DESC_F_NEXT, 3);
        put_desc(d, TABLE_GPA, 3, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
        put_desc(d, DESC_GPA, 4, TABLE_GPA, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
        *(uint8_t *) gpa(d, STATUS_GPA) = 0xee;
        CHECK_EQ(kick(d, 4), 1);
        CHECK_EQ(status_byte(d), BLK_S_OK);
        CHECK_EQ(le32toh(last_used(d)->id), 4);
        CHECK_EQ(request(d, BLK_T_IN, 100, DATA2_GPA, sizeof(pattern)), BLK_S_OK);
        CHECK(memcmp(gpa(d, DATA2_GPA), pattern, sizeof(pattern)) == 0);

        /* A nested table breaks the queue. */
        put_desc(d, TABLE_GPA, 3, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        put_desc(d, TABLE_GPA, 2, DATA_GPA + 1024, 1024, VIRTQ_DESC_F_NEXT, 3);
        CHECK_EQ(kick(d, 4), 0);
        CHECK(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
        world_teardown(&w);
}

static void test_read_only(void) {
        struct world w;
        struct driver *d = &w.d;
        uint8_t zero[1024] = {}, back[1024];

        world_setup(&w, true);
        CHECK(device_features(d) & VIRTIO_FEATURE(BLK_F_RO));
        bring_up(d, default_features | VIRTIO_FEATURE(BLK_F_RO));

        memset(gpa(d, DATA_GPA), 0x5a, 1024);
        CHECK_EQ(request(d, BLK_T_OUT, 0, DATA_GPA, 1024), BLK_S_IOERR);
        CHECK_EQ(pread_full(w.disk_fd, back, sizeof(back), 0), 0);
        CHECK(memcmp(back, zero, sizeof(back)) == 0);
        /* Reads, flushes, ids work. */
        CHECK_EQ(request(d, BLK_T_IN, 0, DATA_GPA, 1024), BLK_S_OK);
        CHECK(memcmp(gpa(d, DATA_GPA), zero, 1024) == 0);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        CHECK_EQ(request(d, BLK_T_GET_ID, 0, DATA_GPA, 20), BLK_S_OK);
        world_teardown(&w);
}

static void test_bad_requests(void) {
        struct world w;
        struct driver *d = &w.d;

        world_setup(&w, false);
        bring_up(d, default_features);

        /* Out of range, overflowing, and not whole sectors. */
        CHECK_EQ(request(d, BLK_T_IN, DISK_SECTORS, DATA_GPA, 512), BLK_S_IOERR);
        CHECK_EQ(request(d, BLK_T_OUT, DISK_SECTORS, DATA_GPA, 512), BLK_S_IOERR);
        CHECK_EQ(request(d, BLK_T_IN, DISK_SECTORS - 1, DATA_GPA, 1024), BLK_S_IOERR);
        CHECK_EQ(request(d, BLK_T_IN, UINT64_MAX, DATA_GPA, 512), BLK_S_IOERR);
        CHECK_EQ(request(d, BLK_T_OUT, UINT64_MAX / 512 + 1, DATA_GPA, 512), BLK_S_IOERR);
        CHECK_EQ(request(d, BLK_T_IN, 0, DATA_GPA, 100), BLK_S_IOERR);
        CHECK_EQ(request(d, BLK_T_OUT, 0, DATA_GPA, 513), BLK_S_IOERR);
        /* The partial sector at the end of the file is not addressable. */
        CHECK_EQ(request(d, BLK_T_IN, DISK_SECTORS, DATA_GPA, 100), BLK_S_IOERR);

        /* Types we do not do (discard 11, write zeroes 13, garbage). */
        CHECK_EQ(request(d, 11, 0, DATA_GPA, 16), BLK_S_UNSUPP);
        CHECK_EQ(request(d, 13, 0, DATA_GPA, 16), BLK_S_UNSUPP);
        CHECK_EQ(request(d, 0xdeadbeef, 0, 0, 0), BLK_S_UNSUPP);

        /* A header shorter than 16 bytes. */
        put_header(d, BLK_T_IN, 0);
        put_desc(d, DESC_GPA, 0, HDR_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
        put_desc(d, DESC_GPA, 1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
        *(uint8_t *) gpa(d, STATUS_GPA) = 0xee;
        CHECK_EQ(kick(d, 0), 1);
        CHECK_EQ(status_byte(d), BLK_S_IOERR);

        /* Status byte not device-writable: nowhere to answer, so the chain
         * comes back with used length 0 and nothing written. */
        put_header(d, BLK_T_OUT, 0);
        memset(gpa(d, DATA_GPA), 0x77, 512);
        put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(d, DESC_GPA, 1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT, 2);
        put_desc(d, DESC_GPA, 2, STATUS_GPA, 1, 0, 0);
        *(uint8_t *) gpa(d, STATUS_GPA) = 0xee;
        CHECK_EQ(kick(d, 0), 1);
        CHECK_EQ(status_byte(d), 0xee);
        CHECK_EQ(le32toh(last_used(d)->len), 0);
        {
                uint8_t back[512], zero[512] = {};

                CHECK_EQ(pread_full(w.disk_fd, back, sizeof(back), 0), 0);
                CHECK(memcmp(back, zero, sizeof(back)) == 0); /* no write done */
        }
        /* The device goes on working. */
        CHECK(!(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);

        /* Status byte outside guest RAM: the queue is broken. */
        ack_interrupt(d);
        put_header(d, BLK_T_FLUSH, 0);
        put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(d, DESC_GPA, 1, RAM_SIZE, 1, VIRTQ_DESC_F_WRITE, 0);
        CHECK_EQ(kick(d, 0), 0);
        CHECK(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
        /* The driver is told through a configuration change interrupt. */
        CHECK_EQ(rd(d, REG_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
        CHECK_EQ(w.fh.level[IRQ], 1);
        ack_interrupt(d);
        /* Further notifies on the broken queue do nothing, even good ones. */
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), 0xee);
        CHECK_EQ(rd(d, REG_INTERRUPT_STATUS), 0);
        /* Writing Status back with NEEDS_RESET in it changes nothing. */
        wr(d, REG_STATUS, rd(d, REG_STATUS));
        CHECK(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);

        /* Reset brings it back. */
        bring_up(d, default_features);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);

        /* Avail index far ahead: broken too. */
        {
                struct virtq_avail *a = gpa(d, AVAIL_GPA);

                a->idx = htole16((uint16_t) (d->avail_idx + QSIZE + 1));
                wr(d, REG_QUEUE_NOTIFY, 0);
                CHECK(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
        }
        /* Notifying a queue that does not exist: nothing. */
        bring_up(d, default_features);
        wr(d, REG_QUEUE_NOTIFY, 1);
        wr(d, REG_QUEUE_NOTIFY, 0xffffffff);
        CHECK(!(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
        world_teardown(&w);
}

static void test_notify_before_driver_ok(void) {
        struct world w;
        struct driver *d = &w.d;

        world_setup(&w, false);
        CHECK(negotiate(d, default_features));
        setup_queue(d, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
        /* Not running yet: the notify is ignored, no interrupt. */
        put_header(d, BLK_T_FLUSH, 0);
        put_desc(d, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(d, DESC_GPA, 1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
        *(uint8_t *) gpa(d, STATUS_GPA) = 0xee;
        CHECK_EQ(kick(d, 0), 0);
        CHECK_EQ(w.fh.rising[IRQ], 0);
        /* DRIVER_OK picks up what was queued. */
        driver_ok(d);
        CHECK_EQ(status_byte(d), BLK_S_OK);
        CHECK_EQ(w.fh.rising[IRQ], 1);
        world_teardown(&w);
}

static void test_no_interrupt_flag(void) {
        struct world w;
        struct driver *d = &w.d;
        struct virtq_avail *a;

        world_setup(&w, false);
        bring_up(d, default_features);
        a = gpa(d, AVAIL_GPA);
        a->flags = htole16(VIRTQ_AVAIL_F_NO_INTERRUPT);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        CHECK_EQ(w.fh.rising[IRQ], 0);
        a->flags = 0;
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        CHECK_EQ(w.fh.rising[IRQ], 1);
        world_teardown(&w);
}

static void test_many_requests(void) {
        struct world w;
        struct driver *d = &w.d;
        struct virtq_avail *a;

        /* A full ring of requests in one notify, then wrap the indices
         * round a few times. */
        world_setup(&w, false);
        bring_up(d, default_features);
        a = gpa(d, AVAIL_GPA);
        /* GET_ID: no system call per request, so this stays fast. */
        put_header(d, BLK_T_GET_ID, 0);
        for (unsigned i = 0; i < QSIZE / 2; i++) {
                put_desc(d, DESC_GPA, 2 * i, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, (uint16_t) (2 * i + 1));
                put_desc(d, DESC_GPA, 2 * i + 1, DATA_GPA + 32 * i, 21, VIRTQ_DESC_F_WRITE, 0);
        }
        /* 8200 rounds of 8: the 16-bit indices wrap. */
        for (unsigned round = 0; round < 8200; round++) {
                for (unsigned i = 0; i < QSIZE / 2; i++)
                        a->ring[(d->avail_idx + i) % QSIZE] = htole16((uint16_t) (2 * i));
                d->avail_idx += QSIZE / 2;
                __atomic_store_n(&a->idx, htole16(d->avail_idx), __ATOMIC_RELEASE);
                wr(d, REG_QUEUE_NOTIFY, 0);
                if (le16toh(((struct virtq_used *) gpa(d, USED_GPA))->idx) != d->avail_idx) {
                        fprintf(stderr, "round %u: used idx %u, avail idx %u\n", round,
                                le16toh(((struct virtq_used *) gpa(d, USED_GPA))->idx), d->avail_idx);
                        test_failures++;
                        break;
                }
                ack_interrupt(d);
        }
        CHECK(!(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
        CHECK(memcmp(gpa(d, DATA_GPA + 32 * 3), DISK_ID, strlen(DISK_ID)) == 0);
        CHECK_EQ(*(uint8_t *) gpa(d, DATA_GPA + 32 * 3 + 20), BLK_S_OK);
        world_teardown(&w);
}

struct hammer {
        struct driver *d;
        bool stop;
};

/* Another vCPU, notifying and reading registers as fast as it can. */
static void *hammer_thread(void *p) {
        struct hammer *h = p;
        struct driver d = *h->d;

        while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
                wr(&d, REG_QUEUE_NOTIFY, 0);
                (void) rd(&d, REG_INTERRUPT_STATUS);
                (void) rd(&d, REG_CONFIG);
        }
        return NULL;
}

static void test_threads(void) {
        struct world w;
        struct driver *d = &w.d;
        struct hammer h = { .d = d };
        pthread_t threads[3];
        uint8_t pattern[512];

        world_setup(&w, false);
        bring_up(d, default_features);
        for (size_t i = 0; i < ELEMENTSOF(threads); i++)
                CHECK_EQ(pthread_create(&threads[i], NULL, hammer_thread, &h), 0);
        /* Whichever thread's notify picks a request up, it is done once and
         * completely by the time ours returns. */
        for (unsigned i = 0; i < 2000; i++) {
                fill_pattern(pattern, sizeof(pattern), i);
                memcpy(gpa(d, DATA_GPA), pattern, sizeof(pattern));
                CHECK_EQ(request(d, BLK_T_OUT, i % DISK_SECTORS, DATA_GPA, 512), BLK_S_OK);
                CHECK_EQ(request(d, BLK_T_IN, i % DISK_SECTORS, DATA2_GPA, 512), BLK_S_OK);
                CHECK(memcmp(gpa(d, DATA2_GPA), pattern, sizeof(pattern)) == 0);
        }
        __atomic_store_n(&h.stop, true, __ATOMIC_RELAXED);
        for (size_t i = 0; i < ELEMENTSOF(threads); i++)
                pthread_join(threads[i], NULL);
        CHECK(!(rd(d, REG_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
        world_teardown(&w);
}

static void test_save_restore(void) {
        struct world w;
        struct driver *d = &w.d;
        struct virtio_mmio_state s, bad;

        world_setup(&w, false);
        bring_up(d, default_features);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        virtio_blk_save(w.blk, &s);
        CHECK_EQ(s.status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                                   VIRTIO_STATUS_DRIVER_OK);
        CHECK_EQ(s.n_queues, 1);
        CHECK_EQ(s.queues[0].used_idx, 2);
        CHECK_EQ(s.interrupt_status, VIRTIO_MMIO_INT_VRING);

        /* Corruptions are refused, and leave the device as it was. */
        bad = s, bad.n_queues = 2;
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.status |= 16;
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.status &= ~VIRTIO_STATUS_FEATURES_OK;
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.driver_features |= VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.driver_features &= ~VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.interrupt_status = 4;
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.queues[0].size = 17;
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.queues[0].used_addr = RAM_SIZE - 8;
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EFAULT);
        bad = s, bad.queues[0].indirect = 1; /* not negotiated */
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        bad = s, bad.queues[3].size = 1; /* a queue the device does not have */
        CHECK_EQ(virtio_blk_restore(w.blk, &bad), -EINVAL);
        {
                struct virtio_mmio_state now;

                virtio_blk_save(w.blk, &now);
                CHECK(memcmp(&now, &s, sizeof(s)) == 0);
        }

        /* Reset the device, restore, and carry on where we were. */
        wr(d, REG_STATUS, 0);
        CHECK_EQ(w.fh.level[IRQ], 0);
        CHECK_EQ(virtio_blk_restore(w.blk, &s), 0);
        CHECK_EQ(rd(d, REG_STATUS), s.status);
        CHECK_EQ(rd(d, REG_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
        CHECK_EQ(w.fh.level[IRQ], 1); /* line matches the pending interrupt */
        ack_interrupt(d);
        CHECK_EQ(request(d, BLK_T_FLUSH, 0, 0, 0), BLK_S_OK);
        CHECK_EQ(d->used_seen, 3);
        world_teardown(&w);
}

int main(void) {
        test_create();
        test_identity();
        test_negotiation();
        test_bad_queue_layout();
        test_round_trip();
        test_indirect();
        test_read_only();
        test_bad_requests();
        test_notify_before_driver_ok();
        test_no_interrupt_flag();
        test_many_requests();
        test_save_restore();
        test_threads();
        return TEST_RESULT();
}
