/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.h: the machine's port I/O and MMIO space, and the dispatch of one
 * guest access to the device that claimed its address (not D-Bus: that
 * is daemon/bus.c).
 *
 * A device claims a range of port I/O or MMIO space with io_register()
 * while the machine is put together. The vCPU loop (vcpu.c) hands every
 * KVM_EXIT_IO / KVM_EXIT_MMIO to io_dispatch(), which finds the device
 * and calls its read or write op; an access nobody claims reads as
 * all-ones and its writes are dropped and counted, never a crash.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum io_space { IO_PIO, IO_MMIO };

struct io_device {
        const char *name;
        enum io_space space;
        uint64_t base, len;
        void *opaque;
        /* offset is from base; size is 1, 2, 4 or 8; data is little-endian. */
        void (*read)(void *opaque, uint64_t offset, void *data, unsigned size);
        void (*write)(void *opaque, uint64_t offset, const void *data, unsigned size);
};

#define IO_MAX_DEVICES 32

struct io_map {
        struct io_device devices[IO_MAX_DEVICES];
        unsigned n_devices;
        /* Accesses nobody claimed, for diagnostics (atomic increments). */
        uint64_t unclaimed_reads, unclaimed_writes;
};

/* -EEXIST if the range overlaps a registered one, -ENOSPC if full. */
int io_register(struct io_map *io, const struct io_device *dev);
/* Dispatches one access; returns false if nobody claimed it (reads are then
 * filled with 0xff). */
bool io_dispatch(struct io_map *io, enum io_space space, uint64_t addr, void *data, unsigned size, bool is_write);
