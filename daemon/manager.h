/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h: the daemon's state: its bus and loop, the policy, every
 * guest, and who is calling.
 *
 * Access to a guest is decided in exactly one place, manager_may_access():
 * its owner and uid 0 may, and a bus name polkit has granted
 * org.guestd1.manage a moment ago (polkit.h), nobody else. A guest someone may not access does not exist for
 * them: lookups answer NoSuchGuest, listings leave it out, so guest names
 * do not leak between users.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "guest.h"
#include "bus-api.h"
#include "machined.h"
#include "pagetables.h"
#include "polkit.h"
#include "policy.h"
#include "version.h"

/* Launchers run as uids from this range, one per running guest. It must
 * belong to nobody: not to an account (checked at start-up), not to
 * systemd's DynamicUser range (61184-65519), not to the container ranges
 * systemd-nspawn and Debian's /etc/subuid hand out (524288-1879048191 and
 * 100000-600100000). systemd's uid map leaves 0x70000000 onwards unused. */
#define GUESTD_LAUNCHER_UID_FIRST UINT32_C(1879048192)
#define GUESTD_LAUNCHER_UID_LAST UINT32_C(1879049215)
#define GUESTD_LAUNCHER_UIDS_MAX 65536

struct bus_owner;

struct manager {
        sd_event *event;
        sd_bus *bus;

        char *bus_address; /* NULL: the system bus */
        char *state_dir;
        char *runtime_dir;
        char *launchers_dir; /* runtime_dir/launchers */
        char *sandbox_dir;   /* runtime_dir/sandbox: each launcher's empty root is mounted here, in its own namespace */
        char *policy_path;
        char *launcher_path;
        uid_t launcher_uid_first, launcher_uid_last;
        uint64_t launcher_uid_cursor; /* where pick_launcher_uid() looks next; starts at random */
        char *test_violation; /* --test-sandbox-violation, tests only */

        int guests_dir_fd;    /* state_dir/guests */
        int snapshots_dir_fd; /* state_dir/snapshots (snapshots.h) */
        struct policy *policy;
        struct guest **guests;
        size_t n_guests;

        /* The host's shutdown (logind.h): the delay inhibitor's fd (-EBADF
         * if none), the pending Inhibit call, and whether logind has
         * announced the shutdown. */
        int inhibit_fd;
        sd_bus_slot *inhibit_slot;
        bool shutting_down;
        struct bus_owner *logind; /* who owns org.freedesktop.login1 (bus-sender.h) */

        /* The page-table budget (pagetables.h) and guestd's own cgroups
         * for launchers (cgroup.h; NULL: none), used where systemd-machined
         * is not on the bus (machined.h). */
        struct pagetables_state pt;
        struct cgroups *cgroups;
        bool cgroups_tried; /* cgroups set up, or why not logged */
        /* guestd runs as a systemd service (started by systemd, in a
         * .service unit's cgroup): there a launcher must be a machine of
         * systemd-machined's (cgroup.h says why). */
        bool systemd_service;
        struct machined_state machined;

        /* Users' files being opened as them (open-as-caller.h); made
         * at the first Start. */
        struct opener_pool *openers;

        /* Who gets signals (signals.h). */
        struct subscriber **subscribers;
        size_t n_subscribers;

        /* Questions out to polkit, and the manage grants it gave
         * (polkit.h). */
        struct polkit_state polkit;

};

/* The account behind a bus caller. */
struct caller {
        uid_t uid;
        const char *sender; /* its unique bus name (not owned; NULL: not known) */
        /* Filled by caller_load_account(): */
        bool have_account;
        char *user_name; /* NULL: no passwd entry */
        gid_t gid;
        gid_t *gids; /* supplementary, the primary one included */
        char **group_names; /* group_names[i] for gids[i]; entries may be NULL */
        size_t n_gids;
};

int caller_from_message(sd_bus_message *m, struct caller *ret, sd_bus_error *error);
int caller_load_account(struct caller *c, sd_bus_error *error);
void caller_done(struct caller *c);

bool manager_may_access(const struct caller *c, const struct guest *g);

int manager_new(struct manager **ret);
struct manager *manager_free(struct manager *m);
static inline void manager_freep(struct manager **m) {
        manager_free(*m);
}

/* Creates directories, reads the policy, loads records, connects the bus
 * and exports the objects, finds running launchers again. */
int manager_startup(struct manager *m);
/* Re-reads the policy file; an invalid one is refused, the old stays. */
int manager_reload_policy(struct manager *m, char **ret_error);

struct guest *manager_find_guest(struct manager *m, uid_t owner, const char *name);
struct guest *manager_find_guest_by_path(struct manager *m, const char *path);
int manager_add_guest(struct manager *m, struct guest *g);
void manager_remove_guest(struct manager *m, struct guest *g);
void manager_resolve_limits(struct manager *m, const struct caller *c, struct policy_limits *ret);
/* g's owner's account (owner: caller_done() it), limits and usage: what a
 * request on g is charged against, whoever makes it (uid 0 included). */
struct quota_usage;
int manager_owner_quota(struct manager *m, const struct guest *g, struct caller *owner, struct policy_limits *ret_limits,
                        struct quota_usage *ret_usage, sd_bus_error *error);

/* Persists the record and tells the bus State/StateReason changed. */
void manager_guest_changed(struct manager *m, struct guest *g);

/* bus.c */
int bus_setup(struct manager *m);
int bus_reply_guest_error(sd_bus_message *call, int error, const char *message);
