/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* launcher-events.c: see launcher-events.h. */
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "console.h"
#include "exit-classify.h"
#include "guest-exit.h"
#include "kvm.h"
#include "launcher-events.h"
#include "log.h"
#include "pagetables.h"
#include "pending.h"
#include "protocol-body.h"
#include "snapshots.h"
#include "spawn.h"
#include "stop.h"
#include "suspend.h"

static int on_state(struct guest *g, struct protocol_message *msg) {
        struct protocol_state_body b;
        enum guest_state new_state;

        if (protocol_state_decode(msg->body, &b) < 0)
                return -EBADMSG;
        new_state = b.paused ? GUEST_PAUSED : GUEST_RUNNING;
        if (b.pid > 0 && g->launcher_pid > 0 && (pid_t) b.pid != g->launcher_pid)
                log_debug("Guest %s: launcher reports pid %" PRIu64 ", we know %d", g->id, b.pid, (int) g->launcher_pid);

        /* Once stopping, the guest only goes on to its end. */
        if (g->state == GUEST_STOPPING)
                return 0;
        /* A launcher that goes on after "suspend" could not suspend (its
         * "error" said why), or was found running by a restarted guestd. */
        if (g->state == GUEST_SUSPENDING) {
                suspend_failed(g, new_state);
                return 0;
        }
        /* A resumed guest runs: its snapshot is history now (never both
         * a running guest and a snapshot to resume). */
        if (g->state == GUEST_STARTING && g->resuming)
                resume_done(g);
        if (g->state != new_state)
                (void) guest_transition(g, new_state, g->state == GUEST_STARTING ? "" : NULL);
        pending_answer(g, GUEST_VERB_START, NULL, NULL);
        pending_answer(g, GUEST_VERB_RESUME, NULL, NULL);
        pending_answer(g, new_state == GUEST_PAUSED ? GUEST_VERB_PAUSE : GUEST_VERB_UNPAUSE, NULL, NULL);
        return 0;
}

static int on_exited(struct guest *g, struct protocol_message *msg) {
        struct protocol_exited_body b;

        if (protocol_exited_decode(msg->body, &b) < 0)
                return -EBADMSG;
        g->conn.exited_received = true;
        g->conn.exit_code = b.exit;
        free(g->conn.exit_reason);
        g->conn.exit_reason = b.reason ? strdup(b.reason) : NULL;
        return 0;
}

static int on_error(struct guest *g, struct protocol_message *msg) {
        _cleanup_free_ char *text = NULL;
        struct protocol_error_body b;
        const char *message;

        if (protocol_error_decode(msg->body, &b) < 0)
                return -EBADMSG;
        message = b.message; /* one line of text, at most PROTOCOL_TEXT_MAX (protocol-body.c) */
        /* Within the launcher's log budget: a taken-over launcher's
         * errors cannot flood the log. */
        if (launcher_log_admit(&g->conn.launcher_log, now_usec()))
                log_warning("Guest %s: launcher: %s", g->id, message);
        if (g->state == GUEST_SUSPENDING) {
                /* Answered with the "state" that follows. */
                free(g->conn.suspend_error);
                g->conn.suspend_error = strdup(message);
                return 0;
        }
        if (asprintf(&text, "The launcher of '%s' refused: %s", g->name, message) < 0)
                return -ENOMEM;
        pending_answer(g, GUEST_VERB_PAUSE, GUESTD_ERROR_FAILED, text);
        pending_answer(g, GUEST_VERB_UNPAUSE, GUESTD_ERROR_FAILED, text);
        return 0;
}

static int on_violation(struct guest *g, struct protocol_message *msg) {
        struct protocol_violation_body b;

        if (protocol_violation_decode(msg->body, &b) < 0)
                return -EBADMSG;
        g->conn.violation_received = true;
        g->conn.violation_syscall = b.syscall;
        g->conn.violation_arg1 = b.arg1;
        return 0;
}

/* "sandbox violation: syscall ioctl (KVM_CREATE_VCPU)": the name from
 * libseccomp's table for this architecture, and for an ioctl the request. */
static char *violation_reason(const struct guest *g) {
        _cleanup_free_ char *name = NULL, *detail = NULL;
        char *reason;

        if (!g->conn.violation_received)
                return strdup("sandbox violation (SIGSYS); the launcher did not say which system call");
        name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int) g->conn.violation_syscall);
        if (name && strcmp(name, "ioctl") == 0) {
                const char *request = kvm_ioctl_to_string((unsigned long) g->conn.violation_arg1);
                if (request)
                        detail = strdup(request);
                else if (asprintf(&detail, "request %#" PRIx64, g->conn.violation_arg1) < 0)
                        detail = NULL;
        }
        if (name) {
                if (asprintf(&reason, "sandbox violation: syscall %s%s%s%s", name, detail ? " (" : "", detail ? detail : "",
                             detail ? ")" : "") < 0)
                        return NULL;
        } else if (asprintf(&reason, "sandbox violation: syscall number %" PRIu64, g->conn.violation_syscall) < 0)
                return NULL;
        return reason;
}

/* Someone (root: only root and the launcher's own uid can signal it) sent
 * the launcher SIGRTMIN+4, as `machinectl poweroff` does to a machine's
 * leader: the guest is stopped as a Stop without force stops it. */
static int on_poweroff_signal(struct guest *g, struct protocol_message *msg) {
        struct protocol_poweroff_signal_body b;
        char from[64];

        if (protocol_poweroff_signal_decode(msg->body, &b) < 0)
                return -EBADMSG;
        /* The launcher is the first process of its own PID namespace: a
         * sender outside it (machined, root's kill) has no pid there. */
        if (b.pid == 0)
                snprintf(from, sizeof(from), "outside its PID namespace, uid %" PRIu64, b.uid);
        else
                snprintf(from, sizeof(from), "pid %" PRIu64 ", uid %" PRIu64, b.pid, b.uid);
        if (g->state == GUEST_STOPPING || g->state == GUEST_SUSPENDING) {
                log_info("Guest %s: power-off signal (SIGRTMIN+4) from %s while %s: nothing more to do", g->id, from,
                         guest_state_to_string(g->state));
                return 0;
        }
        log_info("Guest %s: power-off signal (SIGRTMIN+4, as machinectl poweroff sends) from %s: stopping it", g->id, from);
        /* As a Stop without force from the bus: the same entry (verbs.h). */
        (void) g->manager->request(g, GUEST_VERB_STOP, false, NULL, NULL);
        return 0;
}

#define ACTIVE ((1u << GUEST_STARTING) | (1u << GUEST_RUNNING) | (1u << GUEST_PAUSED) | (1u << GUEST_STOPPING) | (1u << GUEST_SUSPENDING))
/* Which launcher message is allowed in which guest state, and what it
 * does. A launcher is only ever attached to an active guest, so all are
 * allowed there; the table is where a narrower rule goes. */
static const struct launcher_conn_handler message_table[_PROTOCOL_TYPE_MAX] = {
        [PROTOCOL_STATE] = { ACTIVE, on_state },
        [PROTOCOL_EXITED] = { ACTIVE, on_exited },
        [PROTOCOL_ERROR] = { ACTIVE, on_error },
        [PROTOCOL_VIOLATION] = { ACTIVE, on_violation },
        [PROTOCOL_PROGRESS] = { 1u << GUEST_SUSPENDING, suspend_on_progress },
        [PROTOCOL_SUPERVISE] = { ACTIVE, pagetables_on_supervise },
        [PROTOCOL_MMU_PAGES_SET] = { ACTIVE, pagetables_on_cap_set },
        [PROTOCOL_SHUTDOWN_ASKED] = { 1u << GUEST_STOPPING, stop_on_shutdown_asked },
        [PROTOCOL_POWEROFF_SIGNAL] = { ACTIVE, on_poweroff_signal },
        /* A suspend's steps, and nowhere else. While stopping they are
         * let through and ignored: a Stop with force that overtook the
         * suspend ends the launcher either way. */
        [PROTOCOL_SUSPEND_READY] = { (1u << GUEST_SUSPENDING) | (1u << GUEST_STOPPING), suspend_on_ready },
        [PROTOCOL_SUSPEND_FAILED] = { (1u << GUEST_SUSPENDING) | (1u << GUEST_STOPPING), suspend_on_failed },
};
#undef ACTIVE

static void launcher_ended(struct guest *g);
static const struct launcher_conn_ops conn_ops = { .table = message_table, .ended = launcher_ended };

/* How the launcher ended (exit-classify.h): the guest's next state, and
 * its reason in *ret_reason. */
static enum guest_state classify_end(struct guest *g, char **ret_reason) {
        _cleanup_free_ char *violation = NULL;
        enum guest_state state;
        siginfo_t si = {};
        bool have_status = false;

        if (g->conn.pidfd >= 0 && waitid(P_PIDFD, g->conn.pidfd, &si, WEXITED | WNOHANG) >= 0 && si.si_pid != 0)
                have_status = true; /* our child; after a daemon restart it is not */
        violation = g->conn.violation_received ? violation_reason(g) : NULL;
        state = exit_classify(&(struct launcher_end) {
                                      .have_status = have_status,
                                      .wait_code = si.si_code,
                                      .wait_status = si.si_status,
                                      .violation_received = g->conn.violation_received,
                                      .violation_reason = violation,
                                      .protocol_error = g->conn.protocol_error,
                                      .kill_requested = g->conn.kill_requested,
                                      .kill_reason = g->conn.kill_reason,
                                      .exited_received = g->conn.exited_received,
                                      .exit_code = g->conn.exit_code,
                                      .exit_reason = g->conn.exit_reason,
                                      .stop_requested = g->conn.stop_requested,
                                      .stop_mode = g->conn.stop_mode,
                                      .stop_power_button = g->conn.stop_power_button,
                                      .stop_why = g->conn.stop_why,
                              },
                              ret_reason);
        if (state == GUEST_CRASHED && *ret_reason && strncmp(*ret_reason, "sandbox violation", 17) == 0)
                log_warning("Guest %s: %s", g->id, *ret_reason);
        return state;
}

/* What a suspend or resume under way makes of the end: a suspending
 * guest's whole snapshot is the guest (suspended); a resume that did not
 * get as far as running leaves it suspended, its snapshot kept. Updates
 * *state and *reason; *ret_suspend_error: why the Suspend fails. */
struct end_outcome {
        bool suspended, resume_failed;
        char *suspend_error;
};

static void end_suspend_or_resume(struct guest *g, enum guest_state *state, char **reason, struct end_outcome *out) {
        struct manager *m = g->manager;

        if (g->state == GUEST_SUSPENDING && !g->conn.stop_requested) {
                _cleanup_free_ char *snapshot_error = NULL;
                out->suspended = suspend_commit(g, &snapshot_error);
                if (out->suspended) {
                        *state = GUEST_SUSPENDED;
                        free(*reason);
                        *reason = strdup(m->shutting_down ? "suspended for the host's shutdown" : "");
                        return;
                }
                _cleanup_free_ char *why = *reason;
                if (g->conn.exited_received && g->conn.exit_code == GUEST_EXIT_SUSPENDED) {
                        *state = GUEST_CRASHED;
                        if (asprintf(reason, "its snapshot is unusable: %s", snapshot_error ? snapshot_error : "unknown") < 0)
                                *reason = NULL;
                } else if (asprintf(reason, "ended while suspending: %s", why ? why : "unknown reason") < 0)
                        *reason = NULL;
                if (asprintf(&out->suspend_error, "Guest '%s' could not be suspended: %s.", g->name, *reason ? *reason : "unknown reason") < 0)
                        out->suspend_error = NULL;
        } else if (g->state == GUEST_SUSPENDING)
                (void) snapshots_remove_new(m->snapshots_dir_fd, g); /* Stop(force) while suspending */
        else if (g->state == GUEST_STARTING && g->resuming) {
                _cleanup_free_ char *why = *reason;
                out->resume_failed = true;
                *state = GUEST_SUSPENDED;
                g->resuming = false;
                if (asprintf(reason, "resume failed: %s", why ? why : "unknown reason") < 0)
                        *reason = NULL;
        }
}

/* guestd's ends of the launcher closed, what it said forgotten. */
static void conn_reset(struct guest *g) {
        g->conn.pidfd_source = sd_event_source_disable_unref(g->conn.pidfd_source);
        g->conn.control_source = sd_event_source_disable_unref(g->conn.control_source);
        g->conn.stop_timer = sd_event_source_disable_unref(g->conn.stop_timer);
        pagetables_guest_detach(g);
        g->conn.pidfd = safe_close(g->conn.pidfd);
        g->conn.control_fd = safe_close(g->conn.control_fd);
        console_detach_guest(g->console);
        launcher_log_detach(&g->conn.launcher_log);
        unlink_launcher_socket(g->manager, g);
        g->launcher_pid = 0;
        g->conn.exited_received = g->conn.kill_requested = g->conn.stop_requested = g->conn.violation_received = false;
        g->conn.stop_mode = STOP_NONE;
        g->conn.stop_power_button = false;
        g->conn.stop_why = (free(g->conn.stop_why), NULL);
        g->conn.kill_reason = NULL;
        g->conn.protocol_error = (free(g->conn.protocol_error), NULL);
        g->conn.exit_reason = (free(g->conn.exit_reason), NULL);
}

/* Every call still waiting on the guest gets its answer. */
static void answer_ended(struct guest *g, const char *reason, const struct end_outcome *out) {
        _cleanup_free_ char *start_error = NULL;

        if (out->resume_failed) {
                if (asprintf(&start_error, "Guest '%s' could not be resumed (%s); it stays suspended, its snapshot kept.", g->name,
                             reason ? reason : "unknown reason") < 0)
                        start_error = NULL;
        } else if (asprintf(&start_error, "Guest '%s' ended before it ran: %s.", g->name, reason ? reason : "unknown reason") < 0)
                start_error = NULL;
        pending_answer(g, GUEST_VERB_START, GUESTD_ERROR_FAILED, start_error ? start_error : "The guest ended before it ran.");
        pending_answer(g, GUEST_VERB_RESUME, GUESTD_ERROR_FAILED, start_error ? start_error : "The guest could not be resumed.");
        if (out->suspended)
                pending_answer(g, GUEST_VERB_SUSPEND, NULL, NULL);
        else
                pending_answer(g, GUEST_VERB_SUSPEND, GUESTD_ERROR_FAILED,
                               out->suspend_error ? out->suspend_error : "The guest ended before it was suspended.");
        pending_answer(g, GUEST_VERB_STOP, NULL, NULL);
        pending_answer(g, GUEST_VERB_PAUSE, GUESTD_ERROR_BAD_STATE, "The guest ended.");
        pending_answer(g, GUEST_VERB_UNPAUSE, GUESTD_ERROR_BAD_STATE, "The guest ended.");
}

/* The launcher process is gone: work out why, clean up, persist (the
 * transition's listeners), answer. */
static void launcher_ended(struct guest *g) {
        _cleanup_free_ char *reason = NULL;
        struct end_outcome out = {};
        enum guest_state state;

        /* The last messages ("exited") may still be queued. */
        if (g->conn.control_fd >= 0 && g->conn.control_source)
                (void) launcher_conn_read(&g->conn, true);
        state = classify_end(g, &reason);
        end_suspend_or_resume(g, &state, &reason, &out);
        conn_reset(g);
        (void) guest_transition(g, state, reason ? reason : "");
        if (g->conn.progress_total)
                suspend_progress(g, 0, 0);
        answer_ended(g, reason, &out);
        free(out.suspend_error);
}

int launcher_events_watch(struct guest *g) {
        return launcher_conn_watch(&g->conn, g, g->id, g->launcher_pid, &g->state, g->manager->event, &conn_ops);
}
