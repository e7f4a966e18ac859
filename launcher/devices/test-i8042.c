/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-i8042.c: the keyboard controller as Linux's i8042 and atkbd drivers
 * drive it (self test, configuration byte, keyboard identification, one
 * interrupt edge per byte), the Ctrl-Alt-Del guestd's Stop presses (refused
 * before a driver has set the keyboard up; set 2, or set 1 when the
 * controller translates), both reset paths, no mouse port, and snapshots
 * (both layouts).
 */
#include <string.h>

#include "i8042.h"
#include "test.h"

struct fake_host {
        struct device_host host;
        int level, rising_edges, exits;
        enum guest_exit exit;
};

static void fake_irq(struct device_host *h, unsigned irq, int level) {
        struct fake_host *f = (struct fake_host *) h;
        CHECK_EQ(irq, I8042_IRQ);
        if (level && !f->level)
                f->rising_edges++;
        f->level = level;
}
static void fake_exit(struct device_host *h, enum guest_exit e, const char *reason) {
        struct fake_host *f = (struct fake_host *) h;
        f->exits++;
        f->exit = e;
}

static struct io_map io;
static uint8_t status(void) {
        uint8_t v;
        io_dispatch(&io, IO_PIO, 0x64, &v, 1, false);
        return v;
}
static uint8_t data(void) {
        uint8_t v;
        io_dispatch(&io, IO_PIO, 0x60, &v, 1, false);
        return v;
}
static void command(uint8_t v) {
        io_dispatch(&io, IO_PIO, 0x64, &v, 1, true);
}
static void write_data(uint8_t v) {
        io_dispatch(&io, IO_PIO, 0x60, &v, 1, true);
}
/* Reads every byte there is into out; returns the count. */
static size_t drain(uint8_t *out, size_t max) {
        size_t n = 0;
        while ((status() & 0x01) && n < max)
                out[n++] = data();
        return n;
}

int main(void) {
        struct fake_host f = { .host = { .irq_line = fake_irq, .request_exit = fake_exit } };
        struct i8042 *k, *k2;
        struct i8042_state st, st2;
        const char *why = NULL;
        uint8_t buf[32];
        size_t n;

        CHECK_EQ(i8042_create(&io, &f.host, &k), 0);
        CHECK_EQ(status() & 0x01, 0);
        CHECK(status() & 0x10); /* not locked */

        /* Before any driver: nothing to press. */
        CHECK_EQ(i8042_ctrl_alt_del(k, &why), -ENODEV);
        CHECK(why && strstr(why, "no keyboard driver"));
        CHECK(!i8042_keyboard_ready(k, NULL));

        /* Linux's probe: self test, the configuration byte twice, written
         * back with the keyboard disabled and its interrupt off. */
        command(0xaa);
        CHECK_EQ(data(), 0x55);
        command(0x20);
        uint8_t ctr = data();
        command(0x20);
        CHECK_EQ(data(), ctr);
        CHECK_EQ(ctr & 0x40, 0); /* no translation: set 2 */
        command(0x60);
        CHECK(status() & 0x08); /* a command awaits its data */
        write_data((uint8_t) ((ctr | 0x10) & ~0x01));
        CHECK_EQ(drain(buf, sizeof(buf)), 0);
        int edges = f.rising_edges; /* the power-on byte has KBDINT set: edges so far */
        /* No mouse: the loopback comes back without the AUX flag, the
         * port test says the clock line is stuck. */
        command(0xd3);
        write_data(0x5a);
        CHECK(status() & 0x01);
        CHECK_EQ(status() & 0x20, 0);
        CHECK_EQ(data(), 0x5a);
        command(0xa9);
        CHECK_EQ(data(), 0x01);
        command(0xab);
        CHECK_EQ(data(), 0x00);
        /* Polled since: no interrupt while KBDINT is off. */
        CHECK_EQ(f.rising_edges, edges);

        /* Keyboard port on, with its interrupt. */
        command(0x60);
        write_data((uint8_t) ((ctr & ~0x10) | 0x01));
        CHECK(!i8042_keyboard_ready(k, &why) || why == NULL); /* scanning is on after power-on */

        /* atkbd: GETID answers ACK, 0xab, 0x83, each byte its own edge. */
        edges = f.rising_edges;
        write_data(0xf2);
        CHECK_EQ(f.level, 1);
        CHECK_EQ(data(), 0xfa);
        CHECK_EQ(data(), 0xab);
        CHECK_EQ(data(), 0x83);
        CHECK_EQ(f.level, 0);
        CHECK_EQ(f.rising_edges - edges, 3);
        /* LEDs and rate take a parameter, each byte acknowledged. */
        write_data(0xed);
        CHECK_EQ(data(), 0xfa);
        write_data(0x00);
        CHECK_EQ(data(), 0xfa);
        write_data(0xf3);
        CHECK_EQ(data(), 0xfa);
        write_data(0x00);
        CHECK_EQ(data(), 0xfa);
        /* Scanning off: not ready; on again: ready. */
        write_data(0xf5);
        CHECK_EQ(data(), 0xfa);
        CHECK(!i8042_keyboard_ready(k, &why));
        CHECK_EQ(i8042_ctrl_alt_del(k, &why), -ENODEV);
        write_data(0xf4);
        CHECK_EQ(data(), 0xfa);
        CHECK(i8042_keyboard_ready(k, &why));
        write_data(0xee);
        CHECK_EQ(data(), 0xee);
        write_data(0xff);
        CHECK_EQ(data(), 0xfa);
        CHECK_EQ(data(), 0xaa);

        /* Ctrl-Alt-Del in set 2. */
        edges = f.rising_edges;
        CHECK_EQ(i8042_ctrl_alt_del(k, &why), 0);
        n = drain(buf, sizeof(buf));
        static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
        CHECK_EQ(n, sizeof(set2));
        CHECK(memcmp(buf, set2, sizeof(set2)) == 0);
        CHECK_EQ(f.rising_edges - edges, (int) sizeof(set2));
        /* A guest that does not read: the second press does not fit. */
        CHECK_EQ(i8042_ctrl_alt_del(k, &why), 0);
        CHECK_EQ(i8042_ctrl_alt_del(k, &why), -ENOBUFS);
        drain(buf, sizeof(buf));

        /* Translating: set 1. */
        command(0x60);
        write_data((uint8_t) ((ctr & ~0x10) | 0x01 | 0x40));
        CHECK_EQ(i8042_ctrl_alt_del(k, &why), 0);
        n = drain(buf, sizeof(buf));
        static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
        CHECK_EQ(n, sizeof(set1));
        CHECK(memcmp(buf, set1, sizeof(set1)) == 0);

        /* Snapshot: the state survives, with a byte waiting. */
        write_data(0xf2);
        CHECK_EQ(data(), 0xfa);
        i8042_save(k, &st);
        CHECK_EQ(st.queue_len, 2);
        CHECK_EQ(i8042_free(k), NULL);
        memset(&io, 0, sizeof(io));
        CHECK_EQ(i8042_create(&io, &f.host, &k2), 0);
        CHECK_EQ(i8042_restore_sized(k2, &st, sizeof(st)), 0);
        i8042_save(k2, &st2);
        CHECK(memcmp(&st, &st2, sizeof(st)) == 0);
        CHECK_EQ(data(), 0xab);
        CHECK_EQ(data(), 0x41);
        /* Bad states are refused. */
        st2.queue_len = I8042_QUEUE_SIZE + 1;
        CHECK_EQ(i8042_restore(k2, &st2), -EINVAL);
        st2 = st;
        st2.pending_command = 0x20;
        CHECK_EQ(i8042_restore(k2, &st2), -EINVAL);
        CHECK_EQ(i8042_restore_sized(k2, &st, 3), -EINVAL);
        /* The first layout: the pending command only. */
        uint8_t v1 = 0xd1;
        CHECK_EQ(i8042_restore_sized(k2, &v1, I8042_STATE_V1_SIZE), 0);
        i8042_save(k2, &st2);
        CHECK_EQ(st2.pending_command, 0xd1);
        CHECK_EQ(st2.configured, 0);
        v1 = 0x60;
        CHECK_EQ(i8042_restore_sized(k2, &v1, I8042_STATE_V1_SIZE), -EINVAL);

        /* Resets: command 0xfe, and output port bit 0 cleared. */
        CHECK_EQ(i8042_restore_sized(k2, &(uint8_t) { 0 }, 1), 0);
        command(0xfe);
        CHECK_EQ(f.exits, 1);
        CHECK_EQ(f.exit, GUEST_EXIT_RESET);
        command(0xd1);
        write_data(0x01); /* bit 0 set: no reset */
        CHECK_EQ(f.exits, 1);
        command(0xd1);
        write_data(0x00);
        CHECK_EQ(f.exits, 2);
        i8042_free(k2);
        return TEST_RESULT();
}
