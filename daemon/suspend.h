/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * suspend.h: a guest into its snapshot and back.
 *
 * Suspend is a handshake (protocol.h, "suspend"): "suspend", and the
 * launcher parks its vCPUs and flushes its disks; "suspend_ready", and
 * guestd lowers its file size limit to the snapshot's reserve
 * (launcher-fsize.h) and hands it the file guestd made (snapshots.h); the
 * launcher writes it and ends (committed: "suspended"), or says
 * "suspend_failed" and goes on (running or paused again, the call
 * answered with why). Resume is a Start with the snapshot (start.h); the
 * guest is "starting" and "resuming" until the launcher says it runs,
 * then its snapshot is deleted (resume_done).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "guest.h"
#include "manager.h"
#include "protocol.h"

int suspend_request(struct guest *g, sd_bus_message *call, sd_bus_error *error);
/* Stop(force) of a suspended guest: its snapshot is deleted, it is
 * "stopped". */
int suspend_discard(struct guest *g, sd_bus_error *error);
/* The launcher's "suspend_ready", "suspend_failed" and "progress". */
int suspend_on_ready(struct guest *g, struct protocol_message *msg);
int suspend_on_failed(struct guest *g, struct protocol_message *msg);
int suspend_on_progress(struct guest *g, struct protocol_message *msg);
/* The launcher went on (its "state") while suspending: the suspend
 * failed; the guest goes on as new_state. */
void suspend_failed(struct guest *g, enum guest_state new_state);
/* The resumed guest runs: its snapshot goes. */
void resume_done(struct guest *g);
/* The suspending guest's launcher is gone: commit its snapshot if it
 * wrote a whole one (true: the guest is suspended now). */
bool suspend_commit(struct guest *g, char **ret_error);
/* Progress of the suspend under way (RAM copied), as the Progress
 * property. */
void suspend_progress(struct guest *g, uint64_t done, uint64_t total);
