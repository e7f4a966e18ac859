/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* budget.c: see budget.h. */
#include <stdbool.h>
#include <stdlib.h>

#include "budget.h"
#include "util.h"

uint64_t budget_kvm_default_pages(uint64_t memory_bytes) {
        return MAX(BUDGET_FLOOR_PAGES, memory_bytes / BUDGET_PAGE_SIZE * 20 / 1000);
}

/* Water-filling: everyone starts at the floor; the rest is poured by
 * weight into the guests below their ceilings; a guest that would pass its
 * ceiling is filled to it and leaves the pouring; repeat until nothing is
 * left or nobody can take more. */
void budget_share(uint64_t budget_pages, struct budget_guest *g, size_t n) {
        uint64_t left;
        bool changed = true;

        for (size_t i = 0; i < n; i++)
                g[i].share = MIN(BUDGET_FLOOR_PAGES, MAX(g[i].ceiling, BUDGET_FLOOR_PAGES));
        if (n == 0 || budget_pages <= n * BUDGET_FLOOR_PAGES)
                return;
        left = budget_pages - n * BUDGET_FLOOR_PAGES;
        while (left > 0 && changed) {
                uint64_t weights = 0, poured = 0;

                changed = false;
                for (size_t i = 0; i < n; i++)
                        if (g[i].share < g[i].ceiling)
                                weights += g[i].weight;
                if (weights == 0)
                        break;
                /* First those the pour would overfill: they take what they
                 * can hold, and the round starts again without them. */
                for (size_t i = 0; i < n; i++) {
                        uint64_t want;
                        if (g[i].share >= g[i].ceiling || g[i].weight == 0)
                                continue;
                        want = (uint64_t) ((unsigned __int128) left * g[i].weight / weights);
                        if (g[i].share + want >= g[i].ceiling) {
                                poured += g[i].ceiling - g[i].share;
                                g[i].share = g[i].ceiling;
                                changed = true;
                        }
                }
                if (changed) {
                        left -= poured;
                        continue;
                }
                /* Nobody overfills: pour it all. */
                for (size_t i = 0; i < n; i++) {
                        uint64_t want;
                        if (g[i].share >= g[i].ceiling || g[i].weight == 0)
                                continue;
                        want = (uint64_t) ((unsigned __int128) left * g[i].weight / weights);
                        g[i].share += want;
                        poured += want;
                }
                left -= poured;
        }
}

uint64_t budget_cut(struct budget_guest *g, size_t n) {
        uint64_t freed = 0;

        for (size_t i = 0; i < n; i++) {
                uint64_t to = g[i].cap > g[i].share ? g[i].share : g[i].cap / 4 * 3;
                to = MAX(to, BUDGET_FLOOR_PAGES);
                if (to < g[i].cap) {
                        freed += g[i].cap - to;
                        g[i].cap = to;
                }
        }
        return freed;
}

uint64_t budget_grow(struct budget_guest *g, size_t n) {
        uint64_t grown = 0;

        for (size_t i = 0; i < n; i++) {
                uint64_t step = MAX(g[i].share / 8, BUDGET_FLOOR_PAGES), to;
                if (g[i].cap >= g[i].ceiling) {
                        g[i].cap = MAX(g[i].ceiling, BUDGET_FLOOR_PAGES);
                        continue;
                }
                to = MIN(g[i].cap + step, g[i].ceiling);
                grown += to - g[i].cap;
                g[i].cap = to;
        }
        return grown;
}
