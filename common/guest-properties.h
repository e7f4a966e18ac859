/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-properties.h: the properties of an org.guestd1.Guest object, in
 * one table: guestd's vtable and signals (daemon/guest-props.c) and
 * guestctl's JSON keys and column labels are made from it, so they cannot
 * disagree. dbus/org.guestd1.xml says the same (tests/test-introspection.sh
 * compares it with the running daemon).
 */
#pragma once

#include <stddef.h>

enum guest_property_change {
        GUEST_PROPERTY_CONST,   /* never changes while the object exists */
        GUEST_PROPERTY_EMITS,   /* PropertiesChanged when it changes (to subscribers, signals.h) */
        GUEST_PROPERTY_POLLED,  /* changes without a signal: read it again */
};

struct guest_property_info {
        const char *name;  /* the D-Bus property */
        const char *type;  /* its D-Bus signature */
        enum guest_property_change change;
        const char *json;  /* guestctl --json's key: snake case, units where the name hides them */
        const char *label; /* guestctl's column */
};

/* In the order of the interface; GUEST_PROPERTIES_MAX entries. */
#define GUEST_PROPERTIES_MAX 14
extern const struct guest_property_info guest_properties[GUEST_PROPERTIES_MAX];
/* The entry named name; NULL if none. */
const struct guest_property_info *guest_property_find(const char *name);
