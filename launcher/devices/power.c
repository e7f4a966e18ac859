/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * power.c: how a guest without ACPI powers off. A write of value V to port
 * 0xf4 (any width up to 4 bytes) ends the guest: V = 0 is a clean power-off,
 * anything else a power-off reporting failure V. QEMU's isa-debug-exit
 * device sits at the same port, so the same payload ends cleanly under both
 * (QEMU exits with status (V << 1) | 1).
 */
#include <stdio.h>
#include <string.h>

#include "power.h"

static void power_write(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct device_host *host = opaque;
        uint32_t v = 0;
        char reason[64];

        if (offset != 0)
                return;
        memcpy(&v, data, MIN(size, 4u));
        if (v == 0) {
                host->request_exit(host, GUEST_EXIT_POWEROFF, "guest powered off");
                return;
        }
        snprintf(reason, sizeof(reason), "guest powered off reporting failure %" PRIu32, v);
        host->request_exit(host, GUEST_EXIT_GUEST_FAILURE, reason);
}

int power_create(struct bus *bus, struct device_host *host) {
        return bus_register(bus, &(struct bus_device) {
                .name = "power", .space = BUS_PIO, .base = POWER_PORT, .len = 4,
                .opaque = host, .write = power_write,
        });
}
