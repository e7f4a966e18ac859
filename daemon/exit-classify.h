/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exit-classify.h: how a launcher ended, as the guest's next state and the
 * reason the user reads. Pure: supervise.c gathers what it saw (the
 * child's wait status, the launcher's last messages, what guestd itself
 * asked for) and this decides; daemon/test-exit-classify covers each rule.
 *
 * The rules, first match wins:
 *  1. killed by SIGSYS, or (no wait status, after a daemon restart) the
 *     launcher reported a sandbox violation: crashed, the violation;
 *  2. guestd ended it for breaking the protocol: crashed;
 *  3. guestd killed it (Stop with force, a stop that ran out of time)
 *     before it said "exited": stopped, guestd's reason;
 *  4. it said "exited": the exit status's state (exit_classify_status);
 *     during a Stop: a guest that was asked and then reset or powered
 *     off has shut down by itself; one the launcher stopped (the plug)
 *     was stopped without its part, and the reason says why; any other
 *     reset or power-off during a Stop is the stop;
 *  5. it exited with a status but said nothing: that status's state;
 *  6. any other signal: crashed, the signal;
 *  7. nothing known: crashed.
 * Suspend and resume add their own rules on top (supervise.c), since
 * they depend on the snapshot file.
 */
#pragma once

#include <stdbool.h>

#include "guest-state.h"
#include "launcher-conn.h"

struct launcher_end {
        bool have_status; /* waitid() told us: wait_code and wait_status are set */
        int wait_code, wait_status;
        bool violation_received;
        const char *violation_reason; /* NULL: not known which call */
        const char *protocol_error;   /* guestd ended it for this */
        bool kill_requested;
        const char *kill_reason;
        bool exited_received;
        int exit_code; /* enum guest_exit, from "exited" */
        const char *exit_reason;
        bool stop_requested;
        enum stop_mode stop_mode;
        bool stop_power_button; /* STOP_ASKED by the ACPI power button (else Ctrl-Alt-Del) */
        const char *stop_why; /* STOP_PLUG: why the guest took no part */
};

/* Returns the state; *ret_reason is allocated (NULL only when out of
 * memory). */
enum guest_state exit_classify(const struct launcher_end *e, char **ret_reason);

/* One exit status (enum guest_exit) and the launcher's reason, if any. */
enum guest_state exit_classify_status(int exit_code, const char *reason, char **ret_reason);
