/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-sender.c: see bus-sender.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-sender.h"
#include "log.h"
#include "util.h"

static bool streq_ptr(const char *a, const char *b) {
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static const char *strna(const char *s) {
        return s ? s : "n/a";
}

struct bus_owner {
        sd_bus *bus;
        char *name;
        char *unique; /* NULL: nobody owns the name (or not known yet) */
        bool known;   /* the driver has answered once */
        sd_bus_slot *match, *call;
        bus_owner_changed_t changed;
        void *userdata;
};

bool bus_sender_signal_allowed(const char *sender, const char *destination, const char *interface) {
        /* The bus daemon stamps every message's sender with the unique
         * name of the connection that sent it, and keeps the driver's
         * name for itself; sd-bus marks what it makes up locally
         * (Disconnected). Both are who they say. */
        if (sender && (strcmp(sender, BUS_DRIVER_NAME) == 0 || strcmp(sender, BUS_LOCAL_SENDER) == 0))
                return true;
        /* What sd-bus makes up may carry no sender at all; anything that
         * came over the bus has one (the bus daemon stamps it). */
        if (!sender && interface && strcmp(interface, BUS_LOCAL_SENDER) == 0 && !destination)
                return true;
        /* NameOwnerChanged, NameAcquired, NameLost: only the driver's
         * word counts (sd_bus_track believes them). */
        if (interface && (strcmp(interface, BUS_DRIVER_NAME) == 0 || strcmp(interface, BUS_LOCAL_SENDER) == 0))
                return false;
        /* Nothing guestd acts on is sent to it: logind broadcasts. A
         * signal with a destination bypassed the bus's sender check. */
        if (destination)
                return false;
        return sender != NULL;
}

/* At most one line a minute about dropped signals: whoever sends them
 * must not fill the log. */
static void note_dropped(sd_bus_message *m) {
        static time_t last;
        static unsigned dropped;
        struct timespec now;

        dropped++;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (last != 0 && now.tv_sec - last < 60)
                return;
        last = now.tv_sec ? now.tv_sec : 1;
        log_warning("Ignored %u bus signal%s that did not come from who they claim (the last: %s.%s from %s to %s)", dropped,
                    dropped == 1 ? "" : "s", strna(sd_bus_message_get_interface(m)), strna(sd_bus_message_get_member(m)),
                    strna(sd_bus_message_get_sender(m)), strna(sd_bus_message_get_destination(m)));
        dropped = 0;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        uint8_t type = 0;

        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_SIGNAL)
                return 0;
        if (bus_sender_signal_allowed(sd_bus_message_get_sender(m), sd_bus_message_get_destination(m),
                                      sd_bus_message_get_interface(m)))
                return 0;
        note_dropped(m);
        return 1; /* handled: no match sees it */
}

int bus_sender_install_filter(sd_bus *bus) {
        return sd_bus_add_filter(bus, NULL, on_message, NULL);
}

static void owner_set(struct bus_owner *o, const char *unique) {
        char *copy = NULL;

        if (unique && !*unique)
                unique = NULL;
        if (o->known && streq_ptr(o->unique, unique))
                return;
        o->known = true;
        if (unique) {
                copy = strdup(unique);
                if (!copy) {
                        /* Believe nobody rather than an old owner. */
                        log_warning("Out of memory following the owner of %s", o->name);
                }
        }
        free(o->unique);
        o->unique = copy;
        if (o->changed)
                o->changed(o, o->unique, o->userdata);
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct bus_owner *o = userdata;
        const char *name, *old_owner, *new_owner;

        /* The filter let only the driver's through; checked again here,
         * where the answer matters. */
        if (!streq_ptr(sd_bus_message_get_sender(m), BUS_DRIVER_NAME))
                return 0;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || strcmp(name, o->name) != 0)
                return 0;
        owner_set(o, new_owner);
        return 0;
}

static int on_get_name_owner(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct bus_owner *o = userdata;
        const char *unique = NULL;

        o->call = sd_bus_slot_unref(o->call);
        /* NameHasOwner is the usual error: nobody owns it yet. A reply
         * is the driver's own (the bus routes a reply only from the
         * connection that was asked). */
        if (!sd_bus_message_is_method_error(reply, NULL) && sd_bus_message_read(reply, "s", &unique) < 0)
                unique = NULL;
        owner_set(o, unique);
        return 0;
}

int bus_owner_watch(sd_bus *bus, const char *name, bus_owner_changed_t changed, void *userdata, struct bus_owner **ret) {
        _cleanup_free_ char *rule = NULL;
        struct bus_owner *o;
        int r;

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->bus = sd_bus_ref(bus);
        o->name = strdup(name);
        o->changed = changed;
        o->userdata = userdata;
        if (!o->name || asprintf(&rule,
                                 "type='signal',sender='" BUS_DRIVER_NAME "',path='/org/freedesktop/DBus',"
                                 "interface='" BUS_DRIVER_NAME "',member='NameOwnerChanged',arg0='%s'",
                                 name) < 0) {
                rule = NULL;
                bus_owner_free(o);
                return -ENOMEM;
        }
        /* The match first, then the question: a change between the two
         * arrives before the reply, and the reply is the newer word. */
        r = sd_bus_add_match(bus, &o->match, rule, on_owner_changed, o);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, &o->call, BUS_DRIVER_NAME, "/org/freedesktop/DBus", BUS_DRIVER_NAME, "GetNameOwner",
                                             on_get_name_owner, o, "s", name);
        if (r < 0) {
                bus_owner_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

struct bus_owner *bus_owner_free(struct bus_owner *o) {
        if (!o)
                return NULL;
        sd_bus_slot_unref(o->match);
        sd_bus_slot_unref(o->call);
        sd_bus_unref(o->bus);
        free(o->name);
        free(o->unique);
        free(o);
        return NULL;
}

const char *bus_owner_unique(const struct bus_owner *o) {
        return o ? o->unique : NULL;
}

bool bus_owner_sent(const struct bus_owner *o, sd_bus_message *m) {
        return o && o->unique && !sd_bus_message_get_destination(m) && streq_ptr(sd_bus_message_get_sender(m), o->unique);
}
