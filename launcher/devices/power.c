/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * power.c: how a guest without ACPI powers off. A write of value V to port
 * 0xf4 (any width up to 4 bytes) ends the guest: V = 0 is a clean power-off,
 * anything else a power-off reporting failure V. QEMU's isa-debug-exit
 * device sits at the same port, so the same payload ends cleanly under both
 * (QEMU exits with status (V << 1) | 1).
 *
 * And how a guest with ACPI does (acpi.h): the hardware-reduced FADT's
 * sleep control register, a byte at ACPI_SLEEP_CONTROL_PORT. The guest
 * writes SLP_TYP (bits 2-4) with SLP_EN (bit 5); the DSDT offers only \_S5,
 * so SLP_TYP 5 is the power-off and any other type is ignored (no sleep
 * state exists to enter). The status register beside it reads 0: the guest
 * never wakes, it ends.
 */
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "io.h"
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

#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x07

static void sleep_write(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct device_host *host = opaque;
        uint8_t v = *(const uint8_t *) data;

        if (offset != 0 || !(v & SLP_EN))
                return; /* the status register, or SLP_TYP set without SLP_EN */
        if (((v >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == ACPI_S5_SLP_TYP)
                host->request_exit(host, GUEST_EXIT_POWEROFF, "guest powered off (ACPI S5)");
}

static void sleep_read_zero(void *opaque, uint64_t offset, void *data, unsigned size) {
        memset(data, 0, size);
}

int acpi_sleep_create(struct io_map *io, struct device_host *host) {
        return io_register(io, &(struct io_device) {
                .name = "acpi-sleep", .space = IO_PIO, .base = ACPI_SLEEP_CONTROL_PORT, .len = 2,
                .opaque = host, .read = sleep_read_zero, .write = sleep_write,
        });
}

int power_create(struct io_map *io, struct device_host *host) {
        return io_register(io, &(struct io_device) {
                .name = "power", .space = IO_PIO, .base = POWER_PORT, .len = 4,
                .opaque = host, .write = power_write,
        });
}
