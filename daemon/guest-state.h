/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-state.h: a guest's states, and the state changes the daemon may
 * make (guest_state_transition_allowed): every guest_transition() is
 * checked against this table. Which request a user may make in which
 * state, and what it does, is verbs.h's table. Pure data.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>

enum guest_state {
        GUEST_DEFINED,
        GUEST_STARTING,
        GUEST_RUNNING,
        GUEST_PAUSED,
        GUEST_STOPPING,
        GUEST_STOPPED,
        GUEST_CRASHED,
        GUEST_SUSPENDING, /* the launcher writes the snapshot */
        GUEST_SUSPENDED,  /* no launcher; the guest lives in its snapshot */
        _GUEST_STATE_MAX,
        _GUEST_STATE_INVALID = -EINVAL,
};

const char *guest_state_to_string(enum guest_state s);
enum guest_state guest_state_from_string(const char *s);
/* starting, running, paused, stopping, suspending: a launcher exists and
 * the guest is charged for running, vCPUs and memory. */
bool guest_state_is_active(enum guest_state s);
bool guest_state_transition_allowed(enum guest_state from, enum guest_state to);
/* What a user may ask of a guest (verbs.h: in which states, and what it does). */
enum guest_verb {
        GUEST_VERB_START,
        GUEST_VERB_STOP,
        GUEST_VERB_PAUSE,
        GUEST_VERB_UNPAUSE,
        GUEST_VERB_REMOVE,
        GUEST_VERB_CONSOLE,
        GUEST_VERB_SUSPEND,
        GUEST_VERB_RESUME,
        _GUEST_VERB_MAX,
};

