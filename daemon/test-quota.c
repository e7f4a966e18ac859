/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-quota.c: usage is computed from the guest records (only active
 * guests are charged for running, vCPUs and memory), and the checks say
 * which limit, how much is used and what was asked. */
#include <string.h>

#include "quota.h"
#include "test.h"

static struct guest *make(const char *name, uid_t owner, unsigned vcpus, uint64_t memory_mib, enum guest_state state) {
        struct guest_config c = {};
        struct guest *g = NULL;
        char json[256];

        snprintf(json, sizeof(json), "{\"kernel\": \"/k\", \"memory_mib\": %" PRIu64 ", \"vcpus\": %u}", memory_mib, vcpus);
        if (guest_config_parse(json, &c, NULL) < 0 || guest_new(name, owner, &c, &g) < 0)
                abort();
        guest_config_done(&c);
        g->state = state;
        return g;
}

static void test_usage(void) {
        struct guest *g[] = {
                make("a", 1000, 2, 512, GUEST_RUNNING),
                make("b", 1000, 1, 256, GUEST_PAUSED),
                make("c", 1000, 4, 1024, GUEST_STOPPED),
                make("d", 1000, 1, 64, GUEST_STARTING),
                make("e", 1000, 1, 64, GUEST_STOPPING),
                make("f", 1000, 8, 8192, GUEST_CRASHED),
                make("g", 1000, 8, 8192, GUEST_DEFINED),
                make("a", 2000, 3, 300, GUEST_RUNNING), /* another user's */
        };
        struct quota_usage u;

        quota_usage_compute(g, ELEMENTSOF(g), 1000, &u);
        CHECK_EQ(u.guests, 7);
        CHECK_EQ(u.running, 4);
        CHECK_EQ(u.vcpus, 2 + 1 + 1 + 1);
        CHECK_EQ(u.memory_mib, 512 + 256 + 64 + 64);

        quota_usage_compute(g, ELEMENTSOF(g), 2000, &u);
        CHECK_EQ(u.guests, 1);
        CHECK_EQ(u.running, 1);
        CHECK_EQ(u.vcpus, 3);

        quota_usage_compute(g, ELEMENTSOF(g), 3000, &u);
        CHECK_EQ(u.guests, 0);
        CHECK_EQ(u.running, 0);

        for (size_t i = 0; i < ELEMENTSOF(g); i++)
                guest_free(g[i]);
}

/* Snapshot storage: a suspend under way at the most it can write, a
 * written snapshot at its blocks, in MiB rounded up over the sum. */
static void test_snapshot_usage(void) {
        struct guest *g[] = {
                make("s", 1000, 1, 64, GUEST_SUSPENDED),
                make("t", 1000, 2, 128, GUEST_SUSPENDING),
                make("r", 1000, 1, 32, GUEST_STARTING), /* resuming */
                make("u", 1000, 1, 16, GUEST_RUNNING),
        };
        struct policy_limits l = {};
        struct quota_usage u;
        char *msg = NULL;
        uint64_t reserve_t;

        g[0]->snapshot_bytes = 3 * MiB + 4096;
        g[2]->snapshot_bytes = MiB - 4096;
        g[2]->resuming = true;
        reserve_t = quota_snapshot_reserve_mib(g[1]);
        CHECK(reserve_t > 128 && reserve_t < 130); /* 128 MiB of RAM, header and state */
        quota_usage_compute(g, ELEMENTSOF(g), 1000, &u);
        CHECK_EQ(u.snapshot_mib, 4 + reserve_t);
        /* Suspended: no running, vCPU or memory charge; suspending: still. */
        CHECK_EQ(u.running, 3);
        CHECK_EQ(u.vcpus, 2 + 1 + 1);
        CHECK_EQ(u.memory_mib, 128 + 32 + 16);

        l.value[POLICY_MAX_SNAPSHOT_MIB] = u.snapshot_mib + quota_snapshot_reserve_mib(g[3]);
        CHECK_EQ(quota_check_suspend(&l, &u, "u", quota_snapshot_reserve_mib(g[3]), &msg), 0);
        CHECK(!msg);
        l.value[POLICY_MAX_SNAPSHOT_MIB]--;
        CHECK_EQ(quota_check_suspend(&l, &u, "u", quota_snapshot_reserve_mib(g[3]), &msg), -EDQUOT);
        CHECK(msg && strstr(msg, "Suspending 'u' needs room for a snapshot of up to 17 MiB") && strstr(msg, "(max_snapshot_mib)"));
        free(msg);

        for (size_t i = 0; i < ELEMENTSOF(g); i++)
                guest_free(g[i]);
}

static void test_checks(void) {
        struct policy_limits l = {};
        struct quota_usage u = {};
        char *msg = NULL;

        l.value[POLICY_MAX_GUESTS] = 2;
        l.value[POLICY_MAX_RUNNING] = 2;
        l.value[POLICY_MAX_VCPUS] = 4;
        l.value[POLICY_MAX_MEMORY_MIB] = 1024;

        u.guests = 1;
        CHECK_EQ(quota_check_create(&l, &u, "x", &msg), 0);
        CHECK(!msg);
        u.guests = 2;
        CHECK_EQ(quota_check_create(&l, &u, "x", &msg), -EDQUOT);
        CHECK(msg && strstr(msg, "Creating 'x'") && strstr(msg, "2 of your 2 (max_guests)"));
        free(msg);

        /* Exactly at the limit is fine. */
        u = (struct quota_usage) { .running = 1, .vcpus = 3, .memory_mib = 512 };
        CHECK_EQ(quota_check_start(&l, &u, "web", 1, 512, &msg), 0);
        CHECK(!msg);

        CHECK_EQ(quota_check_start(&l, &u, "web", 2, 16, &msg), -EDQUOT);
        CHECK(msg && strcmp(msg, "Starting 'web' needs 2 vCPUs; you use 3 of your 4 (max_vcpus). "
                                 "Stop a guest or ask for a larger quota.") == 0);
        free(msg);

        CHECK_EQ(quota_check_start(&l, &u, "web", 1, 513, &msg), -EDQUOT);
        CHECK(msg && strstr(msg, "needs 513 MiB of memory; you use 512 of your 1024 (max_memory_mib)"));
        free(msg);

        u.running = 2;
        CHECK_EQ(quota_check_start(&l, &u, "web", 1, 16, &msg), -EDQUOT);
        CHECK(msg && strstr(msg, "needs 1 running guest; you use 2 of your 2 (max_running)"));
        free(msg);

        /* A policy lowered below the usage: refused, no arithmetic wrap. */
        l.value[POLICY_MAX_VCPUS] = 0;
        u = (struct quota_usage) { .vcpus = 3 };
        CHECK_EQ(quota_check_start(&l, &u, "web", 1, 16, &msg), -EDQUOT);
        free(msg);
}

/* Starting one guest after another inside the limits never goes beyond
 * them: the usage after each successful check stays within every limit. */
static void test_sequence(void) {
        struct policy_limits l = {};
        struct guest *g[10];
        size_t started = 0;

        l.value[POLICY_MAX_RUNNING] = 5;
        l.value[POLICY_MAX_VCPUS] = 7;
        l.value[POLICY_MAX_MEMORY_MIB] = 1000;
        for (size_t i = 0; i < ELEMENTSOF(g); i++) {
                char name[8];
                snprintf(name, sizeof(name), "g%zu", i);
                g[i] = make(name, 1000, 1 + i % 3, 100 + 50 * (i % 4), GUEST_DEFINED);
        }
        for (size_t i = 0; i < ELEMENTSOF(g); i++) {
                struct quota_usage u;
                quota_usage_compute(g, ELEMENTSOF(g), 1000, &u);
                if (quota_check_start(&l, &u, g[i]->name, g[i]->config.vcpus, g[i]->config.memory_mib, NULL) == 0) {
                        g[i]->state = GUEST_STARTING;
                        started++;
                }
                quota_usage_compute(g, ELEMENTSOF(g), 1000, &u);
                CHECK(u.running <= 5 && u.vcpus <= 7 && u.memory_mib <= 1000);
        }
        CHECK(started > 0);
        for (size_t i = 0; i < ELEMENTSOF(g); i++)
                guest_free(g[i]);
}

int main(void) {
        test_usage();
        test_snapshot_usage();
        test_checks();
        test_sequence();
        return TEST_RESULT();
}
