/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * start.h: Start and Resume, up to a launcher that has its "setup".
 *
 * Start does everything privileged here, in the daemon, and hands the
 * launcher only fds: the guest's files opened with the rights of whoever
 * named them, /dev/kvm for exactly the configured vCPUs, the console
 * socket and the listening socket through which a restarted daemon finds
 * the launcher again. The launcher then runs as a uid of its own without
 * capabilities (spawn.h), in its machine's scope (machined.h) or guestd's
 * own cgroup. Its messages and its end are launcher-events.h's.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "guest.h"
#include "manager.h"

/* A Start or Resume before its launcher has its "setup" (start.c):
 * first the guest's files being opened (open-as-caller.h); then the
 * launcher, forked and waiting while systemd-machined makes its scope
 * (machined.h), with every fd "setup" will hand it; and what to go back
 * to if it fails. Freeing it kills a launcher that got no "setup". */
struct start_job {
        struct guest *guest;
        struct opener *opener;
        int snapshot_fd; /* a resume's snapshot, opened by guestd itself */
        enum guest_state prev_state;
        char *prev_reason;

        struct machined_request *machined;
        pid_t pid; /* the launcher; 0: none yet */
        int pidfd;
        uid_t launcher_uid;
        int kvm_fd, listen_fd;
        int control_fd, console_fd, log_fd; /* guestd's ends */
        int launcher_console_fd;            /* the launcher's end, sent with "setup" */
        int file_fds[2 + GUEST_MAX_DISKS];  /* the kernel or the snapshot, the initrd, the disks */
        size_t n_files;
};

/* Starts the guest's launcher; on success the guest is "starting" and
 * call (if not NULL) is answered when it runs or fails. On failure the
 * guest is unchanged and error is set. resume: the guest's snapshot in
 * place of its kernel; a snapshot that does not check out fails the call
 * with org.guestd1.Error.BadSnapshot, the guest unchanged. If the
 * launcher fails first, a resumed guest is "suspended" again with its
 * snapshot kept. */
int start_request(struct manager *m, struct guest *g, const struct caller *caller, bool resume, sd_bus_message *call,
                  sd_bus_error *error);
/* A Stop of a guest whose Start has no launcher with "setup" yet (g->start
 * set): nothing of the guest runs; the Start fails, the guest is as it
 * was before it. call (NULL: none) is answered at once. */
void start_cancel(struct guest *g, sd_bus_message *call);
/* Ends a Start in progress without a word to anyone (guestd's exit). */
void start_abandon(struct guest *g);
