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
                { .weight = 1, .ceiling = 1200, .share = 1000, .cap = 800 },   /* within */
        };
        uint64_t freed, grown, steps = 0;

        /* Pressure: the guest over its share comes down to it, the other
         * to three quarters of its cap. */
        freed = budget_cut(g, 2);
        CHECK_EQ(g[0].cap, 1000);
        CHECK_EQ(g[1].cap, 600);
        CHECK_EQ(freed, 3000 + 200);
        /* Pressure that goes on: three quarters each time. */
        freed = budget_cut(g, 2);
        CHECK_EQ(g[0].cap, 750);
        CHECK_EQ(g[1].cap, 450);
        CHECK_EQ(freed, 250 + 150);
        /* Down to the floor, never below. */
        for (int i = 0; i < 20; i++)
                (void) budget_cut(g, 2);
        CHECK(g[0].cap == 64 && g[1].cap == 64);
        CHECK_EQ(budget_cut(g, 2), 0);

        /* Calm: additive steps of an eighth of the share, up to the
         * ceiling (the share is what pressure leaves, not a limit). */
        grown = budget_grow(g, 2);
        CHECK_EQ(g[0].cap, 64 + 125);
        CHECK_EQ(grown, 2 * 125);
        while (budget_grow(g, 2) > 0)
                steps++;
        CHECK(g[0].cap == 10000 && g[1].cap == 1200);
        CHECK(steps >= 75 && steps <= 80);
        /* A cap above the ceiling comes down to it. */
        g[1].ceiling = 300;
        CHECK_EQ(budget_grow(g, 2), 0);
        CHECK_EQ(g[1].cap, 300);
        /* A share below the floor still steps by the floor. */
        struct budget_guest small = { .weight = 1, .ceiling = 1000, .share = 64, .cap = 64 };
        CHECK_EQ(budget_grow(&small, 1), 64);
        CHECK_EQ(small.cap, 128);
}

int main(void) {
        test_default();
        test_share();
        test_cut_and_grow();
        return TEST_RESULT();
}
