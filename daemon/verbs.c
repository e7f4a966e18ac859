/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs.c: see verbs.h. */
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "pending.h"
#include "protocol.h"
#include "quota.h"
#include "start.h"
#include "stop.h"
#include "suspend.h"
#include "verbs.h"

/* What the preamble found, for the act. */
struct verb_args {
        bool force;
        sd_bus_message *call;
        struct caller *owner; /* the guest's owner's account: charged for the request, whoever makes it */
};

static int pause_request(struct guest *g, bool pause, sd_bus_message *call, sd_bus_error *error) {
        int r;

        if (g->conn.control_fd < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The launcher of '%s' is not reachable.", g->name);
        r = protocol_send(g->conn.control_fd, pause ? PROTOCOL_PAUSE : PROTOCOL_UNPAUSE, NULL, NULL, 0);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot reach the launcher of '%s': %s.", g->name, strerror(-r));
        pending_add(g, call, pause ? GUEST_VERB_PAUSE : GUEST_VERB_UNPAUSE);
        return 0;
}

/* Start and Resume: one path (a resume is a start with the snapshot);
 * the files with the rights of whoever named them (files_uid). */
static int act_start_common(struct guest *g, bool resume, const struct verb_args *a, sd_bus_error *error) {
        _cleanup_(caller_done) struct caller files = {};
        int r;

        if (g->files_uid != g->owner) {
                files.uid = g->files_uid;
                r = caller_load_account(&files, error);
                if (r < 0)
                        return r;
        }
        return start_request(g->manager, g, g->files_uid != g->owner ? &files : a->owner, resume, a->call, error);
}

static int act_start(struct guest *g, const struct verb_args *a, sd_bus_error *error) {
        return act_start_common(g, false, a, error);
}

static int act_resume(struct guest *g, const struct verb_args *a, sd_bus_error *error) {
        return act_start_common(g, true, a, error);
}

static int act_stop(struct guest *g, const struct verb_args *a, sd_bus_error *error) {
        int r;

        if (g->state == GUEST_SUSPENDED) {
                if (!a->force)
                        return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE,
                                                 "Guest '%s' is suspended, not running; resume it, or stop it with force to discard its snapshot.",
                                                 g->name);
                r = suspend_discard(g, error);
                if (r >= 0 && a->call)
                        (void) sd_bus_reply_method_return(a->call, "s", g->state_reason ? g->state_reason : "");
                return r;
        }
        if (g->state == GUEST_SUSPENDING && !a->force)
                return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE,
                                         "Guest '%s' is being suspended; wait until it is suspended, or stop it with force (its snapshot is then lost).",
                                         g->name);
        if (g->start) {
                start_cancel(g, a->call);
                return 0;
        }
        return stop_request(g, a->force, a->call, error);
}

static int act_pause(struct guest *g, const struct verb_args *a, sd_bus_error *error) {
        return pause_request(g, true, a->call, error);
}

static int act_unpause(struct guest *g, const struct verb_args *a, sd_bus_error *error) {
        return pause_request(g, false, a->call, error);
}

static int act_suspend(struct guest *g, const struct verb_args *a, sd_bus_error *error) {
        return suspend_request(g, a->call, error);
}

enum verb_quota {
        VERB_QUOTA_NONE,
        VERB_QUOTA_START,   /* running guests, vCPUs, memory */
        VERB_QUOTA_SUSPEND, /* room for the largest snapshot the guest can make */
};

#define S(x) (1u << (x))
/* A guest's life, as the user sees it: for each request, the states it is
 * allowed in (the sentence that says what to do instead in the others;
 * "%s" is the guest's name), whether it waits for the launcher (and so
 * counts against PENDING_PER_USER), whether the host's shutdown refuses
 * it, what it is charged against, and what it does. The state changes
 * each act makes are checked against guest-state.h's table. */
static const struct verb {
        const char *name;
        unsigned allowed;
        bool waits;
        bool not_at_shutdown;
        enum verb_quota quota;
        int (*act)(struct guest *g, const struct verb_args *a, sd_bus_error *error); /* NULL: the bus method acts */
        const char *does; /* what act does, in a line, for the documentation */
        const char *refusal[_GUEST_STATE_MAX];
} verbs[_GUEST_VERB_MAX] = {
        [GUEST_VERB_START] = {
                .name = "Start",
                .does = "start.c: the files opened as who named them, the launcher, its scope, \"setup\"",
                .allowed = S(GUEST_DEFINED) | S(GUEST_STOPPED) | S(GUEST_CRASHED),
                .waits = true,
                .not_at_shutdown = true,
                .quota = VERB_QUOTA_START,
                .act = act_start,
                .refusal = {
                        [GUEST_STARTING] = "Guest '%s' is starting already.",
                        [GUEST_RUNNING] = "Guest '%s' is running already.",
                        [GUEST_PAUSED] = "Guest '%s' is running already (paused); unpause it.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping; wait until it has stopped, then start it again.",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended; resume it once it is suspended.",
                        [GUEST_SUSPENDED] = "Guest '%s' is suspended; resume it (or discard its snapshot with stop --force).",
                },
        },
        [GUEST_VERB_RESUME] = {
                .name = "Resume",
                .does = "start.c, with the snapshot in place of the kernel",
                .allowed = S(GUEST_SUSPENDED),
                .waits = true,
                .not_at_shutdown = true,
                .quota = VERB_QUOTA_START,
                .act = act_resume,
                .refusal = {
                        [GUEST_DEFINED] = "Guest '%s' is not suspended; start it.",
                        [GUEST_STARTING] = "Guest '%s' is starting already.",
                        [GUEST_RUNNING] = "Guest '%s' is running, not suspended.",
                        [GUEST_PAUSED] = "Guest '%s' is paused, not suspended; unpause it.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping, not suspended.",
                        [GUEST_STOPPED] = "Guest '%s' is stopped, not suspended; start it.",
                        [GUEST_CRASHED] = "Guest '%s' crashed, it is not suspended; start it.",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended; resume it once it is suspended.",
                },
        },
        /* suspending and suspended: only with force (act_stop). */
        [GUEST_VERB_STOP] = {
                .name = "Stop",
                .does = "stop.c: \"shutdown\", then \"stop\", then SIGKILL (force: SIGKILL); starting: start.c ends the Start; suspended (force only): suspend.c deletes the snapshot",
                .allowed = S(GUEST_STARTING) | S(GUEST_RUNNING) | S(GUEST_PAUSED) | S(GUEST_STOPPING) | S(GUEST_SUSPENDING) | S(GUEST_SUSPENDED),
                .waits = true,
                .not_at_shutdown = false,
                .quota = VERB_QUOTA_NONE,
                .act = act_stop,
                .refusal = {
                        [GUEST_DEFINED] = "Guest '%s' is not running; it has never been started.",
                        [GUEST_STOPPED] = "Guest '%s' is stopped already.",
                        [GUEST_CRASHED] = "Guest '%s' is not running; it crashed (see StateReason).",
                },
        },
        [GUEST_VERB_PAUSE] = {
                .name = "Pause",
                .does = "\"pause\" to the launcher",
                .allowed = S(GUEST_RUNNING),
                .waits = true,
                .not_at_shutdown = false,
                .quota = VERB_QUOTA_NONE,
                .act = act_pause,
                .refusal = {
                        [GUEST_DEFINED] = "Guest '%s' is defined but not running; start it first.",
                        [GUEST_STARTING] = "Guest '%s' is starting; wait until it runs, then pause it.",
                        [GUEST_PAUSED] = "Guest '%s' is paused already.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping; it cannot be paused.",
                        [GUEST_STOPPED] = "Guest '%s' is stopped; start it first.",
                        [GUEST_CRASHED] = "Guest '%s' crashed; start it first.",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended.",
                        [GUEST_SUSPENDED] = "Guest '%s' is suspended; resume it first.",
                },
        },
        [GUEST_VERB_UNPAUSE] = {
                .name = "Unpause",
                .does = "\"unpause\" to the launcher",
                .allowed = S(GUEST_PAUSED),
                .waits = true,
                .not_at_shutdown = false,
                .quota = VERB_QUOTA_NONE,
                .act = act_unpause,
                .refusal = {
                        [GUEST_DEFINED] = "Guest '%s' is defined but not running; start it first.",
                        [GUEST_STARTING] = "Guest '%s' is starting, not paused.",
                        [GUEST_RUNNING] = "Guest '%s' is running, not paused.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping, not paused.",
                        [GUEST_STOPPED] = "Guest '%s' is stopped; start it first.",
                        [GUEST_CRASHED] = "Guest '%s' crashed; start it first.",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended, not paused.",
                        [GUEST_SUSPENDED] = "Guest '%s' is suspended, not paused; resume it.",
                },
        },
        [GUEST_VERB_SUSPEND] = {
                .name = "Suspend",
                .does = "suspend.c: the handshake, the snapshot",
                .allowed = S(GUEST_RUNNING) | S(GUEST_PAUSED),
                .waits = true,
                .not_at_shutdown = false,
                .quota = VERB_QUOTA_SUSPEND,
                .act = act_suspend,
                .refusal = {
                        [GUEST_DEFINED] = "Guest '%s' is not running; there is nothing to suspend.",
                        [GUEST_STARTING] = "Guest '%s' is starting; wait until it runs, then suspend it.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping; it cannot be suspended.",
                        [GUEST_STOPPED] = "Guest '%s' is stopped; there is nothing to suspend.",
                        [GUEST_CRASHED] = "Guest '%s' crashed; there is nothing to suspend.",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended already.",
                        [GUEST_SUSPENDED] = "Guest '%s' is suspended already.",
                },
        },
        /* A suspended guest's snapshot goes with it (bus.c: RemoveGuest). */
        [GUEST_VERB_REMOVE] = {
                .name = "Remove",
                .does = "bus-manager.c: the record and any snapshot deleted",
                .allowed = S(GUEST_DEFINED) | S(GUEST_STOPPED) | S(GUEST_CRASHED) | S(GUEST_SUSPENDED),
                .waits = false,
                .not_at_shutdown = false,
                .quota = VERB_QUOTA_NONE,
                .act = NULL,
                .refusal = {
                        [GUEST_STARTING] = "Guest '%s' is starting; stop it first.",
                        [GUEST_RUNNING] = "Guest '%s' is running; stop it first.",
                        [GUEST_PAUSED] = "Guest '%s' is paused; stop it first.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping; wait until it has stopped.",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended; wait until it is suspended.",
                },
        },
        /* bus.c: OpenConsole. */
        [GUEST_VERB_CONSOLE] = {
                .name = "OpenConsole",
                .does = "bus-guest.c: a socket on the console ring",
                .allowed = S(GUEST_STARTING) | S(GUEST_RUNNING) | S(GUEST_PAUSED),
                .waits = false,
                .not_at_shutdown = false,
                .quota = VERB_QUOTA_NONE,
                .act = NULL,
                .refusal = {
                        [GUEST_DEFINED] = "Guest '%s' is not running; start it first.",
                        [GUEST_STOPPING] = "Guest '%s' is stopping; GetConsoleLog shows what it printed.",
                        [GUEST_STOPPED] = "Guest '%s' is stopped; start it first (GetConsoleLog shows what it printed last).",
                        [GUEST_CRASHED] = "Guest '%s' crashed; start it again (GetConsoleLog shows what it printed last).",
                        [GUEST_SUSPENDING] = "Guest '%s' is being suspended; GetConsoleLog shows what it printed.",
                        [GUEST_SUSPENDED] = "Guest '%s' is suspended; resume it first (GetConsoleLog shows what it printed last).",
                },
        },
};
#undef S

int verb_allowed(enum guest_verb verb, enum guest_state state, const char *name, char **ret_message) {
        const char *fmt;

        if (ret_message)
                *ret_message = NULL;
        if (verb < 0 || verb >= _GUEST_VERB_MAX || state < 0 || state >= _GUEST_STATE_MAX)
                return -EINVAL;
        if (verbs[verb].allowed & (1u << state))
                return 0;
        fmt = verbs[verb].refusal[state];
        if (ret_message && asprintf(ret_message, fmt ? fmt : "Guest '%s' is in a state that does not allow this.", name) < 0)
                *ret_message = NULL;
        return -EBUSY;
}

int verb_info(enum guest_verb verb, struct verb_info *ret) {
        static const char *const quota[] = {
                [VERB_QUOTA_NONE] = "-",
                [VERB_QUOTA_START] = "running, vCPUs, memory",
                [VERB_QUOTA_SUSPEND] = "snapshot storage",
        };

        if (verb < 0 || verb >= _GUEST_VERB_MAX)
                return -EINVAL;
        *ret = (struct verb_info) {
                .name = verbs[verb].name,
                .allowed = verbs[verb].allowed,
                .waits = verbs[verb].waits,
                .not_at_shutdown = verbs[verb].not_at_shutdown,
                .quota = quota[verbs[verb].quota],
                .does = verbs[verb].does,
        };
        return 0;
}

int verb_check(struct guest *g, enum guest_verb verb, sd_bus_error *error) {
        _cleanup_free_ char *message = NULL;

        if (verb_allowed(verb, g->state, g->name, &message) >= 0)
                return 0;
        return sd_bus_error_setf(error, GUESTD_ERROR_BAD_STATE, "%s", message ? message : "The guest's state does not allow this.");
}

/* The owner's quota, whoever asks (uid 0 included): checked and charged
 * in the same callback (the act's state change charges it), so no other
 * request can come in between. */
static int quota_check(struct guest *g, const struct verb *v, struct caller *owner, sd_bus_error *error) {
        _cleanup_free_ char *quota_message = NULL;
        struct policy_limits limits;
        struct quota_usage usage;
        int r;

        r = manager_owner_quota(g->manager, g, owner, &limits, &usage, error);
        if (r < 0 || v->quota == VERB_QUOTA_NONE)
                return r;
        if (v->quota == VERB_QUOTA_START)
                r = quota_check_start(&limits, &usage, g->name, g->config.vcpus, g->config.memory_mib, &quota_message);
        else
                r = quota_check_suspend(&limits, &usage, g->name, quota_snapshot_reserve_mib(g), &quota_message);
        if (r >= 0)
                return 0;
        log_guest(LOG_LEVEL_INFO, JOURNAL_MESSAGE_QUOTA_REFUSED, g->id, g->owner, "Guest %s: %s refused: %s", g->id, v->name,
                  quota_message ? quota_message : "quota exceeded");
        return sd_bus_error_setf(error, GUESTD_ERROR_QUOTA, "%s",
                                 quota_message ? quota_message
                                               : v->quota == VERB_QUOTA_START ? "Quota exceeded." : "Quota exceeded (max_snapshot_mib).");
}

int verb_request(struct guest *g, enum guest_verb verb, bool force, sd_bus_message *call, sd_bus_error *error) {
        struct manager *m = g->manager;
        _cleanup_(caller_done) struct caller owner = {};
        const struct verb *v;
        int r;

        if (verb < 0 || verb >= _GUEST_VERB_MAX || !verbs[verb].act)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Not a request guestd acts on (a bug).");
        v = &verbs[verb];
        r = verb_check(g, verb, error);
        if (r < 0)
                return r;
        if (v->waits && call) {
                r = pending_check(m, call, error);
                if (r < 0)
                        return r;
        }
        if (v->not_at_shutdown && m->shutting_down)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "The host is shutting down; %s '%s' after it has booted again.",
                                         verb == GUEST_VERB_RESUME ? "resume" : "start", g->name);
        if (v->quota != VERB_QUOTA_NONE) {
                r = quota_check(g, v, &owner, error);
                if (r < 0)
                        return r;
        }
        return v->act(g, &(struct verb_args) { .force = force, .call = call, .owner = &owner }, error);
}
