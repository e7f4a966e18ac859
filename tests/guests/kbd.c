/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kbd: a guest with a keyboard driver of its own, polling. It sets the
 * i8042 up as a driver does (the configuration byte with the keyboard's
 * port on and, since it polls with interrupts off, the keyboard's
 * interrupt off; self test; scanning enabled), says "kbd: keyboard
 * ready", then reads scan codes (set 2) from the controller.
 *
 * The interrupt stays off from the first write on: an interrupt raised at
 * a guest with interrupts off stalls the nested test VM's emulated CPU
 * (QEMU TCG's SVM; tests/lib.sh, serial_flood_cmdline).
 *
 * kbd.listen=1 (the default): on Ctrl-Alt-Del (Ctrl and Alt held, Delete
 * pressed) it says "kbd: ctrl-alt-del, powering off" and powers off with
 * 0: a guest that shuts down when guestd's Stop asks it to.
 * kbd.listen=0: it says "kbd: ignoring ctrl-alt-del" and goes on printing
 * "kbd: tick N": a guest that is asked and does not shut down.
 */
#include "runtime.h"

#define DATA 0x60
#define STATUS 0x64
#define STR_OBF 0x01
#define STR_IBF 0x02

static void wait_input_empty(void)
{
        while (inb(STATUS) & STR_IBF)
                compiler_barrier();
}

static bool poll_byte(uint8_t *ret)
{
        if (!(inb(STATUS) & STR_OBF))
                return false;
        *ret = inb(DATA);
        return true;
}

static uint8_t read_byte(void)
{
        uint8_t v;
        while (!poll_byte(&v))
                compiler_barrier();
        return v;
}

static void command(uint8_t c)
{
        wait_input_empty();
        outb(STATUS, c);
}

static void write_data(uint8_t v)
{
        wait_input_empty();
        outb(DATA, v);
}

int guest_main(void)
{
        const char *cmdline = boot_info()->cmdline;
        bool listen = cmdline_get_uint(cmdline, "kbd.listen", 1) != 0;
        bool ctrl = false, alt = false, extended = false, release = false;
        uint64_t tick = 0, spin = 0;
        uint8_t v;

        trap_init();
        /* The configuration byte first, before any byte comes back: the
         * keyboard port on, no interrupt, no translation, "self test
         * passed". Then the self test, and the byte read back. */
        command(0x60);
        write_data(0x04);
        command(0xaa);
        if (read_byte() != 0x55)
                guest_fail("i8042 self test failed");
        command(0x20);
        if (read_byte() != 0x04)
                guest_fail("the i8042 configuration byte did not stick");
        /* The keyboard: scanning on. */
        write_data(0xf4);
        if (read_byte() != 0xfa)
                guest_fail("the keyboard did not acknowledge 0xf4");
        console_puts("kbd: keyboard ready\n");

        for (;;) {
                if (!poll_byte(&v)) {
                        if (!listen && ++spin % 2000000 == 0)
                                console_printf("kbd: tick %lu\n", tick++);
                        continue;
                }
                if (v == 0xe0) {
                        extended = true;
                        continue;
                }
                if (v == 0xf0) {
                        release = true;
                        continue;
                }
                if (!extended && v == 0x14)
                        ctrl = !release;
                else if (!extended && v == 0x11)
                        alt = !release;
                else if (extended && v == 0x71 && !release && ctrl && alt) {
                        if (listen) {
                                console_puts("kbd: ctrl-alt-del, powering off\n");
                                return GUEST_EXIT_OK;
                        }
                        console_puts("kbd: ignoring ctrl-alt-del\n");
                }
                extended = release = false;
        }
}
