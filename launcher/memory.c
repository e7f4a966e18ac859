/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memory.c: guest RAM in a memfd; see memory.h for the layout. */
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "log.h"

#include "memory.h"

int guest_memory_create(struct guest_memory *m, uint64_t size) {
        _cleanup_close_ int fd = -EBADF;
        void *p;

        *m = (struct guest_memory) { .fd = -EBADF };
        if (size == 0 || size % (2 * MiB) != 0)
                return -EINVAL;

        fd = memfd_create("guest-ram", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) size) < 0)
                return -errno;
        /* MAP_NORESERVE: pages are allocated as the guest touches them. */
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        (void) madvise(p, size, MADV_DONTDUMP);

        m->fd = TAKE_FD(fd);
        m->host = p;
        m->size = size;
        m->low_size = MIN(size, GUEST_MMIO_HOLE_START);
        return 0;
}

int guest_memory_map_snapshot(struct guest_memory *m, int fd, uint64_t offset, uint64_t size) {
        struct stat st;
        void *p;

        *m = (struct guest_memory) { .fd = -EBADF };
        if (size == 0 || size % (2 * MiB) != 0 || offset % 4096 != 0)
                return -EINVAL;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* A file shorter than the image would SIGBUS the guest's access
         * (and the launcher) later: refuse it now. */
        if (!S_ISREG(st.st_mode) || !range_within(offset, size, (uint64_t) st.st_size))
                return -EINVAL;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, (off_t) offset);
        if (p == MAP_FAILED)
                return -errno;
        (void) madvise(p, size, MADV_DONTDUMP);

        m->host = p;
        m->size = size;
        m->low_size = MIN(size, GUEST_MMIO_HOLE_START);
        return 0;
}

void guest_memory_destroy(struct guest_memory *m) {
        if (m->host)
                munmap(m->host, m->size);
        m->host = NULL;
        m->fd = safe_close(m->fd);
}

void *guest_memory_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len) {
        if (!m->host)
                return NULL;
        if (range_within(gpa, len, m->low_size))
                return m->host + gpa;
        if (gpa >= GUEST_HIGH_RAM_START) {
                uint64_t off = gpa - GUEST_HIGH_RAM_START;
                if (range_within(off, len, m->size - m->low_size))
                        return m->host + m->low_size + off;
        }
        return NULL;
}

int guest_memory_read(const struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len) {
        const void *p = guest_memory_ptr(m, gpa, len);
        if (!p)
                return -EFAULT;
        memcpy(buf, p, len);
        return 0;
}

int guest_memory_write(const struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len) {
        void *p = guest_memory_ptr(m, gpa, len);
        if (!p)
                return -EFAULT;
        memcpy(p, buf, len);
        return 0;
}

uint64_t guest_memory_allocated_kib(const struct guest_memory *m) {
        struct stat st;

        if (m->fd < 0 || fstat(m->fd, &st) < 0)
                return 0;
        return (uint64_t) st.st_blocks * 512 / 1024;
}
