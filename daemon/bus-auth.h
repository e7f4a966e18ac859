/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-auth.h: who calls a bus method, and what they may name. Every
 * method says who is calling from the bus credentials (caller.h). Guests
 * a caller may not access (access.h) do not exist for them: the object
 * lookup, the node enumerator and every name lookup answer as for a guest
 * that does not exist (org.guestd1.Error.NoSuchGuest), so guest names
 * never leak between users. Beyond their own guests, callers other than
 * root ask polkit (polkit.h).
 *
 * The bus_authorize_*() and bus_lookup_guest() answer 0 (go on), 1
 * (polkit was asked: the handler returns 1 and runs again with the
 * answer, so every check before the question is made again then) or <0
 * with the error set.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "caller.h"
#include "guest.h"
#include "manager.h"

/* The caller of the message being handled. */
int bus_caller(sd_bus_message *msg, struct caller *ret, sd_bus_error *error);
/* "NAME" is the caller's own guest; "UID/NAME" is that user's (whether
 * the caller may name it is bus_authorize_owner()'s to say). */
int bus_parse_guest_name(const struct caller *c, const char *arg, uid_t *ret_owner, const char **ret_name, sd_bus_error *error);
/* org.guestd1.Error.NoSuchGuest, worded for the caller. */
int bus_no_such_guest(sd_bus_error *error, const struct caller *c, uid_t owner, const char *name);
/* May c act on owner's guests (creating: make one)? */
int bus_authorize_owner(struct manager *m, sd_bus_message *msg, const struct caller *c, uid_t owner, const char *name, bool creating,
                        sd_bus_error *error);
/* ReloadPolicy, SetPageTableBudget: root, or polkit's org.guestd1.manage. */
int bus_authorize_admin(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *what, sd_bus_error *error);
/* CreateGuest, Start, Resume: polkit's org.guestd1.use (default: yes;
 * without polkit everyone may). */
int bus_authorize_use(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *what, sd_bus_error *error);
/* Resolves a name argument to a guest the caller may access. */
int bus_lookup_guest(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *arg, struct guest **ret,
                     sd_bus_error *error);
/* The same for a method whose first argument is the name: reads it and
 * who calls (c, which the caller frees). */
int bus_lookup_guest_arg(struct manager *m, sd_bus_message *msg, struct caller *c, struct guest **ret, sd_bus_error *error);
/* Whether the sender of the message now handled may see g (1; true when
 * no message is being handled), 0 if not. */
int bus_visible_to_current(struct manager *m, struct guest *g, sd_bus_error *error);
