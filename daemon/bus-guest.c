/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-guest.c: see bus-guest.h. */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "bus-auth.h"
#include "bus-guest.h"
#include "console.h"
#include "guest-props.h"
#include "log.h"
#include "verbs.h"

/* Start and Resume: who may is checked first (polkit for someone
 * else's guest); the call runs again from here once polkit has answered,
 * and every check verb_request() makes is made on the state of then. */
static int guest_start_common(sd_bus_message *msg, struct guest *g, bool resume, sd_bus_error *error) {
        _cleanup_(caller_done) struct caller c = {};
        int r;

        r = bus_caller(msg, &c, error);
        if (r == 0)
                r = bus_authorize_use(g->manager, msg, &c, resume ? "resume" : "start", error);
        if (r != 0)
                return r;
        r = verb_request(g, resume ? GUEST_VERB_RESUME : GUEST_VERB_START, false, msg, error);
        /* 1: handled, answered later (sd-bus takes 0 as "no such method"). */
        return r < 0 ? r : 1;
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return guest_start_common(msg, userdata, false, error);
}

static int method_resume(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return guest_start_common(msg, userdata, true, error);
}

static int method_suspend(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r = verb_request(userdata, GUEST_VERB_SUSPEND, false, msg, error);

        return r < 0 ? r : 1;
}

static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int force, r;

        r = sd_bus_message_read(msg, "b", &force);
        if (r < 0)
                return r;
        r = verb_request(userdata, GUEST_VERB_STOP, force, msg, error);
        return r < 0 ? r : 1;
}

static int method_pause(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r = verb_request(userdata, GUEST_VERB_PAUSE, false, msg, error);

        return r < 0 ? r : 1;
}

static int method_unpause(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r = verb_request(userdata, GUEST_VERB_UNPAUSE, false, msg, error);

        return r < 0 ? r : 1;
}

static int method_open_console(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        struct manager *m = g->manager;
        _cleanup_(caller_done) struct caller caller = {};
        _cleanup_close_ int fd = -EBADF;
        enum console_mode mode;
        const char *mode_name;
        size_t mine = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &mode_name);
        if (r < 0)
                return r;
        mode = console_mode_from_string(mode_name);
        if (mode < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                         "Unknown console mode \"%s\" (known: \"write\" or \"\", \"read-only\", \"force\").", mode_name);
        r = verb_check(g, GUEST_VERB_CONSOLE, error);
        if (r < 0)
                return r;
        r = caller_from_message(msg, &caller, error);
        if (r < 0)
                return r;
        /* Every client is an fd of guestd's: bounded per user. */
        for (size_t i = 0; i < m->n_guests; i++)
                mine += console_n_clients_of(m->guests[i]->console, caller.uid);
        if (mine >= CONSOLE_CLIENTS_PER_USER)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "You have %zu consoles open, the most guestd allows one user (%d); close one first.", mine,
                                         CONSOLE_CLIENTS_PER_USER);
        r = console_open_client(g->console, caller.uid, mode, &fd);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, GUESTD_ERROR_BUSY,
                                         "Guest '%s' has a console session already; attach read-only, or take it over with force.",
                                         g->name);
        if (r == -EUSERS)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT, "Guest '%s' has %d console clients, the most guestd allows.",
                                         g->name, CONSOLE_CLIENTS_PER_GUEST);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot open a console: %s.", strerror(-r));
        /* sd-bus sends a duplicate; ours is closed on return. */
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int method_get_console_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        _cleanup_free_ uint8_t *buf = NULL;
        sd_bus_message *reply = NULL;
        size_t len;
        int r;

        r = console_get_log(g->console, &buf, &len);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', buf, len);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int property_guest(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
        return guest_props_append(reply, userdata, property, false);
}

/* The methods; the properties are added from the one table
 * (guest-props.h) by guest_vtable_make(). */
static const sd_bus_vtable guest_methods[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("b", force), SD_BUS_RESULT("s", how), method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unpause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_unpause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Suspend", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_suspend, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_resume, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenConsole", SD_BUS_ARGS("s", mode), SD_BUS_RESULT("h", console), method_open_console,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetConsoleLog", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", log), method_get_console_log,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_guest_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                             sd_bus_error *error) {
        struct manager *m = userdata;
        struct guest *g;
        int r;

        /* The prefix node itself is no guest: introspecting it must work. */
        if (strncmp(path, GUESTD_GUEST_PREFIX "/", strlen(GUESTD_GUEST_PREFIX "/")) != 0)
                return 0;
        g = manager_find_guest_by_path(m, path);
        r = g ? bus_visible_to_current(m, g, error) : 0;
        if (r < 0)
                return r;
        if (r == 0)
                /* The same answer for "does not exist" and "not yours". */
                return sd_bus_error_setf(error, GUESTD_ERROR_NO_SUCH_GUEST, "No such guest object %s; listing your guests shows their objects.", path);
        *ret_found = g;
        return 1;
}

int bus_guest_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *error) {
        struct manager *m = userdata;
        char **nodes;
        size_t n = 0;

        nodes = calloc(m->n_guests + 1, sizeof(char *));
        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_guests; i++) {
                if (bus_visible_to_current(m, m->guests[i], NULL) <= 0)
                        continue;
                nodes[n] = strdup(m->guests[i]->object_path);
                if (!nodes[n]) {
                        for (size_t k = 0; k < n; k++)
                                free(nodes[k]);
                        free(nodes);
                        return -ENOMEM;
                }
                n++;
        }
        *ret_nodes = nodes;
        return 0;
}

/* guest_methods, then a property for each entry of the table, as
 * sd_bus_add_fallback_vtable() wants them (kept for the bus's life). */
sd_bus_vtable bus_guest_vtable[ELEMENTSOF(guest_methods) + GUEST_PROPERTIES_MAX];

void bus_guest_vtable_make(void) {
        static const uint64_t flags[] = {
                [GUEST_PROPERTY_CONST] = SD_BUS_VTABLE_PROPERTY_CONST,
                [GUEST_PROPERTY_EMITS] = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE,
                [GUEST_PROPERTY_POLLED] = 0,
        };
        size_t n = ELEMENTSOF(guest_methods) - 1; /* less its end */

        memcpy(bus_guest_vtable, guest_methods, n * sizeof(sd_bus_vtable));
        for (size_t i = 0; i < GUEST_PROPERTIES_MAX; i++) {
                const struct guest_property_info *p = &guest_properties[i];
                bus_guest_vtable[n++] = (sd_bus_vtable) SD_BUS_PROPERTY(p->name, p->type, property_guest, 0, flags[p->change]);
        }
        bus_guest_vtable[n] = (sd_bus_vtable) SD_BUS_VTABLE_END;
}
