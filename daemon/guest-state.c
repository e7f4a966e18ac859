/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest-state.c: see guest-state.h. */
#include <stdio.h>
#include <string.h>

#include "guest-state.h"

static const char *const guest_state_table[_GUEST_STATE_MAX] = {
        [GUEST_DEFINED] = "defined",
        [GUEST_STARTING] = "starting",
        [GUEST_RUNNING] = "running",
        [GUEST_PAUSED] = "paused",
        [GUEST_STOPPING] = "stopping",
        [GUEST_STOPPED] = "stopped",
        [GUEST_CRASHED] = "crashed",
        [GUEST_SUSPENDING] = "suspending",
        [GUEST_SUSPENDED] = "suspended",
};

const char *guest_state_to_string(enum guest_state s) {
        if (s < 0 || s >= _GUEST_STATE_MAX)
                return NULL;
        return guest_state_table[s];
}

enum guest_state guest_state_from_string(const char *s) {
        for (size_t i = 0; s && i < _GUEST_STATE_MAX; i++)
                if (strcmp(guest_state_table[i], s) == 0)
                        return (enum guest_state) i;
        return _GUEST_STATE_INVALID;
}

bool guest_state_is_active(enum guest_state s) {
        return s == GUEST_STARTING || s == GUEST_RUNNING || s == GUEST_PAUSED || s == GUEST_STOPPING || s == GUEST_SUSPENDING;
}

#define S(x) (1u << (x))
/* transitions[from] = the states the daemon may move a guest to. Every
 * active state can end in stopped or crashed: a launcher may die at any
 * moment, and what it said last decides which. A suspend that fails goes
 * back to running or paused; a resume that fails (starting) goes back to
 * suspended, its snapshot kept; Stop(force) discards a snapshot. A Start
 * that fails before its launcher exists (its files did not open) puts
 * back the state it found, "defined" included. */
static const unsigned guest_transitions[_GUEST_STATE_MAX] = {
        [GUEST_DEFINED] = S(GUEST_STARTING),
        [GUEST_STARTING] = S(GUEST_DEFINED) | S(GUEST_RUNNING) | S(GUEST_PAUSED) | S(GUEST_STOPPING) | S(GUEST_STOPPED) | S(GUEST_CRASHED) |
                           S(GUEST_SUSPENDED),
        [GUEST_RUNNING] = S(GUEST_PAUSED) | S(GUEST_STOPPING) | S(GUEST_STOPPED) | S(GUEST_CRASHED) | S(GUEST_SUSPENDING),
        [GUEST_PAUSED] = S(GUEST_RUNNING) | S(GUEST_STOPPING) | S(GUEST_STOPPED) | S(GUEST_CRASHED) | S(GUEST_SUSPENDING),
        [GUEST_STOPPING] = S(GUEST_STOPPED) | S(GUEST_CRASHED),
        [GUEST_STOPPED] = S(GUEST_STARTING),
        [GUEST_CRASHED] = S(GUEST_STARTING) | S(GUEST_STOPPED),
        [GUEST_SUSPENDING] = S(GUEST_SUSPENDED) | S(GUEST_RUNNING) | S(GUEST_PAUSED) | S(GUEST_STOPPING) | S(GUEST_STOPPED) |
                             S(GUEST_CRASHED),
        [GUEST_SUSPENDED] = S(GUEST_STARTING) | S(GUEST_STOPPED),
};

bool guest_state_transition_allowed(enum guest_state from, enum guest_state to) {
        if (from < 0 || from >= _GUEST_STATE_MAX || to < 0 || to >= _GUEST_STATE_MAX)
                return false;
        return guest_transitions[from] & S(to);
}

#undef S
