/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * device.h: the contract between the launcher's core (the machine, the
 * vCPU loop) and its devices, one file each under devices/.
 *
 * A device claims a range of port I/O or MMIO space with io_register()
 * (io.h), and the vCPU loop hands it every guest access to that range.
 * Ops run on vCPU threads, so each device locks its own state.
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
#include "io.h"
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
