/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest.h: a guest's record, and the one way it changes state.
 *
 * The record (name, owner, configuration, state and why, launcher pid and
 * uid, creation time) is what survives the daemon: one JSON file per guest
 * under state-dir/guests/, replaced atomically on every change, so a
 * daemon killed at any moment finds either the old or the new record and
 * never a torn one. Quota usage is computed from these records (quota.c),
 * never kept in a counter beside them.
 *
 * The states and what may move a guest between them are guest-state.h's
 * tables; the verbs a user asks for, verbs.h's.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "guest-state.h"
#include "kvm-stats.h"
#include "launcher-conn.h"
#include "launcher-log.h"

struct manager;
struct guest;

/* Who must hear of every change of a guest subscribes once, at start-up
 * (daemon.c): the record's save (first: what the bus announces must
 * survive a crash), the page-table budget, the bus's signals, logind's
 * shutdown inhibitor. None of them is called from the middle of a Start
 * or a Stop; from: the state before (the same one for guest_changed()). */
typedef void (*guest_listener_fn)(struct guest *g, enum guest_state from, void *userdata);
struct guest_listener {
        guest_listener_fn fn;
        void *userdata;
};
struct guest_listeners {
        struct guest_listener l[8];
        size_t n;
};
/* -E2BIG past the eight there is room for. */
int guest_listeners_add(struct guest_listeners *ls, guest_listener_fn fn, void *userdata);
struct console;
struct opener;
struct machined_request;

struct start_job;

/* A guest's part of the page-table budget (pagetables.h). */
struct guest_pagetables {
        bool in_budget;             /* has a launcher: counted in the shares */
        uint64_t weight, share, cap; /* pages; cap: what guestd assigns now */
        const char *why;            /* static: why cap last moved, for the log */
        uint64_t cap_applied;       /* what the launcher last set; 0: KVM's default */
        uint64_t cap_sent;          /* the "mmu_pages" awaiting its answer */
        bool sent, no_listener_logged;
        uint64_t bytes_before, host_before; /* measured when cap_sent went out */
        /* The launcher's seccomp listener, through which guestd lets
         * KVM_SET_NR_MMU_PAGES through up to cap, and its VM's statistics. */
        int listener_fd, stats_fd;
        sd_event_source *listener_source;
        struct kvm_stats stats;
        bool stats_ok;
        uint64_t recycled_prev, sampled; /* mmu_recycled at CLOCK_MONOTONIC sampled */
        double recycled_rate;            /* per second, over the last window */
};

/* A method call answered later, when the launcher has done what it asked
 * (Start is answered once the guest runs, Stop once the launcher ended). */
struct pending_call {
        struct pending_call *next;
        sd_bus_message *call;
        enum guest_verb verb;
        uid_t uid; /* who is waiting: each user may have PENDING_PER_USER (pending.h) */
};

/* A state's reason (what guestd says, or what a launcher sent it, or a
 * record from before these bounds) is kept escaped (util.h text_escape)
 * and cut at GUEST_STATE_REASON_MAX bytes: one line of text in the log,
 * valid UTF-8 on the bus. A record is written on one line, and never
 * larger than GUEST_RECORD_MAX, which is what the loader reads: a record
 * that could not be loaded again would free its owner's quota while its
 * launcher ran on. */
#define GUEST_STATE_REASON_MAX 1024
#define GUEST_RECORD_MAX (GUEST_CONFIG_MAX + 16 * 1024)

struct guest {
        struct manager *manager;
        const struct guest_listeners *listeners; /* NULL: none (tests) */

        /* The record (persisted). */
        char *name;
        uid_t owner;
        uid_t files_uid;   /* whose rights open its files: who named them (CreateGuest's caller), never more
                            * than that person's, whoever owns or starts the guest */
        char *id;          /* "<owner>_<name>": record, snapshot and log names, root's only */
        char *handle;      /* 32 random hex digits: the object path's last part and the cgroup's name,
                            * which everyone can see, so they say nothing of owner or name */
        char *config_json; /* canonical, see guest_config_to_json() */
        struct guest_config config;
        enum guest_state state;
        char *state_reason;
        pid_t launcher_pid; /* 0 if none */
        uid_t launcher_uid; /* meaningful while launcher_pid > 0 */
        uint64_t created_usec; /* CLOCK_REALTIME */
        /* Suspend and resume (snapshot files: snapshots.h). snapshot_bytes:
         * the space the committed snapshot takes on disk (its blocks), 0 if
         * the guest has none; resuming: the launcher now starting was
         * given the snapshot, which is kept until the guest runs. */
        uint64_t snapshot_bytes;
        bool resuming;

        /* Run time only. */
        char *object_path;
        struct console *console;
        struct launcher_conn conn; /* its launcher, while it has one (supervise.c owns it) */
        struct pending_call *pending; /* method calls answered when the launcher answers */
        struct start_job *start; /* a Start whose launcher has no "setup" yet (start.h) */
        pid_t start_pid;         /* its launcher, forked and waiting (uid: launcher_uid); 0: none */
        bool removed;            /* RemoveGuest ran; freed when unreferenced */
        struct guest_pagetables pt;
};

/* Makes a guest from a checked name and configuration (state "defined").
 * Takes nothing; copies. */
/* reason as a guest's state reason keeps it: escaped, cut (NULL without
 * memory). */
char *guest_reason_clean(const char *reason);
int guest_new(const char *name, uid_t owner, const struct guest_config *config, struct guest **ret);
struct guest *guest_free(struct guest *g);
static inline void guest_freep(struct guest **g) {
        if (*g)
                guest_free(*g);
}

/* The id "<uid>_<name>" (caller frees). */
char *guest_make_id(uid_t owner, const char *name);

/* The one way a guest changes state: to state, with reason (NULL keeps
 * the one it has), checked against guest-state.h's table (-EINVAL for a
 * change it does not allow: a bug, logged, nothing changed), logged, then
 * told to every listener in the order they subscribed. state may be the
 * guest's own: then only the reason changed. */
int guest_transition(struct guest *g, enum guest_state state, const char *reason);
/* The record changed, not the state (its launcher's pid, a snapshot's
 * size): the listeners hear of it as of a transition to the same state. */
void guest_changed(struct guest *g);

/* Persistence. dir_fd is state-dir/guests. */
int guest_save(struct guest *g, int dir_fd);
int guest_remove_file(struct guest *g, int dir_fd);
/* Loads one record; -EINVAL (logged with the file name) for a bad one. */
int guest_load(int dir_fd, const char *filename, struct guest **ret);
/* The record as JSON (for tests and guest_save); caller puts. */
struct json_object *guest_to_json(const struct guest *g);
int guest_from_json(struct json_object *o, struct guest **ret, char **ret_error);
