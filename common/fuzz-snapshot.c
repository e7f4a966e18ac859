/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-snapshot.c: libFuzzer target for the snapshot reader
 * (snapshot_open(), snapshot_find()). guestd runs it as root on files a
 * launcher wrote, and a launcher may have been taken over by its guest.
 *
 * The input is the file without its RAM: its first 4096 bytes are the
 * header page, the rest the records. The file is laid out in a memfd as
 * the header says, RAM a hole (capped, so that the fuzzer cannot ask for
 * terabytes), the rest of the input where the header puts the records.
 * Whatever opens must hold only records inside its state, and find must
 * return payloads inside it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "snapshot.h"
#include "util.h"

#define RAM_CAP (UINT64_C(64) << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct snapshot_header h = { 0 };
        struct snapshot s;
        char *error = NULL;
        uint64_t at;
        int fd, r;

        fd = memfd_create("fuzz-snapshot", MFD_CLOEXEC);
        FUZZ_ASSERT(fd >= 0);
        memcpy(&h, data, size < sizeof(h) ? size : sizeof(h));
        if (pwrite_full(fd, data, size < SNAPSHOT_HEADER_SIZE ? size : SNAPSHOT_HEADER_SIZE, 0) < 0)
                abort();
        at = h.memory_size <= RAM_CAP && h.memory_offset == SNAPSHOT_HEADER_SIZE ? SNAPSHOT_HEADER_SIZE + h.memory_size
                                                                                : SNAPSHOT_HEADER_SIZE;
        if (size > SNAPSHOT_HEADER_SIZE && pwrite_full(fd, data + SNAPSHOT_HEADER_SIZE, size - SNAPSHOT_HEADER_SIZE, at) < 0)
                abort();

        r = snapshot_open(fd, &s, &error);
        if (r < 0) {
                FUZZ_ASSERT(s.state == NULL);
                FUZZ_ASSERT(r == -EBADMSG || r == -EPROTONOSUPPORT || r == -ENOMEM);
                FUZZ_ASSERT(error != NULL || r == -ENOMEM);
        } else {
                FUZZ_ASSERT(error == NULL);
                for (uint32_t type = 0; type < 6; type++)
                        for (uint32_t index = 0; index < 10; index++) {
                                uint64_t n = 0;
                                const uint8_t *p = snapshot_find(&s, type, index, &n);
                                if (!p)
                                        continue;
                                FUZZ_ASSERT(p >= s.state && p + n <= s.state + s.header.state_size);
                                /* Touch it all: ASan sees any overread. */
                                uint8_t x = 0;
                                for (uint64_t i = 0; i < n; i++)
                                        x ^= p[i];
                                (void) x;
                        }
        }
        free(error);
        snapshot_close(&s);
        close(fd);
        return 0;
}
