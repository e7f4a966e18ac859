/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot.h: the file a suspended guest lives in, the container only:
 * what goes into the records (vCPU state, irqchip, clock, devices) is the
 * launcher's business; this module lays the file out, checks it on the
 * way back and never trusts a length it read. The launcher writes and
 * resumes snapshots; guestd checks one (snapshot_open) before it commits
 * it after a crash and before it hands it to a launcher to resume.
 *
 * Layout (integers little-endian, as on x86):
 *
 *   [0, 4096)                          the header (struct snapshot_header)
 *   [4096, 4096 + memory_size)         guest RAM, byte for byte as in the
 *                                      launcher's memfd (low RAM, then the
 *                                      RAM above the MMIO hole); pages the
 *                                      guest never touched, or that hold
 *                                      only zeros, are holes: they take no
 *                                      space on disk
 *   [state_offset, + state_size)       the records, each a struct
 *                                      snapshot_record and its payload,
 *                                      padded to 8 bytes
 *
 * RAM sits at a page-aligned offset so that resume can map it privately
 * from the file (pages read when the guest touches them: resume time does
 * not grow with guest size). For the same reason the checksums (CRC-32,
 * zlib) cover the header and the records, not RAM: checking RAM would
 * read all of it at resume. The header is written last, so a file cut
 * short anywhere (a crash, ENOSPC) is refused as truncated or corrupt,
 * never taken for a snapshot.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_MAGIC "GUESTDSN"
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER_SIZE 4096
/* The records are read into memory whole: more than this is not ours. */
#define SNAPSHOT_MAX_STATE_SIZE (UINT64_C(64) << 20)
#define SNAPSHOT_MAX_RECORDS 4096

struct snapshot_header {
        char magic[8];        /* SNAPSHOT_MAGIC, no NUL */
        uint32_t version;     /* SNAPSHOT_VERSION */
        uint32_t header_size; /* sizeof(struct snapshot_header) */
        uint64_t memory_offset;
        uint64_t memory_size;
        uint64_t state_offset;
        uint64_t state_size;
        uint32_t n_records;
        uint32_t state_crc32;
        uint64_t flags; /* none yet: must be 0 */
        uint32_t reserved;
        uint32_t header_crc32; /* over this struct with this field 0 */
};

/* What a record holds. The format checks only bounds; the suspend and
 * resume code interprets payloads and checks their sizes. */
enum snapshot_record_type {
        SNAPSHOT_RECORD_MACHINE = 1, /* memory size, vCPU count, disks: must match on resume */
        SNAPSHOT_RECORD_VCPU = 2,    /* index: the vCPU (struct vcpu_state) */
        SNAPSHOT_RECORD_VM = 3,      /* irqchip, PIT, clock (struct vm_state) */
        SNAPSHOT_RECORD_DEVICE = 4,  /* index: the device (vm.c's order) */
};

struct snapshot_record {
        uint32_t type;
        uint32_t index;
        uint64_t size; /* of the payload that follows, without padding */
};

struct snapshot_writer {
        int fd;
        uint64_t memory_size;
        uint64_t state_offset; /* where the next record goes */
        uint64_t state_start;
        uint32_t n_records;
        uint32_t state_crc32;
        uint64_t memory_written_bytes; /* RAM that took space in the file */
        /* Optional: called as RAM is copied (done, out of memory_size
         * bytes), at most every SNAPSHOT_PROGRESS_STEP bytes and once at
         * the end. */
        void (*progress)(void *userdata, uint64_t done, uint64_t total);
        void *progress_userdata;
        uint64_t progress_reported;
};

#define SNAPSHOT_PROGRESS_STEP (UINT64_C(16) << 20)

/* The most state (records) a launcher writes: the fixed records and one
 * per vCPU. guestd bounds a snapshot's size by it before the launcher
 * writes anything (snapshot_max_file_size()); the launcher checks its
 * records fit (vm.c). */
#define SNAPSHOT_STATE_FIXED_MAX (UINT64_C(256) << 10)
#define SNAPSHOT_STATE_PER_VCPU_MAX (UINT64_C(64) << 10)

/* The largest file a snapshot of this machine can be. */
static inline uint64_t snapshot_max_file_size(uint64_t memory_size, unsigned n_vcpus) {
        return SNAPSHOT_HEADER_SIZE + memory_size + SNAPSHOT_STATE_FIXED_MAX + (uint64_t) n_vcpus * SNAPSHOT_STATE_PER_VCPU_MAX;
}

/* Starts a snapshot of memory_size bytes of RAM (a multiple of 4096) in
 * fd, a regular file opened for writing, which is emptied first. */
int snapshot_writer_start(struct snapshot_writer *w, int fd, uint64_t memory_size);
/* Reports progress through callback (may be NULL) from now on. */
void snapshot_writer_set_progress(struct snapshot_writer *w, void (*callback)(void *userdata, uint64_t done, uint64_t total),
                                  void *userdata);
/* Copies RAM from memfd (memory_size bytes): only its allocated ranges
 * (SEEK_DATA), and of those only the pages that are not all zeros. */
int snapshot_write_memory(struct snapshot_writer *w, int memfd);
/* The same from RAM mapped at host (memory_size bytes), for a guest
 * that has no memfd (resumed from a snapshot, guest_memory_map_snapshot()):
 * every page is read, the zero ones left as holes. Reading faults in the
 * old snapshot's holes too (zero-filled page cache, and on tmpfs real
 * pages): a cost in the size of the guest, not of what it touched.
 * mincore() cannot cut it (a written page that went to swap reads as
 * absent); dirty tracking can (KVM_MEM_LOG_DIRTY_PAGES plus the pages
 * the devices write). */
int snapshot_write_memory_mapped(struct snapshot_writer *w, const uint8_t *host);
/* Appends a record; -E2BIG past SNAPSHOT_MAX_STATE_SIZE or
 * SNAPSHOT_MAX_RECORDS. */
int snapshot_write_record(struct snapshot_writer *w, uint32_t type, uint32_t index, const void *data, uint64_t size);
/* Writes the header. Does not fsync: the caller (guestd) does, then
 * renames the file into place. */
int snapshot_writer_finish(struct snapshot_writer *w);

struct snapshot {
        struct snapshot_header header;
        uint8_t *state; /* the records, checked, malloc'd */
};

/* Reads and checks a snapshot's header and records from fd. Errors, each
 * with a sentence in *ret_error (freed by the caller; NULL without
 * memory): -EBADMSG not a snapshot, truncated or corrupt (a checksum, a
 * record out of bounds); -EPROTONOSUPPORT another format version; -ENOMEM;
 * other -errno from reading. */
int snapshot_open(int fd, struct snapshot *ret, char **ret_error);
/* The payload of the record (type, index) and its size, or NULL if the
 * snapshot has none. */
const void *snapshot_find(const struct snapshot *s, uint32_t type, uint32_t index, uint64_t *ret_size);
/* Frees what snapshot_open() allocated; safe on a zeroed struct. */
void snapshot_close(struct snapshot *s);
