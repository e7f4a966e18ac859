/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-props.h: the values of a guest's D-Bus properties, by the one
 * table of common/guest-properties.h: what bus.c's getters and vtable
 * and signals.c's PropertiesChanged and InterfacesAdded send.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "guest-properties.h"
#include "guest.h"

/* Appends the value of property (its contents, or a variant holding it);
 * -ENOENT for a name not in the table. */
int guest_props_append(sd_bus_message *m, struct guest *g, const char *property, bool as_variant);
