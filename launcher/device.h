/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * device.h: the contract between the launcher's core (vm.c, the vCPU loop)
 * and its devices, one file each under devices/.
 *
 * A device claims a range of port I/O or MMIO space with bus_register().
 * The vCPU loop hands every KVM_EXIT_IO / KVM_EXIT_MMIO to bus_dispatch(),
 * which finds the device and calls its read or write op; an access nobody
 * claims reads as all-ones and its writes are dropped and counted, never a
 * crash. Ops run on vCPU threads, so each device locks its own state.
 *
 * A device reaches back to the machine only through struct device_host:
 * guest memory (always through guest_memory_ptr()), its interrupt line, and
 * a way to end the guest (power-off, reset). Unit tests give devices a fake
 * host, so device logic is tested without KVM.
 *
 * Snapshots: every device keeps its guest-visible state in one plain-data
 * struct (no pointers, no fds) that it can copy out (save) and take back
 * after validating it (restore).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest-exit.h"
#include "memory.h"
#include "util.h"

struct device_host {
        struct guest_memory *mem;
        /* Sets the level of a (GSI) interrupt line; edge-triggered lines
         * fire on the rising edge. */
        void (*irq_line)(struct device_host *host, unsigned irq, int level);
        /* Ends the guest: all vCPUs stop and the launcher exits with e. The
         * reason is one line, without a trailing newline. First call wins. */
        void (*request_exit)(struct device_host *host, enum guest_exit e, const char *reason);
};

enum bus_space { BUS_PIO, BUS_MMIO };

struct bus_device {
        const char *name;
        enum bus_space space;
        uint64_t base, len;
        void *opaque;
        /* offset is from base; size is 1, 2, 4 or 8; data is little-endian. */
        void (*read)(void *opaque, uint64_t offset, void *data, unsigned size);
        void (*write)(void *opaque, uint64_t offset, const void *data, unsigned size);
};

#define BUS_MAX_DEVICES 32

struct bus {
        struct bus_device devices[BUS_MAX_DEVICES];
        unsigned n_devices;
        /* Accesses nobody claimed, for diagnostics (atomic increments). */
        uint64_t unclaimed_reads, unclaimed_writes;
};

/* -EEXIST if the range overlaps a registered one, -ENOSPC if full. */
int bus_register(struct bus *bus, const struct bus_device *dev);
/* Dispatches one access; returns false if nobody claimed it (reads are then
 * filled with 0xff). */
bool bus_dispatch(struct bus *bus, enum bus_space space, uint64_t addr, void *data, unsigned size, bool is_write);
