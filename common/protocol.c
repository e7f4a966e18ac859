/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * protocol.c: sending and receiving launcher protocol messages (see
 * protocol.h for the messages themselves).
 *
 * Everything about a message that does not depend on the receiver's state
 * is checked here, once, from one table: the packet arrived whole, the body
 * is a JSON object no larger than PROTOCOL_MAX_MESSAGE, its "type" names a
 * message that may travel in this direction, and it carries as many fds as
 * that type does. A message that fails any check is -EBADMSG and its fds
 * are closed at once, so a hostile peer cannot make us leak descriptors by
 * sending them with garbage. Whether a valid message is allowed *now* is
 * the receiver's business (its own dispatch table).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fdpass.h"
#include "protocol.h"
#include "util.h"

/* The most nested JSON we accept: setup's disks array of objects is the
 * deepest legitimate message (3 levels). */
#define PROTOCOL_MAX_DEPTH 8

struct protocol_type_info {
        const char *name;
        enum protocol_direction direction;
        size_t min_fds, max_fds;
};

static const struct protocol_type_info protocol_types[_PROTOCOL_TYPE_MAX] = {
        /* At least /dev/kvm, kernel, console and listen; then up to the
         * limit for an initrd and disks. The launcher checks the exact
         * count. */
        [PROTOCOL_SETUP]   = { "setup",   PROTOCOL_TO_LAUNCHER, 4, PROTOCOL_MAX_FDS },
        [PROTOCOL_ATTACH]  = { "attach",  PROTOCOL_TO_LAUNCHER, 2, 2 },
        [PROTOCOL_PAUSE]   = { "pause",   PROTOCOL_TO_LAUNCHER, 0, 0 },
        [PROTOCOL_UNPAUSE] = { "unpause", PROTOCOL_TO_LAUNCHER, 0, 0 },
        [PROTOCOL_STOP]    = { "stop",    PROTOCOL_TO_LAUNCHER, 0, 0 },
        [PROTOCOL_STATE]   = { "state",   PROTOCOL_TO_DAEMON,   0, 0 },
        [PROTOCOL_EXITED]  = { "exited",  PROTOCOL_TO_DAEMON,   0, 0 },
        [PROTOCOL_ERROR]   = { "error",   PROTOCOL_TO_DAEMON,   0, 0 },
        [PROTOCOL_VIOLATION] = { "violation", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_SUSPEND] = { "suspend", PROTOCOL_TO_LAUNCHER, 0, 0 },
        [PROTOCOL_PROGRESS] = { "progress", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_SUPERVISE] = { "supervise", PROTOCOL_TO_DAEMON, 2, 2 },
        [PROTOCOL_MMU_PAGES] = { "mmu_pages", PROTOCOL_TO_LAUNCHER, 0, 0 },
        [PROTOCOL_MMU_PAGES_SET] = { "mmu_pages_set", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_SHUTDOWN] = { "shutdown", PROTOCOL_TO_LAUNCHER, 0, 0 },
        [PROTOCOL_SHUTDOWN_ASKED] = { "shutdown_asked", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_POWEROFF_SIGNAL] = { "poweroff_signal", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_SUSPEND_READY] = { "suspend_ready", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_SNAPSHOT] = { "snapshot", PROTOCOL_TO_LAUNCHER, 1, 1 },
        [PROTOCOL_SUSPEND_FAILED] = { "suspend_failed", PROTOCOL_TO_DAEMON, 0, 0 },
        [PROTOCOL_SUSPEND_ABORT] = { "suspend_abort", PROTOCOL_TO_LAUNCHER, 0, 0 },
};

const char *protocol_type_to_string(enum protocol_type t) {
        if ((unsigned) t >= _PROTOCOL_TYPE_MAX)
                return NULL;
        return protocol_types[t].name;
}

enum protocol_type protocol_type_from_string(const char *s) {
        if (!s)
                return _PROTOCOL_TYPE_INVALID;
        for (unsigned t = 0; t < _PROTOCOL_TYPE_MAX; t++)
                if (strcmp(protocol_types[t].name, s) == 0)
                        return (enum protocol_type) t;
        return _PROTOCOL_TYPE_INVALID;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

int protocol_send(int sock, enum protocol_type type, struct json_object *body, const int *fds, size_t n_fds) {
        const struct protocol_type_info *info;
        struct json_object *owned = NULL;
        const char *text;
        size_t len;
        int r;

        if ((unsigned) type >= _PROTOCOL_TYPE_MAX)
                return -EINVAL;
        info = &protocol_types[type];
        /* Check our own messages as strictly as the peer will: sending one
         * it must reject would only end the peer. */
        if (n_fds < info->min_fds || n_fds > info->max_fds || (n_fds > 0 && !fds))
                return -EINVAL;
        if (body && !json_object_is_type(body, json_type_object))
                return -EINVAL;
        if (!body) {
                owned = body = json_object_new_object();
                if (!body)
                        return -ENOMEM;
        }
        if (json_object_object_add(body, "type", json_object_new_string(info->name)) < 0) {
                r = -ENOMEM;
                goto out;
        }
        text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
        if (!text) {
                r = -ENOMEM;
                goto out;
        }
        if (len > PROTOCOL_MAX_MESSAGE) {
                r = -E2BIG;
                goto out;
        }

        {
                ssize_t n = fdpass_send(sock, text, len, fds, n_fds, 0);
                /* SOCK_SEQPACKET sends a packet whole or not at all. */
                r = n < 0 ? (int) n : (size_t) n == len ? 0 : -EIO;
        }
out:
        json_object_put(owned);
        return r;
}

/* Parses exactly buf[0..len) as one JSON object: no trailing bytes, no
 * NULs (json-c would stop at one and ignore the rest). */
static int protocol_parse(const char *buf, size_t len, struct json_object **ret) {
        struct json_tokener *tok;
        struct json_object *o;

        if (len == 0 || memchr(buf, 0, len))
                return -EBADMSG;
        tok = json_tokener_new_ex(PROTOCOL_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, buf, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
            !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

int protocol_decode(const char *buf, size_t len, size_t n_fds, enum protocol_direction dir, enum protocol_type *ret_type,
                    struct json_object **ret_body) {
        struct json_object *body = NULL, *type_field;
        enum protocol_type type;
        int r;

        if (len > PROTOCOL_MAX_MESSAGE)
                return -EBADMSG;
        r = protocol_parse(buf, len, &body);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(body, "type", &type_field) || !json_object_is_type(type_field, json_type_string)) {
                json_object_put(body);
                return -EBADMSG;
        }
        type = protocol_type_from_string(json_object_get_string(type_field));
        if (type < 0 || protocol_types[type].direction != dir || n_fds < protocol_types[type].min_fds ||
            n_fds > protocol_types[type].max_fds) {
                json_object_put(body);
                return -EBADMSG;
        }
        *ret_type = type;
        *ret_body = body;
        return 0;
}

int protocol_recv(int sock, enum protocol_direction dir, struct protocol_message *ret) {
        _cleanup_free_ char *buf = NULL;
        int fds[PROTOCOL_MAX_FDS], msg_flags = 0;
        size_t n_fds = 0;
        struct json_object *body = NULL;
        enum protocol_type type;
        ssize_t n;
        int r;

        /* One byte more than allowed, so an oversized packet shows up as
         * such even where the kernel does not report MSG_TRUNC. Every fd
         * that came is taken, whatever else is wrong (fdpass.h), so each
         * one is either handed on or closed. */
        buf = malloc(PROTOCOL_MAX_MESSAGE + 1);
        if (!buf)
                return -ENOMEM;
        n = fdpass_recv(sock, buf, PROTOCOL_MAX_MESSAGE + 1, fds, ELEMENTSOF(fds), &n_fds, 0, &msg_flags);
        /* A peer that closed with our messages unread leaves ECONNRESET
         * pending (AF_UNIX reports it once), ahead of what it sent before
         * it closed: a launcher's "exited" after a last "mmu_pages" it
         * never read. Read on; the end of the stream comes after. */
        if (n == -ECONNRESET)
                n = fdpass_recv(sock, buf, PROTOCOL_MAX_MESSAGE + 1, fds, ELEMENTSOF(fds), &n_fds, 0, &msg_flags);
        if (n < 0)
                return (int) n;

        if (n == 0) {
                /* End of stream (a zero-length packet is never a message). */
                r = -ECONNRESET;
                goto fail;
        }
        if ((msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t) n > PROTOCOL_MAX_MESSAGE) {
                r = -EBADMSG;
                goto fail;
        }
        r = protocol_decode(buf, (size_t) n, n_fds, dir, &type, &body);
        if (r < 0)
                goto fail;

        *ret = (struct protocol_message) { .type = type, .body = body, .n_fds = n_fds, .size = (size_t) n };
        for (size_t i = 0; i < ELEMENTSOF(ret->fds); i++)
                ret->fds[i] = i < n_fds ? fds[i] : -EBADF;
        return 0;

fail:
        json_object_put(body);
        close_fds(fds, n_fds);
        return r;
}

void protocol_message_done(struct protocol_message *m) {
        if (!m)
                return;
        close_fds(m->fds, MIN(m->n_fds, ELEMENTSOF(m->fds)));
        m->n_fds = 0;
        json_object_put(m->body);
        m->body = NULL;
}

static int protocol_get(struct json_object *body, const char *key, enum json_type type, struct json_object **ret) {
        struct json_object *v;

        if (!body || !json_object_object_get_ex(body, key, &v) || !json_object_is_type(v, type))
                return -EBADMSG;
        *ret = v;
        return 0;
}

int protocol_get_string(struct json_object *body, const char *key, const char **ret) {
        struct json_object *v;
        int r = protocol_get(body, key, json_type_string, &v);
        if (r < 0)
                return r;
        /* A string with a NUL inside would read as a shorter one. */
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 0;
}

int protocol_get_uint(struct json_object *body, const char *key, uint64_t max, uint64_t *ret) {
        struct json_object *v;
        int r = protocol_get(body, key, json_type_int, &v);
        if (r < 0)
                return r;
        /* json-c keeps integers as int64 or, above INT64_MAX, uint64: a
         * negative int64 is never a valid unsigned field. */
        if (json_object_get_int64(v) < 0)
                return -EBADMSG;
        uint64_t u = json_object_get_uint64(v);
        if (u > max)
                return -EBADMSG;
        *ret = u;
        return 0;
}

int protocol_get_bool(struct json_object *body, const char *key, bool *ret) {
        struct json_object *v;
        int r = protocol_get(body, key, json_type_boolean, &v);
        if (r < 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 0;
}

const char *const protocol_test_violations[] = {
        "ioctl-create-vm", "ioctl-create-vcpu", "ioctl-set-nr-mmu-pages", "ioctl-set-memory-region",
        "open", "socket", "execve", "fork", "mmap-exec", "ptrace", NULL,
};

bool protocol_test_violation_known(const char *what) {
        for (size_t i = 0; what && protocol_test_violations[i]; i++)
                if (strcmp(what, protocol_test_violations[i]) == 0)
                        return true;
        return false;
}
