/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * i8042.c: the keyboard controller at ports 0x60 (data) and 0x64 (status
 * and commands); see i8042.h.
 *
 * Bytes for the guest wait in a queue; the one at its head is the output
 * buffer (status bit 0). While the configuration byte enables the keyboard
 * interrupt, a full output buffer holds IRQ 1 high; reading the data port
 * takes the byte, drops the line, and raises it again for the next one, so
 * an edge-triggered PIC or IOAPIC sees one edge per byte.
 *
 * Resets: command 0xfe pulses the CPU's reset line, and so does writing an
 * output-port value with bit 0 clear after command 0xd1.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "i8042.h"
#include "io.h"

#define I8042_DATA_PORT 0x60
#define I8042_COMMAND_PORT 0x64

/* Status register. */
#define STR_OBF 0x01    /* output buffer full */
#define STR_SYS 0x04    /* self test passed */
#define STR_CMD 0x08    /* last write was to the command port */
#define STR_UNLOCK 0x10 /* keyboard not inhibited by the key lock */
#define STR_AUXDATA 0x20

/* Configuration byte. */
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

/* Controller commands (port 0x64). */
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_INPUT 0xc0
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OUT 0xd2
#define CMD_WRITE_AUX_OUT 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_PULSE_RESET 0xfe

/* Keyboard commands (port 0x60) and answers. */
#define KBD_SET_LEDS 0xed
#define KBD_ECHO 0xee
#define KBD_SCANCODE_SET 0xf0
#define KBD_GET_ID 0xf2
#define KBD_SET_RATE 0xf3
#define KBD_ENABLE 0xf4
#define KBD_DISABLE 0xf5
#define KBD_DEFAULTS 0xf6
#define KBD_RESEND 0xfe
#define KBD_RESET 0xff
#define KBD_ACK 0xfa
#define KBD_BAT_OK 0xaa

#define CTR_DEFAULT (CTR_KBDINT | CTR_SYS) /* no translation: scan code set 2 */

struct i8042 {
        pthread_mutex_t lock;
        struct device_host *host;
        struct i8042_state st;
};

/* Called with the lock held. */
static void update_irq(struct i8042 *k) {
        uint8_t level = k->st.queue_len > 0 && (k->st.ctr & CTR_KBDINT) ? 1 : 0;

        if (level != k->st.irq_level) {
                k->st.irq_level = level;
                k->host->irq_line(k->host, I8042_IRQ, level);
        }
}

static void queue_push(struct i8042 *k, uint8_t byte) {
        if (k->st.queue_len >= I8042_QUEUE_SIZE)
                return; /* a real controller loses it too */
        k->st.queue[(k->st.queue_head + k->st.queue_len) % I8042_QUEUE_SIZE] = byte;
        k->st.queue_len++;
}

static void queue_clear(struct i8042 *k) {
        k->st.queue_len = k->st.queue_head = 0;
}

static void i8042_read_data(void *opaque, uint64_t offset, void *data, unsigned size) {
        struct i8042 *k = opaque;
        uint8_t v = 0;

        pthread_mutex_lock(&k->lock);
        if (k->st.queue_len > 0) {
                v = k->st.queue[k->st.queue_head];
                k->st.queue_head = (k->st.queue_head + 1) % I8042_QUEUE_SIZE;
                k->st.queue_len--;
                /* One edge per byte: drop the line, raise it for the next. */
                if (k->st.irq_level) {
                        k->st.irq_level = 0;
                        k->host->irq_line(k->host, I8042_IRQ, 0);
                }
                update_irq(k);
        }
        pthread_mutex_unlock(&k->lock);
        *(uint8_t *) data = v;
}

static void i8042_read_status(void *opaque, uint64_t offset, void *data, unsigned size) {
        struct i8042 *k = opaque;
        uint8_t v;

        pthread_mutex_lock(&k->lock);
        v = STR_UNLOCK | (k->st.ctr & CTR_SYS ? STR_SYS : 0) | (k->st.pending_command ? STR_CMD : 0) |
            (k->st.queue_len > 0 ? STR_OBF : 0);
        pthread_mutex_unlock(&k->lock);
        *(uint8_t *) data = v;
}

/* What the keyboard answers to a byte written to it. Lock held. */
static void keyboard_write(struct i8042 *k, uint8_t v) {
        uint8_t pending = k->st.kbd_pending;

        k->st.kbd_pending = 0;
        if (pending) {
                /* The parameter of an earlier command. */
                queue_push(k, KBD_ACK);
                if (pending == KBD_SCANCODE_SET && v == 0)
                        queue_push(k, k->st.ctr & CTR_XLATE ? 0x41 : 0x02); /* the set in use, as the host sees it */
                return;
        }
        switch (v) {
        case KBD_SET_LEDS:
        case KBD_SET_RATE:
        case KBD_SCANCODE_SET:
                k->st.kbd_pending = v;
                queue_push(k, KBD_ACK);
                break;
        case KBD_ECHO:
                queue_push(k, KBD_ECHO);
                break;
        case KBD_GET_ID:
                queue_push(k, KBD_ACK);
                queue_push(k, 0xab);
                queue_push(k, k->st.ctr & CTR_XLATE ? 0x41 : 0x83);
                break;
        case KBD_ENABLE:
                k->st.kbd_scanning = 1;
                queue_push(k, KBD_ACK);
                break;
        case KBD_DISABLE:
        case KBD_DEFAULTS:
                k->st.kbd_scanning = v == KBD_DEFAULTS;
                queue_push(k, KBD_ACK);
                break;
        case KBD_RESET:
                queue_clear(k);
                k->st.kbd_scanning = 1;
                queue_push(k, KBD_ACK);
                queue_push(k, KBD_BAT_OK);
                break;
        default:
                queue_push(k, KBD_ACK);
                break;
        }
}

static void i8042_write_command(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct i8042 *k = opaque;
        uint8_t v = *(const uint8_t *) data;

        if (v == CMD_PULSE_RESET) {
                k->host->request_exit(k->host, GUEST_EXIT_RESET, "guest requested a reset (i8042 command 0xfe)");
                return;
        }
        pthread_mutex_lock(&k->lock);
        k->st.pending_command = 0;
        switch (v) {
        case CMD_READ_CTR:
                queue_push(k, k->st.ctr);
                break;
        case CMD_WRITE_CTR:
        case CMD_WRITE_OUTPUT:
        case CMD_WRITE_KBD_OUT:
        case CMD_WRITE_AUX_OUT:
        case CMD_WRITE_AUX:
                k->st.pending_command = v;
                break;
        case CMD_AUX_DISABLE:
                k->st.ctr |= CTR_AUXDIS;
                break;
        case CMD_AUX_ENABLE:
                k->st.ctr &= ~CTR_AUXDIS;
                break;
        case CMD_AUX_TEST:
                queue_push(k, 0x01); /* clock line stuck low: there is no mouse port */
                break;
        case CMD_SELF_TEST:
                k->st.ctr |= CTR_SYS;
                queue_push(k, 0x55);
                break;
        case CMD_KBD_TEST:
                queue_push(k, 0x00);
                break;
        case CMD_KBD_DISABLE:
                k->st.ctr |= CTR_KBDDIS;
                break;
        case CMD_KBD_ENABLE:
                k->st.ctr &= ~CTR_KBDDIS;
                break;
        case CMD_READ_INPUT:
                queue_push(k, 0x80); /* keyboard not inhibited */
                break;
        case CMD_READ_OUTPUT:
                queue_push(k, 0x01 | (k->st.queue_len ? 0x10 : 0)); /* reset line high; output buffer full */
                break;
        default:
                break; /* commands without an effect here (0xf0-0xfd pulse nothing but reset) */
        }
        update_irq(k);
        pthread_mutex_unlock(&k->lock);
}

static void i8042_write_data(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct i8042 *k = opaque;
        uint8_t v = *(const uint8_t *) data;
        bool reset = false;

        pthread_mutex_lock(&k->lock);
        switch (k->st.pending_command) {
        case CMD_WRITE_CTR:
                k->st.ctr = v;
                k->st.configured = 1;
                break;
        case CMD_WRITE_OUTPUT:
                reset = !(v & 1);
                break;
        case CMD_WRITE_KBD_OUT:
                queue_push(k, v); /* as if the keyboard had sent it */
                break;
        case CMD_WRITE_AUX_OUT:
        case CMD_WRITE_AUX:
                /* No mouse: the loopback answers without the AUX flag,
                 * which tells a driver the port is missing; a byte for the
                 * mouse goes nowhere. */
                if (k->st.pending_command == CMD_WRITE_AUX_OUT)
                        queue_push(k, v);
                break;
        default:
                keyboard_write(k, v);
                break;
        }
        k->st.pending_command = 0;
        update_irq(k);
        pthread_mutex_unlock(&k->lock);
        if (reset)
                k->host->request_exit(k->host, GUEST_EXIT_RESET, "guest requested a reset (i8042 output port)");
}

/* Lock held. */
static bool keyboard_ready(const struct i8042 *k, const char **ret_why) {
        const char *why = NULL;

        /* The keyboard's interrupt is not required: a driver may poll. */
        if (!k->st.configured)
                why = "no keyboard driver has set up the i8042";
        else if (k->st.ctr & CTR_KBDDIS)
                why = "the keyboard port is disabled";
        else if (!k->st.kbd_scanning)
                why = "the keyboard is not enabled (no driver has set it up)";
        if (ret_why)
                *ret_why = why;
        return !why;
}

bool i8042_keyboard_ready(struct i8042 *k, const char **ret_why) {
        bool ready;

        pthread_mutex_lock(&k->lock);
        ready = keyboard_ready(k, ret_why);
        pthread_mutex_unlock(&k->lock);
        return ready;
}

int i8042_ctrl_alt_del(struct i8042 *k, const char **ret_why) {
        /* Left Ctrl, left Alt, Delete (an extended key) down, then up in
         * reverse order. Set 2 releases with an 0xf0 prefix; set 1 (what a
         * translating controller delivers) with bit 7 set. */
        static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
        static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
        const uint8_t *codes;
        size_t n;
        int r = 0;

        pthread_mutex_lock(&k->lock);
        if (!keyboard_ready(k, ret_why))
                r = -ENODEV;
        else {
                codes = k->st.ctr & CTR_XLATE ? set1 : set2;
                n = k->st.ctr & CTR_XLATE ? sizeof(set1) : sizeof(set2);
                if (k->st.queue_len + n > I8042_QUEUE_SIZE) {
                        if (ret_why)
                                *ret_why = "the guest has not read the keyboard's earlier bytes";
                        r = -ENOBUFS;
                } else {
                        for (size_t i = 0; i < n; i++)
                                queue_push(k, codes[i]);
                        update_irq(k);
                }
        }
        pthread_mutex_unlock(&k->lock);
        return r;
}

int i8042_create(struct io_map *io, struct device_host *host, struct i8042 **ret) {
        struct i8042 *k = calloc(1, sizeof(*k));
        int r;

        if (!k)
                return -ENOMEM;
        pthread_mutex_init(&k->lock, NULL);
        k->host = host;
        k->st.ctr = CTR_DEFAULT;
        k->st.kbd_scanning = 1; /* an AT keyboard scans after power-on */
        r = io_register(io, &(struct io_device) {
                .name = "i8042-data", .space = IO_PIO, .base = I8042_DATA_PORT, .len = 1,
                .opaque = k, .read = i8042_read_data, .write = i8042_write_data,
        });
        if (r >= 0)
                r = io_register(io, &(struct io_device) {
                        .name = "i8042-command", .space = IO_PIO, .base = I8042_COMMAND_PORT, .len = 1,
                        .opaque = k, .read = i8042_read_status, .write = i8042_write_command,
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

static bool command_takes_data(uint8_t c) {
        return c == 0 || c == CMD_WRITE_CTR || c == CMD_WRITE_OUTPUT || c == CMD_WRITE_KBD_OUT || c == CMD_WRITE_AUX_OUT ||
               c == CMD_WRITE_AUX;
}

int i8042_restore(struct i8042 *k, const struct i8042_state *state) {
        if (!command_takes_data(state->pending_command) || state->queue_len > I8042_QUEUE_SIZE ||
            state->queue_head >= I8042_QUEUE_SIZE || state->irq_level > 1 || state->kbd_scanning > 1 || state->configured > 1 ||
            (state->kbd_pending != 0 && state->kbd_pending != KBD_SET_LEDS && state->kbd_pending != KBD_SET_RATE &&
             state->kbd_pending != KBD_SCANCODE_SET))
                return -EINVAL;
        pthread_mutex_lock(&k->lock);
        k->st = *state;
        /* The irqchip's own state came back with the VM's; the line's
         * level is ours to match. */
        k->host->irq_line(k->host, I8042_IRQ, k->st.irq_level);
        pthread_mutex_unlock(&k->lock);
        return 0;
}

int i8042_restore_sized(struct i8042 *k, const void *state, size_t size) {
        struct i8042_state st;

        if (size == sizeof(st))
                memcpy(&st, state, sizeof(st));
        else if (size == I8042_STATE_V1_SIZE) {
                /* Before the keyboard: a controller as it is at power-on,
                 * with the pending command it had. */
                st = (struct i8042_state) { .ctr = CTR_DEFAULT, .kbd_scanning = 1 };
                st.pending_command = *(const uint8_t *) state;
                if (st.pending_command != 0 && st.pending_command != CMD_WRITE_OUTPUT)
                        return -EINVAL;
        } else
                return -EINVAL;
        return i8042_restore(k, &st);
}
