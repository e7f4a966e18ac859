/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * machined-state.h: what guestd's systemd-machined client (machined.h)
 * keeps in struct manager, declared apart so that manager.h needs none of
 * its functions.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "util.h"

/* How long machined may take to answer CreateMachine (it waits for
 * systemd to start the scope); --machined-timeout. */
#define MACHINED_TIMEOUT_USEC_DEFAULT (UINT64_C(25) * 1000000)
/* How soon a machine that still exists is asked for again. */
#define MACHINED_RETRY_USEC (UINT64_C(200) * 1000)

struct machined_state {
        usec_t timeout_usec;
        sd_bus_slot *probe_slot; /* the Ping at start: is machined there? */
        int present;             /* -1: not known yet, 0: absent, 1: present (logged on each change) */
};
