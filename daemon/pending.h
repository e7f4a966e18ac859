/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pending.h: method calls answered later, when the launcher has done what
 * they asked (Start once the guest runs, Stop once the launcher ended,
 * Pause on the launcher's "state"). Each waits on its guest
 * (g->pending); a user may have PENDING_PER_USER of them, all guests
 * together, since each holds a message in guestd.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "guest.h"
#include "manager.h"

#define PENDING_PER_USER 64

/* 0 if the sender of call may have one more call waiting; else
 * org.guestd1.Error.LimitExceeded. */
int pending_check(struct manager *m, sd_bus_message *call, sd_bus_error *error);
/* call (NULL: nobody waits) is answered when verb's outcome is known. */
void pending_add(struct guest *g, sd_bus_message *call, enum guest_verb verb);
/* Answers every pending call for verb: success if error_name is NULL (a
 * Stop with the guest's reason: how it ended). */
void pending_answer(struct guest *g, enum guest_verb verb, const char *error_name, const char *message);
