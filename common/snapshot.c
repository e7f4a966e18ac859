/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot.c: writes and checks the snapshot container (layout in
 * snapshot.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot.h"
#include "util.h"

#define PAGE 4096u
#define COPY_CHUNK (UINT64_C(1) << 20)

_Static_assert(sizeof(struct snapshot_header) <= SNAPSHOT_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct snapshot_record) % 8 == 0, "records stay 8-byte aligned");

static uint64_t align_up(uint64_t v, uint64_t a) {
        return (v + a - 1) / a * a;
}

/* zlib's crc32() takes a uInt length: feed it in pieces. */
static uint32_t crc32_update(uint32_t crc, const void *data, uint64_t len) {
        const uint8_t *p = data;

        while (len > 0) {
                uInt n = len > (UINT64_C(1) << 30) ? (uInt) 1 << 30 : (uInt) len;
                crc = (uint32_t) crc32(crc, p, n);
                p += n;
                len -= n;
        }
        return crc;
}

static uint32_t header_crc(const struct snapshot_header *h) {
        struct snapshot_header copy = *h;

        copy.header_crc32 = 0;
        return crc32_update((uint32_t) crc32(0, Z_NULL, 0), &copy, sizeof(copy));
}

static bool page_is_zero(const uint8_t *p) {
        const uint64_t *w = (const uint64_t *) (const void *) p;

        for (unsigned i = 0; i < PAGE / sizeof(*w); i++)
                if (w[i] != 0)
                        return false;
        return true;
}

int snapshot_writer_start(struct snapshot_writer *w, int fd, uint64_t memory_size) {
        struct stat st;

        if (memory_size == 0 || memory_size % PAGE != 0 || memory_size > (UINT64_C(1) << 48))
                return -EINVAL;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (ftruncate(fd, 0) < 0)
                return -errno;
        *w = (struct snapshot_writer){
                .fd = fd,
                .memory_size = memory_size,
                .state_start = SNAPSHOT_HEADER_SIZE + memory_size,
                .state_offset = SNAPSHOT_HEADER_SIZE + memory_size,
                .state_crc32 = (uint32_t) crc32(0, Z_NULL, 0),
        };
        return 0;
}

void snapshot_writer_set_progress(struct snapshot_writer *w, void (*callback)(void *userdata, uint64_t done, uint64_t total),
                                  void *userdata) {
        w->progress = callback;
        w->progress_userdata = userdata;
        w->progress_reported = 0;
}

/* RAM up to done has been copied. */
static void report_progress(struct snapshot_writer *w, uint64_t done) {
        if (!w->progress || (done < w->memory_size && done - w->progress_reported < SNAPSHOT_PROGRESS_STEP) ||
            done <= w->progress_reported)
                return;
        w->progress_reported = done;
        w->progress(w->progress_userdata, done, w->memory_size);
}

/* Writes the n bytes at buf, RAM offset at, leaving zero pages as holes
 * (runs of non-zero pages in one call). */
static int write_pages(struct snapshot_writer *w, const uint8_t *buf, uint64_t n, uint64_t at) {
        for (uint64_t page = 0; page < n; page += PAGE) {
                uint64_t run = 0;

                while (page + run < n && !page_is_zero(buf + page + run))
                        run += PAGE;
                if (run > 0) {
                        int r = pwrite_full(w->fd, buf + page, (size_t) run, SNAPSHOT_HEADER_SIZE + at + page);
                        if (r < 0)
                                return r;
                        w->memory_written_bytes += run;
                        page += run - PAGE;
                }
                report_progress(w, at + page + PAGE);
        }
        return 0;
}

/* Copies [start, end) of memfd, page by page, leaving zero pages as
 * holes. */
static int copy_range(struct snapshot_writer *w, int memfd, uint8_t *buf, uint64_t start, uint64_t end) {
        for (uint64_t at = start; at < end;) {
                uint64_t n = end - at < COPY_CHUNK ? end - at : COPY_CHUNK;
                int r = pread_full(memfd, buf, (size_t) n, at);
                if (r < 0)
                        return r;
                r = write_pages(w, buf, n, at);
                if (r < 0)
                        return r;
                at += n;
        }
        return 0;
}

int snapshot_write_memory_mapped(struct snapshot_writer *w, const uint8_t *host) {
        int r = write_pages(w, host, w->memory_size, 0);
        if (r >= 0)
                report_progress(w, w->memory_size);
        return r;
}

int snapshot_write_memory(struct snapshot_writer *w, int memfd) {
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        uint64_t at = 0;

        if (fstat(memfd, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_size != w->memory_size)
                return -EINVAL;
        buf = aligned_alloc(PAGE, COPY_CHUNK);
        if (!buf)
                return -ENOMEM;
        while (at < w->memory_size) {
                off_t data = lseek(memfd, (off_t) at, SEEK_DATA);
                off_t hole;
                int r;

                if (data < 0) {
                        if (errno == ENXIO) /* nothing allocated past at */
                                break;
                        return -errno;
                }
                hole = lseek(memfd, data, SEEK_HOLE);
                if (hole < 0)
                        return -errno;
                if ((uint64_t) hole > w->memory_size)
                        hole = (off_t) w->memory_size;
                /* SEEK_DATA may land mid-page on some file systems. */
                r = copy_range(w, memfd, buf, (uint64_t) data / PAGE * PAGE, align_up((uint64_t) hole, PAGE));
                if (r < 0)
                        return r;
                at = align_up((uint64_t) hole, PAGE);
                report_progress(w, MIN(at, w->memory_size));
        }
        report_progress(w, w->memory_size);
        return 0;
}

int snapshot_write_record(struct snapshot_writer *w, uint32_t type, uint32_t index, const void *data, uint64_t size) {
        static const uint8_t zeros[8];
        struct snapshot_record rec = { .type = type, .index = index, .size = size };
        uint64_t padded = align_up(size, 8), used = w->state_offset - w->state_start;
        int r;

        if (size > 0 && !data)
                return -EINVAL;
        if (w->n_records >= SNAPSHOT_MAX_RECORDS || size > SNAPSHOT_MAX_STATE_SIZE ||
            used + sizeof(rec) + padded > SNAPSHOT_MAX_STATE_SIZE)
                return -E2BIG;
        r = pwrite_full(w->fd, &rec, sizeof(rec), w->state_offset);
        if (r < 0)
                return r;
        if (size > 0) {
                r = pwrite_full(w->fd, data, (size_t) size, w->state_offset + sizeof(rec));
                if (r < 0)
                        return r;
        }
        if (padded > size) {
                r = pwrite_full(w->fd, zeros, (size_t) (padded - size), w->state_offset + sizeof(rec) + size);
                if (r < 0)
                        return r;
        }
        w->state_crc32 = crc32_update(w->state_crc32, &rec, sizeof(rec));
        w->state_crc32 = crc32_update(w->state_crc32, data, size);
        w->state_crc32 = crc32_update(w->state_crc32, zeros, padded - size);
        w->state_offset += sizeof(rec) + padded;
        w->n_records++;
        return 0;
}

int snapshot_writer_finish(struct snapshot_writer *w) {
        uint8_t page[SNAPSHOT_HEADER_SIZE] = { 0 };
        struct snapshot_header h = {
                .version = SNAPSHOT_VERSION,
                .header_size = sizeof(struct snapshot_header),
                .memory_offset = SNAPSHOT_HEADER_SIZE,
                .memory_size = w->memory_size,
                .state_offset = w->state_start,
                .state_size = w->state_offset - w->state_start,
                .n_records = w->n_records,
                .state_crc32 = w->state_crc32,
        };

        memcpy(h.magic, SNAPSHOT_MAGIC, sizeof(h.magic));
        h.header_crc32 = header_crc(&h);
        memcpy(page, &h, sizeof(h));
        /* With no records the RAM's trailing holes still belong to the
         * file: fix its length before the header makes it valid. */
        if (ftruncate(w->fd, (off_t) w->state_offset) < 0)
                return -errno;
        return pwrite_full(w->fd, page, sizeof(page), 0);
}

/* The records' bounds, each inside the state and the count right. */
static int check_records(const struct snapshot *s, char **ret_error) {
        uint64_t at = 0, size = s->header.state_size;
        uint32_t n = 0;

        while (at < size) {
                struct snapshot_record rec;

                if (size - at < sizeof(rec))
                        return set_error_message(ret_error, "corrupt snapshot: record %u is cut short", n);
                memcpy(&rec, s->state + at, sizeof(rec));
                at += sizeof(rec);
                if (rec.size > size - at || align_up(rec.size, 8) > size - at)
                        return set_error_message(ret_error, "corrupt snapshot: record %u (type %u) claims %llu bytes, past the end",
                                                 n, rec.type, (unsigned long long) rec.size);
                at += align_up(rec.size, 8);
                n++;
        }
        if (n != s->header.n_records)
                return set_error_message(ret_error, "corrupt snapshot: %u records, the header says %u", n, s->header.n_records);
        return 0;
}

int snapshot_open(int fd, struct snapshot *ret, char **ret_error) {
        struct snapshot s = { 0 };
        struct snapshot_header *h = &s.header;
        struct stat st;
        uint64_t file_size;
        int r;

        if (ret_error)
                *ret_error = NULL;
        *ret = (struct snapshot){ 0 };
        if (fstat(fd, &st) < 0)
                return -errno;
        file_size = (uint64_t) st.st_size;
        if (file_size < SNAPSHOT_HEADER_SIZE) {
                r = set_error_message(ret_error, "not a guestd snapshot, or truncated: %llu bytes", (unsigned long long) file_size);
                return r == -EINVAL ? -EBADMSG : r;
        }
        r = pread_full(fd, h, sizeof(*h), 0);
        if (r < 0)
                return r;
        if (memcmp(h->magic, SNAPSHOT_MAGIC, sizeof(h->magic)) != 0) {
                set_error_message(ret_error, "not a guestd snapshot (no %s at its start)", SNAPSHOT_MAGIC);
                return -EBADMSG;
        }
        if (header_crc(h) != h->header_crc32) {
                set_error_message(ret_error, "corrupt snapshot: the header's checksum does not match");
                return -EBADMSG;
        }
        if (h->version != SNAPSHOT_VERSION || h->header_size != sizeof(*h) || h->flags != 0) {
                set_error_message(ret_error, "snapshot format version %u (flags %#llx): this launcher reads version %u",
                                  h->version, (unsigned long long) h->flags, SNAPSHOT_VERSION);
                return -EPROTONOSUPPORT;
        }
        if (h->memory_offset != SNAPSHOT_HEADER_SIZE || h->memory_size == 0 || h->memory_size % PAGE != 0 ||
            h->memory_size > (UINT64_C(1) << 48) || h->state_offset != h->memory_offset + h->memory_size ||
            h->state_size > SNAPSHOT_MAX_STATE_SIZE || h->n_records > SNAPSHOT_MAX_RECORDS) {
                set_error_message(ret_error, "corrupt snapshot: its header's sizes are inconsistent");
                return -EBADMSG;
        }
        if (!range_within(h->state_offset, h->state_size, file_size) || h->state_offset + h->state_size != file_size) {
                set_error_message(ret_error, "snapshot is truncated or has trailing data: %llu bytes, the header says %llu",
                                  (unsigned long long) file_size, (unsigned long long) (h->state_offset + h->state_size));
                return -EBADMSG;
        }
        s.state = malloc(h->state_size > 0 ? h->state_size : 1);
        if (!s.state)
                return -ENOMEM;
        r = pread_full(fd, s.state, (size_t) h->state_size, h->state_offset);
        if (r < 0) {
                snapshot_close(&s);
                return r;
        }
        if (crc32_update((uint32_t) crc32(0, Z_NULL, 0), s.state, h->state_size) != h->state_crc32) {
                snapshot_close(&s);
                set_error_message(ret_error, "corrupt snapshot: the records' checksum does not match");
                return -EBADMSG;
        }
        r = check_records(&s, ret_error);
        if (r < 0) {
                snapshot_close(&s);
                return r == -EINVAL ? -EBADMSG : r;
        }
        *ret = s;
        return 0;
}

const void *snapshot_find(const struct snapshot *s, uint32_t type, uint32_t index, uint64_t *ret_size) {
        uint64_t at = 0;

        if (!s->state)
                return NULL;
        /* check_records() has bounded every record. */
        while (at < s->header.state_size) {
                struct snapshot_record rec;

                memcpy(&rec, s->state + at, sizeof(rec));
                at += sizeof(rec);
                if (rec.type == type && rec.index == index) {
                        if (ret_size)
                                *ret_size = rec.size;
                        return s->state + at;
                }
                at += align_up(rec.size, 8);
        }
        return NULL;
}

void snapshot_close(struct snapshot *s) {
        free(s->state);
        s->state = NULL;
}
