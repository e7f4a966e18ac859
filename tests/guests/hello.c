/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hello: one line, then power off with 0. The start-to-exit benchmark, so
 * it does nothing else: no IDT, no command line, no boot-structure parsing.
 */
#include "runtime.h"

int guest_main(void)
{
        console_puts("Hello from the guestd test guest\n");
        return GUEST_EXIT_OK;
}
