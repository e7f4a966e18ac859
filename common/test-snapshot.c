/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-snapshot.c: the snapshot container: a round trip keeps records and
 * RAM (and RAM's holes); a file cut short at any length, a flipped bit, a
 * foreign version or a record out of bounds is refused with its reason.
 * Resume's RAM: mapped privately from the file, written to without
 * changing it, and snapshotted again from the mapping. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot.h"
#include "test.h"
#include "util.h"

#define RAM (8 * MiB)

/* Resume's RAM as the launcher maps it (launcher/memory.c,
 * guest_memory_map_snapshot()): the snapshot's RAM image mapped
 * privately, copy on write. A stand-in, so that common/ needs nothing of
 * the launcher's: what is tested here is the snapshot's side. */
static uint8_t *map_ram_privately(int fd, uint64_t offset, uint64_t size) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, (off_t) offset);
        return p == MAP_FAILED ? NULL : p;
}

static int temp_file(void) {
        char path[] = "/tmp/test-snapshot.XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);

        if (fd >= 0)
                unlink(path);
        return fd;
}

/* A copy of the first len bytes of src, zeros past its end (holes become
 * data: fine here). */
static int copy_prefix(int src, uint64_t len) {
        int fd = temp_file();
        char buf[65536];
        struct stat st;
        uint64_t have;

        if (fd < 0 || fstat(src, &st) < 0)
                abort();
        have = len < (uint64_t) st.st_size ? len : (uint64_t) st.st_size;
        for (uint64_t at = 0; at < have;) {
                size_t n = have - at < sizeof(buf) ? (size_t) (have - at) : sizeof(buf);
                if (pread_full(src, buf, n, at) < 0 || pwrite(fd, buf, n, (off_t) at) != (ssize_t) n)
                        abort();
                at += n;
        }
        if (ftruncate(fd, (off_t) len) < 0)
                abort();
        return fd;
}

/* Opens fd as a snapshot; returns the error and checks that a refusal
 * comes with a sentence containing want (if not NULL). */
static int open_expect(int fd, const char *want) {
        struct snapshot s;
        char *why = NULL;
        int r = snapshot_open(fd, &s, &why);

        if (r == 0)
                snapshot_close(&s);
        else {
                CHECK(why != NULL);
                if (why && want && !strstr(why, want)) {
                        fprintf(stderr, "refusal '%s' lacks '%s'\n", why, want);
                        test_failures++;
                }
        }
        free(why);
        return r;
}

static void patch(int fd, uint64_t offset, const void *data, size_t len) {
        if (pwrite(fd, data, len, (off_t) offset) != (ssize_t) len)
                abort();
}

/* Rewrites the header's checksum after a test changed a field. */
static void reseal_header(int fd) {
        struct snapshot_header h;

        if (pread_full(fd, &h, sizeof(h), 0) < 0)
                abort();
        h.header_crc32 = 0;
        h.header_crc32 = (uint32_t) crc32(crc32(0, Z_NULL, 0), (const Bytef *) &h, sizeof(h));
        patch(fd, 0, &h, sizeof(h));
}

int main(void) {
        _cleanup_close_ int memfd = memfd_create("test-ram", MFD_CLOEXEC);
        _cleanup_close_ int fd = temp_file();
        struct snapshot_writer w;
        struct snapshot s;
        uint8_t page[4096], back[4096];
        const char hello[] = "hello, snapshot";
        uint8_t big[100];
        const void *p;
        uint64_t size;
        struct stat st;
        int r;

        CHECK(memfd >= 0 && fd >= 0);
        CHECK_EQ(ftruncate(memfd, RAM), 0);
        /* Pages 0, 5 and 1000 hold data; page 7 is allocated but zero. */
        for (unsigned i = 0; i < sizeof(page); i++)
                page[i] = (uint8_t) (i * 7 + 1);
        CHECK_EQ(pwrite(memfd, page, sizeof(page), 0), (ssize_t) sizeof(page));
        CHECK_EQ(pwrite(memfd, page, sizeof(page), 5 * 4096), (ssize_t) sizeof(page));
        CHECK_EQ(pwrite(memfd, page, sizeof(page), 1000 * 4096), (ssize_t) sizeof(page));
        memset(back, 0, sizeof(back));
        CHECK_EQ(pwrite(memfd, back, sizeof(back), 7 * 4096), (ssize_t) sizeof(back));
        for (unsigned i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t) i;

        CHECK_EQ(snapshot_writer_start(&w, fd, 3000), -EINVAL);
        CHECK_EQ(snapshot_writer_start(&w, fd, RAM), 0);
        CHECK_EQ(snapshot_write_memory(&w, memfd), 0);
        CHECK_EQ(w.memory_written_bytes, 3 * 4096);
        CHECK_EQ(snapshot_write_record(&w, SNAPSHOT_RECORD_MACHINE, 0, hello, sizeof(hello)), 0);
        CHECK_EQ(snapshot_write_record(&w, SNAPSHOT_RECORD_VCPU, 1, big, sizeof(big)), 0);
        CHECK_EQ(snapshot_write_record(&w, SNAPSHOT_RECORD_VCPU, 0, NULL, 0), 0);
        CHECK_EQ(snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, 0, NULL, SNAPSHOT_MAX_STATE_SIZE + 1), -EINVAL);
        CHECK_EQ(snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, 0, big, SNAPSHOT_MAX_STATE_SIZE + 1), -E2BIG);
        CHECK_EQ(snapshot_writer_finish(&w), 0);

        /* The round trip. */
        CHECK_EQ(snapshot_open(fd, &s, NULL), 0);
        p = snapshot_find(&s, SNAPSHOT_RECORD_MACHINE, 0, &size);
        CHECK(p && size == sizeof(hello) && memcmp(p, hello, sizeof(hello)) == 0);
        p = snapshot_find(&s, SNAPSHOT_RECORD_VCPU, 1, &size);
        CHECK(p && size == sizeof(big) && memcmp(p, big, sizeof(big)) == 0);
        p = snapshot_find(&s, SNAPSHOT_RECORD_VCPU, 0, &size);
        CHECK(p && size == 0);
        CHECK(snapshot_find(&s, SNAPSHOT_RECORD_VCPU, 2, NULL) == NULL);
        CHECK(snapshot_find(&s, SNAPSHOT_RECORD_VM, 0, NULL) == NULL);
        CHECK_EQ(s.header.memory_offset, 4096);
        CHECK_EQ(s.header.memory_size, RAM);
        snapshot_close(&s);
        snapshot_close(&s);

        /* RAM comes back byte for byte; untouched and zero pages are holes:
         * the file holds the three pages, the header and the records. */
        CHECK_EQ(pread_full(fd, back, sizeof(back), 4096 + 5 * 4096), 0);
        CHECK(memcmp(back, page, sizeof(page)) == 0);
        CHECK_EQ(pread_full(fd, back, sizeof(back), 4096 + 1000 * 4096), 0);
        CHECK(memcmp(back, page, sizeof(page)) == 0);
        CHECK_EQ(pread_full(fd, back, sizeof(back), 4096 + 7 * 4096), 0);
        CHECK(back[0] == 0 && memcmp(back, back + 1, sizeof(back) - 1) == 0);
        CHECK_EQ(fstat(fd, &st), 0);
        CHECK_EQ((uint64_t) st.st_size, 4096 + RAM + w.state_offset - w.state_start);
        CHECK((uint64_t) st.st_blocks * 512 <= 64 * 1024);
        /* Mapped privately at its offset, RAM reads as the guest left it. */
        {
                uint8_t *map = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
                CHECK(map != MAP_FAILED);
                if (map != MAP_FAILED) {
                        CHECK(memcmp(map + 1000 * 4096, page, sizeof(page)) == 0);
                        map[0] = 0; /* private: the file does not change */
                        munmap(map, RAM);
                }
                CHECK_EQ(pread_full(fd, back, 1, 4096), 0);
                CHECK_EQ(back[0], page[0]);
        }

        /* Cut short anywhere: refused. Every length through the header and
         * the records, and a sample through RAM. */
        {
                uint64_t full = (uint64_t) st.st_size;
                _cleanup_close_ int cut = copy_prefix(fd, full);
                for (uint64_t len = full; len-- > 0;) {
                        if (len > 8192 && len + 1024 < full && len % 4093 != 0)
                                continue;
                        CHECK_EQ(ftruncate(cut, (off_t) len), 0);
                        r = open_expect(cut, NULL);
                        if (r != -EBADMSG) {
                                fprintf(stderr, "cut at %llu bytes: %d\n", (unsigned long long) len, r);
                                test_failures++;
                                break;
                        }
                }
                /* Trailing data too. */
                _cleanup_close_ int longer = copy_prefix(fd, full + 1);
                CHECK_EQ(open_expect(longer, "trailing"), -EBADMSG);
        }

        /* One flipped bit: in the header, in each field the checksum
         * covers, and in the records. */
        {
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                uint8_t b;
                CHECK_EQ(pread_full(bad, &b, 1, 20), 0);
                b ^= 1;
                patch(bad, 20, &b, 1);
                CHECK_EQ(open_expect(bad, "header's checksum"), -EBADMSG);
        }
        {
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                uint64_t at = 4096 + RAM + sizeof(struct snapshot_record) + 3;
                uint8_t b;
                CHECK_EQ(pread_full(bad, &b, 1, at), 0);
                b ^= 0x10;
                patch(bad, at, &b, 1);
                CHECK_EQ(open_expect(bad, "records' checksum"), -EBADMSG);
        }
        {
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                patch(bad, 0, "GUESTDXX", 8);
                CHECK_EQ(open_expect(bad, "not a guestd snapshot"), -EBADMSG);
        }
        {
                /* Another version, correctly sealed. */
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                uint32_t v = SNAPSHOT_VERSION + 1;
                patch(bad, offsetof(struct snapshot_header, version), &v, sizeof(v));
                reseal_header(bad);
                CHECK_EQ(open_expect(bad, "format version 2"), -EPROTONOSUPPORT);
        }
        {
                /* Sizes that disagree, correctly sealed. */
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                uint64_t m = RAM - 4096;
                patch(bad, offsetof(struct snapshot_header, memory_size), &m, sizeof(m));
                reseal_header(bad);
                CHECK_EQ(open_expect(bad, "inconsistent"), -EBADMSG);
        }
        {
                /* A record claiming more than there is, both checksums
                 * right: only the bounds check catches it. */
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                struct snapshot_header h;
                uint64_t huge = 1u << 20;
                uint8_t *state;
                CHECK_EQ(pread_full(bad, &h, sizeof(h), 0), 0);
                patch(bad, h.state_offset + offsetof(struct snapshot_record, size), &huge, sizeof(huge));
                state = malloc(h.state_size);
                CHECK(state != NULL);
                if (state) {
                        CHECK_EQ(pread_full(bad, state, h.state_size, h.state_offset), 0);
                        h.state_crc32 = (uint32_t) crc32(crc32(0, Z_NULL, 0), state, (uInt) h.state_size);
                        patch(bad, 0, &h, sizeof(h));
                        reseal_header(bad);
                        CHECK_EQ(open_expect(bad, "past the end"), -EBADMSG);
                        free(state);
                }
        }
        {
                /* A record count that disagrees. */
                _cleanup_close_ int bad = copy_prefix(fd, (uint64_t) st.st_size);
                uint32_t n = 4;
                patch(bad, offsetof(struct snapshot_header, n_records), &n, sizeof(n));
                reseal_header(bad);
                CHECK_EQ(open_expect(bad, "the header says 4"), -EBADMSG);
        }

        /* Resume's RAM, then a second suspend of the resumed guest. */
        {
                uint8_t *ram = map_ram_privately(fd, 4096, RAM);
                _cleanup_close_ int again = temp_file();
                uint8_t other[4096];
                struct snapshot s2;

                CHECK(ram != NULL);
                if (!ram)
                        return TEST_RESULT();
                memset(other, 0x5a, sizeof(other));
                CHECK(memcmp(ram + 1000 * 4096, page, sizeof(page)) == 0);
                memcpy(ram + 5 * 4096, other, sizeof(other));
                memcpy(ram + 2000 * 4096, other, sizeof(other));
                /* The snapshot file did not change. */
                CHECK_EQ(pread_full(fd, back, sizeof(back), 4096 + 5 * 4096), 0);
                CHECK(memcmp(back, page, sizeof(page)) == 0);

                CHECK_EQ(snapshot_writer_start(&w, again, RAM), 0);
                CHECK_EQ(snapshot_write_memory_mapped(&w, ram), 0);
                CHECK_EQ(w.memory_written_bytes, 4 * 4096); /* pages 0, 5, 1000, 2000 */
                CHECK_EQ(snapshot_writer_finish(&w), 0);
                munmap(ram, RAM);
                CHECK_EQ(snapshot_open(again, &s2, NULL), 0);
                snapshot_close(&s2);
                CHECK_EQ(pread_full(again, back, sizeof(back), 4096 + 0), 0);
                CHECK(memcmp(back, page, sizeof(page)) == 0);
                CHECK_EQ(pread_full(again, back, sizeof(back), 4096 + 5 * 4096), 0);
                CHECK(memcmp(back, other, sizeof(other)) == 0);
                CHECK_EQ(pread_full(again, back, sizeof(back), 4096 + 1000 * 4096), 0);
                CHECK(memcmp(back, page, sizeof(page)) == 0);
                CHECK_EQ(pread_full(again, back, sizeof(back), 4096 + 2000 * 4096), 0);
                CHECK(memcmp(back, other, sizeof(other)) == 0);
                CHECK_EQ(pread_full(again, back, sizeof(back), 4096 + 7 * 4096), 0);
                CHECK(back[0] == 0 && memcmp(back, back + 1, sizeof(back) - 1) == 0);
        }

        /* Not a regular file. */
        {
                int pipefd[2];
                CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0);
                CHECK_EQ(snapshot_writer_start(&w, pipefd[1], RAM), -EBADFD);
                close(pipefd[0]);
                close(pipefd[1]);
        }
        /* A snapshot without records or data still round-trips, its RAM
         * all holes. */
        {
                _cleanup_close_ int empty = temp_file();
                _cleanup_close_ int blank = memfd_create("blank", MFD_CLOEXEC);
                CHECK_EQ(ftruncate(blank, 2 * MiB), 0);
                CHECK_EQ(snapshot_writer_start(&w, empty, 2 * MiB), 0);
                CHECK_EQ(snapshot_write_memory(&w, blank), 0);
                CHECK_EQ(w.memory_written_bytes, 0);
                CHECK_EQ(snapshot_write_memory(&w, memfd), -EINVAL); /* size differs */
                CHECK_EQ(snapshot_writer_finish(&w), 0);
                CHECK_EQ(open_expect(empty, NULL), 0);
        }
        return TEST_RESULT();
}
