/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* power.h: the power-off port (QEMU isa-debug-exit compatible, 0xf4). */
#pragma once

#include "device.h"

#define POWER_PORT 0xf4

/* No guest-visible state: nothing to save. */
int power_create(struct io_map *io, struct device_host *host);
/* The ACPI sleep control and status registers (acpi.h): S5 powers off. */
int acpi_sleep_create(struct io_map *io, struct device_host *host);
