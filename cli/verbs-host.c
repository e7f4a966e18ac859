/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs-host.c: quota and budget: what the caller may use and uses, and
 * the host-wide budget of KVM's shadow page tables, as guestd found them
 * (the Manager's properties).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus.h"
#include "guest-options.h"
#include "log.h"
#include "output.h"
#include "util.h"
#include "verbs.h"

/* ------------------------------------------------------------ the host's page tables */

/* The Manager's page-table properties as JSON keys: budget_bytes,
 * in_use_bytes (null: not counted), memory_pressure, limit,
 * limit_effective, limit_reason. */
static const char *host_property_key(const char *property) {
        static const struct {
                const char *property, *key;
        } map[] = {
                { "PageTableBudget", "budget_bytes" },
                { "PageTablesInUse", "in_use_bytes" },
                { "MemoryPressure", "memory_pressure" },
                { "PageTableLimit", "limit" },
                { "PageTableLimitEffective", "limit_effective" },
                { "PageTableLimitReason", "limit_reason" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strcmp(map[i].property, property) == 0)
                        return map[i].key;
        return NULL;
}

static int host_page_tables(sd_bus *bus, struct json_object **ret) {
        struct json_object *o = json_object_new_object();
        int r;

        if (!o)
                return output_oom();
        r = bus_get_all(bus, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, host_property_key, o);
        if (r != GUESTCTL_EXIT_OK) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return GUESTCTL_EXIT_OK;
}

static const char *json_string_or(struct json_object *o, const char *key, const char *fallback) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : fallback;
}

static uint64_t json_u64_or(struct json_object *o, const char *key, uint64_t fallback) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_uint64(v) : fallback;
}

/*   Host page tables: budget 1.0 MiB, 0.4 MiB in use; memory pressure: calm
 *          KVM's MMU: shadow; caps take effect: ... */
static int host_page_tables_print(struct json_object *o) {
        _cleanup_(output_fields_freep) struct output_fields *f = output_fields_new();
        struct json_object *v;
        bool effective = json_object_object_get_ex(o, "limit_effective", &v) && json_object_get_boolean(v);
        uint64_t in_use = json_u64_or(o, "in_use_bytes", UINT64_MAX);
        char used[48];
        int r;

        if (!f)
                return output_oom();
        if (in_use == UINT64_MAX)
                snprintf(used, sizeof(used), "in use not counted by this kernel");
        else
                snprintf(used, sizeof(used), "%.1f MiB in use", (double) in_use / MiB);
        r = output_field(f, "Host page tables", "budget %.1f MiB, %s; memory pressure: %s",
                         (double) json_u64_or(o, "budget_bytes", 0) / MiB, used, json_string_or(o, "memory_pressure", "?"));
        if (r >= 0)
                r = output_field(f, "KVM's MMU", "%s; caps %s: %s", json_string_or(o, "limit", "?"),
                                 effective ? "take effect" : "have no effect", json_string_or(o, "limit_reason", ""));
        if (r < 0)
                return output_oom();
        return output_fields_print(f);
}

/* ------------------------------------------------------------ budget */

/* budget's argument as guestd takes it: N% and "policy" ("") as they
 * are, a size in whole MiB. */
static int budget_spec(const char *arg, char **ret) {
        _cleanup_free_ char *error = NULL;
        uint64_t mib;
        size_t n = strlen(arg);
        int r;

        if (strcmp(arg, "policy") == 0)
                *ret = strdup("");
        else if (n > 0 && arg[n - 1] == '%')
                *ret = strdup(arg);
        else {
                r = guest_options_parse_size_mib("budget", arg, &mib, &error);
                if (r < 0) {
                        log_error("%s", error ?: "Out of memory.");
                        return r == -ERANGE ? GUESTCTL_EXIT_INVALID_ARGUMENT : GUESTCTL_EXIT_USAGE;
                }
                if (asprintf(ret, "%" PRIu64, mib) < 0)
                        *ret = NULL;
        }
        return *ret ? GUESTCTL_EXIT_OK : output_oom();
}

int verb_budget(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(output_json_putp) struct json_object *o = NULL;
        _cleanup_free_ char *spec = NULL;
        int r;

        if (argc > 1) {
                r = budget_spec(argv[1], &spec);
                if (r != GUESTCTL_EXIT_OK)
                        return r;
        }
        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (spec) {
                r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "SetPageTableBudget", &error, NULL,
                                       "s", spec);
                if (r < 0)
                        return bus_call_failed(&error, r, "set the page-table budget");
        }
        r = host_page_tables(bus, &o);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        return args.json ? output_json(o) : host_page_tables_print(o);
}

/* ------------------------------------------------------------ quota */

/* JSON: an object of resources, each {used, limit} (limit null: none). */
enum { QUOTA_RESOURCE, QUOTA_USED, QUOTA_LIMIT };
static const struct output_column quota_columns[] = {
        [QUOTA_RESOURCE] = { "RESOURCE", "resource", 0 },
        [QUOTA_USED] = { "USED", "used", OUTPUT_RIGHT },
        [QUOTA_LIMIT] = { "LIMIT", "limit", OUTPUT_RIGHT },
};

static int quota_table(sd_bus_message *reply, struct output_table *t) {
        const char *resource;
        uint64_t limit, used;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{s(tt)}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{s(tt)}", &resource, &limit, &used)) > 0) {
                if (output_table_row(t) < 0 || output_cell_string(t, QUOTA_RESOURCE, resource) < 0 ||
                    output_cell_u64(t, QUOTA_USED, used, NULL) < 0 ||
                    (limit == UINT64_MAX ? output_cell(t, QUOTA_LIMIT, "unlimited", NULL)
                                         : output_cell_u64(t, QUOTA_LIMIT, limit, NULL)) < 0)
                        return output_oom();
        }
        return r < 0 ? bus_reply_malformed(r, "show your quota") : GUESTCTL_EXIT_OK;
}

int verb_quota(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(output_table_freep) struct output_table *t = NULL;
        _cleanup_(output_json_putp) struct json_object *pt = NULL;
        int r;

        r = bus_manager_call(NULL, "GetQuota", "show your quota", &bus, &reply, "");
        if (r != GUESTCTL_EXIT_OK)
                return r;
        t = output_table_new(quota_columns, ELEMENTSOF(quota_columns), OUTPUT_OBJECT);
        if (!t)
                return output_oom();
        r = quota_table(reply, t);
        if (r == GUESTCTL_EXIT_OK)
                r = host_page_tables(bus, &pt);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (args.json) {
                json_object_object_add(output_table_json(t), "page_tables", TAKE_PTR(pt));
                return output_table_print(t);
        }
        r = output_table_print(t);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        putchar('\n');
        return host_page_tables_print(pt);
}
