/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-classify.h"
#include "guest-exit.h"
#include "util.h"

static const struct {
        int code;
        enum guest_state state;
        const char *reason; /* when the launcher gave none */
} exit_table[] = {
        { GUEST_EXIT_POWEROFF, GUEST_STOPPED, "guest powered off" },
        { GUEST_EXIT_STOPPED, GUEST_STOPPED, "stopped on request" },
        { GUEST_EXIT_LAUNCHER_ERROR, GUEST_CRASHED, "the launcher failed" },
        { GUEST_EXIT_RESET, GUEST_CRASHED, "guest asked for a CPU reset (reboot is not supported)" },
        { GUEST_EXIT_SHUTDOWN, GUEST_CRASHED, "triple fault" },
        { GUEST_EXIT_INTERNAL_ERROR, GUEST_CRASHED, "KVM internal error (emulation failure)" },
        { GUEST_EXIT_GUEST_FAILURE, GUEST_CRASHED, "guest powered off reporting failure" },
};

enum guest_state exit_classify_status(int exit_code, const char *reason, char **ret_reason) {
        for (size_t i = 0; i < ELEMENTSOF(exit_table); i++)
                if (exit_table[i].code == exit_code) {
                        *ret_reason = strdup(reason && *reason ? reason : exit_table[i].reason);
                        return exit_table[i].state;
                }
        if (asprintf(ret_reason, "the launcher exited with status %d%s%s", exit_code, reason && *reason ? ": " : "",
                     reason ? reason : "") < 0)
                *ret_reason = NULL;
        return GUEST_CRASHED;
}

enum guest_state exit_classify(const struct launcher_end *e, char **ret_reason) {
        enum guest_state state;

        *ret_reason = NULL;
        if ((e->have_status && (e->wait_code == CLD_KILLED || e->wait_code == CLD_DUMPED) && e->wait_status == SIGSYS) ||
            (!e->have_status && e->violation_received)) {
                *ret_reason = strdup(e->violation_reason ? e->violation_reason
                                                         : "sandbox violation (SIGSYS); the launcher did not say which system call");
                return GUEST_CRASHED;
        }
        if (e->protocol_error) {
                if (asprintf(ret_reason, "launcher protocol error: %s", e->protocol_error) < 0)
                        *ret_reason = NULL;
                return GUEST_CRASHED;
        }
        if (e->kill_requested && e->kill_reason && !e->exited_received) {
                *ret_reason = strdup(e->kill_reason);
                return GUEST_STOPPED;
        }
        if (e->exited_received) {
                state = exit_classify_status(e->exit_code, e->exit_reason, ret_reason);
                if (!e->stop_requested)
                        return state;
                /* A guest told to stop may end through a CPU reset (the
                 * i8042 path: how Linux without ACPI reboots, and what
                 * Ctrl-Alt-Del means to most inits) or power off: that is
                 * the stop, not a crash. */
                if (e->exit_code == GUEST_EXIT_RESET || e->exit_code == GUEST_EXIT_POWEROFF) {
                        free(*ret_reason);
                        *ret_reason = strdup(e->stop_mode != STOP_ASKED ? "stopped on request"
                                             : e->stop_power_button ? "shut down by the guest when asked (ACPI power button)"
                                                                    : "shut down by the guest when asked (Ctrl-Alt-Del)");
                        return GUEST_STOPPED;
                }
                if (e->exit_code == GUEST_EXIT_STOPPED) {
                        free(*ret_reason);
                        if (e->stop_why) {
                                if (asprintf(ret_reason, "stopped by guestd without the guest's part (%s); its vCPUs halted, its disks flushed",
                                             e->stop_why) < 0)
                                        *ret_reason = NULL;
                        } else
                                *ret_reason = strdup("stopped on request");
                        return GUEST_STOPPED;
                }
                return state;
        }
        if (e->have_status && e->wait_code == CLD_EXITED)
                return exit_classify_status(e->wait_status, NULL, ret_reason);
        if (e->have_status) {
                if (asprintf(ret_reason, "the launcher was killed by signal SIG%s", sigabbrev_np(e->wait_status) ?: "?") < 0)
                        *ret_reason = NULL;
                return GUEST_CRASHED;
        }
        *ret_reason = strdup("the launcher ended without saying why");
        return GUEST_CRASHED;
}
