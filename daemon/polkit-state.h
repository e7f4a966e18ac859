/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit-state.h: what guestd's polkit client (polkit.h) keeps in struct
 * manager, declared apart so that manager.h needs none of its functions.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "util.h"

/* Questions out to polkit (or answered and not yet read) per uid. */
#define POLKIT_QUERIES_PER_USER 16
/* How long polkit may take; --polkit-timeout. */
#define POLKIT_TIMEOUT_USEC_DEFAULT (UINT64_C(25) * 1000000)
/* How long a manage grant is remembered for a bus name. */
#define POLKIT_GRANT_USEC (UINT64_C(5) * 60 * 1000000)
/* Grants remembered per uid (one per bus name); the oldest goes first. */
#define POLKIT_GRANTS_PER_USER 32

enum polkit_answer {
        POLKIT_DENIED = 0,  /* polkit said no (or "challenge": no agent could ask) */
        POLKIT_ALLOWED = 1,
        POLKIT_ABSENT = 2,  /* no polkit on the bus: the caller decides by today's rule */
        POLKIT_ASKING = 3,  /* asked: return 1 from the handler, it runs again with the answer */
};

struct polkit_query;
struct polkit_grant;

struct polkit_state {
        struct polkit_query **queries;
        size_t n_queries;
        struct polkit_grant **grants;
        size_t n_grants;
        usec_t timeout_usec;
        sd_event_source *sweep;  /* frees the questions whose answer was read */
        sd_bus_slot *probe_slot; /* the question at start: is polkit there? */
        int present;             /* -1: not known yet, 0: absent, 1: present (logged on each change) */
};
