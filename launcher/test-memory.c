/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-memory.c: guest_memory_ptr() against hostile guest addresses. */
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
        return TEST_RESULT();
}
