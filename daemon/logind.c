/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* logind.c: see logind.h. */
#include <fcntl.h>
#include <string.h>

#include "log.h"
#include "bus-sender.h"
#include "logind.h"
#include "verbs.h"

#define LOGIND_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_IFACE "org.freedesktop.login1.Manager"

static int on_inhibit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct manager *m = userdata;
        int fd, r;

        m->inhibit_slot = sd_bus_slot_unref(m->inhibit_slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        log_info("logind is not on this bus: a host shutdown ends the guests without suspending them");
                else
                        log_warning("logind refused guestd's shutdown inhibitor (%s): a host shutdown ends the guests without suspending them",
                                    e->message);
                return 0;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return log_warning_errno(r, "Malformed Inhibit reply from logind: %m"), 0;
        safe_close(m->inhibit_fd);
        m->inhibit_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (m->inhibit_fd < 0)
                return log_warning_errno(-errno, "Cannot keep logind's inhibitor: %m"), 0;
        log_info("Holding a shutdown delay inhibitor: a host shutdown %s the running guests first",
                 m->policy && m->policy->host_shutdown == POLICY_HOST_SHUTDOWN_STOP ? "stops" : "suspends");
        return 0;
}

static void take_inhibitor(struct manager *m) {
        int r;

        if (m->inhibit_fd >= 0 || m->inhibit_slot)
                return;
        r = sd_bus_call_method_async(m->bus, &m->inhibit_slot, LOGIND_NAME, LOGIND_PATH, LOGIND_IFACE, "Inhibit", on_inhibit_reply, m,
                                     "ssss", "shutdown", "guestd", "Suspending or stopping the running guests", "delay");
        if (r < 0)
                log_warning_errno(r, "Cannot ask logind for a shutdown inhibitor: %m");
}

static void release_inhibitor(struct manager *m) {
        if (m->inhibit_fd < 0)
                return;
        m->inhibit_fd = safe_close(m->inhibit_fd);
        log_info("Every guest is suspended or stopped: released the shutdown inhibitor");
}

/* One guest, as the policy says: suspend (through the same entry as a
 * user's Suspend, verbs.h: within its owner's snapshot quota; a guest
 * that does not fit is stopped in order, saying why), or stop in order. */
static void shutdown_guest(struct manager *m, struct guest *g) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (m->policy->host_shutdown == POLICY_HOST_SHUTDOWN_SUSPEND) {
                log_info("Host shutdown: suspending guest %s", g->id);
                if (verb_request(g, GUEST_VERB_SUSPEND, false, NULL, &error) >= 0)
                        return;
                log_warning("Host shutdown: guest %s: %s Stopping it instead", g->id, error.message ? error.message : "cannot suspend it.");
        }
        log_info("Host shutdown: stopping guest %s", g->id);
        (void) verb_request(g, GUEST_VERB_STOP, false, NULL, NULL);
}

static void guest_settled(struct manager *m);

static int on_prepare_for_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        struct manager *m = userdata;
        int active, r;

        /* Only logind's own broadcast: anyone may send a signal named
         * so (bus-sender.h). */
        if (!bus_owner_sent(m->logind, msg)) {
                log_warning("Ignored a PrepareForShutdown from %s: org.freedesktop.login1 is %s", sd_bus_message_get_sender(msg) ?: "nobody",
                            bus_owner_unique(m->logind) ?: "not on the bus");
                return 0;
        }
        r = sd_bus_message_read(msg, "b", &active);
        if (r < 0)
                return log_warning_errno(r, "Malformed PrepareForShutdown from logind: %m"), 0;
        if (!active) {
                /* The shutdown was called off: be ready for the next. */
                log_info("Host shutdown called off");
                m->shutting_down = false;
                take_inhibitor(m);
                return 0;
        }
        log_info("Host shutdown: %s the running guests", m->policy->host_shutdown == POLICY_HOST_SHUTDOWN_STOP ? "stopping" : "suspending");
        m->shutting_down = true;
        for (size_t i = 0; i < m->n_guests; i++) {
                struct guest *g = m->guests[i];
                if (g->state == GUEST_RUNNING || g->state == GUEST_PAUSED)
                        shutdown_guest(m, g);
        }
        guest_settled(m);
        return 0;
}

/* logind's unique name changed (the bus driver's word): a new logind
 * takes a new inhibitor; one that went took its inhibitors with it. */
static void on_logind_owner(struct bus_owner *o, const char *unique, void *userdata) {
        struct manager *m = userdata;

        if (unique) {
                take_inhibitor(m);
                return;
        }
        m->inhibit_fd = safe_close(m->inhibit_fd);
        log_info("logind is not on this bus: a host shutdown ends the guests without suspending them");
}

static void guest_settled(struct manager *m) {
        if (!m->shutting_down)
                return;
        for (size_t i = 0; i < m->n_guests; i++) {
                enum guest_state s = m->guests[i]->state;
                if (s == GUEST_SUSPENDING || s == GUEST_STOPPING)
                        return;
        }
        release_inhibitor(m);
}

static void on_guest_changed(struct guest *g, enum guest_state from, void *userdata) {
        guest_settled(userdata);
}

int logind_setup(struct manager *m) {
        int r;

        r = guest_listeners_add(&m->listeners, on_guest_changed, m);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the guests' changes: %m");

        r = sd_bus_match_signal(m->bus, NULL, LOGIND_NAME, LOGIND_PATH, LOGIND_IFACE, "PrepareForShutdown", on_prepare_for_shutdown, m);
        /* The inhibitor is asked for once the driver says who logind is
         * (and again whenever a new logind comes). */
        if (r >= 0)
                r = bus_owner_watch(m->bus, LOGIND_NAME, on_logind_owner, m, &m->logind);
        if (r < 0)
                return log_error_errno(r, "Cannot watch for logind: %m");
        return 0;
}
