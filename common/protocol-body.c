/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocol-body.h"
#include "protocol.h"
#include "util.h"

/* Adds value under key; false when out of memory (value is put). */
static bool add(struct json_object *o, const char *key, struct json_object *value) {
        if (!value)
                return false;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return false;
        }
        return true;
}

static struct json_object *finish(struct json_object *o, bool ok) {
        if (!ok) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* At most max bytes (max <= PROTOCOL_TEXT_MAX) with nothing
 * text_escape() would escape (valid UTF-8, no control characters), so
 * that s is one plain line wherever it lands. */
static bool plain_text(const char *s, size_t max) {
        char escaped[TEXT_ESCAPE_SIZE(PROTOCOL_TEXT_MAX)];
        size_t len = strlen(s);

        return len <= max && len <= PROTOCOL_TEXT_MAX && text_escape(escaped, sizeof(escaped), s, len, 0) == len;
}

/* A launcher's text (protocol.h, PROTOCOL_TEXT_MAX), plain_text().
 * Absent is NULL where optional. */
static int launcher_text(struct json_object *body, const char *key, bool required, const char **ret) {
        *ret = NULL;
        if (!required && !json_object_object_get_ex(body, key, NULL))
                return 0;
        if (protocol_get_string(body, key, ret) < 0)
                return -EBADMSG;
        if (!plain_text(*ret, PROTOCOL_TEXT_MAX)) {
                *ret = NULL;
                return -EBADMSG;
        }
        return 0;
}

/* ---------------------------------------------------------------- setup */

static const char *const setup_keys[] = {
        "type", "guest", "memory_mib", "vcpus", "cmdline", "initrd", "resume", "acpi", "cmdline_devices", "test_violation", "disks", NULL,
};
static const char *const setup_disk_keys[] = { "read_only", "id", NULL };

static struct json_object *setup_disks_encode(const struct protocol_setup_body *b) {
        struct json_object *disks = json_object_new_array();
        bool ok = disks && b->n_disks <= GUEST_MAX_DISKS;

        for (size_t i = 0; ok && i < b->n_disks; i++) {
                struct json_object *o = json_object_new_object();

                if (!o || json_object_array_add(disks, o) < 0) {
                        json_object_put(o);
                        ok = false;
                } else
                        ok = add(o, "read_only", json_object_new_boolean(b->disks[i].read_only)) &&
                             add(o, "id", json_object_new_string(b->disks[i].id ? b->disks[i].id : ""));
        }
        return finish(disks, ok);
}

struct json_object *protocol_setup_encode(const struct protocol_setup_body *b) {
        struct json_object *o = json_object_new_object();
        bool ok;

        if (!o)
                return NULL;
        ok = add(o, "guest", json_object_new_string(b->guest ? b->guest : "")) &&
             add(o, "memory_mib", json_object_new_int64((int64_t) b->memory_mib)) &&
             add(o, "vcpus", json_object_new_int64(b->vcpus)) &&
             add(o, "cmdline", json_object_new_string(b->cmdline ? b->cmdline : "")) &&
             add(o, "initrd", json_object_new_boolean(b->initrd)) && add(o, "resume", json_object_new_boolean(b->resume)) &&
             add(o, "acpi", json_object_new_boolean(b->acpi)) &&
             add(o, "cmdline_devices", json_object_new_boolean(b->cmdline_devices)) && add(o, "disks", setup_disks_encode(b));
        if (ok && b->test_violation)
                ok = add(o, "test_violation", json_object_new_string(b->test_violation));
        return finish(o, ok);
}

size_t protocol_setup_n_fds(const struct protocol_setup_body *b) {
        /* /dev/kvm, kernel or snapshot, initrd, disks, console, listen. */
        return 1 + 1 + (b->initrd ? 1 : 0) + b->n_disks + 2;
}

/* Sets *ret_error (if wanted) to the sentence; returns -EBADMSG. */
static int bad_setup(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int bad_setup(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EBADMSG;
}

/* A key of o that is not in known (NULL-terminated), or NULL. */
static const char *unknown_key(struct json_object *o, const char *const *known) {
        json_object_object_foreach(o, key, value) {
                size_t i = 0;

                (void) value;
                while (known[i] && strcmp(known[i], key) != 0)
                        i++;
                if (!known[i])
                        return key;
        }
        return NULL;
}

static int refuse_unknown_key(struct json_object *o, const char *const *known, const char *where, char **ret_error) {
        const char *key = unknown_key(o, known);
        char shown[TEXT_ESCAPE_SIZE(40)];

        if (!key)
                return 0;
        text_escape(shown, sizeof(shown), key, MIN(strlen(key), (size_t) 40), 0);
        return bad_setup(ret_error, "unknown key '%s' in %s", shown, where);
}

/* An optional boolean: false when absent. */
static int optional_bool(struct json_object *body, const char *key, bool *ret, char **ret_error) {
        *ret = false;
        if (json_object_object_get_ex(body, key, NULL) && protocol_get_bool(body, key, ret) < 0)
                return bad_setup(ret_error, "'%s' must be true or false", key);
        return 0;
}

static int setup_decode_machine(struct json_object *body, struct protocol_setup_body *ret, char **ret_error) {
        uint64_t u;

        if (protocol_get_string(body, "guest", &ret->guest) < 0 || !*ret->guest || !plain_text(ret->guest, GUEST_NAME_MAX))
                return bad_setup(ret_error, "'guest' must be a name of 1 to %d bytes without control characters", GUEST_NAME_MAX);
        if (protocol_get_uint(body, "memory_mib", GUEST_MEMORY_MIB_MAX, &ret->memory_mib) < 0 ||
            ret->memory_mib < GUEST_MEMORY_MIB_MIN || ret->memory_mib % 2 != 0)
                return bad_setup(ret_error, "'memory_mib' must be an even number from %d to %" PRIu64, GUEST_MEMORY_MIB_MIN,
                                 GUEST_MEMORY_MIB_MAX);
        if (protocol_get_uint(body, "vcpus", GUEST_VCPUS_MAX, &u) < 0 || u < 1)
                return bad_setup(ret_error, "'vcpus' must be a number from 1 to %d", GUEST_VCPUS_MAX);
        ret->vcpus = (unsigned) u;
        return 0;
}

static int setup_decode_flags(struct json_object *body, struct protocol_setup_body *ret, char **ret_error) {
        int r;

        if (protocol_get_bool(body, "initrd", &ret->initrd) < 0)
                return bad_setup(ret_error, "'initrd' must be true or false");
        if ((r = optional_bool(body, "resume", &ret->resume, ret_error)) < 0 ||
            (r = optional_bool(body, "acpi", &ret->acpi, ret_error)) < 0 ||
            (r = optional_bool(body, "cmdline_devices", &ret->cmdline_devices, ret_error)) < 0)
                return r;
        if (ret->resume && ret->initrd)
                return bad_setup(ret_error, "a resumed guest has no initrd: it is in the snapshot's RAM");
        if (json_object_object_get_ex(body, "test_violation", NULL) &&
            (protocol_get_string(body, "test_violation", &ret->test_violation) < 0 ||
             !protocol_test_violation_known(ret->test_violation)))
                return bad_setup(ret_error, "'test_violation' must name a known test violation");
        return 0;
}

static int setup_decode_disks(struct json_object *body, struct protocol_setup_body *ret, char **ret_error) {
        struct json_object *disks;
        size_t n;

        if (!json_object_object_get_ex(body, "disks", &disks) || !json_object_is_type(disks, json_type_array))
                return bad_setup(ret_error, "'disks' must be an array");
        n = json_object_array_length(disks);
        if (n > GUEST_MAX_DISKS)
                return bad_setup(ret_error, "%zu disks, at most %d are supported", n, GUEST_MAX_DISKS);
        for (size_t i = 0; i < n; i++) {
                struct json_object *d = json_object_array_get_idx(disks, i);
                struct protocol_setup_disk *disk = &ret->disks[i];

                if (!json_object_is_type(d, json_type_object) || protocol_get_bool(d, "read_only", &disk->read_only) < 0 ||
                    protocol_get_string(d, "id", &disk->id) < 0 || strlen(disk->id) > GUEST_DISK_ID_MAX)
                        return bad_setup(ret_error, "disk %zu must be {read_only: bool, id: string of at most %d bytes}", i,
                                         GUEST_DISK_ID_MAX);
                if (refuse_unknown_key(d, setup_disk_keys, "a disk", ret_error) < 0)
                        return -EBADMSG;
        }
        ret->n_disks = n;
        return 0;
}

int protocol_setup_decode(struct json_object *body, size_t n_fds, struct protocol_setup_body *ret, char **ret_error) {
        struct protocol_setup_body b = {};
        size_t device_args;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!json_object_is_type(body, json_type_object))
                return bad_setup(ret_error, "the body must be an object");
        if ((r = refuse_unknown_key(body, setup_keys, "setup", ret_error)) < 0 ||
            (r = setup_decode_machine(body, &b, ret_error)) < 0 || (r = setup_decode_flags(body, &b, ret_error)) < 0 ||
            (r = setup_decode_disks(body, &b, ret_error)) < 0)
                return r;
        /* The launcher puts the disks on the command line without ACPI,
         * and with it where asked to (guest-limits.h). */
        device_args = !b.acpi || b.cmdline_devices ? b.n_disks : 0;
        if (protocol_get_string(body, "cmdline", &b.cmdline) < 0 || strlen(b.cmdline) > GUEST_CMDLINE_MAX(device_args))
                return bad_setup(ret_error, "'cmdline' must be a string of at most %u bytes (%zu disks on it)",
                                 GUEST_CMDLINE_MAX(device_args), device_args);
        if (n_fds != protocol_setup_n_fds(&b))
                return bad_setup(ret_error, "%zu fds for %s initrd and %zu disks: want %zu", n_fds, b.initrd ? "an" : "no", b.n_disks,
                                 protocol_setup_n_fds(&b));
        *ret = b;
        return 0;
}

struct json_object *protocol_state_encode(const struct protocol_state_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "state", json_object_new_string(b->paused ? "paused" : "running")) &&
                                     add(o, "pid", json_object_new_int64((int64_t) b->pid)))
                 : NULL;
}

int protocol_state_decode(struct json_object *body, struct protocol_state_body *ret) {
        const char *s;

        if (protocol_get_string(body, "state", &s) < 0)
                return -EBADMSG;
        if (strcmp(s, "running") == 0)
                ret->paused = false;
        else if (strcmp(s, "paused") == 0)
                ret->paused = true;
        else
                return -EBADMSG;
        if (protocol_get_uint(body, "pid", INT32_MAX, &ret->pid) < 0)
                ret->pid = 0; /* optional */
        return 0;
}

struct json_object *protocol_exited_encode(const struct protocol_exited_body *b) {
        struct json_object *o = json_object_new_object();
        bool ok;

        if (!o)
                return NULL;
        ok = add(o, "exit", json_object_new_int(b->exit));
        if (ok && b->exit_name)
                ok = add(o, "exit_name", json_object_new_string(b->exit_name));
        if (ok && b->reason)
                ok = add(o, "reason", json_object_new_string(b->reason));
        return finish(o, ok);
}

int protocol_exited_decode(struct json_object *body, struct protocol_exited_body *ret) {
        uint64_t code;

        if (protocol_get_uint(body, "exit", 255, &code) < 0 || launcher_text(body, "exit_name", false, &ret->exit_name) < 0 ||
            launcher_text(body, "reason", false, &ret->reason) < 0)
                return -EBADMSG;
        ret->exit = (int) code;
        return 0;
}

struct json_object *protocol_error_encode(const struct protocol_error_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "message", json_object_new_string(b->message ? b->message : ""))) : NULL;
}

int protocol_error_decode(struct json_object *body, struct protocol_error_body *ret) {
        return launcher_text(body, "message", true, &ret->message);
}

int protocol_violation_decode(struct json_object *body, struct protocol_violation_body *ret) {
        if (protocol_get_uint(body, "syscall", UINT32_MAX, &ret->syscall) < 0 ||
            protocol_get_uint(body, "arg1", UINT64_MAX, &ret->arg1) < 0)
                return -EBADMSG;
        return 0;
}

struct json_object *protocol_progress_encode(const struct protocol_progress_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "done", json_object_new_uint64(b->done)) && add(o, "total", json_object_new_uint64(b->total)))
                 : NULL;
}

int protocol_progress_decode(struct json_object *body, struct protocol_progress_body *ret) {
        if (protocol_get_uint(body, "done", UINT64_MAX, &ret->done) < 0 ||
            protocol_get_uint(body, "total", UINT64_MAX, &ret->total) < 0 || ret->done > ret->total)
                return -EBADMSG;
        return 0;
}

struct json_object *protocol_mmu_pages_encode(const struct protocol_mmu_pages_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "pages", json_object_new_int64((int64_t) b->pages))) : NULL;
}

int protocol_mmu_pages_decode(struct json_object *body, struct protocol_mmu_pages_body *ret) {
        return protocol_get_uint(body, "pages", UINT32_MAX, &ret->pages) < 0 ? -EBADMSG : 0;
}

struct json_object *protocol_mmu_pages_set_encode(const struct protocol_mmu_pages_set_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "pages", json_object_new_int64((int64_t) b->pages)) && add(o, "error", json_object_new_int(b->error)))
                 : NULL;
}

int protocol_mmu_pages_set_decode(struct json_object *body, struct protocol_mmu_pages_set_body *ret) {
        uint64_t error;

        if (protocol_get_uint(body, "pages", UINT32_MAX, &ret->pages) < 0 || protocol_get_uint(body, "error", 4095, &error) < 0)
                return -EBADMSG;
        ret->error = (int) error;
        return 0;
}

struct json_object *protocol_shutdown_asked_encode(const struct protocol_shutdown_asked_body *b) {
        struct json_object *o = json_object_new_object();
        bool ok;

        if (!o)
                return NULL;
        ok = add(o, "asked", json_object_new_boolean(b->asked)) && add(o, "how", json_object_new_string(b->how ? b->how : ""));
        if (ok && b->why)
                ok = add(o, "why", json_object_new_string(b->why));
        return finish(o, ok);
}

int protocol_shutdown_asked_decode(struct json_object *body, struct protocol_shutdown_asked_body *ret) {
        if (protocol_get_bool(body, "asked", &ret->asked) < 0 || launcher_text(body, "how", false, &ret->how) < 0 ||
            launcher_text(body, "why", false, &ret->why) < 0)
                return -EBADMSG;
        return 0;
}

struct json_object *protocol_poweroff_signal_encode(const struct protocol_poweroff_signal_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "pid", json_object_new_int64((int64_t) b->pid)) && add(o, "uid", json_object_new_int64((int64_t) b->uid)))
                 : NULL;
}

int protocol_poweroff_signal_decode(struct json_object *body, struct protocol_poweroff_signal_body *ret) {
        if (protocol_get_uint(body, "pid", INT32_MAX, &ret->pid) < 0 || protocol_get_uint(body, "uid", UINT32_MAX, &ret->uid) < 0)
                return -EBADMSG;
        return 0;
}

struct json_object *protocol_suspend_failed_encode(const struct protocol_suspend_failed_body *b) {
        struct json_object *o = json_object_new_object();
        return o ? finish(o, add(o, "message", json_object_new_string(b->message ? b->message : ""))) : NULL;
}

int protocol_suspend_failed_decode(struct json_object *body, struct protocol_suspend_failed_body *ret) {
        return launcher_text(body, "message", true, &ret->message);
}
