/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "guest-exit.h"
#include "util.h"

static const char *const guest_exit_table[] = {
        [GUEST_EXIT_POWEROFF] = "powered off",
        [GUEST_EXIT_LAUNCHER_ERROR] = "launcher error",
        [GUEST_EXIT_RESET] = "reset requested",
        [GUEST_EXIT_SHUTDOWN] = "triple fault",
        [GUEST_EXIT_INTERNAL_ERROR] = "KVM internal error",
        [GUEST_EXIT_GUEST_FAILURE] = "guest reported failure",
        [GUEST_EXIT_STOPPED] = "stopped by request",
        [GUEST_EXIT_SUSPENDED] = "suspended to a snapshot",
};

const char *guest_exit_to_string(int e) {
        if (e < 0 || (unsigned) e >= ELEMENTSOF(guest_exit_table) || !guest_exit_table[e])
                return "unknown";
        return guest_exit_table[e];
}
