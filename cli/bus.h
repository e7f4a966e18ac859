/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.h: guestctl's calls to guestd on D-Bus: connecting (--bus, or the
 * system bus), finding a guest by the name the user typed, calling its
 * methods, reading properties, and turning a failed call into one line
 * for the user and guestctl's exit status.
 *
 * Every function here returns an exit status (enum guestctl_exit in
 * bus-api.h), having said what went wrong. What a call was for is given
 * in the user's words ("start web"), never as the method's name: the user
 * typed a verb, not a D-Bus call.
 */
#pragma once

#include <json.h>
#include <systemd/sd-bus.h>

#include "bus-api.h"

/* Says what went wrong with a call made to do what ("list your guests")
 * and returns the exit status for it. guestd's own message is shown as it
 * is: it is written for people. */
int bus_call_failed(const sd_bus_error *error, int r, const char *what);
/* The same for a call about the guest the user named: a guest that does
 * not exist is said in guestctl's words (`guestctl list` shows yours). */
int bus_guest_call_failed(const char *name, const sd_bus_error *error, int r, const char *what);
/* A malformed answer to what: said, GUESTCTL_EXIT_FAIL. */
int bus_reply_malformed(int r, const char *what);

/* Connects to guestd's bus (args.bus_address, else the system bus). */
int bus_connect(sd_bus **ret);
/* Connects and calls method of the Manager with the arguments types says;
 * what: the user's words for it; guest: the guest it is about as the user
 * named it, or NULL. The connection (for more calls) and the answer in
 * *ret_bus and *ret_reply, unless NULL. */
int bus_manager_call(const char *guest, const char *method, const char *what, sd_bus **ret_bus, sd_bus_message **ret_reply,
                     const char *types, ...);
/* A guest as the user named it, as guestd takes it: NAME and UID/NAME as
 * they are, USER/NAME with the user's uid (what `guestctl list` shows
 * root is what root may type). Returns an exit status; an unknown user
 * is said; GUESTCTL_EXIT_FAIL (not said): no memory. */
int bus_guest_reference(const char *name, char **ret);
/* Connects and finds the guest name ("NAME", or "USER/NAME" or
 * "UID/NAME" for root and the admins polkit authorizes): its object path
 * in *ret_path. */
int bus_guest_open(const char *name, sd_bus **ret_bus, char **ret_path);
/* Calls method on the guest name, with the arguments types says and no
 * result; what: the user's words for it. */
int bus_guest_call(const char *name, const char *method, const char *what, const char *types, ...);

/* GetAll of iface on path: each property into o under key(property)
 * (NULL: left out). A byte count of 2^64-1 ("not measured") becomes null
 * rather than a huge number. */
int bus_get_all(sd_bus *bus, const char *path, const char *iface, const char *(*key)(const char *property), struct json_object *o);
