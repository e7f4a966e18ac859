/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pressure.h: memory pressure events for the page-table budget (issue
 * 10), on guestd's sd-event loop. libsystemd 252 (Debian 12) has no
 * sd_event_add_memory_pressure(), so this follows systemd's protocol by
 * hand:
 *
 *  - $MEMORY_PRESSURE_WATCH names what to watch ("/dev/null": nothing).
 *    A regular file is a PSI file: the trigger ($MEMORY_PRESSURE_WRITE,
 *    base64, or ours) is written to it and POLLPRI means pressure. A FIFO
 *    or a socket signals pressure by becoming readable (POLLIN); what
 *    arrives is read and dropped. Tests drive pressure through a FIFO.
 *  - Without it: /proc/pressure/memory with the trigger
 *    "some 200000 2000000" (200 ms of stall within a 2 s window: an
 *    unprivileged trigger's window must be a multiple of 2 s, and guestd
 *    may lack CAP_SYS_RESOURCE).
 */
#pragma once

#include <systemd/sd-event.h>

#define PRESSURE_TRIGGER_DEFAULT "some 200000 2000000"
#define PRESSURE_WINDOW_USEC (2 * 1000000ULL)

struct pressure;
typedef void (*pressure_handler_t)(struct pressure *p, void *userdata);

/* Starts watching. watch: a path, or NULL for $MEMORY_PRESSURE_WATCH, else
 * /proc/pressure/memory. -ENODATA: watching is switched off ("/dev/null");
 * other -errno with *ret_what naming what failed. On success *ret_what
 * says what is watched (caller frees). */
int pressure_new(sd_event *event, const char *watch, pressure_handler_t handler, void *userdata, struct pressure **ret,
                 char **ret_what);
struct pressure *pressure_free(struct pressure *p);
