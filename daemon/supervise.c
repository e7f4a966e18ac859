/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* supervise.c: see supervise.h. */
#include <seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "budget.h"
#include "cgroup.h"
#include "console.h"
#include "exit-classify.h"
#include "open-as-caller.h"
#include "guest-exit.h"
#include "kvm-stats.h"
#include "kvm.h"
#include "launcher-conn.h"
#include "launcher-fsize.h"
#include "log.h"
#include "machined.h"
#include "protocol-body.h"
#include "protocol.h"
#include "snapshot.h"
#include "snapshots.h"
#include "spawn.h"
#include "pagetables.h"
#include "signals.h"
#include "supervise.h"

/* ------------------------------------------------------------ pending calls */

static void pending_add(struct guest *g, sd_bus_message *call, enum guest_verb verb) {
        struct pending_call *p, **tail;

        if (!call)
                return;
        p = calloc(1, sizeof(*p));
        if (!p) {
                (void) sd_bus_reply_method_errorf(call, GUESTD_ERROR_FAILED, "Out of memory.");
                return;
        }
        p->call = sd_bus_message_ref(call);
        p->verb = verb;
        p->uid = (uid_t) -1;
        {
                sd_bus_creds *creds = NULL;
                if (sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds) >= 0)
                        (void) sd_bus_creds_get_euid(creds, &p->uid);
                sd_bus_creds_unref(creds);
        }
        for (tail = &g->pending; *tail; tail = &(*tail)->next)
                ;
        *tail = p;
}

int supervise_pending_check(struct manager *m, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(caller_done) struct caller caller = {};
        unsigned n = 0;
        int r;

        r = caller_from_message(call, &caller, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_guests; i++)
                for (struct pending_call *p = m->guests[i]->pending; p; p = p->next)
                        n += p->uid == caller.uid;
        if (n >= SUPERVISE_PENDING_PER_USER)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "You have %u calls waiting for guests to start, stop, pause or suspend, the most guestd "
                                         "keeps for one user (%d); wait for them.",
                                         n, SUPERVISE_PENDING_PER_USER);
        return 0;
}

/* Answers every pending call for verb: success if error_name is NULL. */
static void pending_answer(struct guest *g, enum guest_verb verb, const char *error_name, const char *message) {
        struct pending_call **p = &g->pending;

        while (*p) {
                struct pending_call *c = *p;
                if (c->verb != verb) {
                        p = &c->next;
                        continue;
                }
                *p = c->next;
                if (error_name)
                        (void) sd_bus_reply_method_errorf(c->call, error_name, "%s", message);
                else if (verb == GUEST_VERB_STOP)
                        /* Stop says how the guest ended: its state's reason. */
                        (void) sd_bus_reply_method_return(c->call, "s", g->state_reason ? g->state_reason : "");
                else
                        (void) sd_bus_reply_method_return(c->call, NULL);
                sd_bus_message_unref(c->call);
                free(c);
        }
}

/* ------------------------------------------------------------ the launcher's end */

/* ------------------------------------------------------------ suspend and resume */

static void progress_changed(struct guest *g, uint64_t done, uint64_t total) {
        struct manager *m = g->manager;

        g->conn.progress_done = done;
        g->conn.progress_total = total;
        if (!m->bus)
                return;
        signals_guest_changed(m, g, (const char *const[]) { "Progress", NULL });
}

/* The launcher goes on as new_state: its half-written snapshot goes, the
 * guest is charged as running again, Suspend fails with the reason. */
static void suspend_failed(struct guest *g, enum guest_state new_state) {
        struct manager *m = g->manager;
        _cleanup_free_ char *reason = NULL, *text = NULL;
        const char *why = g->conn.suspend_error ? g->conn.suspend_error : "the launcher went on without finishing the snapshot";

        (void) snapshots_remove_new(m->snapshots_dir_fd, g);
        if (asprintf(&reason, "suspend failed: %s", why) < 0)
                reason = NULL;
        (void) guest_set_state(g, new_state, reason ? reason : "suspend failed");
        manager_guest_changed(m, g);
        progress_changed(g, 0, 0);
        if (asprintf(&text, "Guest '%s' could not be suspended: %s; it goes on %s.", g->name, why,
                     new_state == GUEST_PAUSED ? "paused" : "running") < 0)
                text = NULL;
        pending_answer(g, GUEST_VERB_SUSPEND, GUESTD_ERROR_FAILED, text ? text : "The guest could not be suspended; it goes on.");
        g->conn.suspend_error = (free(g->conn.suspend_error), NULL);
}

/* The resumed guest runs: its snapshot is deleted (the record follows
 * with the state change). */
static void resume_done(struct guest *g) {
        int r = snapshots_remove(g->manager->snapshots_dir_fd, g);

        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot remove the snapshot it resumed from (removed at guestd's next start): %m", g->id);
        g->snapshot_bytes = 0;
        g->resuming = false;
}

/* The suspending guest's launcher is gone: commit its snapshot if it
 * wrote a whole one. Returns true if the guest is suspended now. */
static bool suspend_commit(struct guest *g, char **ret_error) {
        struct manager *m = g->manager;
        uint64_t bytes = 0;
        int r;

        r = snapshots_commit(m->snapshots_dir_fd, g, &bytes, ret_error);
        if (r < 0) {
                log_error("Guest %s: no usable snapshot: %s", g->id, *ret_error ? *ret_error : strerror(-r));
                (void) snapshots_remove_new(m->snapshots_dir_fd, g);
                return false;
        }
        g->snapshot_bytes = bytes;
        log_info("Guest %s: snapshot committed, %" PRIu64 " KiB on disk", g->id, bytes / 1024);
        return true;
}

/* A suspend is a handshake (protocol.h, "suspend"): "suspend", and the
 * launcher parks its vCPUs and flushes its disks; "suspend_ready", and
 * guestd lowers its file size limit to the snapshot's reserve
 * (launcher-fsize.h) and hands it the file; the launcher writes it and
 * ends, or says "suspend_failed" and waits until guestd has made sure
 * nothing can write the file any more and given the limit back. */
int supervise_suspend(struct guest *g, sd_bus_message *call, sd_bus_error *error) {
        struct manager *m = g->manager;
        enum guest_state was = g->state;
        int r;

        if (g->conn.control_fd < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The launcher of '%s' is not reachable.", g->name);
        /* The record says "suspending" before the launcher hears of it: a
         * guestd restarted in between finds a launcher that went on
         * ("state": the suspend failed) or one parked for the suspend
         * ("suspend_ready", which only a suspending guest's may send). */
        g->conn.suspend_error = (free(g->conn.suspend_error), NULL);
        (void) guest_set_state(g, GUEST_SUSPENDING, "");
        manager_guest_changed(m, g);
        r = protocol_send(g->conn.control_fd, PROTOCOL_SUSPEND, NULL, NULL, 0);
        if (r < 0) {
                (void) guest_set_state(g, was, NULL);
                manager_guest_changed(m, g);
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot reach the launcher of '%s': %s.", g->name, strerror(-r));
        }
        progress_changed(g, 0, g->config.memory_mib * MiB);
        pending_add(g, call, GUEST_VERB_SUSPEND);
        return 0;
}

static void stop_plug(struct guest *g, const char *why);

/* The suspend cannot end either way it should (written, or the guest
 * going on): the guest is stopped in order (its disks flushed), its
 * partial snapshot deleted. The Suspend fails when the launcher ends. */
static void suspend_stop(struct guest *g, const char *why) {
        (void) snapshots_remove_new(g->manager->snapshots_dir_fd, g);
        g->conn.stop_requested = true;
        (void) guest_set_state(g, GUEST_STOPPING, NULL);
        manager_guest_changed(g->manager, g);
        progress_changed(g, 0, 0);
        stop_plug(g, why);
}

/* The suspend is called off, before the file went to the launcher or
 * after its write failed: the launcher gets its file size limit back,
 * then "suspend_abort", and the "state" it answers ends the suspend
 * (on_state). A launcher whose limit stays at the reserve could not
 * write its disks past it: that guest is stopped in order instead. */
static void suspend_call_off(struct guest *g, const char *why) {
        int r;

        if (why && !g->conn.suspend_error)
                g->conn.suspend_error = strdup(why);
        r = launcher_fsize_restore(g->launcher_pid, g->conn.pidfd);
        if (r < 0) {
                log_error_errno(r, "Guest %s: cannot give the launcher its file size limit back: %m", g->id);
                suspend_stop(g, "its file size limit could not be given back after a failed suspend");
                return;
        }
        r = protocol_send(g->conn.control_fd, PROTOCOL_SUSPEND_ABORT, NULL, NULL, 0);
        if (r < 0) {
                g->conn.kill_reason = "its launcher could not be reached; killed";
                launcher_conn_kill(g);
        }
}

/* The launcher has parked every vCPU and flushed its disks, and only its
 * vCPU threads write disks: until the suspend ends nothing but the
 * snapshot is written, so its file size limit comes down to the reserve
 * its owner was charged, and then it gets the file. Also how a launcher
 * that waits parked greets a guestd restarted meanwhile, which goes on
 * with the suspend. */
static int on_suspend_ready(struct guest *g, struct protocol_message *msg) {
        struct manager *m = g->manager;
        _cleanup_free_ char *why = NULL;
        uint64_t limit = launcher_fsize_snapshot(&g->config);
        int fd, r;

        if (g->state != GUEST_SUSPENDING)
                return 0; /* a Stop with force overtook the suspend: the launcher is ending */
        r = launcher_fsize_lower(g->launcher_pid, g->conn.pidfd, limit);
        if (r < 0) {
                log_error_errno(r, "Guest %s: cannot lower the launcher's file size limit to the snapshot's reserve: %m", g->id);
                if (asprintf(&why, "cannot bound the snapshot's size: %s", strerror(-r)) < 0)
                        why = NULL;
                suspend_call_off(g, why ? why : "cannot bound the snapshot's size");
                return 0;
        }
        log_debug("Guest %s: launcher's RLIMIT_FSIZE is %" PRIu64 " bytes while it writes its snapshot", g->id, limit);
        fd = snapshots_create_new(m->snapshots_dir_fd, g);
        if (fd < 0) {
                if (asprintf(&why, "cannot create the snapshot file: %s", strerror(-fd)) < 0)
                        why = NULL;
                suspend_call_off(g, why ? why : "cannot create the snapshot file");
                return 0;
        }
        r = protocol_send(g->conn.control_fd, PROTOCOL_SNAPSHOT, NULL, &fd, 1);
        safe_close(fd);
        if (r < 0) {
                g->conn.kill_reason = "its launcher could not be reached; killed";
                launcher_conn_kill(g);
        }
        return 0;
}

/* The launcher could not write the snapshot; it says it has closed the
 * file and waits, parked. Its limit goes back up only once nothing can
 * write the file (launcher-fsize.h): a launcher that still has it open
 * for writing said one thing and did another, and ends; where the kernel
 * cannot tell, the guest is stopped in order rather than let go on. */
static int on_suspend_failed(struct guest *g, struct protocol_message *msg) {
        struct protocol_suspend_failed_body b;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (protocol_suspend_failed_decode(msg->body, &b) < 0)
                return -EBADMSG;
        if (g->state != GUEST_SUSPENDING)
                return 0; /* a Stop with force overtook the suspend: the launcher is ending */
        log_warning("Guest %s: launcher could not write the snapshot: %s", g->id, b.message);
        free(g->conn.suspend_error);
        g->conn.suspend_error = strdup(b.message);
        fd = snapshots_open_new(g->manager->snapshots_dir_fd, g);
        r = fd < 0 ? fd : launcher_fsize_check_released(fd);
        if (r == -EBUSY) {
                launcher_conn_violation(g, "it kept the snapshot file open for writing after saying its write failed");
                return 0;
        }
        if (r < 0) {
                log_error_errno(r, "Guest %s: cannot tell whether anything can still write its snapshot file: %m", g->id);
                suspend_stop(g, "its suspend failed, and guestd cannot tell whether its launcher let go of the snapshot file");
                return 0;
        }
        suspend_call_off(g, NULL);
        return 0;
}

int supervise_discard_snapshot(struct guest *g, sd_bus_error *error) {
        struct manager *m = g->manager;
        int r;

        r = snapshots_remove(m->snapshots_dir_fd, g);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot remove the snapshot of '%s': %s.", g->name, strerror(-r));
        g->snapshot_bytes = 0;
        (void) guest_set_state(g, GUEST_STOPPED, "its snapshot was discarded (stop --force)");
        manager_guest_changed(m, g);
        return 0;
}

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
        if (g->state != new_state) {
                (void) guest_set_state(g, new_state, g->state == GUEST_STARTING ? "" : NULL);
                manager_guest_changed(g->manager, g);
        }
        pending_answer(g, GUEST_VERB_START, NULL, NULL);
        pending_answer(g, GUEST_VERB_RESUME, NULL, NULL);
        pending_answer(g, new_state == GUEST_PAUSED ? GUEST_VERB_PAUSE : GUEST_VERB_UNPAUSE, NULL, NULL);
        return 0;
}

static int on_progress(struct guest *g, struct protocol_message *msg) {
        struct protocol_progress_body b;

        if (protocol_progress_decode(msg->body, &b) < 0 || b.total != g->config.memory_mib * MiB)
                return -EBADMSG;
        progress_changed(g, b.done, b.total);
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

static int on_shutdown_asked(struct guest *g, struct protocol_message *msg);
static int on_poweroff_signal(struct guest *g, struct protocol_message *msg);

#define ACTIVE ((1u << GUEST_STARTING) | (1u << GUEST_RUNNING) | (1u << GUEST_PAUSED) | (1u << GUEST_STOPPING) | (1u << GUEST_SUSPENDING))
/* Which launcher message is allowed in which guest state. A launcher is
 * only ever attached to an active guest, so all are allowed there; the
 * table is where a narrower rule goes. */
static const struct launcher_conn_handler message_table[_PROTOCOL_TYPE_MAX] = {
        [PROTOCOL_STATE] = { ACTIVE, on_state },
        [PROTOCOL_EXITED] = { ACTIVE, on_exited },
        [PROTOCOL_ERROR] = { ACTIVE, on_error },
        [PROTOCOL_VIOLATION] = { ACTIVE, on_violation },
        [PROTOCOL_PROGRESS] = { 1u << GUEST_SUSPENDING, on_progress },
        [PROTOCOL_SUPERVISE] = { ACTIVE, pagetables_on_supervise },
        [PROTOCOL_MMU_PAGES_SET] = { ACTIVE, pagetables_on_cap_set },
        [PROTOCOL_SHUTDOWN_ASKED] = { 1u << GUEST_STOPPING, on_shutdown_asked },
        [PROTOCOL_POWEROFF_SIGNAL] = { ACTIVE, on_poweroff_signal },
        /* A suspend's steps, and nowhere else. While stopping they are
         * let through and ignored: a Stop with force that overtook the
         * suspend ends the launcher either way. */
        [PROTOCOL_SUSPEND_READY] = { (1u << GUEST_SUSPENDING) | (1u << GUEST_STOPPING), on_suspend_ready },
        [PROTOCOL_SUSPEND_FAILED] = { (1u << GUEST_SUSPENDING) | (1u << GUEST_STOPPING), on_suspend_failed },
};
#undef ACTIVE

static void launcher_ended(struct guest *g);
static const struct launcher_conn_ops conn_ops = { .table = message_table, .ended = launcher_ended };

/* The launcher process is gone: work out why, clean up, persist. */
static void launcher_ended(struct guest *g) {
        struct manager *m = g->manager;
        _cleanup_free_ char *reason = NULL, *start_error = NULL, *suspend_error = NULL, *snapshot_error = NULL, *violation = NULL;
        enum guest_state state;
        siginfo_t si = {};
        bool have_status = false, suspended = false, resume_failed = false;

        /* The last messages ("exited") may still be queued. */
        if (g->conn.control_fd >= 0 && g->conn.control_source)
                (void) launcher_conn_read(g, true);

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
                              &reason);
        if (state == GUEST_CRASHED && reason && strncmp(reason, "sandbox violation", 17) == 0)
                log_warning("Guest %s: %s", g->id, reason);

        if (g->state == GUEST_SUSPENDING && !g->conn.stop_requested) {
                /* However it ended: a whole snapshot is the guest. */
                suspended = suspend_commit(g, &snapshot_error);
                if (suspended) {
                        state = GUEST_SUSPENDED;
                        free(reason);
                        reason = strdup(m->shutting_down ? "suspended for the host's shutdown" : "");
                } else {
                        _cleanup_free_ char *why = reason;
                        if (g->conn.exited_received && g->conn.exit_code == GUEST_EXIT_SUSPENDED) {
                                state = GUEST_CRASHED;
                                if (asprintf(&reason, "its snapshot is unusable: %s", snapshot_error ? snapshot_error : "unknown") < 0)
                                        reason = NULL;
                        } else if (asprintf(&reason, "ended while suspending: %s", why ? why : "unknown reason") < 0)
                                reason = NULL;
                        if (asprintf(&suspend_error, "Guest '%s' could not be suspended: %s.", g->name, reason ? reason : "unknown reason") < 0)
                                suspend_error = NULL;
                }
        } else if (g->state == GUEST_SUSPENDING)
                (void) snapshots_remove_new(m->snapshots_dir_fd, g); /* Stop(force) while suspending */
        else if (g->state == GUEST_STARTING && g->resuming) {
                /* Not resumed: it stays suspended, its snapshot kept. */
                _cleanup_free_ char *why = reason;
                resume_failed = true;
                state = GUEST_SUSPENDED;
                g->resuming = false;
                if (asprintf(&reason, "resume failed: %s", why ? why : "unknown reason") < 0)
                        reason = NULL;
        }

        g->conn.pidfd_source = sd_event_source_disable_unref(g->conn.pidfd_source);
        g->conn.control_source = sd_event_source_disable_unref(g->conn.control_source);
        g->conn.stop_timer = sd_event_source_disable_unref(g->conn.stop_timer);
        pagetables_guest_detach(g);
        g->conn.pidfd = safe_close(g->conn.pidfd);
        g->conn.control_fd = safe_close(g->conn.control_fd);
        console_detach_guest(g->console);
        launcher_log_detach(&g->conn.launcher_log);
        unlink_launcher_socket(m, g);
        g->launcher_pid = 0;
        g->conn.exited_received = g->conn.kill_requested = g->conn.stop_requested = g->conn.violation_received = false;
        g->conn.stop_mode = STOP_NONE;
        g->conn.stop_power_button = false;
        g->conn.stop_why = (free(g->conn.stop_why), NULL);
        g->conn.kill_reason = NULL;
        g->conn.protocol_error = (free(g->conn.protocol_error), NULL);
        g->conn.exit_reason = (free(g->conn.exit_reason), NULL);

        (void) guest_set_state(g, state, reason ? reason : "");
        manager_guest_changed(m, g);
        if (g->conn.progress_total)
                progress_changed(g, 0, 0);

        if (resume_failed) {
                if (asprintf(&start_error, "Guest '%s' could not be resumed (%s); it stays suspended, its snapshot kept.", g->name,
                             reason ? reason : "unknown reason") < 0)
                        start_error = NULL;
        } else if (asprintf(&start_error, "Guest '%s' ended before it ran: %s.", g->name, reason ? reason : "unknown reason") < 0)
                start_error = NULL;
        pending_answer(g, GUEST_VERB_START, GUESTD_ERROR_FAILED, start_error ? start_error : "The guest ended before it ran.");
        pending_answer(g, GUEST_VERB_RESUME, GUESTD_ERROR_FAILED, start_error ? start_error : "The guest could not be resumed.");
        if (suspended)
                pending_answer(g, GUEST_VERB_SUSPEND, NULL, NULL);
        else
                pending_answer(g, GUEST_VERB_SUSPEND, GUESTD_ERROR_FAILED, suspend_error ? suspend_error : "The guest ended before it was suspended.");
        pending_answer(g, GUEST_VERB_STOP, NULL, NULL);
        pending_answer(g, GUEST_VERB_PAUSE, GUESTD_ERROR_BAD_STATE, "The guest ended.");
        pending_answer(g, GUEST_VERB_UNPAUSE, GUESTD_ERROR_BAD_STATE, "The guest ended.");
}

/* ------------------------------------------------------------ requests */

/* Steps 2-5 of a Start, once the files are open (job->file_fds): KVM,
 * sockets, the launcher. What is made is kept in the job, which closes
 * it, and kills the launcher, if the Start fails. */
static int start_spawn(struct manager *m, struct guest *g, sd_bus_error *error) {
        struct start_job *job = g->start;
        const struct guest_config *c = &g->config;
        _cleanup_close_ int launcher_control_fd = -EBADF, launcher_log_fd = -EBADF;
        struct kvm_probe_info probe;
        const char *message = NULL;
        int pair[2], r;

        /* 2. KVM, for exactly the vCPUs the quota was charged for. */
        r = kvm_open(&job->kvm_fd, &message);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_KVM_UNAVAILABLE, "KVM is not available on this host: %s",
                                         message ? message : strerror(-r));
        r = kvm_probe(job->kvm_fd, &probe, &message);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_KVM_UNAVAILABLE, "KVM on this host cannot run guests: %s",
                                         message ? message : strerror(-r));
        if (probe.max_vcpus > 0 && c->vcpus > (unsigned) probe.max_vcpus)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "Guest '%s' has %u vCPUs; KVM on this host allows %d.",
                                         g->name, c->vcpus, probe.max_vcpus);
        /* KVM binds a VM to the address space of the process that made it:
         * VM and vCPU ioctls from any other process fail with EIO, so a VM
         * made here could not be run by the launcher. It gets /dev/kvm
         * instead, creates the VM and exactly c->vcpus vCPUs before any
         * guest code runs, and closes /dev/kvm (protocol.h, "setup").
         * The count is checked here against KVM's limit so that the user
         * hears it from Start, not from a crashed launcher. */

        /* 3.-4. Console, control and the listening socket for reconnects. */
        r = launcher_uid_pick(m, &job->launcher_uid);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED,
                                         "All %u launcher uids (%u-%u) are in use (by guests, or by processes no guest accounts for: "
                                         "guestd's log names them); stop a guest first.",
                                         (unsigned) (m->launcher_uid_last - m->launcher_uid_first + 1), (unsigned) m->launcher_uid_first,
                                         (unsigned) m->launcher_uid_last);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make socket pairs: %m");
        job->console_fd = pair[0];
        job->launcher_console_fd = pair[1];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make socket pairs: %m");
        job->control_fd = pair[0];
        launcher_control_fd = pair[1];
        r = launcher_listen_socket(m, g);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot make the launcher's socket in %s: %s.", m->launchers_dir,
                                         strerror(-r));
        job->listen_fd = r;

        /* 5. The launcher. It waits for "setup" before it makes the VM or
         * maps the guest's RAM. */
        if (pipe2(pair, O_CLOEXEC | O_NONBLOCK) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make a pipe: %m");
        job->log_fd = pair[0];
        launcher_log_fd = pair[1];
        return spawn_launcher(m, g, job->launcher_uid, launcher_file_size_limit(c, job->file_fds + job->n_files - c->n_disks),
                              launcher_control_fd, launcher_log_fd, &job->pid, &job->pidfd, error);
}

/* Step 6, once the launcher is in its cgroup or scope: "setup" with the
 * fds in the protocol's order; from then on the launcher is the guest's
 * (g->conn), and the job gives up what it held. cgroup: where the
 * launcher runs (taken), NULL if not in one of its own. */
static int start_setup(struct manager *m, struct guest *g, char *cgroup, sd_bus_error *error) {
        _cleanup_free_ char *cgroup_owned = cgroup;
        struct start_job *job = g->start;
        const struct guest_config *c = &g->config;
        struct json_object *body, *disks;
        int fds[PROTOCOL_MAX_FDS];
        size_t n_fds = 0;
        int r;

        body = json_object_new_object();
        disks = json_object_new_array();
        if (!body || !disks) {
                json_object_put(body);
                json_object_put(disks);
                return sd_bus_error_set_errno(error, ENOMEM);
        }
        json_object_object_add(body, "guest", json_object_new_string(g->name));
        json_object_object_add(body, "memory_mib", json_object_new_int64((int64_t) c->memory_mib));
        json_object_object_add(body, "vcpus", json_object_new_int((int) c->vcpus));
        json_object_object_add(body, "cmdline", json_object_new_string(c->cmdline));
        json_object_object_add(body, "acpi", json_object_new_boolean(c->acpi));
        json_object_object_add(body, "cmdline_devices", json_object_new_boolean(c->cmdline_devices));
        json_object_object_add(body, "initrd", json_object_new_boolean(!g->resuming && c->initrd != NULL));
        if (g->resuming)
                json_object_object_add(body, "resume", json_object_new_boolean(true));
        if (m->test_violation)
                json_object_object_add(body, "test_violation", json_object_new_string(m->test_violation));
        for (size_t i = 0; i < c->n_disks; i++) {
                struct json_object *d = json_object_new_object();
                const char *id = c->disks[i].id, *base = strrchr(c->disks[i].path, '/');
                char fallback[GUEST_DISK_ID_MAX + 1];

                if (!*id) {
                        snprintf(fallback, sizeof(fallback), "%s", base ? base + 1 : c->disks[i].path);
                        id = fallback;
                }
                json_object_object_add(d, "read_only", json_object_new_boolean(c->disks[i].read_only));
                json_object_object_add(d, "id", json_object_new_string(id));
                json_object_array_add(disks, d);
        }
        json_object_object_add(body, "disks", disks);

        fds[n_fds++] = job->kvm_fd;
        for (size_t i = 0; i < job->n_files; i++)
                fds[n_fds++] = job->file_fds[i];
        fds[n_fds++] = job->launcher_console_fd;
        fds[n_fds++] = job->listen_fd;
        r = protocol_send(job->control_fd, PROTOCOL_SETUP, body, fds, n_fds);
        json_object_put(body);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot hand the machine to the launcher: %s.", strerror(-r));

        /* The launcher has its copies now (the job closes ours). guestd
         * keeps the console, the control socket, the log and the pidfd;
         * the socket file stays, for a restarted guestd. */
        job->listen_fd = safe_close(job->listen_fd);
        r = console_attach_guest(g->console, TAKE_FD(job->console_fd));
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot follow the console: %m", g->id);
        r = launcher_log_attach(&g->conn.launcher_log, m->event, TAKE_FD(job->log_fd));
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot follow the launcher's log: %m", g->id);
        g->conn.pidfd = TAKE_FD(job->pidfd);
        g->conn.control_fd = TAKE_FD(job->control_fd);
        free(g->conn.cgroup);
        g->conn.cgroup = TAKE_PTR(cgroup_owned);
        g->launcher_pid = job->pid;
        g->launcher_uid = job->launcher_uid;
        job->pid = 0;
        r = launcher_conn_watch(g, m->event, &conn_ops);
        if (r < 0) {
                /* Cannot follow it: it must not run unsupervised. */
                log_error_errno(r, "Guest %s: cannot watch the launcher: %m", g->id);
                launcher_conn_kill(g);
        }

        /* Its record now names the launcher, for a restarted daemon. */
        manager_guest_changed(m, g);
        return 0;
}

/* A Start that does not get as far as a running launcher leaves the
 * guest as it was: its state and reason come back, the call gets the
 * error, a launcher that got no "setup" is killed. */
static void start_failed(struct guest *g, const char *error_name, const char *message) {
        struct start_job *job = g->start;
        bool resume = g->resuming;

        g->start = NULL;
        g->resuming = false;
        (void) guest_set_state(g, job->prev_state, job->prev_reason ? job->prev_reason : "");
        manager_guest_changed(g->manager, g);
        pending_answer(g, resume ? GUEST_VERB_RESUME : GUEST_VERB_START, error_name, message);
        start_job_free(job);
}

/* Where the launcher runs, read from /proc/PID/cgroup (cgroup.h): 1 and
 * its path in a cgroup of its own (guestd's, or its machine's scope); 0
 * still in guestd's own cgroup, where a move failed (that memory.stat is
 * guestd's, not the guest's); -errno if it cannot be read. */
static int launcher_cgroup_find(pid_t pid, char **ret) {
        _cleanup_free_ char *path = NULL, *ours = NULL;
        int r;

        *ret = NULL;
        r = cgroup_pid_get_path(pid, &path);
        if (r < 0)
                return r;
        if (cgroup_pid_get_path(0, &ours) >= 0 && strcmp(ours, path) == 0)
                return 0;
        *ret = TAKE_PTR(path);
        return 1;
}

/* systemd-machined's answer (machined.h): the launcher is in its
 * machine's scope (r 1), machined is not on the bus (0: guestd's own
 * cgroup, as before), or the Start fails (<0). Then "setup". */
static void on_registered(struct guest *g, int r, const sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error launch_error = SD_BUS_ERROR_NULL;
        struct manager *m = g->manager;
        struct start_job *job = g->start;
        bool in_scope = r > 0;
        char *cgroup = NULL;
        int found;

        job->machined = NULL;
        if (r < 0) {
                start_failed(g, error && error->name ? error->name : GUESTD_ERROR_FAILED,
                             error && error->message ? error->message : "systemd-machined could not make the guest a machine.");
                return;
        }
        if (!in_scope && m->systemd_service) {
                /* guestd's own cgroups would keep systemd from starting
                 * guestd again while this guest runs (cgroup.h). */
                log_error("Guest %s: systemd-machined is not on the bus; guestd runs as a systemd service, where each launcher needs a "
                          "scope of its own from machined (install systemd-container)", g->id);
                start_failed(g, GUESTD_ERROR_FAILED,
                             "systemd-machined is not on the system bus: where guestd runs as a systemd service, each guest needs a scope "
                             "of its own from machined (the host's admin installs systemd-container). The guest was not started.");
                return;
        }
        if (!in_scope && pagetables_own_cgroups(m)) {
                /* Its own cgroup before it makes the VM (it waits for
                 * "setup"), so that every page table KVM builds for it is
                 * counted there. */
                int k = cgroups_guest_attach(m->cgroups, g->handle, job->pid, launcher_memory_max(&g->config),
                                             launcher_tasks_max(&g->config));
                if (k < 0)
                        log_warning_errno(k, "Guest %s: cannot move the launcher into its cgroup: %m", g->id);
        }
        found = launcher_cgroup_find(job->pid, &cgroup);
        if (found < 0)
                log_warning_errno(found, "Guest %s: cannot tell launcher %d's cgroup: %m", g->id, (int) job->pid);
        if (in_scope && found <= 0) {
                /* machined said yes, yet the launcher is not in a scope of
                 * its own: nothing would bound it there. */
                _cleanup_free_ char *message = NULL;
                log_error("Guest %s: systemd-machined made launcher %d a machine, but it is not in a scope of its own", g->id, (int) job->pid);
                if (asprintf(&message, "Guest '%s' was made a machine, but its launcher is not in the machine's scope; it was not started.",
                             g->name) < 0)
                        message = NULL;
                start_failed(g, GUESTD_ERROR_FAILED, message ? message : "The launcher is not in its machine's scope.");
                return;
        }
        if (cgroup)
                log_debug("Guest %s: launcher %d runs in cgroup %s", g->id, (int) job->pid, cgroup);
        r = start_setup(m, g, cgroup, &launch_error);
        if (r < 0) {
                start_failed(g, launch_error.name ? launch_error.name : GUESTD_ERROR_FAILED,
                             launch_error.message ? launch_error.message : "The launcher could not be started.");
                return;
        }
        /* From here on the launcher's messages and its end answer it. */
        g->start = NULL;
        start_job_free(job);
}

static void on_files_opened(int r, const sd_bus_error *error, int *fds, size_t n, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error launch_error = SD_BUS_ERROR_NULL;
        struct guest *g = userdata;
        struct manager *m = g->manager;
        struct start_job *job = g->start;

        job->opener = NULL;
        if (r < 0) {
                start_failed(g, error && error->name ? error->name : GUESTD_ERROR_FAILED,
                             error && error->message ? error->message : "Opening the guest's files failed.");
                return;
        }
        if (job->snapshot_fd >= 0)
                job->file_fds[job->n_files++] = TAKE_FD(job->snapshot_fd);
        for (size_t i = 0; i < n; i++) {
                if (job->n_files < ELEMENTSOF(job->file_fds))
                        job->file_fds[job->n_files++] = fds[i];
                else
                        safe_close(fds[i]);
        }
        r = start_spawn(m, g, &launch_error);
        if (r < 0) {
                start_failed(g, launch_error.name ? launch_error.name : GUESTD_ERROR_FAILED,
                             launch_error.message ? launch_error.message : "The launcher could not be started.");
                return;
        }
        /* Its scope from systemd-machined, where machined runs, or guestd's
         * own cgroup; either way before "setup", answered in the loop. */
        r = machined_register(m, g, job->pid, launcher_memory_max(&g->config), launcher_tasks_max(&g->config), on_registered,
                              &job->machined);
        if (r < 0) {
                _cleanup_free_ char *message = NULL;
                log_error_errno(r, "Guest %s: cannot ask systemd-machined for a machine: %m", g->id);
                if (asprintf(&message, "Cannot ask systemd-machined to make guest '%s' a machine: %s.", g->name, strerror(-r)) < 0)
                        message = NULL;
                start_failed(g, GUESTD_ERROR_FAILED, message ? message : "Cannot ask systemd-machined.");
        }
}

void start_job_free(struct start_job *job) {
        struct guest *g;

        if (!job)
                return;
        g = job->guest;
        opener_cancel(job->opener);
        machined_request_cancel(job->machined);
        /* A launcher that got no "setup": nothing of the guest ran in it.
         * Killed, and reaped once it has ended, never waited for; its
         * scope, if machined made one, empties and goes with it. */
        if (job->pidfd >= 0)
                spawn_kill_unstarted(g->manager->event, TAKE_FD(job->pidfd));
        if (job->listen_fd >= 0 || job->pid > 0)
                unlink_launcher_socket(g->manager, g);
        safe_close(job->snapshot_fd);
        safe_close(job->kvm_fd);
        safe_close(job->listen_fd);
        safe_close(job->control_fd);
        safe_close(job->console_fd);
        safe_close(job->launcher_console_fd);
        safe_close(job->log_fd);
        for (size_t i = 0; i < job->n_files; i++)
                safe_close(job->file_fds[i]);
        free(job->prev_reason);
        free(job);
}

int supervise_start(struct manager *m, struct guest *g, const struct caller *caller, bool resume, sd_bus_message *call,
                    sd_bus_error *error) {
        const struct guest_config *c = &g->config;
        struct file_request req[2 + GUEST_MAX_DISKS];
        struct start_job *job;
        size_t n_req = 0;
        unsigned lingering;
        int r;

        if (!m->openers) {
                r = opener_pool_new(m->event, &m->openers);
                if (r < 0)
                        return sd_bus_error_set_errno(error, -r);
        }
        lingering = opener_lingering(m->openers, caller->uid);
        if (lingering >= OPENER_LINGERING_MAX)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "%u earlier opens of your files have not ended yet (their file systems do not answer); "
                                         "guestd starts nothing more of yours until they do.",
                                         lingering);
        job = calloc(1, sizeof(*job));
        if (!job)
                return sd_bus_error_set_errno(error, ENOMEM);
        job->guest = g;
        job->snapshot_fd = job->pidfd = job->kvm_fd = job->listen_fd = -EBADF;
        job->control_fd = job->console_fd = job->launcher_console_fd = job->log_fd = -EBADF;
        job->prev_state = g->state;
        job->prev_reason = g->state_reason ? strdup(g->state_reason) : NULL;

        /* 1. The guest's files, with the rights of whoever named them
         * (files_uid: the caller passed here), in a child
         * (open-as-caller.h), answered in the event loop; for a resume the
         * disks only, and the snapshot (guestd's own file, checked before
         * any launcher sees it) in the kernel's place. */
        if (resume) {
                _cleanup_free_ char *why = NULL;
                r = snapshots_open(m->snapshots_dir_fd, g, &job->snapshot_fd, &why);
                if (r < 0) {
                        start_job_free(job);
                        return sd_bus_error_setf(error, GUESTD_ERROR_BAD_SNAPSHOT,
                                                 "Guest '%s' cannot be resumed: %s. It stays suspended and its snapshot is kept.", g->name,
                                                 why ? why : strerror(-r));
                }
        } else {
                req[n_req++] = (struct file_request) { "kernel", c->kernel, O_RDONLY, false };
                if (c->initrd)
                        req[n_req++] = (struct file_request) { "initrd", c->initrd, O_RDONLY, false };
        }
        for (size_t i = 0; i < c->n_disks; i++)
                req[n_req++] = (struct file_request) { "disk", c->disks[i].path, c->disks[i].read_only ? O_RDONLY : O_RDWR, true };
        r = opener_start(m->openers, caller, req, n_req, (uint64_t) m->policy->timeout_open_files_s * 1000000ULL, on_files_opened, g,
                         &job->opener, error);
        if (r < 0) {
                start_job_free(job);
                return r;
        }

        /* The state change that charges the quota, in the same callback as
         * the check: no other request can come in between. */
        g->start = job;
        g->resuming = resume;
        (void) guest_set_state(g, GUEST_STARTING, "");
        manager_guest_changed(m, g);
        pending_add(g, call, resume ? GUEST_VERB_RESUME : GUEST_VERB_START);
        return 0;
}

static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int arm_stop_timer(struct guest *g, uint64_t usec) {
        int r;

        g->conn.stop_timer = sd_event_source_disable_unref(g->conn.stop_timer);
        r = sd_event_add_time_relative(g->manager->event, &g->conn.stop_timer, CLOCK_MONOTONIC, usec, 0, on_stop_timer, g);
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot arm the stop timer: %m", g->id);
        return r;
}

/* guestd ends the guest itself: the launcher halts the vCPUs and flushes
 * the disks; SIGKILL if it has not ended SUPERVISE_STOP_GRACE_USEC later.
 * why: why the guest takes no part (kept for the reason). */
static void stop_plug(struct guest *g, const char *why) {
        free(g->conn.stop_why);
        g->conn.stop_why = why ? strdup(why) : NULL;
        g->conn.stop_mode = STOP_PLUG;
        log_info("Guest %s: stopping it without the guest's part: %s", g->id, why ? why : "asked to");
        if (g->conn.control_fd < 0 || protocol_send(g->conn.control_fd, PROTOCOL_STOP, NULL, NULL, 0) < 0) {
                g->conn.kill_reason = "its launcher could not be reached; killed";
                launcher_conn_kill(g);
                return;
        }
        if (arm_stop_timer(g, SUPERVISE_STOP_GRACE_USEC) < 0) {
                g->conn.kill_reason = "killed (no stop timer)";
                launcher_conn_kill(g);
        }
}

static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct guest *g = userdata;
        char why[128];

        if (g->conn.stop_mode == STOP_ASKING || g->conn.stop_mode == STOP_ASKED) {
                snprintf(why, sizeof(why), "it did not shut down within %u s of %s", g->manager->policy->timeout_stop_s,
                         g->conn.stop_power_button ? "the ACPI power button" : "Ctrl-Alt-Del");
                log_info("Guest %s: %s", g->id, why);
                stop_plug(g, why);
                return 0;
        }
        log_warning("Guest %s: did not stop within %llu s, killing its launcher", g->id, SUPERVISE_STOP_GRACE_USEC / 1000000ULL);
        g->conn.kill_reason = "did not stop within 10 s; killed";
        launcher_conn_kill(g);
        return 0;
}

/* The launcher's answer to "shutdown". */
static int on_shutdown_asked(struct guest *g, struct protocol_message *msg) {
        struct protocol_shutdown_asked_body b;

        if (protocol_shutdown_asked_decode(msg->body, &b) < 0)
                return -EBADMSG;
        if (g->conn.stop_mode != STOP_ASKING)
                return 0; /* overtaken (a Stop with force, the plug after the timeout) */
        if (!b.asked) {
                stop_plug(g, b.why && *b.why ? b.why : "the guest cannot be asked");
                return 0;
        }
        g->conn.stop_mode = STOP_ASKED;
        g->conn.stop_power_button = b.how && strcmp(b.how, PROTOCOL_SHUTDOWN_POWER_BUTTON) == 0;
        log_info("Guest %s: asked it to shut down (%s); waiting up to %u s", g->id,
                 g->conn.stop_power_button ? "ACPI power button" : "Ctrl-Alt-Del", g->manager->policy->timeout_stop_s);
        return 0;
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
        return supervise_stop(g, false, NULL, NULL);
}

int supervise_stop(struct guest *g, bool force, sd_bus_message *call, sd_bus_error *error) {
        struct manager *m = g->manager;
        int r;

        if (g->start) {
                /* Its files are still being opened, or its launcher waits
                 * for its scope: nothing of the guest runs yet. The Start
                 * fails, the guest is as it was before it. */
                _cleanup_free_ char *message = NULL;
                if (asprintf(&message, "Guest '%s' was stopped before it started (%s).", g->name,
                             g->start->opener ? "its files were still being opened" : "systemd-machined was still making its scope") < 0)
                        message = NULL;
                start_failed(g, GUESTD_ERROR_FAILED, message ? message : "The guest was stopped before it started.");
                if (call)
                        (void) sd_bus_reply_method_return(call, "s", "stopped before it started");
                return 0;
        }
        g->conn.stop_requested = true;
        if (force || g->conn.control_fd < 0) {
                if (!g->conn.kill_reason)
                        g->conn.kill_reason = force ? "killed on request (Stop with force)" : "its launcher could not be reached; killed";
                launcher_conn_kill(g);
        } else if (g->conn.stop_mode == STOP_NONE) {
                /* Ask the guest first, unless it cannot take part. */
                if (g->state == GUEST_PAUSED)
                        stop_plug(g, "it is paused");
                else if (g->state == GUEST_STARTING)
                        stop_plug(g, "it has not started yet");
                else {
                        r = protocol_send(g->conn.control_fd, PROTOCOL_SHUTDOWN, NULL, NULL, 0);
                        if (r < 0)
                                stop_plug(g, "its launcher did not take the request");
                        else {
                                g->conn.stop_mode = STOP_ASKING;
                                if (arm_stop_timer(g, (uint64_t) m->policy->timeout_stop_s * 1000000ULL) < 0)
                                        stop_plug(g, "no timer to wait with");
                        }
                }
        }
        if (g->state != GUEST_STOPPING) {
                (void) guest_set_state(g, GUEST_STOPPING, NULL);
                manager_guest_changed(m, g);
        }
        pending_add(g, call, GUEST_VERB_STOP);
        return 0;
}

int supervise_pause(struct guest *g, bool pause, sd_bus_message *call, sd_bus_error *error) {
        int r;

        if (g->conn.control_fd < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The launcher of '%s' is not reachable.", g->name);
        r = protocol_send(g->conn.control_fd, pause ? PROTOCOL_PAUSE : PROTOCOL_UNPAUSE, NULL, NULL, 0);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot reach the launcher of '%s': %s.", g->name, strerror(-r));
        pending_add(g, call, pause ? GUEST_VERB_PAUSE : GUEST_VERB_UNPAUSE);
        return 0;
}

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
                        (void) guest_set_state(g, GUEST_SUSPENDED, "");
                else {
                        if (asprintf(&reason, "launcher lost while guestd was down, during a suspend: %s", error ? error : "no snapshot") < 0)
                                reason = NULL;
                        (void) guest_set_state(g, GUEST_CRASHED, reason ? reason : "launcher lost during a suspend");
                }
        } else if (g->state == GUEST_STARTING && g->resuming) {
                g->resuming = false;
                (void) guest_set_state(g, GUEST_SUSPENDED, "resume failed: launcher lost while guestd was down");
        } else
                (void) guest_set_state(g, GUEST_CRASHED, "launcher lost while guestd was down");
        manager_guest_changed(m, g);
}

int supervise_reattach(struct manager *m, struct guest *g) {
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
                (void) guest_set_state(g, resume ? GUEST_SUSPENDED : GUEST_STOPPED,
                                       resume ? "guestd restarted before the resume began; resume it again"
                                              : "guestd restarted before the guest began; start it again");
                manager_guest_changed(m, g);
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
        r = launcher_conn_watch(g, m->event, &conn_ops);
        if (r < 0) {
                launcher_conn_kill(g);
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
                (void) supervise_stop(g, false, NULL, NULL);
        return 0;
}
