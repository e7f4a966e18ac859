/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manager.c: see manager.h. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <systemd/sd-login.h>

#include "console.h"
#include "log.h"
#include "manager.h"
#include "quota.h"

void manager_resolve_limits(struct manager *m, const struct caller *c, struct policy_limits *ret) {
        struct policy_identity who = {
                .uid = c->uid,
                .user_name = c->user_name,
                .gids = c->gids,
                .group_names = (const char *const *) c->group_names,
                .n_groups = c->n_gids,
        };

        policy_resolve(m->policy, &who, ret);
}

/* ------------------------------------------------------------ guests */

struct guest *manager_find_guest(struct manager *m, uid_t owner, const char *name) {
        for (size_t i = 0; i < m->n_guests; i++)
                if (m->guests[i]->owner == owner && strcmp(m->guests[i]->name, name) == 0)
                        return m->guests[i];
        return NULL;
}

struct guest *manager_find_guest_by_path(struct manager *m, const char *path) {
        for (size_t i = 0; i < m->n_guests; i++)
                if (strcmp(m->guests[i]->object_path, path) == 0)
                        return m->guests[i];
        return NULL;
}

int manager_add_guest(struct manager *m, struct guest *g) {
        struct guest **a;
        int r;

        if (!g->object_path && asprintf(&g->object_path, "%s/%s", GUESTD_GUEST_PREFIX, g->handle) < 0) {
                g->object_path = NULL;
                return -ENOMEM;
        }
        if (!g->console) {
                r = console_new(m->event, g->id, &g->console);
                if (r < 0)
                        return r;
        }
        a = realloc(m->guests, (m->n_guests + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        m->guests = a;
        m->guests[m->n_guests++] = g;
        g->manager = m;
        g->listeners = &m->listeners;
        return 0;
}

void manager_remove_guest(struct manager *m, struct guest *g) {
        for (size_t i = 0; i < m->n_guests; i++)
                if (m->guests[i] == g) {
                        memmove(m->guests + i, m->guests + i + 1, (m->n_guests - i - 1) * sizeof(*m->guests));
                        m->n_guests--;
                        break;
                }
}

int manager_owner_quota(struct manager *m, const struct guest *g, struct caller *owner, struct policy_limits *ret_limits,
                        struct quota_usage *ret_usage, sd_bus_error *error) {
        int r;

        *owner = (struct caller) { .uid = g->owner };
        r = caller_load_account(owner, error);
        if (r < 0)
                return r;
        manager_resolve_limits(m, owner, ret_limits);
        quota_usage_compute(m->guests, m->n_guests, g->owner, ret_usage);
        return 0;
}

/* ------------------------------------------------------------ policy */

int manager_reload_policy(struct manager *m, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct policy *p = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        r = policy_load(m->policy_path, &p, &error);
        if (r == -ENOENT) {
                if (!m->policy) {
                        log_info("Policy %s does not exist; using the built-in defaults", m->policy_path);
                        return policy_new_default(&m->policy);
                }
                return log_error_errno(r, "Policy %s does not exist any more; keeping the policy in force", m->policy_path);
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = error ? strdup(error) : strdup(strerror(-r));
                if (error)
                        log_error("Refusing the policy: %s%s", error, m->policy ? " The old policy stays in force." : "");
                else
                        log_error_errno(r, "Cannot read policy %s: %m%s", m->policy_path, m->policy ? "; keeping the old one" : "");
                if (!m->policy) {
                        /* At start there is no old policy: the built-in one
                         * is the safe choice, the daemon still serves. */
                        log_warning("Using the built-in default policy until %s is fixed (SIGHUP re-reads it)", m->policy_path);
                        return policy_new_default(&m->policy);
                }
                return r;
        }
        policy_free(m->policy);
        m->policy = p;
        log_info("Policy %s loaded", m->policy_path);
        if (m->on_policy_changed)
                m->on_policy_changed(m);
        return 0;
}

/* ------------------------------------------------------------ life cycle */

int manager_new(struct manager **ret) {
        struct manager *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->guests_dir_fd = m->snapshots_dir_fd = m->inhibit_fd = -EBADF;
        m->launcher_uid_first = GUESTD_LAUNCHER_UID_FIRST;
        m->launcher_uid_last = GUESTD_LAUNCHER_UID_LAST;
        *ret = m;
        return 0;
}






