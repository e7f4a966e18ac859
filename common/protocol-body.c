/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
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

/* A launcher's text (protocol.h, PROTOCOL_TEXT_MAX): at most that many
 * bytes, with nothing text_escape() would escape (valid UTF-8, no
 * control characters), so that it is one plain line wherever it lands.
 * Absent is NULL where optional. */
static int launcher_text(struct json_object *body, const char *key, bool required, const char **ret) {
        char escaped[TEXT_ESCAPE_SIZE(PROTOCOL_TEXT_MAX)];
        size_t len;

        *ret = NULL;
        if (!required && !json_object_object_get_ex(body, key, NULL))
                return 0;
        if (protocol_get_string(body, key, ret) < 0)
                return -EBADMSG;
        len = strlen(*ret);
        if (len > PROTOCOL_TEXT_MAX || text_escape(escaped, sizeof(escaped), *ret, len, 0) != len) {
                *ret = NULL;
                return -EBADMSG;
        }
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
