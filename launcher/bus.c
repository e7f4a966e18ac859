/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus.c: port I/O and MMIO dispatch; see device.h. The table is written
 * before the first vCPU runs and only read afterwards, so needs no lock. */
#include <string.h>

#include "device.h"

int bus_register(struct bus *bus, const struct bus_device *dev) {
        if (dev->len == 0 || dev->base + dev->len < dev->base)
                return -EINVAL;
        for (unsigned i = 0; i < bus->n_devices; i++) {
                const struct bus_device *d = &bus->devices[i];
                if (d->space == dev->space && dev->base < d->base + d->len && d->base < dev->base + dev->len)
                        return -EEXIST;
        }
        if (bus->n_devices >= BUS_MAX_DEVICES)
                return -ENOSPC;
        bus->devices[bus->n_devices++] = *dev;
        return 0;
}

bool bus_dispatch(struct bus *bus, enum bus_space space, uint64_t addr, void *data, unsigned size, bool is_write) {
        for (unsigned i = 0; i < bus->n_devices; i++) {
                struct bus_device *d = &bus->devices[i];
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
                __atomic_add_fetch(&bus->unclaimed_writes, 1, __ATOMIC_RELAXED);
        else {
                memset(data, 0xff, size);
                __atomic_add_fetch(&bus->unclaimed_reads, 1, __ATOMIC_RELAXED);
        }
        return false;
}
