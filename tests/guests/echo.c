/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo: console input. Reads lines from COM1 (polling LSR's data-ready
 * bit), answers each with "echo: <LINE IN UPPER CASE>", and powers off with
 * 0 on the line "quit". Tests feed it through the launcher's console.
 */
#include "runtime.h"

#define COM1 0x3f8
#define LSR_DR 0x01

static char read_char(void)
{
        while (!(inb(COM1 + 5) & LSR_DR))
                compiler_barrier();
        return (char) inb(COM1);
}

int guest_main(void)
{
        char line[128];
        size_t len = 0;

        console_puts("echo: ready\n");
        for (;;) {
                char c = read_char();
                if (c == '\r' || c == '\n') {
                        line[len] = 0;
                        if (len == 4 && strncmp(line, "QUIT", 4) == 0) {
                                console_puts("echo: bye\n");
                                return GUEST_EXIT_OK;
                        }
                        if (len > 0)
                                console_printf("echo: %s\n", line);
                        len = 0;
                } else if (len < sizeof(line) - 1)
                        line[len++] = (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
        }
}
