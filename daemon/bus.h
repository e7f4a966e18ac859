/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.h: guestd's D-Bus API, exactly as dbus/org.guestd1.xml writes it
 * down, a thin adapter: org.guestd1.Manager on /org/guestd1 with the
 * ObjectManager (bus-manager.h), and one org.guestd1.Guest object per
 * guest (bus-guest.h). Each method checks who calls (bus-auth.h) and
 * parses its arguments, then asks verbs.h (a guest's requests) or the
 * part concerned; properties come from one table (guest-props.h).
 * Signals are signals.h's.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* Connects (the system bus, or m->bus_address), exports the objects,
 * owns org.guestd1. */
int bus_setup(struct manager *m);
