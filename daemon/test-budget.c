/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-budget.c: the page-table budget's arithmetic: shares follow the
 * weights, never go under KVM's floor or over KVM's own default, and hand
 * on what one guest cannot use; a pressure cut frees at once and hits
 * hardest those over their share; calm grows back step by step to the
 * share and not beyond. */
#include "budget.h"
#include "test.h"

static uint64_t total_share(const struct budget_guest *g, size_t n) {
        uint64_t t = 0;
        for (size_t i = 0; i < n; i++)
                t += g[i].share;
        return t;
}

static void test_default(void) {
        CHECK_EQ(budget_kvm_default_pages(8 * MiB), 64);             /* 2048 pages: 40, at least 64 */
        CHECK_EQ(budget_kvm_default_pages(16 * MiB), 81);            /* 4096 * 20 / 1000 */
        CHECK_EQ(budget_kvm_default_pages(1024 * MiB), 5242);        /* 262144 * 20 / 1000 */
}

static void test_share(void) {
        struct budget_guest g[3] = {
                { .weight = 1, .ceiling = 100000 },
                { .weight = 3, .ceiling = 100000 },
                { .weight = 0, .ceiling = 100000 },
        };

        /* 64 each first, the rest 1:3, the weight-0 guest the floor only. */
        budget_share(64 * 3 + 4000, g, 3);
        CHECK_EQ(g[0].share, 64 + 1000);
        CHECK_EQ(g[1].share, 64 + 3000);
        CHECK_EQ(g[2].share, 64);

        /* A ceiling hands its rest on. */
        g[0].ceiling = 200;
        budget_share(64 * 3 + 4000, g, 3);
        CHECK_EQ(g[0].share, 200);
        CHECK_EQ(g[1].share, 64 + 4000 - (200 - 64));
        CHECK(total_share(g, 3) <= 64 * 3 + 4000);

        /* Overcommitted: the floor for everyone. */
        budget_share(100, g, 3);
        CHECK(g[0].share == 64 && g[1].share == 64 && g[2].share == 64);

        /* Everyone at the ceiling: the rest of the budget stays unused. */
        for (int i = 0; i < 3; i++)
                g[i] = (struct budget_guest) { .weight = 1, .ceiling = 100 };
        budget_share(100000, g, 3);
        CHECK(g[0].share == 100 && g[1].share == 100 && g[2].share == 100);

        /* Nobody. */
        budget_share(1000, g, 0);
}

static void test_cut_and_grow(void) {
        struct budget_guest g[2] = {
                { .weight = 1, .ceiling = 10000, .share = 1000, .cap = 4000 }, /* over its share */
                { .weight = 1, .ceiling = 10000, .share = 1000, .cap = 800 },  /* within */
        };
        uint64_t freed, grown, steps = 0;

        freed = budget_cut(g, 2);
        CHECK_EQ(g[0].cap, 500);      /* half its share */
        CHECK_EQ(g[1].cap, 600);      /* three quarters of its cap */
        CHECK_EQ(freed, 3500 + 200);
        /* Repeated pressure goes down to the floor, never below. */
        for (int i = 0; i < 20; i++)
                (void) budget_cut(g, 2);
        CHECK(g[0].cap == 64 && g[1].cap == 64);
        CHECK_EQ(budget_cut(g, 2), 0);

        /* Calm: additive steps of an eighth of the share, up to it. */
        grown = budget_grow(g, 2);
        CHECK_EQ(g[0].cap, 64 + 125);
        CHECK_EQ(grown, 2 * 125);
        while (budget_grow(g, 2) > 0)
                steps++;
        CHECK(g[0].cap == 1000 && g[1].cap == 1000);
        CHECK(steps >= 6 && steps <= 8);
        /* A smaller share brings a cap down to it. */
        g[0].share = 300;
        (void) budget_grow(g, 2);
        CHECK_EQ(g[0].cap, 300);
}

int main(void) {
        test_default();
        test_share();
        test_cut_and_grow();
        return TEST_RESULT();
}
