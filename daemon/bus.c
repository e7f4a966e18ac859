/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.c: guestd's D-Bus API, exactly as dbus/org.guestd1.xml writes it
 * down: org.guestd1.Manager on /org/guestd1 (with the ObjectManager), and
 * org.guestd1.Guest on /org/guestd1/guest/<escaped "<uid>_<name>">.
 *
 * Every method says who is calling from the bus credentials. Guests a
 * caller may not access do not exist for them: the object lookup, the
 * node enumerator and every name lookup answer as for a guest that does
 * not exist (org.guestd1.Error.NoSuchGuest), so guest names never leak
 * between users.
 *
 * Beyond their own guests, callers other than root ask polkit (polkit.h):
 * a handler that needs an answer returns 1 and runs again once polkit
 * has answered, so every check before the question is made again then.
 */
#include <stdio.h>
#include <string.h>

#include "bus-sender.h"
#include "console.h"
#include "journal.h"
#include "log.h"
#include "manager.h"
#include "quota.h"
#include "signals.h"
#include "snapshots.h"
#include "supervise.h"

#define NAME_RULE "use 1-64 characters from A-Z a-z 0-9 _ . -, not starting with '.' or '-'"

/* "NAME" is the caller's own guest; "UID/NAME" is that user's (whether
 * the caller may name it is authorize_owner()'s to say). */
static int parse_guest_name(const struct caller *c, const char *arg, uid_t *ret_owner, const char **ret_name, sd_bus_error *error) {
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

static int no_such_guest(sd_bus_error *error, const struct caller *c, uid_t owner, const char *name) {
        if (owner != c->uid)
                return sd_bus_error_setf(error, GUESTD_ERROR_NO_SUCH_GUEST, "User %u has no guest named '%s'.", (unsigned) owner, name);
        return sd_bus_error_setf(error, GUESTD_ERROR_NO_SUCH_GUEST, "You have no guest named '%s'; ListGuests shows yours.", name);
}

/* The authorize_*() below answer 0 (go on), 1 (polkit was asked: the
 * handler returns 1 and runs again with the answer) or <0 with the error
 * set. */

/* May c act on owner's guests? Its own, and root on all; anyone else
 * needs polkit's org.guestd1.manage. Refused: as for a guest that does
 * not exist (or, creating, AccessDenied). */
static int authorize_owner(struct manager *m, sd_bus_message *msg, const struct caller *c, uid_t owner, const char *name, bool creating,
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
        return no_such_guest(error, c, owner, name);
}

/* ReloadPolicy, SetPageTableBudget: root, or polkit's org.guestd1.manage. */
static int authorize_admin(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *what, sd_bus_error *error) {
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
static int authorize_use(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *what, sd_bus_error *error) {
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
static int lookup_guest(struct manager *m, sd_bus_message *msg, const struct caller *c, const char *arg, struct guest **ret,
                        sd_bus_error *error) {
        struct guest *g;
        const char *name;
        uid_t owner;
        int r;

        r = parse_guest_name(c, arg, &owner, &name, error);
        if (r < 0)
                return r;
        r = authorize_owner(m, msg, c, owner, name, false, error);
        if (r != 0)
                return r;
        g = manager_find_guest(m, owner, name);
        if (!g)
                return no_such_guest(error, c, owner, name);
        *ret = g;
        return 0;
}

/* The caller of the message being handled now; for guest methods the
 * object lookup has checked access already. */
static int current_caller(sd_bus_message *msg, struct caller *ret, sd_bus_error *error) {
        return caller_from_message(msg, ret, error);
}

static int verb_check(struct guest *g, enum guest_verb verb, sd_bus_error *error) {
        _cleanup_free_ char *message = NULL;

        if (guest_verb_check(verb, g->state, g->name, &message) >= 0)
                return 0;
        return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE, "%s", message ? message : "The guest's state does not allow this.");
}

/* ------------------------------------------------------------ Manager */

static int method_create_guest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {}, owner_account = {};
        _cleanup_free_ char *config_error = NULL, *quota_message = NULL;
        struct guest_config config = {};
        struct policy_limits limits;
        struct quota_usage usage;
        struct guest *g = NULL;
        const char *arg, *json, *name;
        uid_t owner;
        int r;

        r = sd_bus_message_read(msg, "ss", &arg, &json);
        if (r < 0)
                return r;
        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = parse_guest_name(&c, arg, &owner, &name, error);
        if (r < 0)
                return r;
        r = authorize_use(m, msg, &c, "create", error);
        if (r == 0)
                r = authorize_owner(m, msg, &c, owner, name, true, error);
        if (r != 0)
                return r;
        if (manager_find_guest(m, owner, name))
                return sd_bus_error_setf(error, GUESTD_ERROR_EXISTS,
                                         "A guest named '%s' exists already; pick another name or remove that one first.", name);
        r = guest_config_parse(json, &config, &config_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "Invalid configuration for '%s': %s", name,
                                         config_error ? config_error : "malformed.");

        /* Charged to the owner, whoever asks (uid 0 creating for a user). */
        owner_account.uid = owner;
        r = caller_load_account(&owner_account, error);
        if (r < 0)
                goto finish;
        manager_resolve_limits(m, &owner_account, &limits);
        quota_usage_compute(m->guests, m->n_guests, owner, &usage);
        r = quota_check_create(&limits, &usage, name, &quota_message);
        if (r < 0) {
                _cleanup_free_ char *id = guest_make_id(owner, name);
                log_guest(LOG_LEVEL_INFO, JOURNAL_MESSAGE_QUOTA_REFUSED, id ? id : name, owner, "Guest %s: CreateGuest refused: %s", id ? id : name,
                          quota_message ? quota_message : "quota exceeded");
                r = sd_bus_error_setf(error, GUESTD_ERROR_QUOTA, "%s", quota_message ? quota_message : "Quota exceeded (max_guests).");
                goto finish;
        }

        r = guest_new(name, owner, &config, &g);
        /* Its files are opened with the rights of whoever named them, here
         * and at every Start: an admin creating a guest for root or for
         * another user names files with their own rights, not the owner's. */
        if (r >= 0) {
                g->files_uid = c.uid;
                r = manager_add_guest(m, g);
        }
        if (r < 0) {
                guest_free(g);
                goto finish;
        }
        r = guest_save(g, m->guests_dir_fd);
        if (r < 0) {
                manager_remove_guest(m, g);
                guest_free(g);
                r = sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot store the guest record: %s.", strerror(-r));
                goto finish;
        }
        log_info("Guest %s created by uid %u", g->id, (unsigned) c.uid);
        signals_guest_added(m, g);
        r = sd_bus_reply_method_return(msg, "o", g->object_path);
finish:
        guest_config_done(&config);
        return r;
}

static int method_remove_guest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        struct guest *g;
        const char *arg;
        int r;

        r = sd_bus_message_read(msg, "s", &arg);
        if (r < 0)
                return r;
        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = lookup_guest(m, msg, &c, arg, &g, error);
        if (r != 0)
                return r;
        r = verb_check(g, GUEST_VERB_REMOVE, error);
        if (r < 0)
                return r;
        r = guest_remove_file(g, m->guests_dir_fd);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot remove the guest record: %s.", strerror(-r));
        /* The record first: a snapshot without one is removed at the next
         * start (snapshots_clean()), a record without its snapshot would
         * be a guest that cannot resume. */
        if (g->state == GUEST_SUSPENDED)
                (void) snapshots_remove(m->snapshots_dir_fd, g);
        log_info("Guest %s removed by uid %u", g->id, (unsigned) c.uid);
        signals_guest_removed(m, g);
        manager_remove_guest(m, g);
        guest_free(g);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_guest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        struct guest *g;
        const char *arg;
        int r;

        r = sd_bus_message_read(msg, "s", &arg);
        if (r < 0)
                return r;
        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = lookup_guest(m, msg, &c, arg, &g, error);
        if (r != 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", g->object_path);
}

static int method_list_guests(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        sd_bus_message *reply = NULL;
        bool all;
        int r;

        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        /* Everyone's for root and for an admin polkit says yes to without
         * asking for a password (a plain list must not prompt); otherwise
         * the caller's own. */
        r = polkit_check(m, msg, c.uid, POLKIT_ACTION_MANAGE, false, error);
        if (r < 0 || r == POLKIT_ASKING)
                return r < 0 ? r : 1;
        all = r == POLKIT_ALLOWED || c.uid == 0;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sosutu)");
        for (size_t i = 0; r >= 0 && i < m->n_guests; i++) {
                struct guest *g = m->guests[i];
                if (!all && g->owner != c.uid)
                        continue;
                r = sd_bus_message_append(reply, "(sosutu)", g->name, g->object_path, guest_state_to_string(g->state),
                                          (uint32_t) g->owner, g->config.memory_mib, (uint32_t) g->config.vcpus);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int method_get_quota(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        struct policy_limits limits;
        struct quota_usage usage;
        int r;

        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = caller_load_account(&c, error);
        if (r < 0)
                return r;
        manager_resolve_limits(m, &c, &limits);
        quota_usage_compute(m->guests, m->n_guests, c.uid, &usage);
        return sd_bus_reply_method_return(msg, "a{s(tt)}", 5,
                                          "guests", limits.value[POLICY_MAX_GUESTS], usage.guests,
                                          "running", limits.value[POLICY_MAX_RUNNING], usage.running,
                                          "vcpus", limits.value[POLICY_MAX_VCPUS], usage.vcpus,
                                          "memory_mib", limits.value[POLICY_MAX_MEMORY_MIB], usage.memory_mib,
                                          "snapshot_mib", limits.value[POLICY_MAX_SNAPSHOT_MIB], usage.snapshot_mib);
}

static int method_reload_policy(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        _cleanup_free_ char *message = NULL;
        int r;

        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = authorize_admin(m, msg, &c, "reload the policy", error);
        if (r != 0)
                return r;
        r = manager_reload_policy(m, &message);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The policy was refused, the old one stays in force: %s",
                                         message ? message : strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", GUESTD_VERSION);
}

static int method_subscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r = signals_subscribe(userdata, msg, error);
        return r < 0 ? r : sd_bus_reply_method_return(msg, NULL);
}

static int method_unsubscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r = signals_unsubscribe(userdata, msg, error);
        return r < 0 ? r : sd_bus_reply_method_return(msg, NULL);
}

static int method_set_page_table_budget(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        _cleanup_free_ char *message = NULL;
        const char *spec;
        int r;

        r = sd_bus_message_read(msg, "s", &spec);
        if (r < 0)
                return r;
        r = current_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = authorize_admin(m, msg, &c, "change the page-table budget", error);
        if (r != 0)
                return r;
        r = pagetables_set_budget(m, spec, &message);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "%s", message ? message : "Invalid budget.");
        return sd_bus_reply_method_return(msg, NULL);
}

/* The page-table budget, host-wide (pagetables.h): what anyone may know
 * about the host, nothing about anyone's guests. */
static int property_page_tables(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                                void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;

        if (strcmp(property, "PageTableBudget") == 0)
                return sd_bus_message_append(reply, "t", pagetables_budget_bytes(m));
        if (strcmp(property, "PageTablesInUse") == 0)
                return sd_bus_message_append(reply, "t", pagetables_host_in_use());
        if (strcmp(property, "MemoryPressure") == 0)
                return sd_bus_message_append(reply, "s", pagetables_pressure_to_string(m->pt.state));
        if (strcmp(property, "PageTableLimit") == 0)
                return sd_bus_message_append(reply, "s", kvm_mmu_kind_to_string(m->pt.mmu.kind) ?: "none");
        if (strcmp(property, "PageTableLimitEffective") == 0)
                return sd_bus_message_append(reply, "b", m->pt.mmu.cap_effective);
        return sd_bus_message_append(reply, "s", m->pt.mmu.why);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreateGuest", SD_BUS_ARGS("s", name, "s", config), SD_BUS_RESULT("o", guest), method_create_guest,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveGuest", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_remove_guest, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetGuest", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", guest), method_get_guest,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListGuests", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sosutu)", guests), method_list_guests,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetQuota", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{s(tt)}", quota), method_get_quota,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReloadPolicy", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload_policy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Subscribe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unsubscribe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_unsubscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPageTableBudget", SD_BUS_ARGS("s", budget), SD_BUS_NO_RESULT, method_set_page_table_budget,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PageTableBudget", "t", property_page_tables, 0, 0),
        SD_BUS_PROPERTY("PageTablesInUse", "t", property_page_tables, 0, 0),
        SD_BUS_PROPERTY("MemoryPressure", "s", property_page_tables, 0, 0),
        SD_BUS_PROPERTY("PageTableLimit", "s", property_page_tables, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PageTableLimitEffective", "b", property_page_tables, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PageTableLimitReason", "s", property_page_tables, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

/* ------------------------------------------------------------ Guest */

/* Start and Resume: one path (a resume is a start with the snapshot). */
static int guest_start_common(sd_bus_message *msg, struct guest *g, bool resume, sd_bus_error *error) {
        struct manager *m = g->manager;
        _cleanup_(caller_done) struct caller owner = {}, c = {}, files = {};
        _cleanup_free_ char *quota_message = NULL;
        struct policy_limits limits;
        struct quota_usage usage;
        int r;

        /* First: the call runs again from here once polkit has answered,
         * and every check below is made on the state of then. */
        r = current_caller(msg, &c, error);
        if (r == 0)
                r = authorize_use(m, msg, &c, resume ? "resume" : "start", error);
        if (r != 0)
                return r;
        r = verb_check(g, resume ? GUEST_VERB_RESUME : GUEST_VERB_START, error);
        if (r < 0)
                return r;
        r = supervise_pending_check(m, msg, error);
        if (r < 0)
                return r;
        if (m->shutting_down)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The host is shutting down; %s '%s' after it has booted again.",
                                         resume ? "resume" : "start", g->name);
        /* The owner's quota, also when uid 0 starts someone's guest; the
         * files with the rights of whoever named them (files_uid). */
        r = manager_owner_quota(m, g, &owner, &limits, &usage, error);
        if (r < 0)
                return r;
        r = quota_check_start(&limits, &usage, g->name, g->config.vcpus, g->config.memory_mib, &quota_message);
        if (r < 0) {
                log_guest(LOG_LEVEL_INFO, JOURNAL_MESSAGE_QUOTA_REFUSED, g->id, g->owner, "Guest %s: %s refused: %s", g->id,
                          resume ? "Resume" : "Start", quota_message ? quota_message : "quota exceeded");
                return sd_bus_error_setf(error, GUESTD_ERROR_QUOTA, "%s", quota_message ? quota_message : "Quota exceeded.");
        }
        /* Check and charge in this one callback: supervise_start() moves
         * the guest to "starting" before returning. */
        if (g->files_uid != g->owner) {
                files.uid = g->files_uid;
                r = caller_load_account(&files, error);
                if (r < 0)
                        return r;
        }
        r = supervise_start(m, g, g->files_uid != g->owner ? &files : &owner, resume, msg, error);
        /* 1: handled, answered later (sd-bus takes 0 as "no such method"). */
        return r < 0 ? r : 1;
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return guest_start_common(msg, userdata, false, error);
}

static int method_resume(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return guest_start_common(msg, userdata, true, error);
}

static int method_suspend(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        struct manager *m = g->manager;
        _cleanup_(caller_done) struct caller owner = {};
        _cleanup_free_ char *quota_message = NULL;
        struct policy_limits limits;
        struct quota_usage usage;
        int r;

        r = verb_check(g, GUEST_VERB_SUSPEND, error);
        if (r < 0)
                return r;
        r = supervise_pending_check(m, msg, error);
        if (r < 0)
                return r;
        /* Room for the largest snapshot this guest can make, before
         * anything is written; charged (state suspending) in this same
         * callback. */
        r = manager_owner_quota(m, g, &owner, &limits, &usage, error);
        if (r < 0)
                return r;
        r = quota_check_suspend(&limits, &usage, g->name, quota_snapshot_reserve_mib(g), &quota_message);
        if (r < 0) {
                log_guest(LOG_LEVEL_INFO, JOURNAL_MESSAGE_QUOTA_REFUSED, g->id, g->owner, "Guest %s: Suspend refused: %s", g->id,
                          quota_message ? quota_message : "quota exceeded");
                return sd_bus_error_setf(error, GUESTD_ERROR_QUOTA, "%s", quota_message ? quota_message : "Quota exceeded (max_snapshot_mib).");
        }
        r = supervise_suspend(g, msg, error);
        return r < 0 ? r : 1;
}

static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        int force, r;

        r = sd_bus_message_read(msg, "b", &force);
        if (r < 0)
                return r;
        r = verb_check(g, GUEST_VERB_STOP, error);
        if (r < 0)
                return r;
        r = supervise_pending_check(g->manager, msg, error);
        if (r < 0)
                return r;
        if (g->state == GUEST_SUSPENDED) {
                if (!force)
                        return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE,
                                                 "Guest '%s' is suspended, not running; resume it, or stop it with force to discard its snapshot.",
                                                 g->name);
                r = supervise_discard_snapshot(g, error);
                if (r < 0)
                        return r;
                return sd_bus_reply_method_return(msg, "s", g->state_reason ? g->state_reason : "");
        }
        if (g->state == GUEST_SUSPENDING && !force)
                return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE,
                                         "Guest '%s' is being suspended; wait until it is suspended, or stop it with force (its snapshot is then lost).",
                                         g->name);
        r = supervise_stop(g, force, msg, error);
        return r < 0 ? r : 1;
}

static int method_pause(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        int r = verb_check(g, GUEST_VERB_PAUSE, error);

        if (r >= 0)
                r = supervise_pending_check(g->manager, msg, error);
        if (r >= 0)
                r = supervise_pause(g, true, msg, error);
        return r < 0 ? r : 1;
}

static int method_unpause(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        int r = verb_check(g, GUEST_VERB_UNPAUSE, error);

        if (r >= 0)
                r = supervise_pending_check(g->manager, msg, error);
        if (r >= 0)
                r = supervise_pause(g, false, msg, error);
        return r < 0 ? r : 1;
}

static int method_open_console(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        struct manager *m = g->manager;
        _cleanup_(caller_done) struct caller caller = {};
        _cleanup_close_ int fd = -EBADF;
        enum console_mode mode;
        const char *mode_name;
        size_t mine = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &mode_name);
        if (r < 0)
                return r;
        mode = console_mode_from_string(mode_name);
        if (mode < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                         "Unknown console mode \"%s\" (known: \"write\" or \"\", \"read-only\", \"force\").", mode_name);
        r = verb_check(g, GUEST_VERB_CONSOLE, error);
        if (r < 0)
                return r;
        r = caller_from_message(msg, &caller, error);
        if (r < 0)
                return r;
        /* Every client is an fd of guestd's: bounded per user. */
        for (size_t i = 0; i < m->n_guests; i++)
                mine += console_n_clients_of(m->guests[i]->console, caller.uid);
        if (mine >= CONSOLE_CLIENTS_PER_USER)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "You have %zu consoles open, the most guestd allows one user (%d); close one first.", mine,
                                         CONSOLE_CLIENTS_PER_USER);
        r = console_open_client(g->console, caller.uid, mode, &fd);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, GUESTD_ERROR_BUSY,
                                         "Guest '%s' has a console session already; attach read-only, or take it over with force.",
                                         g->name);
        if (r == -EUSERS)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT, "Guest '%s' has %d console clients, the most guestd allows.",
                                         g->name, CONSOLE_CLIENTS_PER_GUEST);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot open a console: %s.", strerror(-r));
        /* sd-bus sends a duplicate; ours is closed on return. */
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int method_get_console_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct guest *g = userdata;
        _cleanup_free_ uint8_t *buf = NULL;
        sd_bus_message *reply = NULL;
        size_t len;
        int r;

        r = console_get_log(g->console, &buf, &len);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', buf, len);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

const char *const bus_guest_properties[] = {
        "Name", "Owner", "State", "StateReason", "Memory", "VCpus", "Config", "SnapshotSize", "Progress",
        "PageTableCap", "PageTableCapInForce", "PageTableShare", "PageTablesInUse", "PageTablesRecycled", NULL,
};

int bus_append_guest_property(sd_bus_message *m, struct guest *g, const char *property, bool as_variant) {
        static const struct {
                const char *name, *type;
        } types[] = {
                { "Name", "s" }, { "Owner", "u" }, { "State", "s" }, { "StateReason", "s" }, { "Memory", "t" }, { "VCpus", "u" },
                { "Config", "s" }, { "SnapshotSize", "t" }, { "Progress", "(tt)" }, { "PageTableCap", "t" },
                { "PageTableCapInForce", "t" }, { "PageTableShare", "t" }, { "PageTablesInUse", "t" },
                { "PageTablesRecycled", "d" },
        };
        const char *type = NULL;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (strcmp(types[i].name, property) == 0)
                        type = types[i].type;
        if (!type)
                return -ENOENT;
        if (as_variant)
                r = sd_bus_message_open_container(m, 'v', type);
        if (r < 0)
                return r;
        if (strcmp(property, "Name") == 0)
                r = sd_bus_message_append(m, "s", g->name);
        else if (strcmp(property, "Owner") == 0)
                r = sd_bus_message_append(m, "u", (uint32_t) g->owner);
        else if (strcmp(property, "State") == 0)
                r = sd_bus_message_append(m, "s", guest_state_to_string(g->state));
        else if (strcmp(property, "StateReason") == 0)
                r = sd_bus_message_append(m, "s", g->state_reason);
        else if (strcmp(property, "Memory") == 0)
                r = sd_bus_message_append(m, "t", g->config.memory_mib);
        else if (strcmp(property, "VCpus") == 0)
                r = sd_bus_message_append(m, "u", (uint32_t) g->config.vcpus);
        else if (strcmp(property, "Config") == 0)
                r = sd_bus_message_append(m, "s", g->config_json);
        else if (strcmp(property, "SnapshotSize") == 0)
                r = sd_bus_message_append(m, "t", g->snapshot_bytes);
        else if (strcmp(property, "Progress") == 0)
                r = sd_bus_message_append(m, "(tt)", g->conn.progress_done, g->conn.progress_total);
        else if (strcmp(property, "PageTableCap") == 0)
                r = sd_bus_message_append(m, "t", g->pt.in_budget ? g->pt.cap : UINT64_C(0));
        else if (strcmp(property, "PageTableCapInForce") == 0)
                r = sd_bus_message_append(m, "t", g->pt.cap_applied);
        else if (strcmp(property, "PageTableShare") == 0)
                r = sd_bus_message_append(m, "t", g->pt.in_budget ? g->pt.share : UINT64_C(0));
        else if (strcmp(property, "PageTablesInUse") == 0)
                r = sd_bus_message_append(m, "t", pagetables_guest_in_use(g->manager, g));
        else
                r = sd_bus_message_append(m, "d", g->pt.recycled_rate);
        if (r >= 0 && as_variant)
                r = sd_bus_message_close_container(m);
        return r;
}

static int property_guest(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
        return bus_append_guest_property(reply, userdata, property, false);
}

static const sd_bus_vtable guest_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("b", force), SD_BUS_RESULT("s", how), method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unpause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_unpause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Suspend", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_suspend, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_resume, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenConsole", SD_BUS_ARGS("s", mode), SD_BUS_RESULT("h", console), method_open_console,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetConsoleLog", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", log), method_get_console_log,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Name", "s", property_guest, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "u", property_guest, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_guest, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StateReason", "s", property_guest, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Memory", "t", property_guest, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VCpus", "u", property_guest, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Config", "s", property_guest, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SnapshotSize", "t", property_guest, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "(tt)", property_guest, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PageTableCap", "t", property_guest, 0, 0),
        SD_BUS_PROPERTY("PageTableCapInForce", "t", property_guest, 0, 0),
        SD_BUS_PROPERTY("PageTableShare", "t", property_guest, 0, 0),
        SD_BUS_PROPERTY("PageTablesInUse", "t", property_guest, 0, 0),
        SD_BUS_PROPERTY("PageTablesRecycled", "d", property_guest, 0, 0),
        SD_BUS_VTABLE_END,
};

/* Whether the sender of the message now handled may see g (true when no
 * message is being handled). */
static int visible_to_current(struct manager *m, struct guest *g, sd_bus_error *error) {
        _cleanup_(caller_done) struct caller c = {};
        sd_bus_message *msg;
        int r;

        msg = sd_bus_get_current_message(m->bus);
        if (!msg)
                return 1;
        r = caller_from_message(msg, &c, error);
        if (r < 0)
                return r;
        return manager_may_access(&c, g);
}

static int guest_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                             sd_bus_error *error) {
        struct manager *m = userdata;
        struct guest *g;
        int r;

        /* The prefix node itself is no guest: introspecting it must work. */
        if (strncmp(path, GUESTD_GUEST_PREFIX "/", strlen(GUESTD_GUEST_PREFIX "/")) != 0)
                return 0;
        g = manager_find_guest_by_path(m, path);
        r = g ? visible_to_current(m, g, error) : 0;
        if (r < 0)
                return r;
        if (r == 0)
                /* The same answer for "does not exist" and "not yours". */
                return sd_bus_error_setf(error, GUESTD_ERROR_NO_SUCH_GUEST, "No such guest object %s; ListGuests shows yours.", path);
        *ret_found = g;
        return 1;
}

static int guest_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *error) {
        struct manager *m = userdata;
        char **nodes;
        size_t n = 0;

        nodes = calloc(m->n_guests + 1, sizeof(char *));
        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_guests; i++) {
                if (visible_to_current(m, m->guests[i], NULL) <= 0)
                        continue;
                nodes[n] = strdup(m->guests[i]->object_path);
                if (!nodes[n]) {
                        for (size_t k = 0; k < n; k++)
                                free(nodes[k]);
                        free(nodes);
                        return -ENOMEM;
                }
                n++;
        }
        *ret_nodes = nodes;
        return 0;
}

/* ------------------------------------------------------------ setup */

int bus_setup(struct manager *m) {
        int r;

        r = sd_bus_error_add_map(guestd_bus_error_map);
        if (r < 0)
                return log_error_errno(r, "Cannot register guestd's bus errors: %m");
        if (m->bus_address) {
                r = sd_bus_new(&m->bus);
                if (r >= 0)
                        r = sd_bus_set_address(m->bus, m->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(m->bus, true);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
        } else
                r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the %s bus: %m", m->bus_address ? m->bus_address : "system");

        /* Before any match: no signal reaches one unchecked. */
        r = bus_sender_install_filter(m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot check the senders of bus signals: %m");

        r = sd_bus_add_object_vtable(m->bus, NULL, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, manager_vtable, m);
        if (r >= 0)
                r = sd_bus_add_object_manager(m->bus, NULL, GUESTD_OBJECT_PATH);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m->bus, NULL, GUESTD_GUEST_PREFIX, GUESTD_GUEST_IFACE, guest_vtable, guest_object_find, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, GUESTD_GUEST_PREFIX, guest_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot export objects: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");

        r = sd_bus_request_name(m->bus, GUESTD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot own the name %s (is another guestd running?): %m", GUESTD_BUS_NAME);
        return 0;
}
