/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-manager.c: see bus-manager.h. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "bus-auth.h"
#include "bus-manager.h"
#include "console.h"
#include "journal.h"
#include "log.h"
#include "open-as-caller.h"
#include "pagetables.h"
#include "polkit.h"
#include "quota.h"
#include "signals.h"
#include "snapshots.h"
#include "verbs.h"

/* A CreateGuest while its files are opened as the caller (open-as-caller.h):
 * the call, and the guest it makes if they open. Made by
 * create_open_files(), owned from then on by its opener's callback,
 * on_create_files_opened(), which answers the call and frees it (or, at
 * guestd's end, by the opener's destroy hook). */
struct create_job {
        struct manager *manager;
        sd_bus_message *call;
        uid_t owner, files_uid;
        char *name;
        struct guest_config config;
};

static void create_job_free(struct create_job *job) {
        if (!job)
                return;
        sd_bus_message_unref(job->call);
        free(job->name);
        guest_config_done(&job->config);
        free(job);
}

static void create_job_destroy(void *userdata) {
        create_job_free(userdata);
}

static int create_check_name(struct manager *m, uid_t owner, const char *name, sd_bus_error *error) {
        if (manager_find_guest(m, owner, name))
                return sd_bus_error_setf(error, GUESTD_ERROR_EXISTS,
                                         "A guest named '%s' exists already; pick another name or remove that one first.", name);
        return 0;
}

/* What the owner's quota can tell now: one guest more (max_guests), and a
 * guest that alone could never start (max_vcpus, max_memory_mib). What
 * depends on the moment, the guests that run, stays Start's (quota.h).
 * Checked when the call comes, and again when its files have opened
 * (another create may have come in meanwhile). */
static int create_check_quota(struct manager *m, uid_t owner, const char *name, const struct guest_config *config,
                              sd_bus_error *error) {
        _cleanup_(caller_done) struct caller owner_account = {};
        _cleanup_free_ char *message = NULL, *id = NULL;
        struct policy_limits limits;
        struct quota_usage usage;
        int r;

        /* Charged to the owner, whoever asks (uid 0 creating for a user). */
        owner_account.uid = owner;
        r = caller_load_account(&owner_account, error);
        if (r < 0)
                return r;
        manager_resolve_limits(m, &owner_account, &limits);
        quota_usage_compute(m->guests, m->n_guests, owner, &usage);
        r = quota_check_create(&limits, &usage, name, &message);
        if (r >= 0)
                r = quota_check_guest_size(&limits, name, config->vcpus, config->memory_mib, &message);
        if (r >= 0)
                return 0;
        id = guest_make_id(owner, name);
        log_guest(LOG_LEVEL_INFO, JOURNAL_MESSAGE_QUOTA_REFUSED, id ? id : name, owner, "Guest %s: CreateGuest refused: %s", id ? id : name,
                  message ? message : "quota exceeded");
        return sd_bus_error_setf(error, GUESTD_ERROR_QUOTA, "%s", message ? message : "Quota exceeded.");
}

/* The guest, once its files opened as who named them: the checks once
 * more, the record, the signal, the answer. */
static int create_finish(struct create_job *job, sd_bus_error *error) {
        struct manager *m = job->manager;
        struct guest *g = NULL;
        int r;

        r = create_check_name(m, job->owner, job->name, error);
        if (r >= 0)
                r = create_check_quota(m, job->owner, job->name, &job->config, error);
        if (r < 0)
                return r;
        r = guest_new(job->name, job->owner, &job->config, &g);
        /* Its files are opened with the rights of whoever named them, here
         * and at every Start: an admin creating a guest for root or for
         * another user names files with their own rights, not the owner's. */
        if (r >= 0) {
                g->files_uid = job->files_uid;
                r = manager_add_guest(m, g);
        }
        if (r < 0) {
                guest_free(g);
                return r;
        }
        r = guest_save(g, m->guests_dir_fd);
        if (r < 0) {
                manager_remove_guest(m, g);
                guest_free(g);
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot store the guest record: %s.", strerror(-r));
        }
        log_info("Guest %s created by uid %u", g->id, (unsigned) job->files_uid);
        signals_guest_added(m, g);
        return sd_bus_reply_method_return(job->call, "o", g->object_path);
}

static void on_create_files_opened(int r, const sd_bus_error *error, int *fds, size_t n, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error create_error = SD_BUS_ERROR_NULL;
        struct create_job *job = userdata;

        /* That they opened, as the caller, was the check; each Start
         * opens them again (they may have changed by then). */
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
        if (r < 0 && error && sd_bus_error_is_set(error))
                (void) sd_bus_reply_method_error(job->call, error);
        else if (r < 0)
                (void) sd_bus_reply_method_errorf(job->call, GUESTD_ERROR_FAILED, "Opening the guest's files failed.");
        else {
                r = create_finish(job, &create_error);
                if (r < 0)
                        (void) sd_bus_reply_method_errno(job->call, r, &create_error);
        }
        create_job_free(job);
}

/* Opens the guest's files as the caller, as Start does (open-as-caller.h):
 * a file that does not exist, is not the caller's to read (or write, a
 * disk not read-only), is not a regular file or block device, or a disk
 * that holds an image format (disk-format.h) fails the create, naming the
 * file. On success the call is answered from the event loop, and config
 * is the job's (left empty here). */
static int create_open_files(struct manager *m, sd_bus_message *msg, struct caller *c, uid_t owner, const char *name,
                             struct guest_config *config, sd_bus_error *error) {
        struct file_request req[2 + GUEST_MAX_DISKS];
        struct create_job *job;
        struct opener *opener;
        size_t n_req = 0;
        unsigned n;
        int r;

        r = opener_pool_room(m->event, &m->openers, c->uid, "creates", error);
        if (r < 0)
                return r;
        n = opener_waiting(m->openers, c->uid);
        if (n >= OPENER_WAITING_MAX)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "%u opens of your files are under way (guests being created or started), the most guestd "
                                         "makes for one user at once; wait for them.",
                                         n);
        r = caller_load_account(c, error);
        if (r < 0)
                return r;
        n_req = opener_guest_requests(config, true, req);
        job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        job->name = strdup(name);
        if (!job->name) {
                create_job_free(job);
                return -ENOMEM;
        }
        r = opener_start(m->openers, c, req, n_req, (uint64_t) m->policy->timeout_open_files_s * 1000000ULL, on_create_files_opened,
                         job, &opener, error);
        if (r < 0) {
                create_job_free(job);
                return r;
        }
        opener_set_destroy(opener, create_job_destroy);
        job->manager = m;
        job->call = sd_bus_message_ref(msg);
        job->owner = owner;
        job->files_uid = c->uid;
        job->config = *config;
        *config = (struct guest_config) {};
        return 0;
}

/* CreateGuest: who calls, the name, polkit, then what create can know
 * (the name free, the owner's quota, the files opened as the caller), and
 * the answer when the files have opened. */
static int method_create_guest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        _cleanup_(caller_done) struct caller c = {};
        _cleanup_free_ char *config_error = NULL;
        struct guest_config config = {};
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
        r = create_check_name(m, owner, name, error);
        if (r < 0)
                return r;
        r = guest_config_parse(json, &config, &config_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "Invalid configuration for '%s': %s", name,
                                         config_error ? config_error : "malformed.");
        r = create_check_quota(m, owner, name, &config, error);
        if (r >= 0)
                r = create_open_files(m, msg, &c, owner, name, &config, error);
        guest_config_done(&config);
        /* 1: answered later, from on_create_files_opened(). */
        return r < 0 ? r : 1;
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
