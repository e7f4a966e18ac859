/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* launcher-conn.c: see launcher-conn.h. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>

#include "guest-state.h"
#include "launcher-conn.h"
#include "log.h"

void launcher_conn_init(struct launcher_conn *c) {
        *c = (struct launcher_conn) { .pidfd = -EBADF, .control_fd = -EBADF };
        launcher_log_init(&c->launcher_log, "");
}

void launcher_conn_done(struct launcher_conn *c) {
        c->pidfd_source = sd_event_source_disable_unref(c->pidfd_source);
        c->control_source = sd_event_source_disable_unref(c->control_source);
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        c->throttle_timer = sd_event_source_disable_unref(c->throttle_timer);
        launcher_log_detach(&c->launcher_log);
        c->pidfd = safe_close(c->pidfd);
        c->control_fd = safe_close(c->control_fd);
        c->exit_reason = (free(c->exit_reason), NULL);
        c->protocol_error = (free(c->protocol_error), NULL);
        c->suspend_error = (free(c->suspend_error), NULL);
        c->stop_why = (free(c->stop_why), NULL);
        c->cgroup = (free(c->cgroup), NULL);
}

void launcher_conn_kill(struct launcher_conn *c) {
        c->kill_requested = true;
        if (c->pidfd >= 0 && pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                log_warning_errno(-errno, "Guest %s: cannot kill launcher %d: %m", c->id, (int) c->pid);
}

void launcher_conn_violation(struct launcher_conn *c, const char *what) {
        if (!c->protocol_error)
                c->protocol_error = strdup(what);
        log_error("Guest %s: launcher protocol error: %s; ending the launcher", c->id, what);
        c->control_source = sd_event_source_disable_unref(c->control_source);
        launcher_conn_kill(c);
}

static int on_throttle_end(sd_event_source *s, uint64_t usec, void *userdata) {
        struct launcher_conn *c = userdata;

        c->throttle_timer = sd_event_source_disable_unref(c->throttle_timer);
        if (c->control_source)
                (void) sd_event_source_set_enabled(c->control_source, SD_EVENT_ON);
        return 0;
}

/* Whether the budget has room for one more message (see
 * LAUNCHER_CONN_MESSAGES). When it has not, the socket is left unread
 * until the window ends. */
static bool budget_left(struct launcher_conn *c, uint64_t now) {
        int r;

        if (now - c->window_start >= LAUNCHER_CONN_WINDOW_USEC) {
                c->window_start = now;
                c->window_messages = 0;
                c->window_bytes = 0;
        }
        if (c->window_messages < LAUNCHER_CONN_MESSAGES && c->window_bytes < LAUNCHER_CONN_BYTES)
                return true;
        if (c->throttled++ == 0)
                log_warning("Guest %s: its launcher sends more than %d messages or %d KiB a second; reading it no faster than that",
                            c->id, LAUNCHER_CONN_MESSAGES, LAUNCHER_CONN_BYTES / 1024);
        if (c->control_source && !c->throttle_timer) {
                r = sd_event_add_time(sd_event_source_get_event(c->control_source), &c->throttle_timer, CLOCK_MONOTONIC,
                                      c->window_start + LAUNCHER_CONN_WINDOW_USEC, 0, on_throttle_end, c);
                if (r >= 0)
                        (void) sd_event_source_set_enabled(c->control_source, SD_EVENT_OFF);
                else
                        log_warning_errno(r, "Guest %s: cannot pause reading its launcher: %m", c->id);
        }
        return false;
}

/* Reads and handles what the launcher sent, within its budget (drain: all
 * there is, for a launcher that has ended, whose queue cannot grow).
 * Returns 0 when nothing more is to be read now, -ECONNRESET at end of
 * stream, -EBADMSG after a protocol violation. */
int launcher_conn_read(struct launcher_conn *c, bool drain) {
        for (unsigned batch = 0; drain || batch < LAUNCHER_CONN_READ_BATCH; batch++) {
                struct protocol_message msg = {};
                char what[96];
                int r;

                if (c->control_fd < 0)
                        return -ECONNRESET;
                if (!drain && !budget_left(c, now_usec()))
                        return 0;
                r = protocol_recv(c->control_fd, PROTOCOL_TO_DAEMON, &msg);
                if (r == -EAGAIN)
                        return 0;
                if (r == -ECONNRESET)
                        return r;
                c->window_messages++;
                c->window_bytes += msg.size;
                if (r < 0) {
                        snprintf(what, sizeof(what), "unreadable message (%s)", strerror(-r));
                        launcher_conn_violation(c, what);
                        return -EBADMSG;
                }
                if (!c->ops->table[msg.type].handler || !(c->ops->table[msg.type].states & (1u << *c->state))) {
                        snprintf(what, sizeof(what), "unexpected message \"%s\" while %s", protocol_type_to_string(msg.type),
                                 guest_state_to_string(*c->state));
                        protocol_message_done(&msg);
                        launcher_conn_violation(c, what);
                        return -EBADMSG;
                }
                r = c->ops->table[msg.type].handler(c->guest, &msg);
                /* A handler that found the launcher lying has ended it:
                 * nothing more of what it sent is believed. */
                if (r != -EBADMSG && c->protocol_error) {
                        protocol_message_done(&msg);
                        return -EBADMSG;
                }
                if (r == -EBADMSG) {
                        snprintf(what, sizeof(what), "malformed \"%s\" message", protocol_type_to_string(msg.type));
                        protocol_message_done(&msg);
                        launcher_conn_violation(c, what);
                        return r;
                }
                protocol_message_done(&msg);
        }
        /* More may wait: the event loop comes back to it after the others. */
        return 0;
}

static int on_control(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct launcher_conn *c = userdata;
        int r = launcher_conn_read(c, false);

        if (r == -ECONNRESET) {
                /* The launcher closed its end. After "exited" that is its
                 * way out; without, it has stopped talking to us and can no
                 * longer be controlled, so it ends. */
                c->control_source = sd_event_source_disable_unref(c->control_source);
                if (!c->exited_received && !c->kill_requested)
                        launcher_conn_violation(c, "closed the control socket without \"exited\"");
        }
        return 0;
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct launcher_conn *c = userdata;

        c->ops->ended(c->guest);
        return 0;
}

/* The pidfd is watched as a plain readable fd, not as sd-event's child
 * source: after a guestd restart the launchers are not guestd's children
 * (waitid() on them fails), and ops->ended reaps its own children itself
 * (supervise.c, launcher_ended). The openers of users' files are always
 * guestd's children and use the child source (open-as-caller.c). */
int launcher_conn_watch(struct launcher_conn *c, struct guest *g, const char *id, pid_t pid, const enum guest_state *state,
                        sd_event *event, const struct launcher_conn_ops *ops) {
        int r;

        c->guest = g;
        c->id = id;
        c->pid = pid;
        c->state = state;
        c->ops = ops;
        r = sd_event_add_io(event, &c->pidfd_source, c->pidfd, EPOLLIN, on_pidfd, c);
        if (r < 0)
                return r;
        if (fcntl(c->control_fd, F_SETFL, fcntl(c->control_fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        return sd_event_add_io(event, &c->control_source, c->control_fd, EPOLLIN, on_control, c);
}

