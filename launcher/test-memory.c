/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-memory.c: guest_memory_ptr() against hostile guest addresses;
 * resume's RAM mapped from a snapshot file (the snapshot's side is
 * common/test-snapshot.c's). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memory.h"
#include "test.h"
#include "util.h"

int main(void) {
        struct guest_memory m;

        CHECK_EQ(guest_memory_create(&m, 0), -EINVAL);
        CHECK_EQ(guest_memory_create(&m, 3 * MiB), -EINVAL);
        CHECK_EQ(guest_memory_create(&m, 64 * MiB), 0);
        CHECK_EQ(m.low_size, 64 * MiB);
        CHECK(guest_memory_ptr(&m, 0, 64 * MiB) == m.host);
        CHECK(guest_memory_ptr(&m, 64 * MiB - 1, 1) == m.host + 64 * MiB - 1);
        CHECK(guest_memory_ptr(&m, 64 * MiB, 0) != NULL);
        CHECK(guest_memory_ptr(&m, 64 * MiB, 1) == NULL);
        CHECK(guest_memory_ptr(&m, 64 * MiB - 1, 2) == NULL);
        CHECK(guest_memory_ptr(&m, 1, UINT64_MAX) == NULL);
        CHECK(guest_memory_ptr(&m, UINT64_MAX, 1) == NULL);
        CHECK(guest_memory_ptr(&m, UINT64_MAX - 1, 2) == NULL);
        CHECK(guest_memory_ptr(&m, GUEST_HIGH_RAM_START, 1) == NULL);
        CHECK(guest_memory_ptr(&m, GUEST_MMIO_HOLE_START, 1) == NULL);
        CHECK_EQ(guest_memory_write(&m, 64 * MiB - 2, "abc", 3), -EFAULT);
        CHECK_EQ(guest_memory_write(&m, 100, "abc", 3), 0);
        guest_memory_destroy(&m);
        guest_memory_destroy(&m);

        /* 3 GiB + 4 MiB: the rest goes above the hole at 4 GiB. Mapped with
         * MAP_NORESERVE, so nothing is allocated. */
        CHECK_EQ(guest_memory_create(&m, 3 * GiB + 4 * MiB), 0);
        CHECK_EQ(m.low_size, 3 * GiB);
        CHECK(guest_memory_ptr(&m, 3 * GiB - 1, 1) != NULL);
        CHECK(guest_memory_ptr(&m, 3 * GiB - 1, 2) == NULL); /* straddles the hole */
        CHECK(guest_memory_ptr(&m, 3 * GiB, 1) == NULL);
        CHECK(guest_memory_ptr(&m, GUEST_HIGH_RAM_START, 4 * MiB) == m.host + 3 * GiB);
        CHECK(guest_memory_ptr(&m, GUEST_HIGH_RAM_START, 4 * MiB + 1) == NULL);
        CHECK(guest_memory_ptr(&m, GUEST_HIGH_RAM_START + 4 * MiB, 1) == NULL);
        guest_memory_destroy(&m);

        /* A snapshot's RAM image at a page-aligned offset, within the
         * file, mapped privately: writes to the guest's RAM never reach
         * the file, and the mapping holds no fd. */
        {
                char path[] = "/tmp/test-memory.XXXXXX";
                _cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
                uint8_t page[4096], back[4096];

                CHECK(fd >= 0);
                if (fd < 0)
                        return TEST_RESULT();
                (void) unlink(path);
                memset(page, 0xa5, sizeof(page));
                CHECK_EQ(ftruncate(fd, 4096 + 8 * MiB), 0);
                CHECK_EQ(pwrite(fd, page, sizeof(page), 4096 + 7 * 4096), (ssize_t) sizeof(page));
                CHECK_EQ(guest_memory_map_snapshot(&m, fd, 4095, 8 * MiB), -EINVAL);           /* not page-aligned */
                CHECK_EQ(guest_memory_map_snapshot(&m, fd, 4096, 8 * MiB + 2 * MiB), -EINVAL); /* past the file's end */
                CHECK_EQ(guest_memory_map_snapshot(&m, fd, 4096, 8 * MiB), 0);
                CHECK_EQ(m.fd, -EBADF);
                CHECK(memcmp(guest_memory_ptr(&m, 7 * 4096, 4096), page, sizeof(page)) == 0);
                CHECK_EQ(guest_memory_write(&m, 7 * 4096, "xyz", 3), 0);
                CHECK_EQ(pread(fd, back, sizeof(back), 4096 + 7 * 4096), (ssize_t) sizeof(back));
                CHECK(memcmp(back, page, sizeof(page)) == 0);
                guest_memory_destroy(&m);
        }
        return TEST_RESULT();
}
