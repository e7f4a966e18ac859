/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest.h: a guest's record and its state machine.
 *
 * The record (name, owner, configuration, state and why, launcher pid and
 * uid, creation time) is what survives the daemon: one JSON file per guest
 * under state-dir/guests/, replaced atomically on every change, so a
 * daemon killed at any moment finds either the old or the new record and
 * never a torn one. Quota usage is computed from these records (quota.c),
 * never kept in a counter beside them.
 *
 * State machine (DESIGN.md), as two tables: which state changes the daemon
 * may make (guest_state_transition_allowed), and which user request is
 * allowed in which state, with the sentence that says what to do instead
 * (guest_verb_check).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "kvm-stats.h"
#include "launcher-conn.h"
#include "launcher-log.h"

enum guest_state {
        GUEST_DEFINED,
        GUEST_STARTING,
        GUEST_RUNNING,
        GUEST_PAUSED,
        GUEST_STOPPING,
        GUEST_STOPPED,
        GUEST_CRASHED,
        GUEST_SUSPENDING, /* the launcher writes the snapshot */
        GUEST_SUSPENDED,  /* no launcher; the guest lives in its snapshot */
        _GUEST_STATE_MAX,
        _GUEST_STATE_INVALID = -EINVAL,
};

const char *guest_state_to_string(enum guest_state s);
enum guest_state guest_state_from_string(const char *s);
/* starting, running, paused, stopping, suspending: a launcher exists and
 * the guest is charged for running, vCPUs and memory. */
bool guest_state_is_active(enum guest_state s);
bool guest_state_transition_allowed(enum guest_state from, enum guest_state to);

/* What a user may ask of a guest. */
enum guest_verb {
        GUEST_VERB_START,
        GUEST_VERB_STOP,
        GUEST_VERB_PAUSE,
        GUEST_VERB_UNPAUSE,
        GUEST_VERB_REMOVE,
        GUEST_VERB_CONSOLE,
        GUEST_VERB_SUSPEND,
        GUEST_VERB_RESUME,
        _GUEST_VERB_MAX,
};

/* 0 if verb is allowed in state; otherwise -EBUSY and, if ret_message is
 * given, a sentence for the user ("Guest 'x' is stopped; start it first."). */
int guest_verb_check(enum guest_verb verb, enum guest_state state, const char *name, char **ret_message);

struct manager;
struct console;
struct opener;
struct machined_request;

/* A Start or Resume before its launcher has its "setup" (supervise.c):
 * first the guest's files being opened (open-as-caller.h); then the
 * launcher, forked and waiting while systemd-machined makes its scope
 * (machined.h), with every fd "setup" will hand it; and what to go back
 * to if it fails. Freeing it kills a launcher that got no "setup". */
struct start_job {
        struct guest *guest;
        struct opener *opener;
        int snapshot_fd; /* a resume's snapshot, opened by guestd itself */
        enum guest_state prev_state;
        char *prev_reason;

        struct machined_request *machined;
        pid_t pid; /* the launcher; 0: none yet */
        int pidfd;
        uid_t launcher_uid;
        int kvm_fd, listen_fd;
        int control_fd, console_fd, log_fd; /* guestd's ends */
        int launcher_console_fd;            /* the launcher's end, sent with "setup" */
        int file_fds[2 + GUEST_MAX_DISKS];  /* the kernel or the snapshot, the initrd, the disks */
        size_t n_files;
};
void start_job_free(struct start_job *job);

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
        uid_t uid; /* who is waiting: each user may have SUPERVISE_PENDING_PER_USER */
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
        /* Suspend and resume (snapshot files: supervise.h). snapshot_bytes:
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
        struct start_job *start; /* a Start whose launcher has no "setup" yet */
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

/* Sets state and reason (reason may be NULL: keeps "" ). Returns -EINVAL
 * for a change the table does not allow (a bug; logged). */
int guest_set_state(struct guest *g, enum guest_state state, const char *reason);

/* Persistence. dir_fd is state-dir/guests. */
int guest_save(struct guest *g, int dir_fd);
int guest_remove_file(struct guest *g, int dir_fd);
/* Loads one record; -EINVAL (logged with the file name) for a bad one. */
int guest_load(int dir_fd, const char *filename, struct guest **ret);
/* The record as JSON (for tests and guest_save); caller puts. */
struct json_object *guest_to_json(const struct guest *g);
int guest_from_json(struct json_object *o, struct guest **ret, char **ret_error);
