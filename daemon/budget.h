/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * budget.h: the host-wide budget of shadow page tables (issue 10), the
 * arithmetic only: how the budget is shared among the running guests,
 * and how their caps move under memory pressure and back after it. No I/O
 * here, so every rule is unit-tested (test-budget.c); guestd applies the
 * caps through the launchers (KVM_SET_NR_MMU_PAGES).
 *
 * The budget is what the guests are entitled to when memory runs short,
 * as memory.low is for a cgroup: while the host has memory to spare a
 * guest's cap is its ceiling, KVM's own default for its RAM (a larger cap
 * would change nothing), and only pressure brings the caps down.
 *
 * - Shares: the budget, in 4 KiB pages, split by the owners' weights
 *   (policy page_table_weight), every guest at least KVM's minimum of 64
 *   pages and at most its ceiling; what a guest cannot use goes to the
 *   others.
 * - Pressure: caps are cut at once, multiplicatively, hardest for the
 *   guests over their share: those come down to their share, the others
 *   to three quarters of their cap, never below the floor. Pressure that
 *   goes on cuts again, one step per window.
 * - Calm: caps grow back additively, an eighth of the share (at least the
 *   floor) per step, up to the ceiling.
 * The caller rate-limits both (one step per pressure window).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BUDGET_FLOOR_PAGES UINT64_C(64) /* KVM refuses less (EINVAL) */
#define BUDGET_PAGE_SIZE UINT64_C(4096)

struct budget_guest {
        uint64_t weight;  /* in: its owner's page_table_weight */
        uint64_t ceiling; /* in: KVM's default cap for its RAM (budget_kvm_default_pages()) */
        uint64_t share;   /* out of budget_share() */
        uint64_t cap;     /* the cap in force, which budget_cut() and budget_grow() move */
};

/* KVM's own cap for a VM with memory_bytes of RAM: 20 pages per 1000 pages
 * of RAM (KVM_PERMILLE_MMU_PAGES), at least 64. */
uint64_t budget_kvm_default_pages(uint64_t memory_bytes);
/* Sets every share from budget_pages. When the floors alone exceed the
 * budget, every guest gets the floor (the budget is overcommitted). */
void budget_share(uint64_t budget_pages, struct budget_guest *g, size_t n);
/* Pressure: cuts every cap; returns the pages the caps went down by. */
uint64_t budget_cut(struct budget_guest *g, size_t n);
/* Calm: grows every cap toward its ceiling; returns the pages they went
 * up by (0: all at their ceilings). */
uint64_t budget_grow(struct budget_guest *g, size_t n);
