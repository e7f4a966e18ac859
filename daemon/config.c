/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.c: see config.h. */
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "util.h"

bool guest_name_is_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n < 1 || n > GUEST_NAME_MAX)
                return false;
        /* A leading '.' would allow "." and ".." and hidden files; a leading
         * '-' reads as an option on a command line. */
        if (name[0] == '.' || name[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-'))
                        return false;
        }
        return true;
}


static const char *json_type_word(struct json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null: return "null";
        case json_type_boolean: return "a boolean";
        case json_type_double: return "a fractional number";
        case json_type_int: return "an integer";
        case json_type_object: return "an object";
        case json_type_array: return "an array";
        case json_type_string: return "a string";
        }
        return "something else";
}

/* An absolute path: the daemon has no working directory a user could mean. */
static int parse_path(struct json_object *v, const char *field, char **ret, char **ret_error) {
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return set_error_message(ret_error, "\"%s\" must be a string (an absolute path), not %s.", field, json_type_word(v));
        s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s))
                return set_error_message(ret_error, "\"%s\" contains a NUL character.", field);
        if (s[0] != '/')
                return set_error_message(ret_error, "\"%s\" must be an absolute path (starting with '/'), got \"%s\".", field, s);
        if (strlen(s) >= PATH_MAX)
                return set_error_message(ret_error, "\"%s\" is longer than %d characters.", field, PATH_MAX - 1);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_uint(struct json_object *v, const char *field, uint64_t min, uint64_t max, uint64_t *ret, char **ret_error) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return set_error_message(ret_error, "\"%s\" must be an integer, not %s.", field, json_type_word(v));
        errno = 0;
        i = json_object_get_int64(v);
        if (errno == ERANGE || i < 0 || (uint64_t) i < min || (uint64_t) i > max)
                return set_error_message(ret_error, "\"%s\" must be between %" PRIu64 " and %" PRIu64 ", got %s.", field, min, max,
                                    json_object_to_json_string(v));
        *ret = (uint64_t) i;
        return 0;
}

static int parse_disk(struct json_object *v, size_t index, struct guest_disk *d, char **ret_error) {
        char field[64];
        bool have_path = false;

        if (!json_object_is_type(v, json_type_object))
                return set_error_message(ret_error, "\"disks[%zu]\" must be an object {\"path\", \"read_only\", \"id\"}, not %s.", index,
                                    json_type_word(v));
        json_object_object_foreach(v, key, value) {
                int r;

                snprintf(field, sizeof(field), "disks[%zu].%.20s", index, key);
                if (strcmp(key, "path") == 0) {
                        r = parse_path(value, field, &d->path, ret_error);
                        if (r < 0)
                                return r;
                        have_path = true;
                } else if (strcmp(key, "read_only") == 0) {
                        if (!json_object_is_type(value, json_type_boolean))
                                return set_error_message(ret_error, "\"%s\" must be true or false, not %s.", field, json_type_word(value));
                        d->read_only = json_object_get_boolean(value);
                } else if (strcmp(key, "id") == 0) {
                        const char *s;
                        if (!json_object_is_type(value, json_type_string))
                                return set_error_message(ret_error, "\"%s\" must be a string, not %s.", field, json_type_word(value));
                        s = json_object_get_string(value);
                        if (strlen(s) > GUEST_DISK_ID_MAX || (size_t) json_object_get_string_len(value) != strlen(s))
                                return set_error_message(ret_error, "\"%s\" must be at most %d characters.", field, GUEST_DISK_ID_MAX);
                        strcpy(d->id, s);
                } else
                        return set_error_message(ret_error, "Unknown key \"%s\" (known: path, read_only, id).", field);
        }
        if (!have_path)
                return set_error_message(ret_error, "\"disks[%zu].path\" is required.", index);
        return 0;
}

static int parse_bool(struct json_object *v, const char *field, bool *ret, char **ret_error) {
        if (!json_object_is_type(v, json_type_boolean))
                return set_error_message(ret_error, "\"%s\" must be true or false, not %s.", field, json_type_word(v));
        *ret = json_object_get_boolean(v);
        return 0;
}

static int parse_object(struct json_object *root, bool record, struct guest_config *c, char **ret_error) {
        bool have_memory = false, have_vcpus = false, have_acpi = false, have_cmdline_devices = false;
        size_t device_args;
        uint64_t u;
        int r;

        json_object_object_foreach(root, key, value) {
                if (strcmp(key, "kernel") == 0) {
                        r = parse_path(value, key, &c->kernel, ret_error);
                } else if (strcmp(key, "initrd") == 0) {
                        r = parse_path(value, key, &c->initrd, ret_error);
                } else if (strcmp(key, "cmdline") == 0) {
                        const char *s;
                        if (!json_object_is_type(value, json_type_string))
                                return set_error_message(ret_error, "\"cmdline\" must be a string, not %s.", json_type_word(value));
                        s = json_object_get_string(value);
                        if ((size_t) json_object_get_string_len(value) != strlen(s))
                                return set_error_message(ret_error, "\"cmdline\" contains a NUL character.");
                        if (strlen(s) > GUEST_CMDLINE_MAX(0))
                                return set_error_message(ret_error, "\"cmdline\" must be at most %u bytes.", GUEST_CMDLINE_MAX(0));
                        free(c->cmdline);
                        c->cmdline = strdup(s);
                        r = c->cmdline ? 0 : -ENOMEM;
                } else if (strcmp(key, "memory_mib") == 0) {
                        r = parse_uint(value, key, GUEST_MEMORY_MIB_MIN, GUEST_MEMORY_MIB_MAX, &c->memory_mib, ret_error);
                        if (r >= 0 && c->memory_mib % 2 != 0)
                                r = set_error_message(ret_error, "\"memory_mib\" must be a multiple of 2 (guest RAM is mapped in 2 MiB pages), got %" PRIu64 ".",
                                                 c->memory_mib);
                        have_memory = true;
                } else if (strcmp(key, "vcpus") == 0) {
                        r = parse_uint(value, key, 1, GUEST_VCPUS_MAX, &u, ret_error);
                        c->vcpus = (unsigned) u;
                        have_vcpus = true;
                } else if (strcmp(key, "disks") == 0) {
                        size_t n;
                        if (!json_object_is_type(value, json_type_array))
                                return set_error_message(ret_error, "\"disks\" must be an array, not %s.", json_type_word(value));
                        n = json_object_array_length(value);
                        if (n > GUEST_MAX_DISKS)
                                return set_error_message(ret_error, "\"disks\" has %zu entries; at most %d are allowed.", n, GUEST_MAX_DISKS);
                        for (size_t i = 0; i < n; i++) {
                                r = parse_disk(json_object_array_get_idx(value, i), i, &c->disks[i], ret_error);
                                c->n_disks = i + 1;
                                if (r < 0)
                                        return r;
                        }
                        r = 0;
                } else if (strcmp(key, "acpi") == 0) {
                        r = parse_bool(value, key, &c->acpi, ret_error);
                        have_acpi = true;
                } else if (strcmp(key, "cmdline_devices") == 0) {
                        r = parse_bool(value, key, &c->cmdline_devices, ret_error);
                        have_cmdline_devices = true;
                } else
                        return set_error_message(ret_error, "Unknown key \"%.40s\" (known: kernel, initrd, cmdline, memory_mib, vcpus, "
                                                            "disks, acpi, cmdline_devices).",
                                                 key);
                if (r < 0)
                        return r;
        }
        if (!c->kernel)
                return set_error_message(ret_error, "\"kernel\" is required (an absolute path to a PVH ELF or bzImage).");
        if (!have_memory)
                return set_error_message(ret_error, "\"memory_mib\" is required.");
        if (!have_vcpus)
                return set_error_message(ret_error, "\"vcpus\" is required.");
        /* A record from before ACPI ran without it, disks on the command
         * line: it keeps that machine. */
        if (!have_acpi)
                c->acpi = !record;
        if (!have_cmdline_devices)
                c->cmdline_devices = !c->acpi;
        if (!c->acpi && !c->cmdline_devices)
                return set_error_message(ret_error, "\"cmdline_devices\" cannot be false with \"acpi\" false: without ACPI the "
                                                    "command line is the only place the guest finds its disks.");
        /* The launcher appends one argument per disk (guest-limits.h). */
        device_args = c->cmdline_devices ? c->n_disks : 0;
        if (c->cmdline && strlen(c->cmdline) > GUEST_CMDLINE_MAX(device_args))
                return set_error_message(ret_error,
                                         "\"cmdline\" is %zu bytes; with %zu disk(s) on the command line it must be at most %u (the "
                                         "launcher adds a virtio_mmio.device= argument for each to the %d bytes of the guest's command "
                                         "line; with \"acpi\" and without \"cmdline_devices\" it adds none).",
                                         strlen(c->cmdline), device_args, GUEST_CMDLINE_MAX(device_args), GUEST_CMDLINE_SIZE);
        return 0;
}

static int config_parse(const char *json, bool record, struct guest_config *ret, char **ret_error) {
        struct json_tokener *tok = NULL;
        struct json_object *root = NULL;
        struct guest_config c = {};
        size_t len;
        int r;

        if (ret_error)
                *ret_error = NULL;
        len = strlen(json);
        if (len > GUEST_CONFIG_MAX)
                return set_error_message(ret_error, "The configuration is %zu bytes; at most %d are allowed.", len, GUEST_CONFIG_MAX);

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, json, (int) len);
        if (!root) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                if (e == json_tokener_continue)
                        r = set_error_message(ret_error, "The configuration is not valid JSON: it ends too early.");
                else
                        r = set_error_message(ret_error, "The configuration is not valid JSON at byte %zu: %s.",
                                         json_tokener_get_parse_end(tok), json_tokener_error_desc(e));
                json_tokener_free(tok);
                return r;
        }
        /* json-c stops after the first complete value: anything but white
         * space after it is garbage we refuse rather than ignore. */
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!strchr(" \t\r\n", json[i])) {
                        r = set_error_message(ret_error, "The configuration has trailing data at byte %zu after the JSON object.", i);
                        goto finish;
                }
        if (!json_object_is_type(root, json_type_object)) {
                r = set_error_message(ret_error, "The configuration must be a JSON object, not %s.", json_type_word(root));
                goto finish;
        }
        r = parse_object(root, record, &c, ret_error);
        if (r >= 0 && !c.cmdline) {
                c.cmdline = strdup("");
                if (!c.cmdline)
                        r = -ENOMEM;
        }
        if (r >= 0) {
                *ret = c;
                c = (struct guest_config) {};
        }
finish:
        guest_config_done(&c);
        json_object_put(root);
        json_tokener_free(tok);
        return r;
}

int guest_config_parse(const char *json, struct guest_config *ret, char **ret_error) {
        return config_parse(json, false, ret, ret_error);
}

int guest_config_parse_record(const char *json, struct guest_config *ret, char **ret_error) {
        return config_parse(json, true, ret, ret_error);
}

char *guest_config_to_json(const struct guest_config *c) {
        struct json_object *o = json_object_new_object(), *disks = NULL;
        char *s = NULL;

        if (!o)
                return NULL;
        json_object_object_add(o, "kernel", json_object_new_string(c->kernel));
        if (c->initrd)
                json_object_object_add(o, "initrd", json_object_new_string(c->initrd));
        if (c->cmdline && c->cmdline[0])
                json_object_object_add(o, "cmdline", json_object_new_string(c->cmdline));
        json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t) c->memory_mib));
        json_object_object_add(o, "vcpus", json_object_new_int((int) c->vcpus));
        json_object_object_add(o, "acpi", json_object_new_boolean(c->acpi));
        json_object_object_add(o, "cmdline_devices", json_object_new_boolean(c->cmdline_devices));
        if (c->n_disks > 0) {
                disks = json_object_new_array();
                for (size_t i = 0; disks && i < c->n_disks; i++) {
                        struct json_object *d = json_object_new_object();
                        json_object_object_add(d, "path", json_object_new_string(c->disks[i].path));
                        json_object_object_add(d, "read_only", json_object_new_boolean(c->disks[i].read_only));
                        if (c->disks[i].id[0])
                                json_object_object_add(d, "id", json_object_new_string(c->disks[i].id));
                        json_object_array_add(disks, d);
                }
                json_object_object_add(o, "disks", disks);
        }
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

void guest_config_done(struct guest_config *c) {
        if (!c)
                return;
        free(c->kernel);
        free(c->initrd);
        free(c->cmdline);
        for (size_t i = 0; i < c->n_disks; i++)
                free(c->disks[i].path);
        *c = (struct guest_config) {};
}
