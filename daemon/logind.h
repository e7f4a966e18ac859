/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * logind.h: the host's shutdown, through systemd-logind on the bus guestd
 * is on. guestd holds a "delay" inhibitor for "shutdown"; when logind
 * announces PrepareForShutdown(true), every running or paused guest is
 * suspended (policy "host_shutdown": "suspend", the default) or stopped
 * in order ("stop"), and the inhibitor is released once none of them is
 * suspending or stopping any more, so the shutdown goes on. The guests stay
 * suspended after the boot until their owners resume them. A guestd that
 * is merely stopped or restarted (SIGTERM) touches no guest: only logind's
 * signal does this. Where logind is not on the bus, guestd says so once and
 * a host shutdown ends the guests as it ends every process.
 *
 * logind caps the delay (InhibitDelayMaxSec=, 5 s by default): a host
 * with large guests needs it raised, or guests still suspending when it
 * runs out are lost as in a shutdown without guestd (packaging/).
 */
#pragma once

#include "manager.h"

/* Watches for logind (it may come after guestd) and takes the inhibitor
 * when it is there; listens to the guests' changes (guest.h): while the
 * host shuts down, the inhibitor goes once no guest is on its way to
 * suspended or stopped. */
int logind_setup(struct manager *m);
