/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-events.h: what a guest's launcher says and does, as state
 * changes: its messages (one table: which may come in which state, and
 * what each does) and its end (how it ended decides the guest's next
 * state and reason, exit-classify.h; a suspending one's snapshot is
 * committed; every call still waiting is answered).
 */
#pragma once

#include "guest.h"
#include "manager.h"

/* Follows g's launcher (g->conn's pidfd and control socket set, and
 * g->launcher_pid): its messages and its end. */
int launcher_events_watch(struct guest *g);
