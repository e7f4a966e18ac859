/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-manager.c: see bus-manager.h. */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "bus-auth.h"
#include "bus-manager.h"
#include "console.h"
#include "journal.h"
#include "log.h"
#include "pagetables.h"
#include "polkit.h"
#include "quota.h"
#include "signals.h"
#include "snapshots.h"
#include "verbs.h"

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
        r = bus_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = bus_parse_guest_name(&c, arg, &owner, &name, error);
        if (r < 0)
                return r;
        r = bus_authorize_use(m, msg, &c, "create", error);
        if (r == 0)
                r = bus_authorize_owner(m, msg, &c, owner, name, true, error);
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
        int r;

        r = bus_lookup_guest_arg(m, msg, &c, &g, error);
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
        int r;

        r = bus_lookup_guest_arg(m, msg, &c, &g, error);
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

        r = bus_caller(msg, &c, error);
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

        r = bus_caller(msg, &c, error);
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

        r = bus_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = bus_authorize_admin(m, msg, &c, "reload the policy", error);
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
        r = bus_caller(msg, &c, error);
        if (r < 0)
                return r;
        r = bus_authorize_admin(m, msg, &c, "change the page-table budget", error);
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

const sd_bus_vtable bus_manager_vtable[] = {
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
