/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stop.c: see stop.h. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pending.h"
#include "protocol-body.h"
#include "stop.h"

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
 * the disks; SIGKILL if it has not ended STOP_GRACE_USEC later.
 * why: why the guest takes no part (kept for the reason). */
void stop_plug(struct guest *g, const char *why) {
        free(g->conn.stop_why);
        g->conn.stop_why = why ? strdup(why) : NULL;
        g->conn.stop_mode = STOP_PLUG;
        log_info("Guest %s: stopping it without the guest's part: %s", g->id, why ? why : "asked to");
        if (g->conn.control_fd < 0 || protocol_send(g->conn.control_fd, PROTOCOL_STOP, NULL, NULL, 0) < 0) {
                g->conn.kill_reason = "its launcher could not be reached; killed";
                launcher_conn_kill(&g->conn);
                return;
        }
        if (arm_stop_timer(g, STOP_GRACE_USEC) < 0) {
                g->conn.kill_reason = "killed (no stop timer)";
                launcher_conn_kill(&g->conn);
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
        log_warning("Guest %s: did not stop within %d s, killing its launcher", g->id, GUEST_STOP_GRACE_S);
        g->conn.kill_reason = "did not stop within " STRINGIFY(GUEST_STOP_GRACE_S) " s; killed";
        launcher_conn_kill(&g->conn);
        return 0;
}

/* The launcher's answer to "shutdown". */
int stop_on_shutdown_asked(struct guest *g, struct protocol_message *msg) {
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

int stop_request(struct guest *g, bool force, sd_bus_message *call, sd_bus_error *error) {
        struct manager *m = g->manager;
        int r;

        g->conn.stop_requested = true;
        if (force || g->conn.control_fd < 0) {
                if (!g->conn.kill_reason)
                        g->conn.kill_reason = force ? "killed on request (Stop with force)" : "its launcher could not be reached; killed";
                launcher_conn_kill(&g->conn);
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
                (void) guest_transition(g, GUEST_STOPPING, NULL);
        }
        pending_add(g, call, GUEST_VERB_STOP);
        return 0;
}
