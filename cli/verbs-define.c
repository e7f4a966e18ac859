/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs-define.c: create and remove, a guest's definition. create turns
 * the options (read by args.c with common/guest-options.c) into the
 * configuration guestd takes; guestd judges the rest (names, the
 * caller's maxima, files) and its sentence is what the user reads.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus.h"
#include "log.h"
#include "output.h"
#include "util.h"
#include "verbs.h"

/* Relative paths on the command line mean the caller's working directory;
 * the daemon only takes absolute ones. Not canonicalised: the daemon opens
 * the file with the caller's rights, symlinks and all, as the caller would. */
static char *path_absolute(const char *path) {
        _cleanup_free_ char *cwd = NULL;
        char *ret;

        if (path[0] == '/')
                return strdup(path);
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return NULL;
        while (path[0] == '.' && path[1] == '/')
                path += 2;
        if (asprintf(&ret, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
                return NULL;
        return ret;
}

static int json_add_path(struct json_object *o, const char *key, const char *path) {
        _cleanup_free_ char *abs = path_absolute(path);

        if (!abs) {
                log_error_errno(-errno, "Cannot make \"%s\" an absolute path: %m", path);
                return GUESTCTL_EXIT_FAIL;
        }
        json_object_object_add(o, key, json_object_new_string(abs));
        return GUESTCTL_EXIT_OK;
}

/* The disks of --disk as guestd takes them. */
static int config_add_disks(struct json_object *config) {
        struct json_object *disks = json_object_new_array();
        int r;

        json_object_object_add(config, "disks", disks);
        for (size_t i = 0; i < args.n_disks; i++) {
                const struct guest_disk_option *d = &args.disks[i];
                struct json_object *o = json_object_new_object();

                json_object_array_add(disks, o);
                r = json_add_path(o, "path", d->path);
                if (r != GUESTCTL_EXIT_OK)
                        return r;
                json_object_object_add(o, "read_only", json_object_new_boolean(d->read_only));
                if (d->id[0])
                        json_object_object_add(o, "id", json_object_new_string(d->id));
        }
        return GUESTCTL_EXIT_OK;
}

/* The configuration CreateGuest takes, from the options. */
static int config_from_args(struct json_object *config) {
        int r;

        r = json_add_path(config, "kernel", args.kernel);
        if (r == GUESTCTL_EXIT_OK && args.initrd)
                r = json_add_path(config, "initrd", args.initrd);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (args.cmdline)
                json_object_object_add(config, "cmdline", json_object_new_string(args.cmdline));
        json_object_object_add(config, "memory_mib", json_object_new_uint64(args.memory_mib));
        json_object_object_add(config, "vcpus", json_object_new_uint64(args.vcpus));
        if (args.acpi >= 0)
                json_object_object_add(config, "acpi", json_object_new_boolean(args.acpi));
        if (args.cmdline_devices >= 0)
                json_object_object_add(config, "cmdline_devices", json_object_new_boolean(args.cmdline_devices));
        return args.n_disks > 0 ? config_add_disks(config) : GUESTCTL_EXIT_OK;
}

int verb_create(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(output_json_putp) struct json_object *config = NULL, *o = NULL;
        const char *path;
        int r;

        if (!args.kernel) {
                log_error("create needs --kernel FILE.");
                return GUESTCTL_EXIT_USAGE;
        }
        config = json_object_new_object();
        if (!config)
                return output_oom();
        r = config_from_args(config);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "CreateGuest", &error, &reply, "ss", argv[1],
                               json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (r < 0)
                return bus_call_failed(&error, r, "create the guest");
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_reply_malformed(r, "create the guest");
        if (!args.json)
                return GUESTCTL_EXIT_OK;
        o = json_object_new_object();
        if (!o)
                return output_oom();
        json_object_object_add(o, "name", json_object_new_string(argv[1]));
        json_object_object_add(o, "object", json_object_new_string(path));
        return output_json(o);
}

int verb_remove(int argc, char **argv) {
        _cleanup_free_ char *reference = NULL;
        int r;

        r = bus_guest_reference(argv[1], &reference);
        if (r != GUESTCTL_EXIT_OK)
                return r == GUESTCTL_EXIT_FAIL ? output_oom() : r;
        return bus_manager_call(argv[1], "RemoveGuest", "remove the guest", NULL, NULL, "s", reference);
}
