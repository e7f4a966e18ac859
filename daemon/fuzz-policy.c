/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-policy.c: libFuzzer target for the quota policy parser. A policy it
 * accepts must resolve, for users and groups by name and by number, to
 * limits within the documented maxima; a refused one must come with a
 * message saying where it is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const gid_t gids[] = { 100, 1234, 0 };
        static const char *const group_names[] = { "users", NULL, "root" };
        struct policy *p = NULL;
        struct policy_limits limits;
        char *error = NULL;
        int r;

        r = policy_parse((const char *) data, size, "fuzz.json", &p, &error);
        if (r < 0) {
                FUZZ_ASSERT(p == NULL);
                FUZZ_ASSERT(r != -EINVAL || (error && strncmp(error, "fuzz.json", 9) == 0));
                free(error);
                return 0;
        }
        FUZZ_ASSERT(p);
        const struct policy_identity who[] = {
                { .uid = 1001, .user_name = "alice", .gids = gids, .group_names = group_names, .n_groups = 3 },
                { .uid = 1234, .user_name = NULL, .gids = gids + 1, .group_names = group_names + 1, .n_groups = 1 },
                { .uid = 0, .user_name = "root" },
        };
        for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
                policy_resolve(p, &who[i], &limits);
                FUZZ_ASSERT(limits.value[POLICY_MAX_MEMORY_MIB] <= (UINT64_C(1) << 40));
                FUZZ_ASSERT(limits.value[POLICY_PAGE_TABLE_WEIGHT] <= 1000);
        }
        policy_free(p);
        return 0;
}
