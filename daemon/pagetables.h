/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagetables.h: the host-wide budget of KVM's shadow page tables, applied
 * (issue 10; the arithmetic is budget.h).
 *
 * - Caps: every guest with a launcher gets a share of the budget by its
 *   owner's page_table_weight; guestd recomputes the shares whenever a
 *   guest starts, stops, suspends or resumes, when the policy is reloaded
 *   and when root sets the budget at run time (SetPageTableBudget). The
 *   launcher applies a cap ("mmu_pages", KVM_SET_NR_MMU_PAGES); its
 *   seccomp filter sends that ioctl here, and guestd lets it through only
 *   up to the cap it assigned (a taken-over launcher cannot raise its own).
 * - Pressure (pressure.h): caps are cut at once (budget_cut), at most once
 *   per pressure window; after PAGETABLES_CALM_USEC without pressure they
 *   grow back a step per window (budget_grow) up to the shares. Every
 *   change is logged with what the guest's page tables held before and
 *   after (its cgroup's sec_pagetables, cgroup.h).
 * - Where KVM does not use its shadow MMU (NPT/EPT with the TDP MMU) a cap
 *   frees nothing (kvm-mmu.h): guestd says so at start, on the bus and in
 *   guestctl, and does not react to pressure at all.
 * - Statistics: the VM's binary stats fd (handed over with the listener)
 *   gives mmu_recycled, sampled every window into a rate.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "kvm-mmu.h"
#include "pagetables-state.h"
#include "util.h"

struct manager;
struct guest;
struct protocol_message;


/* At start-up, after the policy: listens to the guests' changes, probes
 * KVM's MMU, sets up cgroups, starts watching pressure. Fails only for
 * want of memory; it logs what it lacks. */
int pagetables_setup(struct manager *m);
/* guestd's own cgroups for launchers (cgroup.h), set up at the first
 * call; NULL where they cannot be had (logged once, with why). */
struct cgroups *pagetables_own_cgroups(struct manager *m);
void pagetables_done(struct manager *m);

/* The budget in force, in bytes, and where it comes from (a sentence). */
uint64_t pagetables_budget_bytes(const struct manager *m);
/* Root's run-time budget: spec as in the policy ("64" MiB or "N%"), or ""
 * for the policy's again. -EINVAL with *ret_error. */
int pagetables_set_budget(struct manager *m, const char *spec, char **ret_error);
/* The policy changed: the budget and weights with it. */
void pagetables_policy_changed(struct manager *m);
/* g's state changed (a listener, guest.h; and for every guest once
 * guestd has found its launchers again): shares and caps follow. */
void pagetables_guest_changed(struct manager *m, struct guest *g);

/* The launcher's "supervise" (listener, VM stats fd) and "mmu_pages_set";
 * -EBADMSG for a message that breaks the protocol. */
int pagetables_on_supervise(struct guest *g, struct protocol_message *msg);
int pagetables_on_cap_set(struct guest *g, struct protocol_message *msg);
/* The launcher is gone: its listener, stats and cgroup with it. */
void pagetables_guest_detach(struct guest *g);

/* For the bus: host-wide SecPageTables, a guest's page tables (bytes, or
 * PAGETABLES_UNKNOWN). */
uint64_t pagetables_host_in_use(void);
uint64_t pagetables_guest_in_use(struct manager *m, const struct guest *g);
