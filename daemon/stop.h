/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stop.h: ending a guest's launcher. A Stop without force first asks the
 * guest (Ctrl-Alt-Del, or the ACPI power button) and waits up to the
 * policy's timeouts.stop; if nobody can be asked, or the time runs out,
 * guestd stops it itself (the plug: the launcher halts the vCPUs and
 * flushes the disks); SIGKILL STOP_GRACE_USEC later. With force, SIGKILL
 * at once.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "guest-limits.h"
#include "guest.h"
#include "manager.h"
#include "protocol.h"

#define STOP_GRACE_USEC (GUEST_STOP_GRACE_S * 1000000ULL)

/* Stop (in order, SIGKILL after the grace period) or kill at once a guest
 * that has a launcher; call is answered when the launcher has ended. */
int stop_request(struct guest *g, bool force, sd_bus_message *call, sd_bus_error *error);
/* guestd ends the guest itself: why the guest takes no part (kept for
 * its reason). */
void stop_plug(struct guest *g, const char *why);
/* The launcher's answer to "shutdown" (a launcher message; -EBADMSG for
 * a malformed one). */
int stop_on_shutdown_asked(struct guest *g, struct protocol_message *msg);
