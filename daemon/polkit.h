/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit.h: who may do what beyond their own guests, asked of polkit
 * (org.freedesktop.PolicyKit1) over the bus, never waited for.
 *
 * Two actions (policy/org.guestd1.policy): org.guestd1.manage (act on
 * other users' guests, list everyone's, reload the policy, set the
 * page-table budget; default auth_admin_keep) and org.guestd1.use (create
 * and start guests; default yes). uid 0 is never asked: it may do all.
 *
 * A handler asks with polkit_check(). The first time, the question goes to
 * polkit's CheckAuthorization with the caller's unique bus name as the
 * subject, and polkit_check() answers POLKIT_ASKING: the handler returns 1
 * (answered later). When polkit answers, the answer is kept with that
 * message and the message is queued again for reading
 * (sd_bus_enqueue_for_read(), as systemd's bus_verify_polkit_async()
 * does); the handler runs again from the start and this time
 * polkit_check() answers at once. The event loop never waits: each
 * question has a timeout (--polkit-timeout, 25 s) that ends it with
 * org.guestd1.Error.Timeout, and a user has at most
 * POLKIT_QUERIES_PER_USER questions out (then LimitExceeded).
 *
 * Without polkit on the bus (ServiceUnknown, NameHasNoOwner) the answer is
 * POLKIT_ABSENT, and the rule is today's: root is the only admin, everyone
 * may use guestd. guestd logs which it is at start and whenever it changes.
 *
 * Object paths cannot wait: sd-bus's object lookup (guest_object_find())
 * must answer at once, and property reads have no handler that could
 * defer. So a manage authorization polkit gave a caller is remembered for
 * that caller's unique bus name for POLKIT_GRANT_USEC and forgotten
 * earlier when the name leaves the bus or polkit says no to it; the
 * object paths of other users' guests, and the signals about them, are
 * that name's while the grant lasts (polkit_granted()). A client acts
 * through Manager first (guestctl's GetGuest of "UID/NAME"), then on the
 * object, on one connection.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "polkit-state.h"
#include "util.h"

struct manager;

#define POLKIT_ACTION_MANAGE "org.guestd1.manage"
#define POLKIT_ACTION_USE "org.guestd1.use"


/* At start: asks whether polkit is on the bus, logs the rule in force. */
int polkit_setup(struct manager *m);
void polkit_done(struct manager *m);

/* Whether the sender of call (with that uid) may do action. <0: an error
 * is set (LimitExceeded, Timeout, Failed); else an enum polkit_answer.
 * The caller may be asked for a password where the call allows it
 * (sd_bus_message_get_allow_interactive_authorization()) and may_interact. */
int polkit_check(struct manager *m, sd_bus_message *call, uid_t uid, const char *action, bool may_interact, sd_bus_error *error);

/* Whether the bus name holds a manage grant now (see above). */
bool polkit_granted(struct manager *m, const char *sender);
