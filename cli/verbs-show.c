/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs-show.c: list, status and log: what guests there are, what one is
 * and what it said. Tables and fields go through output.c; a guest's
 * property names become JSON keys and labels through the one table of
 * common/guest-properties.h.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus.h"
#include "guest-properties.h"
#include "log.h"
#include "output.h"
#include "util.h"
#include "verbs.h"

/* ------------------------------------------------------------ list */

/* The columns of list, in the order of its JSON keys; object is JSON's
 * only, owner the table's where someone else's guest is shown. */
enum { LIST_NAME, LIST_OBJECT, LIST_OWNER, LIST_STATE, LIST_VCPUS, LIST_MEMORY };
static const struct output_column list_columns[] = {
        [LIST_NAME] = { "NAME", "name", 0 },
        [LIST_OBJECT] = { "OBJECT", "object", 0 },
        [LIST_OWNER] = { "OWNER", "owner", 0 },
        [LIST_STATE] = { "STATE", "state", 0 },
        [LIST_VCPUS] = { "VCPUS", "vcpus", OUTPUT_RIGHT },
        [LIST_MEMORY] = { "MEMORY", "memory_mib", OUTPUT_RIGHT },
};

/* One guest of ListGuests' answer as a row; 0 at its end. *others: set
 * when it is someone else's. */
static int list_row(struct output_table *t, sd_bus_message *reply, bool *others) {
        const char *name, *object, *state;
        uint32_t owner, vcpus;
        uint64_t memory;
        int r;

        r = sd_bus_message_read(reply, "(sosutu)", &name, &object, &state, &owner, &memory, &vcpus);
        if (r <= 0)
                return r;
        if (owner != geteuid())
                *others = true;
        if (output_table_row(t) < 0 || output_cell_string(t, LIST_NAME, name) < 0 || output_cell_string(t, LIST_OBJECT, object) < 0 ||
            output_cell_string(t, LIST_STATE, state) < 0 || output_cell_uid(t, LIST_OWNER, owner) < 0 ||
            output_cell_u64(t, LIST_MEMORY, memory, "MiB") < 0 || output_cell_u64(t, LIST_VCPUS, vcpus, NULL) < 0)
                return -ENOMEM;
        return 1;
}

int verb_list(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(output_table_freep) struct output_table *t = NULL;
        bool others = geteuid() == 0;
        int r;

        r = bus_manager_call(NULL, "ListGuests", "list your guests", &bus, &reply, "");
        if (r != GUESTCTL_EXIT_OK)
                return r;
        t = output_table_new(list_columns, ELEMENTSOF(list_columns), OUTPUT_ARRAY);
        if (!t)
                return output_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(sosutu)");
        while (r >= 0 && (r = list_row(t, reply, &others)) > 0)
                ;
        if (r == -ENOMEM)
                return output_oom();
        if (r < 0)
                return bus_reply_malformed(r, "list your guests");
        /* Only the caller's own guests: whose they are says nothing. */
        if (output_table_hide(t, LIST_OBJECT) < 0 || (!others && output_table_hide(t, LIST_OWNER) < 0))
                return output_oom();
        if (output_table_rows(t) > 0 || args.json)
                return output_table_print(t);
        if (isatty(STDOUT_FILENO) && !args.no_legend)
                printf("No guests.\n");
        return GUESTCTL_EXIT_OK;
}

/* ------------------------------------------------------------ status */

/* A Guest property's JSON key: the one table's; a name not in it stays
 * as it is. */
static const char *guest_property_key(const char *property) {
        const struct guest_property_info *p = guest_property_find(property);
        return p ? p->json : property;
}

/* The label of a JSON key from the table; the key itself if none. */
static const char *json_key_label(const char *key) {
        for (size_t i = 0; i < GUEST_PROPERTIES_MAX; i++)
                if (strcmp(guest_properties[i].json, key) == 0)
                        return guest_properties[i].label;
        return key;
}

static uint64_t json_get_u64(struct json_object *o, const char *key, uint64_t fallback) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_uint64(v) : fallback;
}

static const char *json_get_string(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static int status_config(struct output_fields *f, struct json_object *config) {
        struct json_object *disks;
        const char *s;
        int r = 0;

        if ((s = json_get_string(config, "kernel")))
                r = output_field(f, "Kernel", "%s", s);
        if (r >= 0 && (s = json_get_string(config, "initrd")))
                r = output_field(f, "Initrd", "%s", s);
        if (r >= 0 && (s = json_get_string(config, "cmdline")) && *s)
                r = output_field(f, "Cmdline", "%s", s);
        if (r < 0 || !json_object_object_get_ex(config, "disks", &disks) || !json_object_is_type(disks, json_type_array))
                return r;
        for (size_t i = 0; r >= 0 && i < json_object_array_length(disks); i++) {
                struct json_object *d = json_object_array_get_idx(disks, i), *ro;
                const char *path = json_get_string(d, "path"), *id = json_get_string(d, "id");
                bool read_only = json_object_object_get_ex(d, "read_only", &ro) && json_object_get_boolean(ro);

                r = output_field(f, "Disk", "%s%s%s%s", path ?: "?", read_only ? " (read-only)" : "", id && *id ? " id=" : "",
                                 id && *id ? id : "");
        }
        return r;
}

/* "Page tables: cap 512 pages (share 1024; in force), 1.9 MiB in use, 35
 * recycled/s": one line from the Guest's page-table properties, shown
 * while it has a launcher. */
static int status_page_tables(struct output_fields *f, struct json_object *o) {
        uint64_t cap = json_get_u64(o, "page_table_cap", 0), in_force = json_get_u64(o, "page_table_cap_in_force", 0);
        uint64_t share = json_get_u64(o, "page_table_share", 0), bytes = json_get_u64(o, "page_tables_bytes", UINT64_MAX);
        struct json_object *v;
        double recycled = json_object_object_get_ex(o, "page_tables_recycled_per_s", &v) ? json_object_get_double(v) : 0;
        char in_use[48], force[48] = "";

        if (cap == 0)
                return 0; /* no launcher */
        if (bytes == UINT64_MAX)
                snprintf(in_use, sizeof(in_use), "in use not measured");
        else
                snprintf(in_use, sizeof(in_use), "%.1f MiB in use", (double) bytes / MiB);
        if (in_force == 0)
                snprintf(force, sizeof(force), "; KVM's default in force");
        else if (in_force != cap)
                snprintf(force, sizeof(force), "; %" PRIu64 " in force", in_force);
        return output_field(f, "Page tables", "cap %" PRIu64 " pages (share %" PRIu64 "%s), %s, %.0f recycled/s", cap, share, force,
                            in_use, recycled);
}

/* One property of o as a line (or lines: config; or none). */
static int status_field(struct output_fields *f, struct json_object *o, const char *key, struct json_object *value) {
        const char *label = json_key_label(key);
        char buf[32];

        if (strcmp(key, "object") == 0)
                return 0;
        if (strncmp(key, "page_table", 10) == 0)
                return strcmp(key, "page_table_cap") == 0 ? status_page_tables(f, o) : 0;
        if (strcmp(key, "config") == 0)
                return json_object_is_type(value, json_type_object) ? status_config(f, value)
                                                                    : output_field(f, label, "%s", json_object_get_string(value));
        if (strcmp(key, "owner") == 0)
                return output_field(f, label, "%s (uid %" PRId64 ")", output_user_name((uid_t) json_object_get_int64(value), buf),
                                    json_object_get_int64(value));
        if (strcmp(key, "memory_mib") == 0)
                return output_field(f, label, "%s MiB", json_object_get_string(value));
        if (strcmp(key, "state_reason") == 0 && json_object_get_string_len(value) == 0)
                return 0;
        if (strcmp(key, "snapshot_bytes") == 0)
                return json_object_get_uint64(value) > 0 ?
                               output_field(f, label, "%.1f MiB on disk", (double) json_object_get_uint64(value) / MiB) : 0;
        return output_field(f, label, "%s", value ? json_object_get_string(value) : "-");
}

/* The properties in the order the daemon sent them, then the handle: the
 * last part of its object path, by which its cgroup, or its
 * systemd-machined machine guestd-HANDLE, is named where anyone can see
 * it (machinectl list), so that root can tell whose it is. */
static int status_print(struct json_object *o, const char *path) {
        _cleanup_(output_fields_freep) struct output_fields *f = output_fields_new();
        const char *slash = strrchr(path, '/');
        int r = f ? 0 : -ENOMEM;

        json_object_object_foreach(o, key, value) {
                if (r >= 0)
                        r = status_field(f, o, key, value);
        }
        if (r >= 0)
                r = output_field(f, "Handle", "%s", slash ? slash + 1 : path);
        if (r < 0)
                return output_oom();
        return output_fields_print(f);
}

int verb_status(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(output_json_putp) struct json_object *o = NULL;
        _cleanup_free_ char *path = NULL;
        struct json_object *config;
        int r;

        r = bus_guest_open(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        /* Collected into one JSON object first: --json prints it, the human
         * form prints it in the order the daemon sent. */
        o = json_object_new_object();
        if (!o)
                return output_oom();
        json_object_object_add(o, "object", json_object_new_string(path));
        r = bus_get_all(bus, path, GUESTD_GUEST_IFACE, guest_property_key, o);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        /* The daemon's canonical JSON, shown as an object. */
        if (json_object_object_get_ex(o, "config", &config)) {
                struct json_object *parsed = json_tokener_parse(json_object_get_string(config));
                if (parsed)
                        json_object_object_add(o, "config", parsed);
        }
        return args.json ? output_json(o) : status_print(o, path);
}

/* ------------------------------------------------------------ log */

int verb_log(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(output_json_putp) struct json_object *o = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        const void *data;
        size_t size;
        int r;

        r = bus_guest_open(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "GetConsoleLog", &error, &reply, "");
        if (r < 0)
                return bus_guest_call_failed(argv[1], &error, r, "read the guest's console log");
        r = sd_bus_message_read_array(reply, 'y', &data, &size);
        if (r < 0)
                return bus_reply_malformed(r, "read the guest's console log");
        if (args.json) {
                o = json_object_new_object();
                if (!o)
                        return output_oom();
                json_object_object_add(o, "name", json_object_new_string(argv[1]));
                json_object_object_add(o, "log", json_object_new_string_len(data, (int) size));
                return output_json(o);
        }
        /* The guest's own bytes (NULs included): as they are, or on a
         * terminal with lines kept as lines and the rest escaped. */
        if (output_escaped()) {
                text = text_escape_new(data, size, TEXT_ESCAPE_MULTILINE);
                if (!text)
                        return output_oom();
                r = loop_write(STDOUT_FILENO, text, strlen(text));
        } else
                r = loop_write(STDOUT_FILENO, data, size);
        if (r < 0) {
                log_error_errno(r, "Failed to write the log: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        return GUESTCTL_EXIT_OK;
}
