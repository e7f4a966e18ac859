/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daemon.h: guestd's start and end, the one place that knows every part:
 * it makes the directories, reads the policy, wires each part's
 * listeners, loads the records, finds the running launchers again,
 * connects the bus; and at the end lets go of everything but the
 * launchers, which run on.
 */
#pragma once

#include "manager.h"

/* Creates directories, reads the policy, loads records, connects the bus
 * and exports the objects, finds running launchers again. */
int daemon_startup(struct manager *m);
/* Closes guestd's ends; launchers keep running. NULL. */
struct manager *daemon_free(struct manager *m);
static inline void daemon_freep(struct manager **m) {
        daemon_free(*m);
}
