/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-sender.h: which signals guestd believes.
 *
 * A match rule's sender='org.freedesktop.login1' is the bus's promise for
 * broadcast signals only. A signal addressed to guestd (destination
 * org.guestd1 or its unique name) reaches it whoever sent it, the system
 * bus's stock policy lets anyone send one, and sd-bus's own dispatch lets
 * a unique-name sender through a match on a well-known name (it cannot
 * tell who owns that name). So a local user could send guestd logind's
 * PrepareForShutdown, or the bus driver's NameOwnerChanged (which
 * sd_bus_track, and so every subscription and polkit grant, believes).
 *
 * guestd therefore checks every signal itself, in one filter that runs
 * before any match:
 *   - the bus driver ("org.freedesktop.DBus", a sender the bus daemon
 *     stamps and nobody else can have) and sd-bus's own local messages
 *     pass;
 *   - the driver's and sd-bus's interfaces from anyone else are dropped;
 *   - a signal addressed to guestd is dropped: every signal guestd acts on
 *     is one its real sender broadcasts.
 * What passes is then checked by the handler against the current unique
 * owner of the name it means (struct bus_owner), learnt from the bus
 * driver (GetNameOwner's reply, the driver's NameOwnerChanged), never from
 * the signal itself.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#define BUS_DRIVER_NAME "org.freedesktop.DBus"
#define BUS_LOCAL_SENDER "org.freedesktop.DBus.Local"

/* The filter's decision for one signal (pure, unit-tested): true to let
 * it on to the matches, false to drop it. */
bool bus_sender_signal_allowed(const char *sender, const char *destination, const char *interface);

/* Installs the filter on bus (before any match is added). */
int bus_sender_install_filter(sd_bus *bus);

/* The current unique owner of a well-known name, kept from the bus
 * driver's answers. changed() runs whenever it changes (unique is NULL
 * while nobody owns the name). */
struct bus_owner;
typedef void (*bus_owner_changed_t)(struct bus_owner *o, const char *unique, void *userdata);

int bus_owner_watch(sd_bus *bus, const char *name, bus_owner_changed_t changed, void *userdata, struct bus_owner **ret);
struct bus_owner *bus_owner_free(struct bus_owner *o);
const char *bus_owner_unique(const struct bus_owner *o);
/* Whether m is a broadcast from the name's current owner. */
bool bus_owner_sent(const struct bus_owner *o, sd_bus_message *m);
