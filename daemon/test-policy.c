/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c: the quota policy's parser (strict, errors say where) and
 * its resolution (user over groups over defaults, field by field; the
 * largest of the groups). */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "test.h"

static struct policy *parse(const char *text, char **ret_error) {
        struct policy *p = NULL;
        int r = policy_parse(text, strlen(text), "test.json", &p, ret_error);

        return r < 0 ? NULL : p;
}

static void test_builtin(void) {
        struct policy *p = NULL;
        struct policy_limits l;
        struct policy_identity who = { .uid = 1000 };

        CHECK_EQ(policy_new_default(&p), 0);
        policy_resolve(p, &who, &l);
        CHECK_EQ(l.value[POLICY_MAX_GUESTS], 8);
        CHECK_EQ(l.value[POLICY_MAX_RUNNING], 2);
        CHECK_EQ(l.value[POLICY_MAX_VCPUS], 4);
        CHECK_EQ(l.value[POLICY_MAX_MEMORY_MIB], 2048);
        CHECK_EQ(l.value[POLICY_MAX_SNAPSHOT_MIB], 4096);
        CHECK_EQ(l.value[POLICY_PAGE_TABLE_WEIGHT], 1);
        policy_free(p);
}

/* The shipped policy/policy.json parses (the test runs from the source
 * root, as make check does). */
static void test_shipped(void) {
        struct policy *p = NULL;
        char *error = NULL;
        int r = policy_load("policy/policy.json", &p, &error);

        if (r == -ENOENT)
                return;
        CHECK_EQ(r, 0);
        if (error)
                fprintf(stderr, "%s\n", error);
        free(error);
        policy_free(p);
}

static void test_resolve(void) {
        static const char text[] =
                "{\n"
                "  \"_comment\": \"test\",\n"
                "  \"defaults\": { \"max_guests\": 3, \"max_vcpus\": 2 },\n"
                "  \"groups\": {\n"
                "    \"kvm-users\": { \"max_vcpus\": 8, \"max_running\": 4 },\n"
                "    \"big\": { \"max_vcpus\": 16 },\n"
                "    \"500\": { \"max_memory_mib\": 9000 }\n"
                "  },\n"
                "  \"users\": {\n"
                "    \"alice\": { \"max_vcpus\": 1, \"max_guests\": 50 },\n"
                "    \"1001\": { \"page_table_weight\": 7 }\n"
                "  }\n"
                "}\n";
        const gid_t gids[] = { 100, 200, 500 };
        const char *const names[] = { "users", "kvm-users", NULL };
        const char *const names_big[] = { "users", "kvm-users", "big" };
        struct policy_identity who;
        struct policy_limits l;
        char *error = NULL;
        struct policy *p = parse(text, &error);

        CHECK(p);
        if (!p) {
                fprintf(stderr, "%s\n", error);
                free(error);
                return;
        }

        /* Nobody special: file defaults, built-in for what they leave out. */
        who = (struct policy_identity) { .uid = 2000, .user_name = "bob" };
        policy_resolve(p, &who, &l);
        CHECK_EQ(l.value[POLICY_MAX_GUESTS], 3);
        CHECK_EQ(l.value[POLICY_MAX_VCPUS], 2);
        CHECK_EQ(l.value[POLICY_MAX_RUNNING], 2);
        CHECK_EQ(l.value[POLICY_MAX_MEMORY_MIB], 2048);

        /* Groups override defaults; by name and by number (gid 500). */
        who = (struct policy_identity) { .uid = 2000, .user_name = "bob", .gids = gids, .group_names = names, .n_groups = 3 };
        policy_resolve(p, &who, &l);
        CHECK_EQ(l.value[POLICY_MAX_VCPUS], 8);
        CHECK_EQ(l.value[POLICY_MAX_RUNNING], 4);
        CHECK_EQ(l.value[POLICY_MAX_MEMORY_MIB], 9000);
        CHECK_EQ(l.value[POLICY_MAX_GUESTS], 3);

        /* Several groups: the largest value. */
        who.group_names = names_big;
        policy_resolve(p, &who, &l);
        CHECK_EQ(l.value[POLICY_MAX_VCPUS], 16);

        /* The user's entry overrides the groups, field by field. */
        who.user_name = "alice";
        policy_resolve(p, &who, &l);
        CHECK_EQ(l.value[POLICY_MAX_VCPUS], 1);
        CHECK_EQ(l.value[POLICY_MAX_GUESTS], 50);
        CHECK_EQ(l.value[POLICY_MAX_RUNNING], 4);

        /* A user by uid. */
        who = (struct policy_identity) { .uid = 1001 };
        policy_resolve(p, &who, &l);
        CHECK_EQ(l.value[POLICY_PAGE_TABLE_WEIGHT], 7);
        CHECK_EQ(l.value[POLICY_MAX_GUESTS], 3);
        policy_free(p);
}

static const struct {
        const char *text;
        const char *mentions;
} bad[] = {
        { "{\n  \"defaults\": {\n    \"max_guests\": 1,,\n", "test.json:3:" },
        { "{ \"defaults\": { \"max_guests\": 1 } } x", "test.json:1:" },
        { "[]", "must be a JSON object" },
        { "{ \"default\": {} }", "default: unknown section" },
        { "{ \"defaults\": { \"max_guest\": 1 } }", "defaults.max_guest: unknown limit" },
        { "{ \"defaults\": { \"max_guests\": -1 } }", "defaults.max_guests: must be between" },
        { "{ \"defaults\": { \"max_guests\": \"4\" } }", "defaults.max_guests: must be a non-negative integer" },
        { "{ \"defaults\": { \"max_vcpus\": 1.5 } }", "defaults.max_vcpus: must be a non-negative integer" },
        { "{ \"users\": { \"alice\": { \"max_vcpus\": 1e3 } } }", "users.alice.max_vcpus" },
        { "{ \"users\": { \"alice\": 4 } }", "users.alice: must be an object" },
        { "{ \"groups\": [] }", "groups: must be an object" },
        { "{ \"defaults\": { \"page_table_weight\": 100000 } }", "page_table_weight: must be between 0 and 1000" },
        { "", "test.json:1:1: unexpected end" },
        { "{ \"host_shutdown\": \"kill\" }", "host_shutdown: must be \"suspend\" or \"stop\"" },
        { "{ \"host_shutdown\": 1 }", "host_shutdown: must be" },
        { "{ \"page_table_budget\": 0 }", "page_table_budget: must be MiB" },
        { "{ \"page_table_budget\": \"0%\" }", "page_table_budget: must be" },
        { "{ \"page_table_budget\": \"101%\" }", "page_table_budget: must be" },
        { "{ \"page_table_budget\": \"5 %\" }", "page_table_budget: must be" },
        { "{ \"page_table_budget\": \"-5%\" }", "page_table_budget: must be" },
        { "{ \"page_table_budget\": \"64\" }", "page_table_budget: must be" },
        { "{ \"page_table_budget\": 1.5 }", "page_table_budget: must be" },
};

static void test_bad(void) {
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *error = NULL;
                struct policy *p = parse(bad[i].text, &error);

                CHECK(!p);
                CHECK(error && strstr(error, bad[i].mentions));
                if (!error || !strstr(error, bad[i].mentions))
                        fprintf(stderr, "  case %zu: got %s\n", i, error ? error : "(none)");
                free(error);
                policy_free(p);
        }
}

/* What a host shutdown does: suspend unless the file says stop. */
static void test_host_shutdown(void) {
        struct policy *p = parse("{ \"defaults\": {} }", NULL);

        CHECK(p && p->host_shutdown == POLICY_HOST_SHUTDOWN_SUSPEND);
        policy_free(p);
        p = parse("{ \"host_shutdown\": \"stop\" }", NULL);
        CHECK(p && p->host_shutdown == POLICY_HOST_SHUTDOWN_STOP);
        policy_free(p);
        CHECK(strcmp(policy_host_shutdown_to_string(POLICY_HOST_SHUTDOWN_SUSPEND), "suspend") == 0);
}

/* The page-table budget: 2 % of RAM unless the file says MiB or N %. */
static void test_budget(void) {
        struct policy *p = parse("{}", NULL);

        CHECK(p && policy_page_table_budget_bytes(p, 100 * GiB) == 2 * GiB);
        policy_free(p);
        p = parse("{ \"page_table_budget\": 256 }", NULL);
        CHECK(p && policy_page_table_budget_bytes(p, 100 * GiB) == 256 * MiB);
        policy_free(p);
        p = parse("{ \"page_table_budget\": \"10%\" }", NULL);
        CHECK(p && policy_page_table_budget_bytes(p, 100 * GiB) == 10 * GiB);
        policy_free(p);
}

static void test_fields(void) {
        for (int f = 0; f < _POLICY_FIELD_MAX; f++)
                CHECK_EQ(policy_field_from_string(policy_field_to_string(f)), f);
        CHECK_EQ(policy_field_from_string("nope"), _POLICY_FIELD_INVALID);
}

/* The budget as root gives it at run time (SetPageTableBudget). */
static void test_budget_spec(void) {
        uint64_t mib = 99;
        unsigned percent = 99;

        CHECK_EQ(policy_parse_budget_spec("64", &mib, &percent), 0);
        CHECK(mib == 64 && percent == 0);
        CHECK_EQ(policy_parse_budget_spec("3%", &mib, &percent), 0);
        CHECK(mib == 0 && percent == 3);
        CHECK_EQ(policy_parse_budget_spec("100%", &mib, &percent), 0);
        CHECK_EQ(policy_parse_budget_spec("1099511627776", &mib, &percent), 0);
        static const char *const bad[] = { "", "0", "0%", "101%", "064", "5 %", " 5", "5%%", "-1", "1.5", "12MiB",
                                            "1099511627777", "99999999999999999999", "%" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CHECK_EQ(policy_parse_budget_spec(bad[i], &mib, &percent), -EINVAL);
}

int main(void) {
        test_budget_spec();
        test_builtin();
        test_shipped();
        test_resolve();
        test_bad();
        test_fields();
        test_host_shutdown();
        test_budget();
        return TEST_RESULT();
}
