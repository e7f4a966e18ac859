/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * i8042.c: the keyboard controller at ports 0x60/0x64. Guests without ACPI
 * reboot through it: command 0xfe pulses the CPU's reset line, and so does
 * writing an output-port value with bit 0 clear after command 0xd1. We have
 * no keyboard, so the status register says "nothing to read, ready for
 * input", and data reads give 0.
 */
#include <pthread.h>
#include <stdlib.h>

#include "i8042.h"

#define I8042_DATA_PORT 0x60
#define I8042_COMMAND_PORT 0x64
#define I8042_CMD_WRITE_OUTPUT 0xd1
#define I8042_CMD_PULSE_RESET 0xfe

struct i8042 {
        pthread_mutex_t lock;
        struct device_host *host;
        struct i8042_state st;
};

static void i8042_read(void *opaque, uint64_t offset, void *data, unsigned size) {
        *(uint8_t *) data = 0; /* status: output buffer empty; data: none */
}

static void i8042_write_command(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct i8042 *k = opaque;
        uint8_t v = *(const uint8_t *) data;

        if (v == I8042_CMD_PULSE_RESET) {
                k->host->request_exit(k->host, GUEST_EXIT_RESET, "guest requested a reset (i8042 command 0xfe)");
                return;
        }
        pthread_mutex_lock(&k->lock);
        k->st.pending_command = v == I8042_CMD_WRITE_OUTPUT ? v : 0;
        pthread_mutex_unlock(&k->lock);
}

static void i8042_write_data(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct i8042 *k = opaque;
        uint8_t v = *(const uint8_t *) data;
        bool reset;

        pthread_mutex_lock(&k->lock);
        reset = k->st.pending_command == I8042_CMD_WRITE_OUTPUT && !(v & 1);
        k->st.pending_command = 0;
        pthread_mutex_unlock(&k->lock);
        if (reset)
                k->host->request_exit(k->host, GUEST_EXIT_RESET, "guest requested a reset (i8042 output port)");
}

int i8042_create(struct bus *bus, struct device_host *host, struct i8042 **ret) {
        struct i8042 *k = calloc(1, sizeof(*k));
        int r;

        if (!k)
                return -ENOMEM;
        pthread_mutex_init(&k->lock, NULL);
        k->host = host;
        r = bus_register(bus, &(struct bus_device) {
                .name = "i8042-data", .space = BUS_PIO, .base = I8042_DATA_PORT, .len = 1,
                .opaque = k, .read = i8042_read, .write = i8042_write_data,
        });
        if (r >= 0)
                r = bus_register(bus, &(struct bus_device) {
                        .name = "i8042-command", .space = BUS_PIO, .base = I8042_COMMAND_PORT, .len = 1,
                        .opaque = k, .read = i8042_read, .write = i8042_write_command,
                });
        if (r < 0) {
                i8042_free(k);
                return r;
        }
        *ret = k;
        return 0;
}

struct i8042 *i8042_free(struct i8042 *k) {
        if (k) {
                pthread_mutex_destroy(&k->lock);
                free(k);
        }
        return NULL;
}

void i8042_save(struct i8042 *k, struct i8042_state *ret) {
        pthread_mutex_lock(&k->lock);
        *ret = k->st;
        pthread_mutex_unlock(&k->lock);
}

int i8042_restore(struct i8042 *k, const struct i8042_state *state) {
        if (state->pending_command != 0 && state->pending_command != I8042_CMD_WRITE_OUTPUT)
                return -EINVAL;
        pthread_mutex_lock(&k->lock);
        k->st = *state;
        pthread_mutex_unlock(&k->lock);
        return 0;
}
