/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * i8042.h: the PC keyboard controller with an AT keyboard behind it, as far
 * as guestd needs it: a CPU reset (how guests without ACPI reboot), and a
 * Ctrl-Alt-Del the launcher presses when guestd asks the guest to shut
 * down (Stop). Nobody types on this keyboard; it answers the commands a
 * driver sends while it probes and sets up (Linux's i8042 and atkbd), and
 * raises IRQ 1 for each byte it has for the guest.
 *
 * No mouse port: the AUX loopback and test commands report that there is
 * none, so a guest spends no time probing for one.
 */
#pragma once

#include "device.h"

#define I8042_IRQ 1
#define I8042_QUEUE_SIZE 16

struct i8042_state {
        uint8_t pending_command; /* controller command awaiting a data byte on port 0x60 */
        uint8_t ctr;             /* controller configuration byte ("command byte") */
        uint8_t kbd_pending;     /* keyboard command awaiting its parameter byte */
        uint8_t kbd_scanning;    /* the keyboard sends key codes (0xf4 / 0xf5) */
        uint8_t out_status;      /* status bits of the byte in the output buffer (none: 0) */
        uint8_t queue_len, queue_head;
        uint8_t irq_level;
        uint8_t configured; /* a driver has written the configuration byte */
        uint8_t queue[I8042_QUEUE_SIZE]; /* bytes for the guest, oldest at queue_head */
};
/* Snapshots made before the keyboard held only pending_command. */
#define I8042_STATE_V1_SIZE 1

struct i8042;
int i8042_create(struct io_map *io, struct device_host *host, struct i8042 **ret);
struct i8042 *i8042_free(struct i8042 *k);
void i8042_save(struct i8042 *k, struct i8042_state *ret);
int i8042_restore(struct i8042 *k, const struct i8042_state *state);
/* A state from a snapshot of size bytes (the current layout, or the
 * first one); -EINVAL for anything else. */
int i8042_restore_sized(struct i8042 *k, const void *state, size_t size);

/* Whether a driver has set the keyboard up so that a key press reaches
 * it: the configuration byte written, the keyboard port enabled, scanning
 * on (by interrupt or by polling). If not, *ret_why says what is missing. */
bool i8042_keyboard_ready(struct i8042 *k, const char **ret_why);
/* Presses and releases Ctrl-Alt-Del (scan code set 2, or set 1 where the
 * controller translates). Returns -ENODEV (and *ret_why) if no driver
 * listens, -ENOBUFS if the guest has not read what it was sent before. */
int i8042_ctrl_alt_del(struct i8042 *k, const char **ret_why);
