/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blk: exercises the first virtio-blk device (virtio-mmio, device ID 2):
 * feature negotiation (VIRTIO_F_VERSION_1 required; FLUSH and RO taken
 * when offered), capacity, GET_ID, then writes a pattern over the first
 * blk.sectors sectors, flushes, reads them back and compares.
 *
 * On a device offering VIRTIO_BLK_F_RO the test is instead that a write is
 * refused with VIRTIO_BLK_S_IOERR while reads work. blk.verify-only=1 skips
 * writing and only checks the pattern an earlier run left, so a test can
 * see the data reach the disk file and survive the guest.
 *
 * Options: blk.sectors=<N> (default 64, capped at the capacity),
 * blk.seed=<N> (default 0x626c6b), blk.verify-only=1, blk.hold=1: after
 * the write and flush, wait for a line on the console (COM1) before
 * reading back, so that a test can suspend and resume the guest between
 * its write and its read.
 *
 * The pattern is a function of (sector, word, seed); filling and checking
 * buffers runs in user mode, which is native speed on our hosts.
 */
#include "virtio-mmio.h"

#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define SECTOR_SIZE 512
#define CHUNK_SECTORS 8

struct virtio_blk_request_header {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
};

static struct virtio_mmio_device dev;
static struct virtqueue vq;
static struct virtio_blk_request_header header;
static uint8_t status;
static uint8_t buffer[CHUNK_SECTORS * SECTOR_SIZE] __attribute__((aligned(4096)));

static const char *status_to_string(uint8_t s)
{
        switch (s) {
        case VIRTIO_BLK_S_OK: return "OK";
        case VIRTIO_BLK_S_IOERR: return "IOERR";
        case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
        default: return "invalid";
        }
}

/* One request; data may be NULL (FLUSH). Returns the device's status. */
static uint8_t blk_request(uint32_t type, uint64_t sector, void *data, uint32_t len, bool device_writes)
{
        header = (struct virtio_blk_request_header) { .type = type, .sector = sector };
        status = 0xff;
        struct virtq_buffer bufs[3];
        unsigned n = 0;
        bufs[n++] = (struct virtq_buffer) { &header, sizeof(header), false };
        if (data)
                bufs[n++] = (struct virtq_buffer) { data, len, device_writes };
        bufs[n++] = (struct virtq_buffer) { &status, 1, true };
        if (virtqueue_transfer(&dev, &vq, bufs, n, NULL) < 0)
                guest_fail("blk: no answer to request type %u (sector %lu)", type, sector);
        return status;
}

/* Filling and checking a buffer, in user mode. */
struct pattern_job {
        uint64_t *words;
        uint64_t first_sector, sectors, seed;
        bool check;
        uint64_t mismatches, bad_sector, bad_word, got, want;
};

static inline uint64_t pattern(uint64_t sector, uint64_t word, uint64_t seed)
{
        return ((sector << 6 | word) * 0xff51afd7ed558ccdULL) ^ seed;
}

static uint64_t pattern_user(void *arg)
{
        struct pattern_job *j = arg;
        for (uint64_t s = 0; s < j->sectors; s++)
                for (uint64_t w = 0; w < SECTOR_SIZE / 8; w++) {
                        uint64_t x = pattern(j->first_sector + s, w, j->seed), *p = &j->words[s * (SECTOR_SIZE / 8) + w];
                        if (!j->check)
                                *p = x;
                        else if (*p != x && j->mismatches++ == 0) {
                                j->bad_sector = j->first_sector + s;
                                j->bad_word = w;
                                j->got = *p;
                                j->want = x;
                        }
                }
        return 0;
}

static void pattern_run(struct pattern_job *j)
{
        if (user_call(pattern_user, j, NULL) < 0)
                guest_fail("blk: user mode faulted");
}

static void write_pattern(uint64_t sectors, uint64_t seed)
{
        for (uint64_t s = 0; s < sectors; s += CHUNK_SECTORS) {
                uint64_t n = MIN(CHUNK_SECTORS, sectors - s);
                struct pattern_job j = { .words = (uint64_t *) buffer, .first_sector = s, .sectors = n, .seed = seed };
                pattern_run(&j);
                uint8_t st = blk_request(VIRTIO_BLK_T_OUT, s, buffer, (uint32_t) (n * SECTOR_SIZE), false);
                if (st != VIRTIO_BLK_S_OK)
                        guest_fail("blk: write of sectors %lu-%lu: status %u (%s)", s, s + n - 1, st, status_to_string(st));
        }
}

/* Reads the sectors; with check, compares them with the pattern. */
static void read_sectors(uint64_t sectors, uint64_t seed, bool check)
{
        for (uint64_t s = 0; s < sectors; s += CHUNK_SECTORS) {
                uint64_t n = MIN(CHUNK_SECTORS, sectors - s);
                memset(buffer, 0xa5, 16); /* so a read that writes nothing cannot pass */
                uint8_t st = blk_request(VIRTIO_BLK_T_IN, s, buffer, (uint32_t) (n * SECTOR_SIZE), true);
                if (st != VIRTIO_BLK_S_OK)
                        guest_fail("blk: read of sectors %lu-%lu: status %u (%s)", s, s + n - 1, st, status_to_string(st));
                if (!check)
                        continue;
                struct pattern_job j = { .words = (uint64_t *) buffer, .first_sector = s, .sectors = n, .seed = seed, .check = true };
                pattern_run(&j);
                if (j.mismatches)
                        guest_fail("blk: data differs: sector %lu word %lu is 0x%016lx, want 0x%016lx (%lu words differ in sectors %lu-%lu)",
                                   j.bad_sector, j.bad_word, j.got, j.want, j.mismatches, s, s + n - 1);
        }
}

#define COM1 0x3f8
#define LSR_DR 0x01

/* Waits for a newline typed on the console. */
static void wait_for_line(void)
{
        for (;;) {
                while (!(inb(COM1 + 5) & LSR_DR))
                        compiler_barrier();
                char c = (char) inb(COM1);
                if (c == '\n' || c == '\r')
                        return;
        }
}

int guest_main(void)
{
        trap_init();
        const char *cmdline = boot_info()->cmdline;
        bool hold = cmdline_get_uint(cmdline, "blk.hold", 0) != 0;
        uint64_t want_sectors = cmdline_get_uint(cmdline, "blk.sectors", 64);
        uint64_t seed = cmdline_get_uint(cmdline, "blk.seed", 0x626c6b);
        bool verify_only = cmdline_get_uint(cmdline, "blk.verify-only", 0) != 0;

        if (virtio_mmio_find(cmdline, VIRTIO_ID_BLOCK, &dev) < 0)
                guest_fail("blk: no modern virtio-mmio block device (device ID 2) found");
        console_printf("blk: using the device at 0x%lx (irq %u)\n", dev.base, dev.irq);

        uint64_t offered, accepted;
        uint64_t wanted = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_RO;
        int r = virtio_mmio_negotiate(&dev, wanted, 1ULL << VIRTIO_F_VERSION_1, &offered, &accepted);
        console_printf("blk: features offered 0x%lx, accepted 0x%lx\n", offered, accepted);
        if (r < 0)
                guest_fail("blk: feature negotiation failed (VIRTIO_F_VERSION_1 %s)",
                           offered & 1ULL << VIRTIO_F_VERSION_1 ? "offered, FEATURES_OK refused" : "not offered");
        if (virtio_mmio_setup_queue(&dev, &vq, 0) < 0)
                guest_fail("blk: cannot set up queue 0");
        virtio_mmio_driver_ok(&dev);
        console_printf("blk: queue 0 has %u entries, device status 0x%x\n", vq.size, virtio_mmio_status(&dev));

        uint64_t capacity = virtio_mmio_config64(&dev, 0);
        console_printf("blk: capacity %lu sectors (%lu KiB)\n", capacity, capacity / 2);

        uint8_t id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
        uint8_t st = blk_request(VIRTIO_BLK_T_GET_ID, 0, buffer, VIRTIO_BLK_ID_BYTES, true);
        if (st == VIRTIO_BLK_S_OK) {
                for (unsigned i = 0; i < VIRTIO_BLK_ID_BYTES && buffer[i]; i++)
                        id[i] = buffer[i] >= 0x20 && buffer[i] < 0x7f ? buffer[i] : '?';
                console_printf("blk id: %s\n", id[0] ? (const char *) id : "(empty)");
        } else if (st == VIRTIO_BLK_S_UNSUPP) {
                console_puts("blk id: (GET_ID unsupported)\n");
        } else {
                guest_fail("blk: GET_ID: status %u (%s)", st, status_to_string(st));
        }

        uint64_t sectors = MIN(want_sectors, capacity);
        if (sectors == 0)
                guest_fail("blk: nothing to test (capacity %lu, blk.sectors=%lu)", capacity, want_sectors);
        if (sectors < want_sectors)
                console_printf("blk: blk.sectors=%lu capped at the capacity\n", want_sectors);

        if (accepted & 1ULL << VIRTIO_BLK_F_RO) {
                console_puts("blk: the device is read-only (VIRTIO_BLK_F_RO)\n");
                struct pattern_job j = { .words = (uint64_t *) buffer, .first_sector = 0, .sectors = 1, .seed = seed };
                pattern_run(&j);
                st = blk_request(VIRTIO_BLK_T_OUT, 0, buffer, SECTOR_SIZE, false);
                if (st != VIRTIO_BLK_S_IOERR)
                        guest_fail("blk: a write to the read-only device got status %u (%s), want %u (IOERR)", st,
                                   status_to_string(st), VIRTIO_BLK_S_IOERR);
                console_puts("blk: a write was refused with VIRTIO_BLK_S_IOERR\n");
                read_sectors(sectors, seed, verify_only);
                console_printf("blk: read %lu sectors%s\n", sectors, verify_only ? ", pattern verified" : "");
                console_puts("blk OK (read-only)\n");
                return GUEST_EXIT_OK;
        }

        if (verify_only) {
                console_printf("blk: verify-only: checking %lu sectors (seed 0x%lx) from an earlier run\n", sectors, seed);
        } else {
                console_printf("blk: writing %lu sectors (seed 0x%lx)\n", sectors, seed);
                write_pattern(sectors, seed);
                if (accepted & 1ULL << VIRTIO_BLK_F_FLUSH) {
                        st = blk_request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false);
                        if (st != VIRTIO_BLK_S_OK)
                                guest_fail("blk: FLUSH: status %u (%s)", st, status_to_string(st));
                        console_puts("blk: flush OK\n");
                } else {
                        console_puts("blk: FLUSH not offered by the device, not flushed\n");
                }
                if (hold) {
                        console_puts("blk: holding; a line on the console reads back\n");
                        wait_for_line();
                }
        }
        read_sectors(sectors, seed, true);
        console_printf("blk: read back %lu sectors, all match\n", sectors);
        console_puts("blk OK\n");
        return GUEST_EXIT_OK;
}
