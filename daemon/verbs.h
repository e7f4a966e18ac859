/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs.h: what anyone may ask of a guest, through one entry.
 *
 * A bus method (bus.c), logind's shutdown (logind.c) and a power-off
 * signal to the launcher (machined's poweroff, launcher-events.c) all ask
 * through verb_request(): one table (verbs.c) says in which states each
 * request is allowed, what to tell the user otherwise, whether it waits
 * for the launcher, whether the host's shutdown refuses it, what quota it
 * is charged against, and what it does (start.h, stop.h, suspend.h).
 * Who may ask (the caller's uid, polkit) is the bus's to decide before.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "guest.h"
#include "manager.h"

/* 0 if verb is allowed in state; otherwise -EBUSY and, if ret_message is
 * given, a sentence for the user ("Guest 'x' is stopped; start it first."). */
int verb_allowed(enum guest_verb verb, enum guest_state state, const char *name, char **ret_message);
/* The same, as org.guestd1.Error.BadState in error. */
int verb_check(struct guest *g, enum guest_verb verb, sd_bus_error *error);
/* What the table says of verb, for its documentation (docs/design.md's
 * table is printed from it: test-guest --table). */
struct verb_info {
        const char *name;
        unsigned allowed; /* a bit per enum guest_state */
        bool waits, not_at_shutdown;
        const char *quota; /* "-", "running, vCPUs, memory", "snapshot storage" */
        const char *does;
};
int verb_info(enum guest_verb verb, struct verb_info *ret);
/* Asks verb of g: checks (state, calls waiting, the host's shutdown, the
 * owner's quota), then acts. call (NULL: nobody waits) is answered by the
 * act, at once or when the launcher has done it; on failure error is set
 * (error may be NULL) and call is not answered. force: Stop's. */
int verb_request(struct guest *g, enum guest_verb verb, bool force, sd_bus_message *call, sd_bus_error *error);
