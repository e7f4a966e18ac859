/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-auth.c: see bus-auth.h. */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "bus-auth.h"
#include "log.h"
#include "polkit.h"

#define NAME_RULE "use 1-64 characters from A-Z a-z 0-9 _ . -, not starting with '.' or '-'"

/* "NAME" is the caller's own guest; "UID/NAME" is that user's (whether
 * the caller may name it is bus_authorize_owner()'s to say). */
int bus_parse_guest_name(const struct caller *c, const char *arg, uid_t *ret_owner, const char **ret_name, sd_bus_error *error) {
        const char *slash = strchr(arg, '/');
        uid_t owner = c->uid;

        if (slash) {
                char digits[16];
                uint64_t u;
                size_t n = slash - arg;

                if (n == 0 || n >= sizeof(digits))
                        return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                                 "Invalid guest reference '%.80s': write NAME, or OWNER_UID/NAME.", arg);
                memcpy(digits, arg, n);
                digits[n] = 0;
                if (strspn(digits, "0123456789") != n || safe_atou64(digits, &u) < 0 || u >= UINT32_MAX)
                        return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                                 "Invalid guest reference '%.80s': OWNER_UID must be a number.", arg);
                owner = (uid_t) u;
                arg = slash + 1;
        }
        if (!guest_name_is_valid(arg))
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "Invalid guest name '%.64s%s': %s.", arg,
                                         strlen(arg) > 64 ? "..." : "", NAME_RULE);
        *ret_owner = owner;
        *ret_name = arg;
        return 0;
}

int bus_no_such_guest(sd_bus_error *error, const struct caller *c, uid_t owner, const char *name) {
        if (owner != c->uid)
                return sd_bus_error_setf(error, GUESTD_ERROR_NO_SUCH_GUEST, "User %u has no guest named '%s'.", (unsigned) owner, name);
        return sd_bus_error_setf(error, GUESTD_ERROR_NO_SUCH_GUEST, "You have no guest named '%s'; listing your guests shows their names.", name);
}

/* May c act on owner's guests? Its own, and root on all; anyone else
 * needs polkit's org.guestd1.manage. Refused: as for a guest that does
 * not exist (or, creating, AccessDenied). */
int bus_authorize_owner(struct manager *m, sd_bus_message *msg, const struct caller *c, uid_t owner, const char *name, bool creating,
                           sd_bus_error *error) {
        int r;

        if (owner == c->uid || c->uid == 0)
                return 0;
        r = polkit_check(m, msg, c->uid, POLKIT_ACTION_MANAGE, true, error);
        if (r < 0 || r == POLKIT_ASKING)
                return r < 0 ? r : 1;
        if (r == POLKIT_ALLOWED)
                return 0;
        if (creating)
                return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED,
                                         "Only root%s may create guests for another user.",
                                         r == POLKIT_ABSENT ? "" : ", or an admin polkit authorizes (" POLKIT_ACTION_MANAGE "),");
        return bus_no_such_guest(error, c, owner, name);
}

/* ReloadPolicy, SetPageTableBudget: root, or polkit's org.guestd1.manage. */
int bus_authorize_admin(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *what, sd_bus_error *error) {
        int r = polkit_check(m, msg, c->uid, POLKIT_ACTION_MANAGE, true, error);

        if (r < 0 || r == POLKIT_ASKING)
                return r < 0 ? r : 1;
        if (r == POLKIT_ALLOWED)
                return 0;
        return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED, "Only root%s may %s.",
                                 r == POLKIT_ABSENT ? "" : ", or an admin polkit authorizes (" POLKIT_ACTION_MANAGE "),", what);
}

/* CreateGuest, Start, Resume: polkit's org.guestd1.use (default: yes;
 * without polkit everyone may). */
int bus_authorize_use(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *what, sd_bus_error *error) {
        int r = polkit_check(m, msg, c->uid, POLKIT_ACTION_USE, true, error);

        if (r < 0 || r == POLKIT_ASKING)
                return r < 0 ? r : 1;
        if (r == POLKIT_ALLOWED || r == POLKIT_ABSENT)
                return 0;
        return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED,
                                 "polkit does not allow you to %s guests (" POLKIT_ACTION_USE "); ask the host's admin.", what);
}

/* Resolves a name argument to a guest the caller may access: 0, or 1
 * (polkit asked, see above), or <0. */
int bus_lookup_guest(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *arg, struct guest **ret,
                        sd_bus_error *error) {
        struct guest *g;
        const char *name;
        uid_t owner;
        int r;

        r = bus_parse_guest_name(c, arg, &owner, &name, error);
        if (r < 0)
                return r;
        r = bus_authorize_owner(m, msg, c, owner, name, false, error);
        if (r != 0)
                return r;
        g = manager_find_guest(m, owner, name);
        if (!g)
                return bus_no_such_guest(error, c, owner, name);
        *ret = g;
        return 0;
}

int bus_lookup_guest_arg(struct manager *m, sd_bus_message *msg, struct caller *c, struct guest **ret, sd_bus_error *error) {
        const char *arg;
        int r;

        r = sd_bus_message_read(msg, "s", &arg);
        if (r < 0)
                return r;
        r = bus_caller(msg, c, error);
        if (r < 0)
                return r;
        return bus_lookup_guest(m, msg, c, arg, ret, error);
}

/* The caller of the message being handled now; for guest methods the
 * object lookup has checked access already. */
int bus_caller(sd_bus_message *msg, struct caller *ret, sd_bus_error *error) {
        return caller_from_message(msg, ret, error);
}

/* Whether the sender of the message now handled may see g (true when no
 * message is being handled). */
int bus_visible_to_current(struct manager *m, struct guest *g, sd_bus_error *error) {
        _cleanup_(caller_done) struct caller c = {};
        sd_bus_message *msg;
        int r;

        msg = sd_bus_get_current_message(m->bus);
        if (!msg)
                return 1;
        r = caller_from_message(msg, &c, error);
        if (r < 0)
                return r;
        return access_allowed(&c, g);
}
