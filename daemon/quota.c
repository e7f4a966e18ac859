/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* quota.c: see quota.h. */
#include <stdio.h>

#include "quota.h"
#include "snapshot.h"
#include "util.h"

uint64_t quota_snapshot_reserve_mib(const struct guest *g) {
        uint64_t bytes = snapshot_max_file_size(g->config.memory_mib * MiB, g->config.vcpus);
        return (bytes + MiB - 1) / MiB;
}

void quota_usage_compute(struct guest *const *guests, size_t n_guests, uid_t owner, struct quota_usage *ret) {
        uint64_t snapshot_bytes = 0, reserved_mib = 0;

        *ret = (struct quota_usage) {};
        for (size_t i = 0; i < n_guests; i++) {
                const struct guest *g = guests[i];

                if (g->owner != owner)
                        continue;
                ret->guests++;
                /* A snapshot being written counts at the most it can take;
                 * a written one (suspended, or resuming until the guest
                 * runs) at what it takes. */
                if (g->state == GUEST_SUSPENDING)
                        reserved_mib += quota_snapshot_reserve_mib(g);
                else
                        snapshot_bytes += g->snapshot_bytes;
                if (!guest_state_is_active(g->state))
                        continue;
                ret->running++;
                ret->vcpus += g->config.vcpus;
                ret->memory_mib += g->config.memory_mib;
        }
        ret->snapshot_mib = reserved_mib + (snapshot_bytes + MiB - 1) / MiB;
}

int quota_check_suspend(const struct policy_limits *limits, const struct quota_usage *usage, const char *name, uint64_t need_mib,
                        char **ret_message) {
        uint64_t max = limits->value[POLICY_MAX_SNAPSHOT_MIB];

        if (ret_message)
                *ret_message = NULL;
        if (usage->snapshot_mib + need_mib <= max)
                return 0;
        if (ret_message && asprintf(ret_message,
                                    "Suspending '%s' needs room for a snapshot of up to %" PRIu64 " MiB (its memory and state); "
                                    "your snapshots use %" PRIu64 " of your %" PRIu64 " MiB (max_snapshot_mib). "
                                    "Resume or remove a suspended guest, or ask for a larger quota.",
                                    name, need_mib, usage->snapshot_mib, max) < 0)
                *ret_message = NULL;
        return -EDQUOT;
}


int quota_check_create(const struct policy_limits *limits, const struct quota_usage *usage, const char *name, char **ret_message) {
        uint64_t max = limits->value[POLICY_MAX_GUESTS];

        if (ret_message)
                *ret_message = NULL;
        if (usage->guests + 1 <= max)
                return 0;
        if (ret_message && asprintf(ret_message,
                                    "Creating '%s' needs 1 more guest; you have %" PRIu64 " of your %" PRIu64 " (max_guests). "
                                    "Remove a guest or ask for a larger quota.",
                                    name, usage->guests, max) < 0)
                *ret_message = NULL;
        return -EDQUOT;
}

/* One row per limit a start is charged against, checked in this order so
 * the message names the first limit that does not fit. */
static const struct {
        enum policy_field field;
        const char *unit; /* "%s" of the sentence */
} start_limits[] = {
        { POLICY_MAX_RUNNING, "running guest" },
        { POLICY_MAX_VCPUS, "vCPU" },
        { POLICY_MAX_MEMORY_MIB, "MiB of memory" },
};

int quota_check_start(const struct policy_limits *limits, const struct quota_usage *usage, const char *name, unsigned vcpus,
                      uint64_t memory_mib, char **ret_message) {
        const uint64_t used[] = { usage->running, usage->vcpus, usage->memory_mib };
        const uint64_t asked[] = { 1, vcpus, memory_mib };

        if (ret_message)
                *ret_message = NULL;
        for (size_t i = 0; i < ELEMENTSOF(start_limits); i++) {
                enum policy_field f = start_limits[i].field;
                uint64_t max = limits->value[f];
                const char *unit = start_limits[i].unit;
                bool plural = asked[i] != 1 && f != POLICY_MAX_MEMORY_MIB;

                /* used never exceeds max by construction, but a lowered
                 * policy can put a user over it: compare without
                 * subtracting. */
                if (used[i] + asked[i] <= max)
                        continue;
                if (ret_message && asprintf(ret_message,
                                            "Starting '%s' needs %" PRIu64 " %s%s; you use %" PRIu64 " of your %" PRIu64 " (%s). "
                                            "Stop a guest or ask for a larger quota.",
                                            name, asked[i], unit, plural ? "s" : "", used[i], max, policy_field_to_string(f)) < 0)
                        *ret_message = NULL;
                return -EDQUOT;
        }
        return 0;
}

/* The per-user maxima one guest alone must fit, in this order. */
static const struct {
        enum policy_field field;
        const char *unit;
} size_limits[] = {
        { POLICY_MAX_VCPUS, "vCPU" },
        { POLICY_MAX_MEMORY_MIB, "MiB of memory" },
};

int quota_check_guest_size(const struct policy_limits *limits, const char *name, unsigned vcpus, uint64_t memory_mib,
                           char **ret_message) {
        const uint64_t asked[] = { vcpus, memory_mib };

        if (ret_message)
                *ret_message = NULL;
        for (size_t i = 0; i < ELEMENTSOF(size_limits); i++) {
                enum policy_field f = size_limits[i].field;
                uint64_t max = limits->value[f];
                bool plural = asked[i] != 1 && f != POLICY_MAX_MEMORY_MIB;

                if (asked[i] <= max)
                        continue;
                if (ret_message && asprintf(ret_message,
                                            "'%s' would need %" PRIu64 " %s%s to run, more than your %" PRIu64 " (%s) for all your "
                                            "running guests together: it could never start. %s",
                                            name, asked[i], size_limits[i].unit, plural ? "s" : "", max, policy_field_to_string(f),
                                            max > 0 ? "Give it less, or ask for a larger quota." : "Ask for a larger quota.") < 0)
                        *ret_message = NULL;
                return -EDQUOT;
        }
        return 0;
}
