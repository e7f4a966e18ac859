/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest.c: see guest.h. */
#include <fcntl.h>
#include <sys/random.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "console.h"
#include "guest.h"
#include "journal.h"
#include "log.h"

char *guest_make_id(uid_t owner, const char *name) {
        char *s;

        if (asprintf(&s, "%u_%s", (unsigned) owner, name) < 0)
                return NULL;
        return s;
}

/* 128 random bits as 32 hex digits. */
static int make_handle(char **ret) {
        uint8_t b[16];
        char *s = malloc(33);

        if (!s)
                return -ENOMEM;
        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b)) {
                free(s);
                return -EIO;
        }
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(s + 2 * i, 3, "%02x", b[i]);
        *ret = s;
        return 0;
}

static bool handle_is_valid(const char *s) {
        return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static struct guest *guest_alloc(void) {
        struct guest *g = calloc(1, sizeof(*g));

        if (!g)
                return NULL;
        g->pt.listener_fd = g->pt.stats_fd = -EBADF;
        launcher_conn_init(&g->conn);
        return g;
}

/* Re-parses the stored configuration rather than deep-copying the struct:
 * one code path, and a record's config is checked as strictly as a new one. */
static int guest_init(struct guest *g, const char *name, uid_t owner, const char *config_json, bool record, char **ret_error) {
        int r;

        if (!guest_name_is_valid(name))
                return -EINVAL;
        r = record ? guest_config_parse_record(config_json, &g->config, ret_error)
                   : guest_config_parse(config_json, &g->config, ret_error);
        if (r < 0)
                return r;
        g->name = strdup(name);
        g->owner = owner;
        g->files_uid = owner; /* guest_new()'s caller, or the record, may say otherwise */
        g->id = guest_make_id(owner, name);
        if (g->id)
                launcher_log_init(&g->conn.launcher_log, g->id);
        g->config_json = guest_config_to_json(&g->config);
        g->state_reason = strdup("");
        if (!g->name || !g->id || !g->config_json || !g->state_reason)
                return -ENOMEM;
        return 0;
}

int guest_new(const char *name, uid_t owner, const struct guest_config *config, struct guest **ret) {
        _cleanup_(guest_freep) struct guest *g = guest_alloc();
        _cleanup_free_ char *json = NULL;
        struct timespec ts;
        int r;

        if (!g)
                return -ENOMEM;
        json = guest_config_to_json(config);
        if (!json)
                return -ENOMEM;
        r = guest_init(g, name, owner, json, false, NULL);
        if (r < 0)
                return r;
        r = make_handle(&g->handle);
        if (r < 0)
                return r;
        clock_gettime(CLOCK_REALTIME, &ts);
        g->created_usec = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
        g->state = GUEST_DEFINED;
        *ret = TAKE_PTR(g);
        return 0;
}

struct guest *guest_free(struct guest *g) {
        if (!g)
                return NULL;
        while (g->pending) {
                struct pending_call *p = g->pending;
                g->pending = p->next;
                sd_bus_message_unref(p->call);
                free(p);
        }
        launcher_conn_done(&g->conn);
        sd_event_source_disable_unref(g->pt.listener_source);
        safe_close(g->pt.listener_fd);
        if (g->pt.stats_ok)
                kvm_stats_close(&g->pt.stats);
        safe_close(g->pt.stats_fd);
        console_free(g->console);
        guest_config_done(&g->config);
        free(g->name);
        free(g->id);
        free(g->config_json);
        free(g->state_reason);
        free(g->object_path);
        free(g->handle);
        free(g);
        return NULL;
}

char *guest_reason_clean(const char *reason) {
        char buf[GUEST_STATE_REASON_MAX + 1];
        size_t len = strlen(reason);

        /* Escaping never cuts an escape in two; the input is read no
         * further than the output could hold. */
        (void) text_escape(buf, sizeof(buf), reason, len < sizeof(buf) ? len : sizeof(buf), 0);
        return strdup(buf);
}

int guest_listeners_add(struct guest_listeners *ls, guest_listener_fn fn, void *userdata) {
        if (ls->n >= ELEMENTSOF(ls->l))
                return -E2BIG;
        ls->l[ls->n++] = (struct guest_listener) { fn, userdata };
        return 0;
}

static void notify(struct guest *g, enum guest_state from) {
        for (size_t i = 0; g->listeners && i < g->listeners->n; i++)
                g->listeners->l[i].fn(g, from, g->listeners->l[i].userdata);
}

void guest_changed(struct guest *g) {
        notify(g, g->state);
}

int guest_transition(struct guest *g, enum guest_state state, const char *reason) {
        enum guest_state from = g->state;
        char *copy = NULL;

        if (g->state != state && !guest_state_transition_allowed(g->state, state))
                return log_error_errno(-EINVAL, "Guest %s: refusing state change %s -> %s (a bug)", g->id,
                                       guest_state_to_string(g->state), guest_state_to_string(state));
        if (reason) {
                copy = guest_reason_clean(reason);
                if (!copy)
                        return -ENOMEM;
                free(g->state_reason);
                g->state_reason = copy;
                reason = copy;
        }
        if (g->state != state) {
                /* What an admin looks for has a MESSAGE_ID (journal.h). */
                enum log_level level = LOG_LEVEL_INFO;
                const char *id = NULL;
                if (state == GUEST_RUNNING && g->state == GUEST_STARTING)
                        id = JOURNAL_MESSAGE_STARTED;
                else if (state == GUEST_STOPPED)
                        id = JOURNAL_MESSAGE_STOPPED;
                else if (state == GUEST_CRASHED) {
                        level = LOG_LEVEL_ERROR;
                        id = g->state_reason && strncmp(g->state_reason, "sandbox violation", 17) == 0 ? JOURNAL_MESSAGE_SANDBOX_VIOLATION
                                                                                                    : JOURNAL_MESSAGE_CRASHED;
                }
                log_guest(level, id, g->id, g->owner, "Guest %s: %s -> %s%s%s", g->id, guest_state_to_string(g->state),
                          guest_state_to_string(state), reason && *reason ? ": " : "", reason ? reason : "");
        }
        g->state = state;
        notify(g, from);
        return 0;
}

struct json_object *guest_to_json(const struct guest *g) {
        struct json_object *o = json_object_new_object(), *config;

        if (!o)
                return NULL;
        config = json_tokener_parse(g->config_json);
        json_object_object_add(o, "name", json_object_new_string(g->name));
        json_object_object_add(o, "handle", json_object_new_string(g->handle));
        json_object_object_add(o, "owner", json_object_new_int64(g->owner));
        json_object_object_add(o, "files_uid", json_object_new_int64(g->files_uid));
        json_object_object_add(o, "config", config);
        json_object_object_add(o, "state", json_object_new_string(guest_state_to_string(g->state)));
        json_object_object_add(o, "state_reason", json_object_new_string(g->state_reason));
        json_object_object_add(o, "launcher_pid", json_object_new_int64(g->launcher_pid));
        json_object_object_add(o, "launcher_uid", json_object_new_int64(g->launcher_uid));
        json_object_object_add(o, "created_usec", json_object_new_int64((int64_t) g->created_usec));
        json_object_object_add(o, "snapshot_bytes", json_object_new_int64((int64_t) g->snapshot_bytes));
        json_object_object_add(o, "resuming", json_object_new_boolean(g->resuming));
        return o;
}

static int get_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EINVAL;
        errno = 0;
        *ret = json_object_get_int64(v);
        if (errno == ERANGE || *ret < min || *ret > max)
                return -EINVAL;
        return 0;
}

int guest_from_json(struct json_object *o, struct guest **ret, char **ret_error) {
        _cleanup_(guest_freep) struct guest *g = guest_alloc();
        struct json_object *name, *config, *state, *reason, *resuming, *handle;
        int64_t owner, pid, luid, created, snapshot_bytes = 0, files_uid = -1;
        enum guest_state s;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!g)
                return -ENOMEM;
        if (!json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "name", &name) || !json_object_is_type(name, json_type_string) ||
            !json_object_object_get_ex(o, "config", &config) || !json_object_is_type(config, json_type_object) ||
            !json_object_object_get_ex(o, "state", &state) || !json_object_is_type(state, json_type_string) ||
            !json_object_object_get_ex(o, "state_reason", &reason) || !json_object_is_type(reason, json_type_string) ||
            get_int(o, "owner", 0, UINT32_MAX - 1, &owner) < 0 || get_int(o, "launcher_pid", 0, INT32_MAX, &pid) < 0 ||
            get_int(o, "launcher_uid", 0, UINT32_MAX - 1, &luid) < 0 || get_int(o, "created_usec", 0, INT64_MAX, &created) < 0) {
                if (ret_error)
                        *ret_error = strdup("missing or mistyped field");
                return -EINVAL;
        }
        /* Records written before suspend existed have neither field;
         * before files_uid, the owner named the files (as far as guestd
         * knew, it opened them with the owner's rights). */
        if ((json_object_object_get_ex(o, "files_uid", NULL) && get_int(o, "files_uid", 0, UINT32_MAX - 1, &files_uid) < 0) ||
            (json_object_object_get_ex(o, "snapshot_bytes", NULL) && get_int(o, "snapshot_bytes", 0, INT64_MAX, &snapshot_bytes) < 0) ||
            (json_object_object_get_ex(o, "resuming", &resuming) && !json_object_is_type(resuming, json_type_boolean))) {
                if (ret_error)
                        *ret_error = strdup("mistyped files_uid, snapshot_bytes or resuming");
                return -EINVAL;
        }
        s = guest_state_from_string(json_object_get_string(state));
        if (s < 0) {
                if (ret_error)
                        *ret_error = strdup("unknown state");
                return -EINVAL;
        }
        if (!guest_name_is_valid(json_object_get_string(name))) {
                if (ret_error)
                        *ret_error = strdup("invalid name");
                return -EINVAL;
        }
        r = guest_init(g, json_object_get_string(name), (uid_t) owner, json_object_to_json_string(config), true, ret_error);
        if (r < 0)
                return r;
        free(g->state_reason);
        g->state_reason = guest_reason_clean(json_object_get_string(reason));
        if (!g->state_reason)
                return -ENOMEM;
        g->state = s;
        if (files_uid >= 0)
                g->files_uid = (uid_t) files_uid;
        g->launcher_pid = (pid_t) pid;
        g->launcher_uid = (uid_t) luid;
        g->created_usec = (uint64_t) created;
        g->snapshot_bytes = (uint64_t) snapshot_bytes;
        g->resuming = json_object_object_get_ex(o, "resuming", &resuming) && json_object_get_boolean(resuming);
        /* Records written before handles existed get one now (saved with
         * the next change of the record). */
        if (json_object_object_get_ex(o, "handle", &handle)) {
                if (!json_object_is_type(handle, json_type_string) || !handle_is_valid(json_object_get_string(handle))) {
                        if (ret_error)
                                *ret_error = strdup("invalid handle");
                        return -EINVAL;
                }
                g->handle = strdup(json_object_get_string(handle));
                if (!g->handle)
                        return -ENOMEM;
        } else {
                r = make_handle(&g->handle);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(g);
        return 0;
}

/* Writes the record so that a crash at any moment leaves the old or the
 * new file, whole: write a temporary file, fsync it, rename it over the
 * record, fsync the directory so the rename itself is durable. */
int guest_save(struct guest *g, int dir_fd) {
        _cleanup_free_ char *file = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct json_object *o;
        const char *text;
        int r;

        if (asprintf(&file, "%s.json", g->id) < 0 || asprintf(&tmp, ".%s.json.tmp", g->id) < 0)
                return -ENOMEM;
        o = guest_to_json(g);
        if (!o)
                return -ENOMEM;
        /* One line: its size follows from its fields' bounds, which a
         * pretty layout's indentation would not. */
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text) {
                r = -ENOMEM;
                goto fail;
        }
        if (strlen(text) + 1 > GUEST_RECORD_MAX) {
                /* Every field is bounded, so this is a bug; never write
                 * what the loader would refuse. */
                r = -EFBIG;
                goto fail;
        }
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        r = loop_write(fd, text, strlen(text));
        if (r >= 0)
                r = loop_write(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0)
                goto fail;
        if (renameat(dir_fd, tmp, dir_fd, file) < 0) {
                r = -errno;
                goto fail;
        }
        if (fsync(dir_fd) < 0)
                r = -errno;
        json_object_put(o);
        if (r < 0)
                return log_error_errno(r, "Failed to sync the guest directory after writing %s: %m", file);
        return 0;
fail:
        json_object_put(o);
        (void) unlinkat(dir_fd, tmp, 0);
        return log_error_errno(r, "Failed to write guest record %s: %m", file);
}

int guest_remove_file(struct guest *g, int dir_fd) {
        _cleanup_free_ char *file = NULL;

        if (asprintf(&file, "%s.json", g->id) < 0)
                return -ENOMEM;
        if (unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT)
                return log_error_errno(-errno, "Failed to remove guest record %s: %m", file);
        if (fsync(dir_fd) < 0)
                return -errno;
        return 0;
}

int guest_load(int dir_fd, const char *filename, struct guest **ret) {
        _cleanup_free_ char *error = NULL, *expected = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct json_object *o;
        struct guest *g = NULL;
        _cleanup_free_ char *buf = NULL;
        ssize_t n;
        int r;

        fd = openat(dir_fd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open guest record %s: %m", filename);
        /* One byte more than a record may have, to tell one too large. */
        buf = malloc(GUEST_RECORD_MAX + 2);
        if (!buf)
                return -ENOMEM;
        n = read_up_to(fd, buf, GUEST_RECORD_MAX + 1);
        if (n < 0)
                return log_error_errno((int) n, "Failed to read guest record %s: %m", filename);
        if ((size_t) n > GUEST_RECORD_MAX)
                return log_error_errno(-EFBIG, "Guest record %s is larger than any guestd writes (%d bytes), ignoring it", filename,
                                       GUEST_RECORD_MAX);
        buf[n] = 0;
        o = json_tokener_parse(buf);
        if (!o)
                return log_error_errno(-EINVAL, "Guest record %s is not valid JSON, ignoring it", filename);
        r = guest_from_json(o, &g, &error);
        json_object_put(o);
        if (r < 0)
                return log_error_errno(r, "Guest record %s is invalid (%s), ignoring it", filename, error ? error : "bad value");
        /* The file name is the id: a record renamed by hand must not claim
         * another user's guest. */
        if (asprintf(&expected, "%s.json", g->id) < 0) {
                guest_free(g);
                return -ENOMEM;
        }
        if (strcmp(expected, filename) != 0) {
                log_error("Guest record %s describes %s, ignoring it", filename, g->id);
                guest_free(g);
                return -EINVAL;
        }
        *ret = g;
        return 0;
}
