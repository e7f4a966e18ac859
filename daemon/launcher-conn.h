/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-conn.h: guestd's connection to one guest's launcher: the
 * process (a pidfd) and the control socket (common/protocol.h), what came
 * over it and what guestd asked for. Messages are read without blocking
 * and dispatched through a table of handlers, each allowed in given guest
 * states; anything else ends the launcher as a protocol error. What the
 * messages mean for the guest is supervise.c's.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "guest-state.h"
#include "launcher-log.h"
#include "protocol.h"

/* A Stop without force first asks the guest (Ctrl-Alt-Del) and waits up
 * to the policy's timeouts.stop; if nobody can be asked, or the time runs
 * out, guestd stops it itself (the launcher halts the vCPUs and flushes
 * the disks: the plug, with the host's writes safe); SIGKILL after
 * SUPERVISE_STOP_GRACE_USEC more. */
enum stop_mode {
        STOP_NONE,
        STOP_ASKING, /* "shutdown" sent, its answer not yet in */
        STOP_ASKED,  /* the guest was asked; waiting for it to end */
        STOP_PLUG,   /* "stop" sent: the launcher ends the guest */
};

/* What guestd reads of one launcher (a taken-over one may send as fast
 * as it can): at most LAUNCHER_CONN_MESSAGES messages and
 * LAUNCHER_CONN_BYTES bytes per LAUNCHER_CONN_WINDOW_USEC, and at most
 * LAUNCHER_CONN_READ_BATCH at a time, so that one launcher never holds
 * up the event loop and everyone else's calls. Past the budget its
 * socket is left unread until the window ends: its own sends wait, no
 * message is lost. A real launcher sends a few messages a second (a
 * suspend: one "progress" per 16 MiB of RAM written). */
#define LAUNCHER_CONN_WINDOW_USEC (1000 * 1000ULL)
#define LAUNCHER_CONN_MESSAGES 1024
#define LAUNCHER_CONN_BYTES (256 * 1024)
#define LAUNCHER_CONN_READ_BATCH 32

struct guest;
struct launcher_conn_ops;

/* A guest's launcher as guestd sees it: the process, the control socket,
 * what the launcher last said and what guestd asked of it. Run time only;
 * supervise.c fills and empties it, launcher_conn_done() frees it. */
struct launcher_conn {
        const struct launcher_conn_ops *ops;
        /* Whose launcher it is (set by launcher_conn_watch): the guest,
         * handed to the handlers; its id, for the log; its launcher's pid;
         * its state, which decides which messages may come. */
        struct guest *guest;
        const char *id;
        pid_t pid;
        const enum guest_state *state;
        int pidfd;
        int control_fd;
        struct launcher_log launcher_log; /* the launcher's stderr, into our log */
        sd_event_source *pidfd_source;
        sd_event_source *control_source;
        sd_event_source *stop_timer;
        sd_event_source *throttle_timer; /* the read budget is spent: reading again at the window's end */
        uint64_t window_start;           /* the read budget's window (CLOCK_MONOTONIC) */
        unsigned window_messages;
        size_t window_bytes;
        uint64_t throttled;              /* windows in which the budget ran out */
        bool exited_received;    /* the launcher sent "exited" */
        int exit_code;           /* from "exited", enum guest_exit */
        char *exit_reason;       /* from "exited" */
        bool violation_received; /* the launcher's sandbox refused a system call */
        uint64_t violation_syscall, violation_arg1;
        bool kill_requested;     /* we sent SIGKILL (Stop(force) or grace period) */
        const char *kill_reason; /* static text: why we killed it, if not a protocol error */
        bool stop_requested;     /* Stop was asked for */
        enum stop_mode stop_mode; /* how the Stop under way goes about it */
        bool stop_power_button;  /* STOP_ASKED: by the ACPI power button, not Ctrl-Alt-Del */
        char *stop_why;          /* why guestd stopped it without the guest's part */
        char *protocol_error;    /* set when we ended the launcher for misbehaving */
        char *suspend_error;     /* why the launcher could not suspend ("error") */
        uint64_t progress_done, progress_total; /* of a suspend under way: RAM copied */
        /* Its cgroup, as /proc/PID/cgroup names it (cgroup.h): guestd's own
         * for it, or the scope systemd made for its machine (machined.h).
         * Its memory.stat is the guest's page tables. NULL: it has none
         * of its own (not measured). */
        char *cgroup;
};
void launcher_conn_init(struct launcher_conn *c);
/* Closes and frees what it holds; the launcher itself runs on. */
void launcher_conn_done(struct launcher_conn *c);

/* What a launcher message does, and in which guest states it may come
 * (a bit per enum guest_state); anything else is a protocol error. */
struct launcher_conn_handler {
        unsigned states;
        int (*handler)(struct guest *g, struct protocol_message *msg); /* -EBADMSG: malformed */
};
struct launcher_conn_ops {
        const struct launcher_conn_handler *table; /* indexed by enum protocol_type */
        void (*ended)(struct guest *g);            /* the launcher process is gone */
};

/* Watches g's launcher (c is g's, its pidfd and control_fd set; id,
 * state: g's, which outlive the watch): its messages go to ops->table,
 * its end to ops->ended. */
int launcher_conn_watch(struct launcher_conn *c, struct guest *g, const char *id, pid_t pid, const enum guest_state *state,
                        sd_event *event, const struct launcher_conn_ops *ops);
/* Reads and dispatches what the launcher sent, within the read budget
 * above (drain: everything queued, for a launcher that has ended). 0:
 * nothing more now; -ECONNRESET: end of stream; -EBADMSG: it broke the
 * protocol (ended). */
int launcher_conn_read(struct launcher_conn *c, bool drain);
/* The launcher broke the protocol: recorded (the guest's reason), the
 * control socket no longer read, the launcher killed. */
void launcher_conn_violation(struct launcher_conn *c, const char *what);
/* SIGKILL through the pidfd; its end comes through ops->ended. */
void launcher_conn_kill(struct launcher_conn *c);
