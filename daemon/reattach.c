/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reattach.c: see reattach.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "console.h"
#include "launcher-events.h"
#include "log.h"
#include "protocol.h"
#include "reattach.h"
#include "spawn.h"
#include "stop.h"
#include "suspend.h"

/* The uid a process runs as, from /proc: tells whether a pid still is one
 * of our launchers (their uids are reserved to us). */
static int process_uid(pid_t pid, uid_t *ret) {
        char path[64], line[256];
        FILE *f;
        int r = -ENOENT;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "Uid:", 4) == 0) {
                        unsigned ruid;
                        if (sscanf(line + 4, "%u", &ruid) == 1) {
                                *ret = ruid;
                                r = 0;
                        }
                        break;
                }
        fclose(f);
        return r;
}

static void reattach_failed(struct manager *m, struct guest *g, int pidfd, const char *why) {
        uid_t uid;

        log_warning("Guest %s: launcher %d not found again (%s)", g->id, (int) g->launcher_pid, why);
        /* Alive but unreachable: if the pid still runs as the guest's
         * launcher uid it is that launcher, which nobody can control any
         * more; it must not hold its vCPUs and memory unaccounted. */
        if (pidfd >= 0 && process_uid(g->launcher_pid, &uid) >= 0 && uid == g->launcher_uid && uid != 0)
                (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        unlink_launcher_socket(m, g);
        g->launcher_pid = 0;
        if (g->state == GUEST_SUSPENDING) {
                /* It may have finished the snapshot before it went. */
                _cleanup_free_ char *error = NULL, *reason = NULL;
                if (suspend_commit(g, &error))
                        (void) guest_transition(g, GUEST_SUSPENDED, "");
                else {
                        if (asprintf(&reason, "launcher lost while guestd was down, during a suspend: %s", error ? error : "no snapshot") < 0)
                                reason = NULL;
                        (void) guest_transition(g, GUEST_CRASHED, reason ? reason : "launcher lost during a suspend");
                }
        } else if (g->state == GUEST_STARTING && g->resuming) {
                g->resuming = false;
                (void) guest_transition(g, GUEST_SUSPENDED, "resume failed: launcher lost while guestd was down");
        } else
                (void) guest_transition(g, GUEST_CRASHED, "launcher lost while guestd was down");
}

int reattach_guest(struct manager *m, struct guest *g) {
        _cleanup_close_ int pidfd = -EBADF, sock = -EBADF, dir_fd = -EBADF;
        int console_pair[2] = { -EBADF, -EBADF }, log_pipe[2] = { -EBADF, -EBADF };
        struct sockaddr_un sa;
        struct ucred cred;
        socklen_t len, cred_len = sizeof(cred);
        int r;

        if (!guest_state_is_active(g->state))
                return 0;
        if (g->state == GUEST_STARTING && g->launcher_pid <= 0) {
                /* guestd ended while the guest's files were being opened:
                 * nothing ran. The Start is lost with its caller; the guest
                 * is stopped (or still suspended, its snapshot kept). */
                bool resume = g->resuming;
                g->resuming = false;
                (void) guest_transition(g, resume ? GUEST_SUSPENDED : GUEST_STOPPED,
                                        resume ? "guestd restarted before the resume began; resume it again"
                                               : "guestd restarted before the guest began; start it again");
                return 0;
        }
        if (g->launcher_pid <= 0) {
                reattach_failed(m, g, -EBADF, "no launcher recorded");
                return 0;
        }
        pidfd = pidfd_open(g->launcher_pid, 0);
        if (pidfd < 0) {
                reattach_failed(m, g, -EBADF, "process gone");
                return 0;
        }
        dir_fd = launchers_dir_open(m);
        if (dir_fd < 0 || launcher_socket_address(m, g, dir_fd, &sa, &len) < 0) {
                reattach_failed(m, g, pidfd, "no socket directory");
                return 0;
        }
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *) &sa, len) < 0) {
                reattach_failed(m, g, pidfd, "cannot connect to its socket");
                return 0;
        }
        /* Is this still our launcher? SO_PEERCRED cannot say: on a
         * connection to a listening socket it names whoever called
         * listen(), the daemon that is gone. But the socket lies in a
         * root-only directory and its listening fd went to the launcher
         * alone; and the recorded pid, pinned by the pidfd above, still
         * runs as the guest's reserved launcher uid. */
        {
                uid_t uid;
                if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0 || cred.uid != 0 ||
                    process_uid(g->launcher_pid, &uid) < 0 || uid != g->launcher_uid || uid == 0) {
                        reattach_failed(m, g, pidfd, "the recorded pid is not the guest's launcher any more");
                        return 0;
                }
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console_pair) < 0) {
                r = -errno;
                reattach_failed(m, g, pidfd, "out of resources");
                return r;
        }
        if (pipe2(log_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                safe_close(console_pair[0]);
                safe_close(console_pair[1]);
                reattach_failed(m, g, pidfd, "out of resources");
                return r;
        }
        {
                int fds[2] = { console_pair[1], log_pipe[1] };
                r = protocol_send(sock, PROTOCOL_ATTACH, NULL, fds, 2);
        }
        console_pair[1] = safe_close(console_pair[1]);
        log_pipe[1] = safe_close(log_pipe[1]);
        if (r < 0) {
                safe_close(console_pair[0]);
                safe_close(log_pipe[0]);
                reattach_failed(m, g, pidfd, "it does not answer");
                return 0;
        }
        (void) console_attach_guest(g->console, console_pair[0]);
        (void) launcher_log_attach(&g->conn.launcher_log, m->event, log_pipe[0]);
        g->conn.pidfd = TAKE_FD(pidfd);
        g->conn.control_fd = TAKE_FD(sock);
        r = launcher_events_watch(g);
        if (r < 0) {
                launcher_conn_kill(&g->conn);
                return log_error_errno(r, "Guest %s: cannot watch the launcher: %m", g->id);
        }
        /* Its cgroup, as when it started: guestd's own for it or its
         * machine's scope, whichever /proc says. */
        r = launcher_cgroup_find(g->launcher_pid, &g->conn.cgroup);
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot tell launcher %d's cgroup: %m", g->id, (int) g->launcher_pid);
        log_info("Guest %s: found launcher %d again (%s), %s%s", g->id, (int) g->launcher_pid, guest_state_to_string(g->state),
                 g->conn.cgroup ? "in cgroup " : "in no cgroup of its own", g->conn.cgroup ?: "");
        /* A stop that was under way when the daemon went: ask again. */
        if (g->state == GUEST_STOPPING)
                (void) stop_request(g, false, NULL, NULL);
        return 0;
}
