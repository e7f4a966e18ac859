/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * count: prints "count N" for N = 0, 1, 2, ... with a busy delay between
 * lines: a guest that keeps running and keeps talking, for tests of the
 * console, pause/resume and stopping a guest.
 *
 * Options: count.delay=<loop iterations> between lines (default 60000,
 * about 10 lines a second under the instruction emulator, far more on a
 * host with hardware-assisted kernel mode), count.max=<N> lines then stop
 * (default 0: forever), count.then=poweroff|fail|reset|triple-fault|halt:
 * how to stop after count.max lines (default poweroff with 0).
 */
#include "runtime.h"

#define COUNT_DEFAULT_DELAY 60000

int guest_main(void)
{
        trap_init();
        const char *cmdline = boot_info()->cmdline;
        uint64_t delay = cmdline_get_uint(cmdline, "count.delay", COUNT_DEFAULT_DELAY);
        uint64_t max = cmdline_get_uint(cmdline, "count.max", 0);
        struct cmdline_token then = { 0 };
        bool have_then = cmdline_find(cmdline, "count.then", &then);
        if (have_then && !token_value_is(&then, "poweroff") && !token_value_is(&then, "fail") &&
            !token_value_is(&then, "reset") && !token_value_is(&then, "triple-fault") && !token_value_is(&then, "halt"))
                guest_fail("bad value for count.then: want poweroff, fail, reset, triple-fault or halt");

        for (uint64_t n = 0; max == 0 || n < max; n++) {
                console_printf("count %lu\n", n);
                for (uint64_t i = 0; i < delay; i++)
                        compiler_barrier();
        }

        console_printf("count: done after %lu lines\n", max);
        if (!have_then || token_value_is(&then, "poweroff"))
                return GUEST_EXIT_OK;
        if (token_value_is(&then, "fail"))
                guest_fail("count.then=fail");
        if (token_value_is(&then, "reset"))
                guest_reset();
        if (token_value_is(&then, "triple-fault"))
                guest_triple_fault();
        guest_halt_forever();
}
