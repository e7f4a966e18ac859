/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h: the daemon's state: its bus and loop, the policy, every
 * guest, and each part's state (declared in the parts' -state.h headers,
 * so that this one needs none of their functions). Who may access a
 * guest is access.h's; start-up and the end are daemon.h's.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "caller.h"
#include "guest.h"
#include "bus-api.h"
#include "machined-state.h"
#include "pagetables-state.h"
#include "polkit-state.h"
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
        struct guest_listeners listeners; /* every guest's, guest.h */
        /* The one entry for requests of a guest (verbs.h, verb_request),
         * for those below it that make one: a launcher's power-off signal
         * (launcher-events.c). Set by main.c. */
        int (*request)(struct guest *g, enum guest_verb verb, bool force, sd_bus_message *call, sd_bus_error *error);
        /* Who hears of a new policy: the page-table budget (pagetables_setup). */
        void (*on_policy_changed)(struct manager *m);

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


/* An empty manager (daemon.h starts it up and frees it). */
int manager_new(struct manager **ret);
/* Re-reads the policy file; an invalid one is refused, the old stays.
 * Then on_policy_changed hears of it. */
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

