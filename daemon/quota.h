/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * quota.h: a user's usage, and the checks made before creating and
 * starting a guest.
 *
 * Usage is computed from the guest records every time it is needed: no
 * counter exists that could drift from the records after a crash, a
 * restart or a bug in some error path. The daemon is single-threaded, so a
 * check and the state change that charges the guest (defined -> starting,
 * in the same callback) cannot be separated by another request.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest.h"
#include "policy.h"

struct quota_usage {
        uint64_t guests;     /* records, any state */
        uint64_t running;    /* starting, running, paused, stopping, suspending */
        uint64_t vcpus;      /* of the running ones */
        uint64_t memory_mib; /* of the running ones */
        uint64_t snapshot_mib; /* the blocks snapshots take, and the most a suspend under way can write */
};

void quota_usage_compute(struct guest *const *guests, size_t n_guests, uid_t owner, struct quota_usage *ret);

/* 0 if one more guest may be defined; else -EDQUOT with a sentence naming
 * the limit, the usage and the request. */
int quota_check_create(const struct policy_limits *limits, const struct quota_usage *usage, const char *name, char **ret_message);
/* The snapshot storage a suspend of g reserves: the largest snapshot its
 * memory and vCPUs can make (snapshot.h), in MiB rounded up. A suspend is
 * checked against it before anything is written; the launcher cannot
 * write more (its RLIMIT_FSIZE while it writes: launcher-fsize.h). */
uint64_t quota_snapshot_reserve_mib(const struct guest *g);
/* 0 if a snapshot of need_mib fits the snapshot storage limit. */
int quota_check_suspend(const struct policy_limits *limits, const struct quota_usage *usage, const char *name, uint64_t need_mib,
                        char **ret_message);
/* 0 if a guest of vcpus and memory_mib could start at all, with nothing
 * else of its owner's running: else -EDQUOT with a sentence naming the
 * limit and the value (CreateGuest refuses a guest that never could).
 * What depends on the moment, the guests that run, is
 * quota_check_start()'s. */
int quota_check_guest_size(const struct policy_limits *limits, const char *name, unsigned vcpus, uint64_t memory_mib,
                           char **ret_message);
/* 0 if a guest with vcpus and memory_mib may start. */
int quota_check_start(const struct policy_limits *limits, const struct quota_usage *usage, const char *name, unsigned vcpus,
                      uint64_t memory_mib, char **ret_message);
