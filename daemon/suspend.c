/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* suspend.c: see suspend.h. */
#include <stdio.h>
#include <string.h>

#include "launcher-fsize.h"
#include "log.h"
#include "pending.h"
#include "protocol-body.h"
#include "signals.h"
#include "snapshots.h"
#include "stop.h"
#include "suspend.h"

void suspend_progress(struct guest *g, uint64_t done, uint64_t total) {
        struct manager *m = g->manager;

        g->conn.progress_done = done;
        g->conn.progress_total = total;
        if (!m->bus)
                return;
        signals_guest_changed(m, g, (const char *const[]) { "Progress", NULL });
}

/* The launcher goes on as new_state: its half-written snapshot goes, the
 * guest is charged as running again, Suspend fails with the reason. */
void suspend_failed(struct guest *g, enum guest_state new_state) {
        struct manager *m = g->manager;
        _cleanup_free_ char *reason = NULL, *text = NULL;
        const char *why = g->conn.suspend_error ? g->conn.suspend_error : "the launcher went on without finishing the snapshot";

        (void) snapshots_remove_new(m->snapshots_dir_fd, g);
        if (asprintf(&reason, "suspend failed: %s", why) < 0)
                reason = NULL;
        (void) guest_transition(g, new_state, reason ? reason : "suspend failed");
        suspend_progress(g, 0, 0);
        if (asprintf(&text, "Guest '%s' could not be suspended: %s; it goes on %s.", g->name, why,
                     new_state == GUEST_PAUSED ? "paused" : "running") < 0)
                text = NULL;
        pending_answer(g, GUEST_VERB_SUSPEND, GUESTD_ERROR_FAILED, text ? text : "The guest could not be suspended; it goes on.");
        g->conn.suspend_error = (free(g->conn.suspend_error), NULL);
}

/* The resumed guest runs: its snapshot is deleted (the record follows
 * with the state change). */
void resume_done(struct guest *g) {
        int r = snapshots_remove(g->manager->snapshots_dir_fd, g);

        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot remove the snapshot it resumed from (removed at guestd's next start): %m", g->id);
        g->snapshot_bytes = 0;
        g->resuming = false;
}

/* The suspending guest's launcher is gone: commit its snapshot if it
 * wrote a whole one. Returns true if the guest is suspended now. */
bool suspend_commit(struct guest *g, char **ret_error) {
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
int suspend_request(struct guest *g, sd_bus_message *call, sd_bus_error *error) {
        enum guest_state was = g->state;
        int r;

        if (g->conn.control_fd < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The launcher of '%s' is not reachable.", g->name);
        /* The record says "suspending" before the launcher hears of it: a
         * guestd restarted in between finds a launcher that went on
         * ("state": the suspend failed) or one parked for the suspend
         * ("suspend_ready", which only a suspending guest's may send). */
        g->conn.suspend_error = (free(g->conn.suspend_error), NULL);
        (void) guest_transition(g, GUEST_SUSPENDING, "");
        r = protocol_send(g->conn.control_fd, PROTOCOL_SUSPEND, NULL, NULL, 0);
        if (r < 0) {
                (void) guest_transition(g, was, NULL);
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot reach the launcher of '%s': %s.", g->name, strerror(-r));
        }
        suspend_progress(g, 0, g->config.memory_mib * MiB);
        pending_add(g, call, GUEST_VERB_SUSPEND);
        return 0;
}

/* The suspend cannot end either way it should (written, or the guest
 * going on): the guest is stopped in order (its disks flushed), its
 * partial snapshot deleted. The Suspend fails when the launcher ends. */
static void suspend_stop(struct guest *g, const char *why) {
        (void) snapshots_remove_new(g->manager->snapshots_dir_fd, g);
        g->conn.stop_requested = true;
        (void) guest_transition(g, GUEST_STOPPING, NULL);
        suspend_progress(g, 0, 0);
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
                launcher_conn_kill(&g->conn);
        }
}

/* The launcher has parked every vCPU and flushed its disks, and only its
 * vCPU threads write disks: until the suspend ends nothing but the
 * snapshot is written, so its file size limit comes down to the reserve
 * its owner was charged, and then it gets the file. Also how a launcher
 * that waits parked greets a guestd restarted meanwhile, which goes on
 * with the suspend. */
int suspend_on_ready(struct guest *g, struct protocol_message *msg) {
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
                launcher_conn_kill(&g->conn);
        }
        return 0;
}

/* The launcher could not write the snapshot; it says it has closed the
 * file and waits, parked. Its limit goes back up only once nothing can
 * write the file (launcher-fsize.h): a launcher that still has it open
 * for writing said one thing and did another, and ends; where the kernel
 * cannot tell, the guest is stopped in order rather than let go on. */
int suspend_on_failed(struct guest *g, struct protocol_message *msg) {
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
                launcher_conn_violation(&g->conn, "it kept the snapshot file open for writing after saying its write failed");
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

int suspend_discard(struct guest *g, sd_bus_error *error) {
        struct manager *m = g->manager;
        int r;

        r = snapshots_remove(m->snapshots_dir_fd, g);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot remove the snapshot of '%s': %s.", g->name, strerror(-r));
        g->snapshot_bytes = 0;
        (void) guest_transition(g, GUEST_STOPPED, "its snapshot was discarded (stop --force)");
        return 0;
}

int suspend_on_progress(struct guest *g, struct protocol_message *msg) {
        struct protocol_progress_body b;

        if (protocol_progress_decode(msg->body, &b) < 0 || b.total != g->config.memory_mib * MiB)
                return -EBADMSG;
        suspend_progress(g, b.done, b.total);
        return 0;
}
