/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.c: see policy.h and policy/README.md. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"
#include "util.h"

#define POLICY_FILE_MAX (1024 * 1024)

static const char *const policy_field_table[_POLICY_FIELD_MAX] = {
        [POLICY_MAX_GUESTS] = "max_guests",
        [POLICY_MAX_RUNNING] = "max_running",
        [POLICY_MAX_VCPUS] = "max_vcpus",
        [POLICY_MAX_MEMORY_MIB] = "max_memory_mib",
        [POLICY_MAX_SNAPSHOT_MIB] = "max_snapshot_mib",
        [POLICY_PAGE_TABLE_WEIGHT] = "page_table_weight",
};

/* The largest value a field may take: a limit beyond these is a typo, not
 * a policy (and keeps the quota arithmetic far from overflow). */
static const uint64_t policy_field_max[_POLICY_FIELD_MAX] = {
        [POLICY_MAX_GUESTS] = 100000,
        [POLICY_MAX_RUNNING] = 100000,
        [POLICY_MAX_VCPUS] = 1000000,
        [POLICY_MAX_MEMORY_MIB] = UINT64_C(1) << 40,
        [POLICY_MAX_SNAPSHOT_MIB] = UINT64_C(1) << 40,
        [POLICY_PAGE_TABLE_WEIGHT] = 1000,
};

static const uint64_t policy_builtin_defaults[_POLICY_FIELD_MAX] = {
        [POLICY_MAX_GUESTS] = 8,
        [POLICY_MAX_RUNNING] = 2,
        [POLICY_MAX_VCPUS] = 4,
        [POLICY_MAX_MEMORY_MIB] = 2048,
        [POLICY_MAX_SNAPSHOT_MIB] = 4096,
        [POLICY_PAGE_TABLE_WEIGHT] = 1,
};

const char *policy_field_to_string(enum policy_field f) {
        if (f < 0 || f >= _POLICY_FIELD_MAX)
                return NULL;
        return policy_field_table[f];
}

enum policy_field policy_field_from_string(const char *s) {
        for (size_t i = 0; s && i < _POLICY_FIELD_MAX; i++)
                if (strcmp(policy_field_table[i], s) == 0)
                        return (enum policy_field) i;
        return _POLICY_FIELD_INVALID;
}

static void policy_entry_done(struct policy_entry *e) {
        free(e->name);
        e->name = NULL;
}

struct policy *policy_free(struct policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_users; i++)
                policy_entry_done(&p->users[i]);
        for (size_t i = 0; i < p->n_groups; i++)
                policy_entry_done(&p->groups[i]);
        free(p->users);
        free(p->groups);
        free(p);
        return NULL;
}

const char *policy_host_shutdown_to_string(enum policy_host_shutdown h) {
        static const char *const table[_POLICY_HOST_SHUTDOWN_MAX] = {
                [POLICY_HOST_SHUTDOWN_SUSPEND] = "suspend",
                [POLICY_HOST_SHUTDOWN_STOP] = "stop",
        };
        return (unsigned) h < _POLICY_HOST_SHUTDOWN_MAX ? table[h] : NULL;
}

/* "page_table_budget": MiB (an integer, at least 1), or "N%" of the
 * host's RAM (N from 1 to 100). */
static int parse_budget(struct json_object *v, const char *origin, struct policy *p, char **ret_error) {
        if (json_object_is_type(v, json_type_int)) {
                int64_t mib;
                errno = 0;
                mib = json_object_get_int64(v);
                if (errno == 0 && mib >= 1 && mib <= (INT64_C(1) << 40)) {
                        p->page_table_budget_mib = (uint64_t) mib;
                        p->page_table_budget_percent = 0;
                        return 0;
                }
        } else if (json_object_is_type(v, json_type_string)) {
                uint64_t mib;
                unsigned percent;
                if (policy_parse_budget_spec(json_object_get_string(v), &mib, &percent) == 0 && percent > 0) {
                        p->page_table_budget_mib = 0;
                        p->page_table_budget_percent = percent;
                        return 0;
                }
        }
        return set_error_message(ret_error, "%s: page_table_budget: must be MiB (an integer from 1) or a string \"N%%\" of the host's RAM (N from 1 to 100).",
                                 origin);
}

int policy_parse_budget_spec(const char *s, uint64_t *ret_mib, unsigned *ret_percent) {
        uint64_t v = 0;
        size_t digits = 0;

        while (s[digits] >= '0' && s[digits] <= '9' && digits < 14)
                v = v * 10 + (uint64_t) (s[digits++] - '0');
        if (digits == 0 || s[0] == '0')
                return -EINVAL;
        if (s[digits] == '%' && s[digits + 1] == 0 && v <= 100) {
                *ret_mib = 0;
                *ret_percent = (unsigned) v;
                return 0;
        }
        if (s[digits] == 0 && v <= (UINT64_C(1) << 40)) {
                *ret_mib = v;
                *ret_percent = 0;
                return 0;
        }
        return -EINVAL;
}

uint64_t policy_page_table_budget_bytes(const struct policy *p, uint64_t host_ram_bytes) {
        if (p->page_table_budget_mib > 0)
                return p->page_table_budget_mib << 20;
        return host_ram_bytes / 100 * p->page_table_budget_percent;
}

int policy_new_default(struct policy **ret) {
        struct policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        memcpy(p->defaults.value, policy_builtin_defaults, sizeof(p->defaults.value));
        p->defaults.set = (1u << _POLICY_FIELD_MAX) - 1;
        p->page_table_budget_percent = POLICY_PAGE_TABLE_BUDGET_DEFAULT_PERCENT;
        p->timeout_open_files_s = POLICY_TIMEOUT_OPEN_FILES_DEFAULT_S;
        p->timeout_stop_s = POLICY_TIMEOUT_STOP_DEFAULT_S;
        *ret = p;
        return 0;
}


/* Keys starting with '_' are comments ("_comment"), everywhere. */
static bool key_is_comment(const char *key) {
        return key[0] == '_';
}

/* "timeouts": {"open_files": S, "stop": S}, each optional. */
static int parse_timeouts(struct json_object *v, const char *origin, struct policy *p, char **ret_error) {
        if (!json_object_is_type(v, json_type_object))
                return set_error_message(ret_error, "%s: timeouts: must be an object of seconds (open_files, stop).", origin);
        json_object_object_foreach(v, key, value) {
                unsigned *field;
                int64_t s;

                if (key_is_comment(key))
                        continue;
                if (strcmp(key, "open_files") == 0)
                        field = &p->timeout_open_files_s;
                else if (strcmp(key, "stop") == 0)
                        field = &p->timeout_stop_s;
                else
                        return set_error_message(ret_error, "%s: timeouts: %s: unknown (known: open_files, stop).", origin, key);
                errno = 0;
                s = json_object_is_type(value, json_type_int) ? json_object_get_int64(value) : 0;
                if (errno != 0 || s < 1 || s > POLICY_TIMEOUT_MAX_S)
                        return set_error_message(ret_error, "%s: timeouts: %s: must be seconds, an integer from 1 to %d.", origin, key,
                                                 POLICY_TIMEOUT_MAX_S);
                *field = (unsigned) s;
        }
        return 0;
}


static int parse_entry(struct json_object *o, const char *origin, const char *where, struct policy_entry *e, char **ret_error) {
        if (!json_object_is_type(o, json_type_object))
                return set_error_message(ret_error, "%s: %s: must be an object of limits.", origin, where);
        json_object_object_foreach(o, key, value) {
                enum policy_field f;
                int64_t i;

                if (key_is_comment(key))
                        continue;
                f = policy_field_from_string(key);
                if (f < 0)
                        return set_error_message(ret_error,
                                            "%s: %s.%s: unknown limit (known: max_guests, max_running, max_vcpus, max_memory_mib, max_snapshot_mib, page_table_weight).",
                                            origin, where, key);
                if (!json_object_is_type(value, json_type_int))
                        return set_error_message(ret_error, "%s: %s.%s: must be a non-negative integer, got %s.", origin, where, key,
                                            json_object_to_json_string(value));
                errno = 0;
                i = json_object_get_int64(value);
                if (errno == ERANGE || i < 0 || (uint64_t) i > policy_field_max[f])
                        return set_error_message(ret_error, "%s: %s.%s: must be between 0 and %" PRIu64 ", got %s.", origin, where, key,
                                            policy_field_max[f], json_object_to_json_string(value));
                e->value[f] = (uint64_t) i;
                e->set |= 1u << f;
        }
        return 0;
}

/* A key that is all digits is a numeric uid/gid; anything else a name. */
static bool key_to_id(const char *key, uint32_t *ret) {
        uint64_t u;

        if (!*key || strspn(key, "0123456789") != strlen(key))
                return false;
        if (safe_atou64(key, &u) < 0 || u >= UINT32_MAX)
                return false;
        *ret = (uint32_t) u;
        return true;
}

static int parse_map(struct json_object *o, const char *origin, const char *section, struct policy_entry **ret, size_t *ret_n,
                     char **ret_error) {
        struct policy_entry *entries;
        size_t n = 0;
        char where[300];
        int r;

        if (!json_object_is_type(o, json_type_object))
                return set_error_message(ret_error, "%s: %s: must be an object mapping names to limits.", origin, section);
        entries = calloc(json_object_object_length(o) + 1, sizeof(*entries));
        if (!entries)
                return -ENOMEM;
        json_object_object_foreach(o, key, value) {
                struct policy_entry *e;

                if (key_is_comment(key))
                        continue;
                e = &entries[n++];
                snprintf(where, sizeof(where), "%s.%.200s", section, key);
                if (!key_to_id(key, &e->id)) {
                        e->name = strdup(key);
                        if (!e->name) {
                                r = -ENOMEM;
                                goto fail;
                        }
                } else
                        e->by_id = true;
                r = parse_entry(value, origin, where, e, ret_error);
                if (r < 0)
                        goto fail;
        }
        *ret = entries;
        *ret_n = n;
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                policy_entry_done(&entries[i]);
        free(entries);
        return r;
}

/* Turns a byte offset into "LINE:COLUMN", both from 1, for the log line. */
static void offset_to_line_column(const char *text, size_t offset, unsigned *ret_line, unsigned *ret_column) {
        unsigned line = 1, column = 1;

        for (size_t i = 0; i < offset && text[i]; i++) {
                if (text[i] == '\n') {
                        line++;
                        column = 1;
                } else
                        column++;
        }
        *ret_line = line;
        *ret_column = column;
}

int policy_parse(const char *text, size_t len, const char *origin, struct policy **ret, char **ret_error) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        struct json_tokener *tok;
        struct json_object *root;
        unsigned line, column;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (len > POLICY_FILE_MAX)
                return set_error_message(ret_error, "%s: larger than %d bytes.", origin, POLICY_FILE_MAX);
        if (memchr(text, 0, len))
                return set_error_message(ret_error, "%s: contains a NUL byte.", origin);
        r = policy_new_default(&p);
        if (r < 0)
                return r;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, text, (int) len);
        if (!root) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                offset_to_line_column(text, json_tokener_get_parse_end(tok), &line, &column);
                r = set_error_message(ret_error, "%s:%u:%u: %s.", origin, line, column,
                                 e == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(e));
                json_tokener_free(tok);
                return r;
        }
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!strchr(" \t\r\n", text[i])) {
                        offset_to_line_column(text, i, &line, &column);
                        r = set_error_message(ret_error, "%s:%u:%u: trailing data after the policy object.", origin, line, column);
                        goto finish;
                }
        if (!json_object_is_type(root, json_type_object)) {
                r = set_error_message(ret_error, "%s: the policy must be a JSON object.", origin);
                goto finish;
        }
        r = 0;
        json_object_object_foreach(root, key, value) {
                if (key_is_comment(key))
                        continue;
                if (strcmp(key, "defaults") == 0)
                        r = parse_entry(value, origin, "defaults", &p->defaults, ret_error);
                else if (strcmp(key, "users") == 0)
                        r = parse_map(value, origin, "users", &p->users, &p->n_users, ret_error);
                else if (strcmp(key, "groups") == 0)
                        r = parse_map(value, origin, "groups", &p->groups, &p->n_groups, ret_error);
                else if (strcmp(key, "host_shutdown") == 0) {
                        const char *v = json_object_is_type(value, json_type_string) ? json_object_get_string(value) : "";
                        if (strcmp(v, "suspend") == 0)
                                p->host_shutdown = POLICY_HOST_SHUTDOWN_SUSPEND;
                        else if (strcmp(v, "stop") == 0)
                                p->host_shutdown = POLICY_HOST_SHUTDOWN_STOP;
                        else
                                r = set_error_message(ret_error, "%s: host_shutdown: must be \"suspend\" or \"stop\".", origin);
                } else if (strcmp(key, "page_table_budget") == 0)
                        r = parse_budget(value, origin, p, ret_error);
                else if (strcmp(key, "timeouts") == 0)
                        r = parse_timeouts(value, origin, p, ret_error);
                else
                        r = set_error_message(ret_error,
                                              "%s: %s: unknown section (known: defaults, groups, host_shutdown, page_table_budget, timeouts, users).",
                                              origin, key);
                if (r < 0)
                        goto finish;
        }
        /* Fields the file's defaults leave out keep the built-in values. */
        p->defaults.set = (1u << _POLICY_FIELD_MAX) - 1;
        *ret = TAKE_PTR(p);
finish:
        json_object_put(root);
        json_tokener_free(tok);
        return r;
}

int policy_load(const char *path, struct policy **ret, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        ssize_t len;

        if (ret_error)
                *ret_error = NULL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return set_error_message(ret_error, "%s: not a regular file.", path);
        if (st.st_size > POLICY_FILE_MAX)
                return set_error_message(ret_error, "%s: larger than %d bytes.", path, POLICY_FILE_MAX);
        text = malloc(POLICY_FILE_MAX + 1);
        if (!text)
                return -ENOMEM;
        /* One byte more than allowed: a file that grew since fstat shows. */
        len = read_up_to(fd, text, POLICY_FILE_MAX + 1);
        if (len < 0)
                return (int) len;
        if (len > POLICY_FILE_MAX)
                return set_error_message(ret_error, "%s: larger than %d bytes.", path, POLICY_FILE_MAX);
        return policy_parse(text, (size_t) len, path, ret, ret_error);
}

static bool entry_matches_group(const struct policy_entry *e, gid_t gid, const char *name) {
        if (e->by_id)
                return e->id == gid;
        return name && strcmp(e->name, name) == 0;
}

void policy_resolve(const struct policy *p, const struct policy_identity *who, struct policy_limits *ret) {
        const struct policy_entry *user = NULL;

        for (size_t i = 0; i < p->n_users; i++) {
                const struct policy_entry *e = &p->users[i];
                if (e->by_id ? e->id == who->uid : (who->user_name && strcmp(e->name, who->user_name) == 0)) {
                        /* A numeric entry is the more specific one: it wins
                         * over a name entry for the same user. */
                        if (!user || e->by_id)
                                user = e;
                }
        }

        for (size_t f = 0; f < _POLICY_FIELD_MAX; f++) {
                bool from_group = false;
                uint64_t v = 0;

                if (user && (user->set & (1u << f))) {
                        ret->value[f] = user->value[f];
                        continue;
                }
                /* Groups grant: a user in several groups gets the most
                 * generous of their values. */
                for (size_t g = 0; g < p->n_groups; g++) {
                        const struct policy_entry *e = &p->groups[g];
                        if (!(e->set & (1u << f)))
                                continue;
                        for (size_t k = 0; k < who->n_groups; k++)
                                if (entry_matches_group(e, who->gids[k], who->group_names ? who->group_names[k] : NULL)) {
                                        if (!from_group || e->value[f] > v)
                                                v = e->value[f];
                                        from_group = true;
                                        break;
                                }
                }
                ret->value[f] = from_group ? v : p->defaults.value[f];
        }
}
