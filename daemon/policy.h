/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.h: the quota policy, a JSON file (policy/README.md) with limits
 * for everyone ("defaults"), for groups and for single users.
 *
 * A user's limits are resolved field by field: the user's own entry if it
 * sets the field, else the largest value any of the user's groups sets,
 * else the defaults (the file's, else the built-in ones). Parsing is strict
 * so that a typo in a limit is refused with the place it is at, instead of
 * silently giving someone the default.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest-limits.h"

enum policy_field {
        POLICY_MAX_GUESTS,
        POLICY_MAX_RUNNING,
        POLICY_MAX_VCPUS,
        POLICY_MAX_MEMORY_MIB,
        POLICY_MAX_SNAPSHOT_MIB,
        POLICY_PAGE_TABLE_WEIGHT,
        _POLICY_FIELD_MAX,
        _POLICY_FIELD_INVALID = -EINVAL,
};

const char *policy_field_to_string(enum policy_field f);
enum policy_field policy_field_from_string(const char *s);

struct policy_limits {
        uint64_t value[_POLICY_FIELD_MAX];
};

struct policy_entry {
        char *name;   /* user or group name; NULL if by number */
        bool by_id;   /* the key was a number: id is a uid (users) or gid (groups) */
        uint32_t id;
        uint64_t value[_POLICY_FIELD_MAX];
        uint32_t set; /* bit per enum policy_field */
};

/* What a host shutdown (logind's PrepareForShutdown) does to the guests
 * that run: suspend them (the default), or stop them in order. */
enum policy_host_shutdown {
        POLICY_HOST_SHUTDOWN_SUSPEND,
        POLICY_HOST_SHUTDOWN_STOP,
        _POLICY_HOST_SHUTDOWN_MAX,
};
const char *policy_host_shutdown_to_string(enum policy_host_shutdown h);

/* The host-wide budget of shadow page tables (budget.h): "page_table_budget"
 * is a number of MiB, or a string "N%" of the host's RAM. */
#define POLICY_PAGE_TABLE_BUDGET_DEFAULT_PERCENT 2

/* "timeouts": every wait guestd does on a user's behalf is bounded.
 * open_files: the files of a Start, opened as the caller (a file system
 * that does not answer); stop: a Stop waits this long for the guest to
 * shut down by itself, then pulls the plug. Seconds, 1 to 3600. */
#define POLICY_TIMEOUT_OPEN_FILES_DEFAULT_S 10
#define POLICY_TIMEOUT_STOP_DEFAULT_S 30
#define POLICY_TIMEOUT_MAX_S GUEST_TIMEOUT_MAX_S

struct policy {
        enum policy_host_shutdown host_shutdown;
        unsigned timeout_open_files_s, timeout_stop_s;
        uint64_t page_table_budget_mib;     /* 0: by percent */
        unsigned page_table_budget_percent; /* 1-100 when by percent */
        struct policy_entry defaults;
        struct policy_entry *users;
        size_t n_users;
        struct policy_entry *groups;
        size_t n_groups;
};

/* Who a policy is resolved for. Any name may be NULL (no passwd/group
 * entry); group_names[i] belongs to gids[i]. */
struct policy_identity {
        uid_t uid;
        const char *user_name;
        const gid_t *gids;
        const char *const *group_names;
        size_t n_groups;
};

/* The built-in policy (the same values as policy/policy.json). */
int policy_new_default(struct policy **ret);
/* Parses a policy. origin names it in error messages (a file name). On
 * failure returns -EINVAL with *ret_error saying where ("FILE:LINE:COL:
 * ..." or "FILE: users.alice.max_vcpus: ..."). */
int policy_parse(const char *text, size_t len, const char *origin, struct policy **ret, char **ret_error);
/* Reads and parses a file; -ENOENT if it does not exist (no message). */
int policy_load(const char *path, struct policy **ret, char **ret_error);
struct policy *policy_free(struct policy *p);
static inline void policy_freep(struct policy **p) {
        policy_free(*p);
}

void policy_resolve(const struct policy *p, const struct policy_identity *who, struct policy_limits *ret);
/* A budget as a string: "N" MiB (1 to 2^40) or "N%" (1 to 100); exactly
 * one of *ret_mib and *ret_percent is set, the other 0. -EINVAL else. */
int policy_parse_budget_spec(const char *s, uint64_t *ret_mib, unsigned *ret_percent);
/* The page-table budget in bytes, on a host with host_ram_bytes of RAM. */
uint64_t policy_page_table_budget_bytes(const struct policy *p, uint64_t host_ram_bytes);
