/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-guest.h: org.guestd1.Guest, one object per guest under
 * /org/guestd1/guest/HANDLE: its requests (through verbs.h), its console,
 * its properties (the one table, guest-props.h).
 */
#pragma once

#include <systemd/sd-bus.h>

/* The methods, then a property for each entry of the table, made once by
 * bus_guest_vtable_make() before it is exported (userdata: the guest, as
 * bus_guest_object_find() finds it). */
extern sd_bus_vtable bus_guest_vtable[];
void bus_guest_vtable_make(void);
int bus_guest_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                          sd_bus_error *error);
int bus_guest_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *error);
