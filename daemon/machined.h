/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * machined.h: each launcher a machine of systemd-machined's where machined
 * runs, so that the host's own tools see the guests: `machinectl list`
 * shows every running guest, `machinectl status` its scope, and systemd
 * bounds the launcher's memory and tasks in that scope's cgroup.
 *
 * After guestd has forked a launcher (which waits for "setup" before it
 * makes its VM or maps guest RAM, so that all the guest holds is charged
 * to the scope), it asks machined's CreateMachine for the machine
 * "guestd-<handle>" (the guest's 128-bit handle, also the machine id),
 * service "guestd", class "vm", the launcher as leader, no root directory,
 * and the scope properties MemoryMax and TasksMax (what guestd's own
 * cgroup for it would have, spawn.h) and CollectMode=inactive-or-failed.
 * machined has systemd start a transient scope in machine.slice with the
 * leader moved into it, and answers once that is done; only then does the
 * Start go on, and the launcher's cgroup is what /proc/PID/cgroup says
 * (cgroup.h), never a name made up here.
 *
 * The machine's name, and so its scope's name and description, says
 * nothing of the owner or the guest's name: `machinectl list` is anyone's
 * to read, and nobody may learn of another user's guests (issue 11). Root
 * finds the guest behind a handle with `guestctl list --json` or
 * `guestctl status` (its Handle).
 *
 * Never waited for: CreateMachine is sent asynchronously and ends after
 * --machined-timeout (default MACHINED_TIMEOUT_USEC_DEFAULT) with Timeout;
 * a Stop, or guestd's end, cancels it (machined_request_cancel(): the
 * launcher is killed with the Start, so its scope empties and goes). While
 * the scope of the guest's previous launcher is still being collected,
 * machined answers MachineExists (or systemd UnitExists): asked again
 * every MACHINED_RETRY_USEC within the same bound.
 *
 * Where machined is not on the bus (ServiceUnknown, NameHasNoOwner: a host
 * without systemd-container, the tests' private bus) the launcher goes
 * into a cgroup of guestd's own (cgroup.h), as before machined was used.
 * CreateMachine is asked at every Start, so machined may come and go;
 * guestd logs which holds at start (a Ping, which also bus-activates
 * machined) and whenever it changes. Any other error fails that Start
 * (Failed, with machined's error): once machined is there, no launcher
 * runs outside a scope of its own without a word.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "machined-state.h"
#include "util.h"

struct manager;
struct guest;

#define MACHINED_NAME_PREFIX "guestd-"

/* The answer to machined_register(), in the event loop: 1 the launcher
 * runs in its machine's scope; 0 machined is not on the bus (the caller
 * uses its own cgroup); <0 the Start fails with error (Timeout, Failed). */
typedef void (*machined_registered_t)(struct guest *g, int r, const sd_bus_error *error);

struct machined_request;

/* At start: asks whether machined is on the bus, logs which way
 * launchers are bounded. Never fails guestd. */
int machined_setup(struct manager *m);
void machined_done(struct manager *m);

/* Asks machined to make g's launcher (leader, forked and waiting for
 * "setup") a machine in a scope of its own, bounded by memory_max bytes
 * and tasks_max tasks. done is called once, from the event loop, unless
 * the request is cancelled first. -errno if it could not even be asked. */
int machined_register(struct manager *m, struct guest *g, pid_t leader, uint64_t memory_max, uint64_t tasks_max,
                      machined_registered_t done, struct machined_request **ret);
/* Drops the request: its answer, if one comes, is not read. Returns NULL. */
struct machined_request *machined_request_cancel(struct machined_request *req);
