/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* machined.c: see machined.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "guest.h"
#include "log.h"
#include "machined.h"
#include "manager.h"

#define MACHINED_NAME "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_IFACE "org.freedesktop.machine1.Manager"
/* Answers that mean "the previous launcher's machine is still being
 * collected": machined's own, and systemd's for a scope of that name. */
#define MACHINED_ERROR_MACHINE_EXISTS "org.freedesktop.machine1.MachineExists"
#define SYSTEMD_ERROR_UNIT_EXISTS "org.freedesktop.systemd1.UnitExists"

struct machined_request {
        struct manager *manager;
        struct guest *guest;
        machined_registered_t done;
        char name[sizeof(MACHINED_NAME_PREFIX) + 32];
        uint8_t id[16];
        size_t id_size; /* 0: no id (a handle that is not 32 hex digits) */
        pid_t leader;
        uint64_t memory_max, tasks_max;
        usec_t deadline; /* CLOCK_MONOTONIC */
        unsigned attempts;
        sd_bus_slot *slot;      /* CreateMachine in flight */
        sd_event_source *retry; /* the next attempt, after MachineExists */
};

/* ------------------------------------------------------------ presence */

/* How launchers are bounded, logged at start and whenever machined comes
 * or goes, so that an admin knows where to look for them. */
static void note_presence(struct manager *m, bool present) {
        if (m->machined.present == (int) present)
                return;
        m->machined.present = present;
        if (present)
                log_info("systemd-machined answers on the bus: each launcher runs in a scope of its own, the machine "
                         MACHINED_NAME_PREFIX "HANDLE (machinectl list), which bounds its memory and tasks");
        else if (m->systemd_service)
                log_warning("systemd-machined is not on the bus: guestd runs as a systemd service, where guests start only as "
                            "machines of machined's (install systemd-container)");
        else
                log_info("systemd-machined is not on the bus: each launcher runs in a cgroup of guestd's own, where it can have one");
}

static bool error_is_absent(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

static int on_probe_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct manager *m = userdata;
        const sd_bus_error *e;

        m->machined.probe_slot = sd_bus_slot_unref(m->machined.probe_slot);
        if (!sd_bus_message_is_method_error(reply, NULL)) {
                note_presence(m, true);
                return 0;
        }
        e = sd_bus_message_get_error(reply);
        if (error_is_absent(e))
                note_presence(m, false);
        else
                log_warning("systemd-machined did not answer guestd's first question (%s); each Start asks it again",
                            e->message ?: e->name);
        return 0;
}

int machined_setup(struct manager *m) {
        int r;

        m->machined.present = -1;
        if (m->machined.timeout_usec == 0)
                m->machined.timeout_usec = MACHINED_TIMEOUT_USEC_DEFAULT;
        /* Any call starts a bus-activatable machined; Ping (sd-bus answers
         * it for every object) asks nothing else of it. */
        r = sd_bus_call_method_async(m->bus, &m->machined.probe_slot, MACHINED_NAME, MACHINED_PATH, "org.freedesktop.DBus.Peer", "Ping",
                                     on_probe_reply, m, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot ask whether systemd-machined is on the bus: %m");
        return 0;
}

void machined_done(struct manager *m) {
        m->machined.probe_slot = sd_bus_slot_unref(m->machined.probe_slot);
}

/* ------------------------------------------------------------ CreateMachine */

struct machined_request *machined_request_cancel(struct machined_request *req) {
        if (!req)
                return NULL;
        sd_bus_slot_unref(req->slot);
        sd_event_source_disable_unref(req->retry);
        free(req);
        return NULL;
}

/* Hands the answer on; the request is gone by the time done runs. */
static void finish(struct machined_request *req, int r, const sd_bus_error *error) {
        machined_registered_t done = req->done;
        struct guest *g = req->guest;

        machined_request_cancel(req);
        done(g, r, error);
}

static int send_create(struct machined_request *req);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct machined_request *req = userdata;
        int r;

        req->retry = sd_event_source_disable_unref(req->retry);
        r = send_create(req);
        if (r < 0) {
                sd_bus_error_setf(&error, r == -ETIMEDOUT ? GUESTD_ERROR_TIMEOUT : GUESTD_ERROR_FAILED,
                                  "Cannot ask systemd-machined again to make guest '%s' a machine: %s. It was not started.",
                                  req->guest->name, strerror(-r));
                finish(req, r, &error);
        }
        return 0;
}

static int on_create_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct machined_request *req = userdata;
        struct manager *m = req->manager;
        struct guest *g = req->guest;
        const sd_bus_error *e;
        const char *path = NULL;
        int r;

        req->slot = sd_bus_slot_unref(req->slot);
        if (!sd_bus_message_is_method_error(reply, NULL)) {
                note_presence(m, true);
                (void) sd_bus_message_read(reply, "o", &path);
                log_info("Guest %s: launcher %d is the machine %s (systemd-machined%s%s)", g->id, (int) req->leader, req->name,
                         path ? ", " : "", path ?: "");
                finish(req, 1, NULL);
                return 0;
        }
        e = sd_bus_message_get_error(reply);
        if (error_is_absent(e)) {
                note_presence(m, false);
                finish(req, 0, NULL);
                return 0;
        }
        /* It answered, if only with an error (or the bus did, for it):
         * from here on nothing falls back to guestd's own cgroup. */
        note_presence(m, true);
        if (sd_bus_error_has_names(e, MACHINED_ERROR_MACHINE_EXISTS, SYSTEMD_ERROR_UNIT_EXISTS) &&
            now_usec() + MACHINED_RETRY_USEC < req->deadline) {
                /* The guest's last launcher has ended, and systemd has
                 * not yet collected its scope: soon it will. */
                log_debug("Guest %s: %s still exists (%s); asking again", g->id, req->name, e->message ?: e->name);
                r = sd_event_add_time_relative(m->event, &req->retry, CLOCK_MONOTONIC, MACHINED_RETRY_USEC, 0, on_retry, req);
                if (r >= 0)
                        return 0;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT)) {
                log_warning("Guest %s: systemd-machined did not answer CreateMachine for %s in time (%s)", g->id, req->name,
                            e->message ?: e->name);
                sd_bus_error_setf(&error, GUESTD_ERROR_TIMEOUT,
                                  "systemd-machined did not make guest '%s' a machine within %" PRIu64 " s; it was not started.", g->name,
                                  m->machined.timeout_usec / 1000000);
        } else {
                log_warning("Guest %s: systemd-machined refused CreateMachine for %s after %u attempt(s): %s (%s)", g->id, req->name,
                            req->attempts, e->message ?: "", e->name);
                sd_bus_error_setf(&error, GUESTD_ERROR_FAILED, "systemd-machined could not make guest '%s' a machine: %s (%s). It was not started.",
                                  g->name, e->message ?: "no reason given", e->name);
        }
        finish(req, -EIO, &error);
        return 0;
}

static int send_create(struct machined_request *req) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        struct manager *m = req->manager;
        usec_t now = now_usec();
        int r;

        if (now >= req->deadline)
                return -ETIMEDOUT;
        r = sd_bus_message_new_method_call(m->bus, &msg, MACHINED_NAME, MACHINED_PATH, MACHINED_IFACE, "CreateMachine");
        if (r >= 0)
                r = sd_bus_message_append(msg, "s", req->name);
        if (r >= 0)
                r = sd_bus_message_append_array(msg, 'y', req->id, req->id_size);
        /* service, class, leader, root directory (none: the guest's root
         * is no directory of the host's). */
        if (r >= 0)
                r = sd_bus_message_append(msg, "ssus", "guestd", "vm", (uint32_t) req->leader, "");
        if (r >= 0)
                r = sd_bus_message_open_container(msg, 'a', "(sv)");
        /* What guestd's own cgroup would bound (spawn.h); machined's
         * default TasksMax (16384) comes before these and is replaced.
         * CollectMode: a scope whose launcher failed is collected too,
         * not left for an admin to reset; machined asks for it as well,
         * said here so it does not depend on machined's version. */
        if (r >= 0)
                r = sd_bus_message_append(msg, "(sv)(sv)(sv)", "MemoryMax", "t", req->memory_max, "TasksMax", "t", req->tasks_max,
                                          "CollectMode", "s", "inactive-or-failed");
        if (r >= 0)
                r = sd_bus_message_close_container(msg);
        if (r < 0)
                return r;
        r = sd_bus_call_async(m->bus, &req->slot, msg, on_create_reply, req, req->deadline - now);
        if (r < 0)
                return r;
        req->attempts++;
        return 0;
}

static int unhex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int machined_register(struct manager *m, struct guest *g, pid_t leader, uint64_t memory_max, uint64_t tasks_max,
                      machined_registered_t done, struct machined_request **ret) {
        struct machined_request *req;
        int r;

        if (!m->bus)
                return -ENOTCONN;
        req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        *req = (struct machined_request) {
                .manager = m,
                .guest = g,
                .done = done,
                .leader = leader,
                .memory_max = memory_max,
                .tasks_max = tasks_max,
                .deadline = now_usec() + m->machined.timeout_usec,
        };
        /* The handle is already public (the object path, the cgroup); the
         * name and the id say nothing more. */
        snprintf(req->name, sizeof(req->name), MACHINED_NAME_PREFIX "%s", g->handle);
        if (strlen(g->handle) == 2 * sizeof(req->id)) {
                req->id_size = sizeof(req->id);
                for (size_t i = 0; i < sizeof(req->id) && req->id_size; i++) {
                        int hi = unhex(g->handle[2 * i]), lo = unhex(g->handle[2 * i + 1]);
                        if (hi < 0 || lo < 0)
                                req->id_size = 0;
                        else
                                req->id[i] = (uint8_t) (hi << 4 | lo);
                }
        }
        r = send_create(req);
        if (r < 0) {
                free(req);
                return r;
        }
        *ret = req;
        return 0;
}
