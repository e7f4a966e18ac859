/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * supervise.h: starting guestd-launcher for a guest and following it.
 *
 * Start does everything privileged here, in the daemon, and hands the
 * launcher only fds: the guest's files opened with the caller's rights,
 * the VM and exactly the configured vCPUs from /dev/kvm, the console
 * socket and the listening socket through which a restarted daemon finds
 * the launcher again. The launcher then runs as a uid of its own without
 * capabilities. Its exit (a pidfd) and its messages (the control socket)
 * are event sources in the daemon's loop and become state changes.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "guest.h"
#include "manager.h"

#define SUPERVISE_STOP_GRACE_USEC (10 * 1000000ULL)
/* The launcher's address space limit: guest RAM, plus this for the
 * launcher itself (a static binary, its heap and the C library's thread
 * arenas), plus a stack and KVM's run area per vCPU. */
#define SUPERVISE_AS_MARGIN_MIB 256
#define SUPERVISE_AS_PER_VCPU_MIB 16
/* RLIMIT_NPROC: the vCPU threads plus this (main thread, and room for a
 * zombie or two of an earlier launcher under the same uid). */
#define SUPERVISE_NPROC_MARGIN 8
/* Method calls one user may have waiting for a launcher's answer (Start,
 * Stop, Pause, ...), all guests together: each holds a message in guestd. */
#define SUPERVISE_PENDING_PER_USER 64

/* 0 if the sender of call may have one more call waiting; else
 * org.guestd1.Error.LimitExceeded. */
int supervise_pending_check(struct manager *m, sd_bus_message *call, sd_bus_error *error);

/* Starts the guest's launcher; on success the guest is "starting" and
 * call (if not NULL) is answered when it runs or fails. On failure the
 * guest is unchanged and error is set. */
int supervise_start(struct manager *m, struct guest *g, const struct caller *caller, bool resume, sd_bus_message *call,
                    sd_bus_error *error);
/* Resume is Start with the guest's snapshot (resume true): the same
 * path, the same launcher and sandbox; the guest is "starting" and
 * "resuming" until the launcher says it runs, then its snapshot is
 * deleted. If the launcher fails first, the guest is "suspended" again
 * with its snapshot kept. A snapshot that does not check out fails the
 * call with org.guestd1.Error.BadSnapshot, the guest unchanged. */
/* Suspend: guestd makes the snapshot file (snapshots.h) and hands it to
 * the launcher; the guest is "suspending" until the launcher ends
 * (snapshot committed: "suspended"; call answered then) or goes on (the
 * suspend failed: running or paused again, call answered with why). */
int supervise_suspend(struct guest *g, sd_bus_message *call, sd_bus_error *error);
/* Stop(force) of a suspended guest: its snapshot is deleted, it is
 * "stopped". */
int supervise_discard_snapshot(struct guest *g, sd_bus_error *error);
/* Stop (in order, SIGKILL after the grace period) or kill at once. call
 * is answered when the launcher has ended. */
int supervise_stop(struct guest *g, bool force, sd_bus_message *call, sd_bus_error *error);
/* Pause or unpause; call is answered on the launcher's "state" answer. */
int supervise_pause(struct guest *g, bool pause, sd_bus_message *call, sd_bus_error *error);
/* After a daemon restart: find the guest's launcher again, or declare
 * the guest crashed. */
int supervise_reattach(struct manager *m, struct guest *g);
