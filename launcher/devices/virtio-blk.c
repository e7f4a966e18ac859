/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-blk.c: the virtio block device (spec 5.2); see virtio-blk.h.
 *
 * A request is one descriptor chain. Since virtio 1.0 the device may not
 * depend on how the driver splits it into descriptors (spec 2.6.4), so we
 * treat the device-readable buffers as one byte stream and the
 * device-writable ones as another:
 *
 *   readable: struct virtio_blk_req_header (16 bytes), then for OUT the data
 *   writable: for IN and GET_ID the data, then one status byte, the last
 *
 * Data lengths are what is left of each stream. The status byte is the last
 * writable byte; a chain with no writable byte gets no answer but is handed
 * back (used length 0), since there is nowhere to say what went wrong, and
 * no I/O is done for it. Requests run synchronously with preadv/pwritev
 * straight between the disk and guest RAM, in the vCPU thread that wrote
 * QueueNotify, under the device lock: simple, and the guest's vCPU is what
 * waits for its own I/O.
 */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "log.h"
#include "virtio-blk.h"

#define VIRTIO_BLK_SECTOR_SIZE 512

/* Feature bits (spec 5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

/* Request types and status values (spec 5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

struct virtio_blk_req_header {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
};

/* Config space (spec 5.2.4): capacity at 0, size_max at 8, seg_max at 12;
 * the rest (geometry, blk_size, topology, ...) belongs to features we do not
 * offer and reads as zero, up to the end of the 1.1 layout. */
#define VIRTIO_BLK_CONFIG_SIZE 60
#define VIRTIO_BLK_CONFIG_CAPACITY 0
#define VIRTIO_BLK_CONFIG_SEG_MAX 12

/* Header and status take a descriptor each in the usual layout, so a
 * request of this many data segments still fits the bound of a chain
 * (queue size, virtqueue.h). */
#define VIRTIO_BLK_SEG_MAX (VIRTIO_BLK_QUEUE_SIZE - 2)

/* Host I/O errors logged before we go quiet. */
#define VIRTIO_BLK_MAX_ERRORS_LOGGED 16

_Static_assert(VIRTIO_BLK_QUEUE_SIZE <= IOV_MAX, "a chain must fit one preadv()");

struct virtio_blk {
        struct virtio_mmio mmio;
        int disk_fd; /* the caller's */
        bool read_only;
        uint64_t capacity; /* in sectors */
        char id[VIRTIO_BLK_ID_BYTES]; /* NUL-padded, not NUL-terminated if 20 long */
        uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
        unsigned errors_logged;
        /* For one request's data, used under the device lock. */
        struct iovec iov[VIRTIO_BLK_QUEUE_SIZE];
};

static void blk_log_io_error(struct virtio_blk *b, int error, const char *what, uint64_t sector) {
        if (b->errors_logged >= VIRTIO_BLK_MAX_ERRORS_LOGGED)
                return;
        b->errors_logged++;
        log_warning_errno(error, "virtio-blk: %s at sector %" PRIu64 " failed: %m", what, sector);
}

/* preadv/pwritev until done: they may transfer less than asked (signals,
 * the 2 GiB per-call limit). Consumes iov. */
static int blk_io(int fd, struct iovec *iov, int n, uint64_t offset, bool write) {
        while (n > 0) {
                ssize_t k = write ? pwritev(fd, iov, n, (off_t) offset) : preadv(fd, iov, n, (off_t) offset);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO; /* the file shrank under us */
                offset += (uint64_t) k;
                while (n > 0 && (size_t) k >= iov->iov_len) {
                        k -= (ssize_t) iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0) {
                        iov->iov_base = (uint8_t *) iov->iov_base + k;
                        iov->iov_len -= (size_t) k;
                }
        }
        return 0;
}

/* Whether len bytes from sector are whole sectors inside the disk. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t len) {
        return len % VIRTIO_BLK_SECTOR_SIZE == 0 && range_within(sector, len / VIRTIO_BLK_SECTOR_SIZE, b->capacity);
}

static uint8_t blk_transfer(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector, bool write) {
        /* IN: all writable bytes but the status; OUT: all readable bytes
         * after the header. */
        uint64_t offset = write ? sizeof(struct virtio_blk_req_header) : 0;
        uint64_t len = write ? c->readable_len - offset : c->writable_len - 1;
        int n, r;

        if (!blk_range_ok(b, sector, len))
                return VIRTIO_BLK_S_IOERR;
        if (len == 0)
                return VIRTIO_BLK_S_OK;
        /* A disk write takes the guest's readable bytes, a read fills its
         * writable ones. */
        n = virtq_chain_slice(c, !write, offset, len, b->iov);
        if (n < 0)
                return VIRTIO_BLK_S_IOERR;
        r = blk_io(b->disk_fd, b->iov, n, sector * VIRTIO_BLK_SECTOR_SIZE, write);
        if (r < 0) {
                blk_log_io_error(b, r, write ? "write" : "read", sector);
                return VIRTIO_BLK_S_IOERR;
        }
        return VIRTIO_BLK_S_OK;
}

static uint8_t blk_read(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector) {
        return blk_transfer(b, c, sector, false);
}

static uint8_t blk_write(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector) {
        if (b->read_only)
                return VIRTIO_BLK_S_IOERR;
        return blk_transfer(b, c, sector, true);
}

static uint8_t blk_flush(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector) {
        /* We offered VIRTIO_BLK_F_FLUSH, so the guest's filesystem counts on
         * this for its ordering: its data must be on stable storage, not in
         * our page cache, when we answer OK. */
        while (fdatasync(b->disk_fd) < 0) {
                if (errno == EINTR)
                        continue;
                blk_log_io_error(b, -errno, "flush", 0);
                return VIRTIO_BLK_S_IOERR;
        }
        return VIRTIO_BLK_S_OK;
}

static uint8_t blk_get_id(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector) {
        /* Linux hands a 20-byte buffer; a shorter one gets what fits. */
        virtq_chain_write(c, 0, b->id, MIN((size_t) c->writable_len - 1, sizeof(b->id)));
        return VIRTIO_BLK_S_OK;
}

static const struct virtio_blk_request_type {
        uint32_t type;
        uint8_t (*handle)(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector);
} request_types[] = {
        { VIRTIO_BLK_T_IN, blk_read },
        { VIRTIO_BLK_T_OUT, blk_write },
        { VIRTIO_BLK_T_FLUSH, blk_flush },
        { VIRTIO_BLK_T_GET_ID, blk_get_id },
};

/* Handles one request; returns the used length (bytes written to the
 * writable stream, counting up to and including the status byte). */
static uint32_t blk_handle(struct virtio_blk *b, const struct virtq_chain *c) {
        struct virtio_blk_req_header h;
        uint8_t status = VIRTIO_BLK_S_UNSUPP;

        if (c->writable_len == 0)
                return 0;

        if (virtq_chain_read(c, 0, &h, sizeof(h)) != sizeof(h))
                status = VIRTIO_BLK_S_IOERR;
        else {
                uint32_t type = le32toh(h.type);

                for (size_t i = 0; i < ELEMENTSOF(request_types); i++)
                        if (request_types[i].type == type) {
                                status = request_types[i].handle(b, c, le64toh(h.sector));
                                break;
                        }
        }
        virtq_chain_write(c, c->writable_len - 1, &status, sizeof(status));
        return c->writable_len;
}

static void blk_queue_notify(void *opaque, unsigned queue) {
        struct virtio_blk *b = opaque;
        struct virtq *q = virtio_mmio_queue(&b->mmio, queue);
        bool pushed = false;
        int r;

        /* At most a queue's worth of requests per notify, so that a guest
         * adding requests from another vCPU as fast as we complete them
         * cannot keep this thread here for ever. Nothing is left behind: at
         * most `size` chains can be outstanding, and the driver notifies
         * after each batch it adds (we never tell it not to), so a later
         * notify takes whatever came in during this one. */
        for (unsigned budget = virtq_size(q); budget > 0; budget--) {
                struct virtq_chain c;
                uint32_t written;

                r = virtq_pop(q, &c);
                if (r == 0)
                        break;
                if (r < 0) {
                        virtio_mmio_queue_error(&b->mmio, queue, r);
                        break;
                }
                written = blk_handle(b, &c);
                r = virtq_push(q, c.head, written);
                if (r < 0) {
                        virtio_mmio_queue_error(&b->mmio, queue, r);
                        break;
                }
                pushed = true;
        }
        if (pushed)
                virtio_mmio_signal_used(&b->mmio, queue);
}

static uint64_t blk_features(void *opaque) {
        struct virtio_blk *b = opaque;
        uint64_t f = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH);

        if (b->read_only)
                f |= VIRTIO_FEATURE(VIRTIO_BLK_F_RO);
        return f;
}

static void blk_config_read(void *opaque, uint32_t offset, void *data, unsigned size) {
        struct virtio_blk *b = opaque;

        memcpy(data, b->config + offset, size);
}

static const struct virtio_mmio_ops virtio_blk_ops = {
        .name = "virtio-blk",
        .device_id = VIRTIO_ID_BLOCK,
        .n_queues = 1,
        .queue_max_size = VIRTIO_BLK_QUEUE_SIZE,
        .config_size = VIRTIO_BLK_CONFIG_SIZE,
        .features = blk_features,
        .config_read = blk_config_read,
        /* Nothing in our config space is writable (no CONFIG_WCE). */
        .config_write = NULL,
        .queue_notify = blk_queue_notify,
        /* No state beyond the transport's. */
        .reset = NULL,
};

static int blk_disk_capacity(int fd, bool read_only, uint64_t *ret_sectors) {
        struct stat st;
        uint64_t bytes;
        int flags;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                bytes = (uint64_t) st.st_size;
        else if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
                        return -errno;
        } else
                return -EINVAL;

        /* Find out now, not at the guest's first write. */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        if (!read_only && (flags & O_ACCMODE) == O_RDONLY)
                return -EBADF;

        /* A partial last sector is not addressable; it is left alone. */
        *ret_sectors = bytes / VIRTIO_BLK_SECTOR_SIZE;
        return 0;
}

int virtio_blk_create(struct io_map *io, struct device_host *host, uint64_t mmio_base, unsigned irq, int disk_fd,
                      bool read_only, const char *id, struct virtio_blk **ret) {
        _cleanup_(virtio_blk_freep) struct virtio_blk *b = NULL;
        uint64_t capacity_le;
        uint32_t seg_max_le;
        size_t id_len = id ? strlen(id) : 0;
        int r;

        if (id_len > VIRTIO_BLK_ID_BYTES)
                return -EINVAL;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->disk_fd = disk_fd;
        b->read_only = read_only;
        if (id_len > 0)
                memcpy(b->id, id, id_len);

        r = blk_disk_capacity(disk_fd, read_only, &b->capacity);
        if (r < 0)
                return r;

        capacity_le = htole64(b->capacity);
        seg_max_le = htole32(VIRTIO_BLK_SEG_MAX);
        memcpy(b->config + VIRTIO_BLK_CONFIG_CAPACITY, &capacity_le, sizeof(capacity_le));
        memcpy(b->config + VIRTIO_BLK_CONFIG_SEG_MAX, &seg_max_le, sizeof(seg_max_le));

        r = virtio_mmio_init(&b->mmio, &virtio_blk_ops, b, host, irq);
        if (r < 0)
                return r;
        r = virtio_mmio_register(&b->mmio, io, mmio_base);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(b);
        return 0;
}

struct virtio_blk *virtio_blk_free(struct virtio_blk *b) {
        if (!b)
                return NULL;
        virtio_mmio_done(&b->mmio);
        free(b);
        return NULL;
}

void virtio_blk_save(struct virtio_blk *b, struct virtio_mmio_state *ret) {
        virtio_mmio_save(&b->mmio, ret);
}

int virtio_blk_restore(struct virtio_blk *b, const struct virtio_mmio_state *s) {
        return virtio_mmio_restore(&b->mmio, s);
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b) {
        return b->capacity;
}
