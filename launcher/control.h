/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control.h: the launcher's I/O thread: the console, the control
 * connection to guestd (protocol.h) and the signals a person or systemd
 * sends the launcher; see control.c.
 */
#pragma once

#include <stdbool.h>

#include "guest-exit.h"
#include "machine.h"
#include "suspend.h"
#include "util.h"

/* Where a suspend under guestd has got. */
enum control_suspend_phase {
        CONTROL_SUSPEND_NONE,
        CONTROL_SUSPEND_READY,  /* parked, disks flushed: waiting for "snapshot" */
        CONTROL_SUSPEND_FAILED, /* the write failed, the file closed: waiting for "suspend_abort" */
};

/* All of it the I/O thread's own. */
struct control {
        struct machine *machine;
        /* Daemon mode (guestd): the control connection (-EBADF while
         * guestd is away) and the listening socket on which a restarted
         * guestd reconnects (-EBADF if none). */
        bool daemon_mode;
        int fd, listen_fd;
        bool attached; /* the connection has had its setup or attach */
        int console_in_fd, console_out_fd;
        bool console_input_open;
        /* Standalone suspend (not owned): where to, and when (0: on
         * SIGUSR2 only). */
        int snapshot_fd;
        usec_t suspend_at;
        /* A suspend under guestd, between its "suspend" and its end. */
        enum control_suspend_phase suspend_phase;
        struct suspend suspend;
        char suspend_why[200]; /* CONTROL_SUSPEND_FAILED: why, for a daemon that attaches */
};

/* Daemon mode if control_fd >= 0: then the control connection, the
 * listening socket and the console fds are the I/O thread's, and
 * control_done() closes them (a reconnecting daemon replaces them while
 * the guest runs). */
void control_init(struct control *c, struct machine *m, int control_fd, int listen_fd, int console_in_fd, int console_out_fd);
void control_done(struct control *c);

/* Takes SIGRTMIN+4 (machinectl poweroff) and, standalone with a snapshot
 * file, SIGUSR2 (suspend): before the sandbox is locked, which allows no
 * sigaction. */
void control_catch_signals(struct control *c);

/* Until the guest ends: console input into the UART, its output flushed,
 * the control connection served (or a new one accepted), signals acted
 * on. */
void control_run(struct control *c);

/* Messages vm.c sends at the start and the end ("state", "exited"); they
 * go nowhere without a connection. */
void control_send_state(struct control *c, bool paused);
void control_send_exited(struct control *c, enum guest_exit e, const char *reason);
