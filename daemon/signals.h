/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signals.h: guestd's signals go to the guest's owner and to root, never
 * to everyone (issue 11).
 *
 * The system bus delivers a broadcast signal to every connection whose
 * match rule fits it, so a guest's InterfacesAdded (its name, owner,
 * kernel and command line), InterfacesRemoved and PropertiesChanged would
 * reach every user who listens. guestd sends none. A client that wants to
 * follow its guests calls Manager.Subscribe(), as systemd's Manager asks;
 * guestd then sends each signal about a guest as a unicast copy to every
 * subscriber that may see that guest (its owner, uid 0), and to nobody
 * else. A subscription ends with Unsubscribe() or when the client leaves
 * the bus (sd_bus_track); a uid may hold SIGNALS_SUBSCRIBERS_PER_UID.
 */
#pragma once

#include <systemd/sd-bus.h>

struct manager;
struct guest;

#define SIGNALS_SUBSCRIBERS_PER_UID 32

struct subscriber {
        struct manager *manager;
        char *name; /* unique bus name */
        uid_t uid;
        sd_bus_track *track;
};

int signals_subscribe(struct manager *m, sd_bus_message *call, sd_bus_error *error);
int signals_unsubscribe(struct manager *m, sd_bus_message *call, sd_bus_error *error);
void signals_done(struct manager *m);

/* ObjectManager's InterfacesAdded / InterfacesRemoved for g, and
 * PropertiesChanged of the Guest properties named (NULL-terminated). */
void signals_guest_added(struct manager *m, struct guest *g);
void signals_guest_removed(struct manager *m, struct guest *g);
void signals_guest_changed(struct manager *m, struct guest *g, const char *const *properties);
/* Every guest's state changes, as PropertiesChanged of State,
 * StateReason and SnapshotSize (a listener, guest.h); once the bus is up. */
int signals_listen(struct manager *m);
