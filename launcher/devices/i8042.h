/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* i8042.h: the PC keyboard controller, only as far as a CPU reset goes. */
#pragma once

#include "device.h"

struct i8042_state {
        uint8_t pending_command; /* command awaiting a data byte on port 0x60 */
};

struct i8042;
int i8042_create(struct bus *bus, struct device_host *host, struct i8042 **ret);
struct i8042 *i8042_free(struct i8042 *k);
void i8042_save(struct i8042 *k, struct i8042_state *ret);
int i8042_restore(struct i8042 *k, const struct i8042_state *state);
