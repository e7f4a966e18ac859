/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.c: port I/O and MMIO dispatch; see io.h. The table is written
 * before the first vCPU runs and only read afterwards, so needs no lock. */
#include <errno.h>
#include <string.h>

#include "io.h"

int io_register(struct io_map *io, const struct io_device *dev) {
        if (dev->len == 0 || dev->base + dev->len < dev->base)
                return -EINVAL;
        for (unsigned i = 0; i < io->n_devices; i++) {
                const struct io_device *d = &io->devices[i];
                if (d->space == dev->space && dev->base < d->base + d->len && d->base < dev->base + dev->len)
                        return -EEXIST;
        }
        if (io->n_devices >= IO_MAX_DEVICES)
                return -ENOSPC;
        io->devices[io->n_devices++] = *dev;
        return 0;
}

bool io_dispatch(struct io_map *io, enum io_space space, uint64_t addr, void *data, unsigned size, bool is_write) {
        for (unsigned i = 0; i < io->n_devices; i++) {
                struct io_device *d = &io->devices[i];
                if (d->space != space || addr < d->base || addr - d->base >= d->len)
                        continue;
                if (is_write) {
                        if (d->write)
                                d->write(d->opaque, addr - d->base, data, size);
                } else {
                        memset(data, 0xff, size);
                        if (d->read)
                                d->read(d->opaque, addr - d->base, data, size);
                }
                return true;
        }
        if (is_write)
                __atomic_add_fetch(&io->unclaimed_writes, 1, __ATOMIC_RELAXED);
        else {
                memset(data, 0xff, size);
                __atomic_add_fetch(&io->unclaimed_reads, 1, __ATOMIC_RELAXED);
        }
        return false;
}
