/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* signals.c: see signals.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "access.h"
#include "guest-props.h"
#include "manager.h"
#include "signals.h"

static void subscriber_free(struct subscriber *s) {
        if (!s)
                return;
        sd_bus_track_unref(s->track);
        free(s->name);
        free(s);
}

static void subscriber_remove(struct manager *m, size_t i) {
        subscriber_free(m->subscribers[i]);
        m->subscribers[i] = m->subscribers[--m->n_subscribers];
}

static ssize_t subscriber_find(struct manager *m, const char *name) {
        for (size_t i = 0; i < m->n_subscribers; i++)
                if (strcmp(m->subscribers[i]->name, name) == 0)
                        return (ssize_t) i;
        return -1;
}

/* The subscriber left the bus. */
static int on_track_gone(sd_bus_track *track, void *userdata) {
        struct subscriber *s = userdata;
        struct manager *m = s->manager;
        ssize_t i = subscriber_find(m, s->name);

        if (i >= 0)
                subscriber_remove(m, (size_t) i);
        return 0;
}

int signals_subscribe(struct manager *m, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(call);
        struct subscriber *s, **a;
        size_t same_uid = 0;
        uid_t uid;
        int r;

        if (!sender)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Subscribe needs a bus connection with a name.");
        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot tell who is calling: %m");
        if (subscriber_find(m, sender) >= 0)
                return 0; /* already */
        for (size_t i = 0; i < m->n_subscribers; i++)
                same_uid += m->subscribers[i]->uid == uid;
        if (same_uid >= SIGNALS_SUBSCRIBERS_PER_UID)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "uid %u holds %d subscriptions already, the most one user may; Unsubscribe() or close one.",
                                         (unsigned) uid, SIGNALS_SUBSCRIBERS_PER_UID);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->uid = uid;
        s->name = strdup(sender);
        r = s->name ? sd_bus_track_new(m->bus, &s->track, on_track_gone, s) : -ENOMEM;
        if (r >= 0)
                r = sd_bus_track_add_name(s->track, sender);
        a = r >= 0 ? realloc(m->subscribers, (m->n_subscribers + 1) * sizeof(*a)) : NULL;
        if (!a) {
                subscriber_free(s);
                return r < 0 ? r : -ENOMEM;
        }
        m->subscribers = a;
        m->subscribers[m->n_subscribers++] = s;
        return 0;
}

int signals_unsubscribe(struct manager *m, sd_bus_message *call, sd_bus_error *error) {
        const char *sender = sd_bus_message_get_sender(call);
        ssize_t i = sender ? subscriber_find(m, sender) : -1;

        if (i < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE, "This connection has not subscribed.");
        subscriber_remove(m, (size_t) i);
        return 0;
}

void signals_done(struct manager *m) {
        while (m->n_subscribers > 0)
                subscriber_remove(m, m->n_subscribers - 1);
        free(m->subscribers);
        m->subscribers = NULL;
}

/* Who gets signals about g: the subscribers who may see it. */
static bool may_receive(const struct subscriber *s, const struct guest *g) {
        struct caller c = { .uid = s->uid, .sender = s->name };
        return access_allowed(&c, g);
}

typedef int (*build_t)(sd_bus_message *msg, struct guest *g, const void *arg);

static void send_to_subscribers(struct manager *m, struct guest *g, const char *path, const char *interface, const char *member,
                                build_t build, const void *arg) {
        for (size_t i = 0; i < m->n_subscribers; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
                struct subscriber *s = m->subscribers[i];
                int r;

                if (!may_receive(s, g))
                        continue;
                r = sd_bus_message_new_signal(m->bus, &msg, path, interface, member);
                if (r >= 0)
                        r = sd_bus_message_set_destination(msg, s->name);
                if (r >= 0)
                        r = build(msg, g, arg);
                if (r >= 0)
                        r = sd_bus_send(m->bus, msg, NULL);
                if (r < 0)
                        log_debug_errno(r, "Guest %s: cannot send %s to %s: %m", g->id, member, s->name);
        }
}

/* a{sv} of the properties named (NULL: all). */
static int append_properties(sd_bus_message *msg, struct guest *g, const char *const *names) {
        int r = sd_bus_message_open_container(msg, 'a', "{sv}");

        for (size_t i = 0; r >= 0 && (names ? names[i] != NULL : i < GUEST_PROPERTIES_MAX); i++) {
                const char *p = names ? names[i] : guest_properties[i].name;
                r = sd_bus_message_open_container(msg, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(msg, "s", p);
                if (r >= 0)
                        r = guest_props_append(msg, g, p, true);
                if (r >= 0)
                        r = sd_bus_message_close_container(msg);
        }
        return r < 0 ? r : sd_bus_message_close_container(msg);
}

static int build_changed(sd_bus_message *msg, struct guest *g, const void *arg) {
        int r = sd_bus_message_append(msg, "s", GUESTD_GUEST_IFACE);

        if (r >= 0)
                r = append_properties(msg, g, arg);
        return r < 0 ? r : sd_bus_message_append(msg, "as", 0);
}

static int build_added(sd_bus_message *msg, struct guest *g, const void *arg) {
        int r = sd_bus_message_append(msg, "o", g->object_path);

        if (r >= 0)
                r = sd_bus_message_open_container(msg, 'a', "{sa{sv}}");
        if (r >= 0)
                r = sd_bus_message_open_container(msg, 'e', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(msg, "s", GUESTD_GUEST_IFACE);
        if (r >= 0)
                r = append_properties(msg, g, NULL);
        if (r >= 0)
                r = sd_bus_message_close_container(msg);
        return r < 0 ? r : sd_bus_message_close_container(msg);
}

static int build_removed(sd_bus_message *msg, struct guest *g, const void *arg) {
        return sd_bus_message_append(msg, "oas", g->object_path, 1, GUESTD_GUEST_IFACE);
}

void signals_guest_added(struct manager *m, struct guest *g) {
        if (m->bus)
                send_to_subscribers(m, g, GUESTD_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", build_added, NULL);
}

void signals_guest_removed(struct manager *m, struct guest *g) {
        if (m->bus)
                send_to_subscribers(m, g, GUESTD_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", build_removed,
                                    NULL);
}

void signals_guest_changed(struct manager *m, struct guest *g, const char *const *properties) {
        if (m->bus)
                send_to_subscribers(m, g, g->object_path, "org.freedesktop.DBus.Properties", "PropertiesChanged", build_changed,
                                    properties);
}

static void on_guest_changed(struct guest *g, enum guest_state from, void *userdata) {
        signals_guest_changed(userdata, g, (const char *const[]) { "State", "StateReason", "SnapshotSize", NULL });
}

int signals_listen(struct manager *m) {
        return guest_listeners_add(&m->listeners, on_guest_changed, m);
}
