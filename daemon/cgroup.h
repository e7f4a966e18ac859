/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup.h: one cgroup v2 per launcher, where the unified hierarchy is
 * mounted at /sys/fs/cgroup. Its memory.stat says exactly how much host
 * memory the guest's shadow page tables hold (sec_pagetables: KVM charges
 * them to the cgroup of the vCPU thread that builds them), which the
 * page-table budget reports and logs (pagetables.h).
 *
 * Layout, under the cgroup C guestd was started in:
 *   C/guestd-daemon/      guestd itself, when C is not the root cgroup
 *                         (cgroup v2 lets only leaves hold processes once
 *                         C hands controllers down: systemd's Delegate=
 *                         pattern)
 *   C/guestd-guests/ID/   each running guest's launcher
 * A guestd restarted finds itself in C/guestd-daemon and the guests'
 * cgroups where they were. Where cgroup v2 is not there (a host with only
 * v1, a container), or C cannot be written, guestd runs without: a
 * guest's page tables are then "unknown", never guessed.
 *
 * The cgroup also bounds what the launcher may hold of the host's memory
 * (memory.max): the guest's RAM, the launcher's own, and KVM's structures
 * for the VM, its page tables included, all charged here; and its tasks
 * (pids.max: its vCPU threads and a few more, as RLIMIT_NPROC), where the
 * pids controller can be had.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroups;

/* Sets up the layout. Never fails guestd: on any problem *ret is NULL and
 * *ret_why says why (caller frees). root: the cgroup2 mount
 * ("/sys/fs/cgroup", or a test's). */
void cgroups_setup(const char *root, struct cgroups **ret, char **ret_why);
struct cgroups *cgroups_free(struct cgroups *c);
/* The directory of the guests' cgroups, for the log. */
const char *cgroups_base(const struct cgroups *c);

/* Whether the launchers' cgroups have the pids controller (pids.max). */
bool cgroups_have_pids(const struct cgroups *c);
/* Moves pid (a launcher just forked, before it has made its VM) into the
 * guest id's cgroup, creating it, with memory.max at memory_max bytes and
 * pids.max at pids_max tasks where the controller is there (0: none). */
int cgroups_guest_attach(struct cgroups *c, const char *id, pid_t pid, uint64_t memory_max, uint64_t pids_max);
/* The guest's sec_pagetables in bytes; -ENOENT if it has no cgroup, or
 * the kernel does not count them (before Linux 6.0). */
int cgroups_guest_page_tables(struct cgroups *c, const char *id, uint64_t *ret);
/* Removes the guest's cgroup once its launcher is gone (-EBUSY while a
 * process is left in it). */
int cgroups_guest_remove(struct cgroups *c, const char *id);

/* SecPageTables from a meminfo file (/proc/meminfo): the host's KVM page
 * tables, in bytes; -ENOENT where the kernel does not count them. */
int meminfo_sec_page_tables(const char *path, uint64_t *ret);
/* A "KEY VALUE" line's value from memory.stat text; -ENOENT if absent. */
int memory_stat_get(const char *text, const char *key, uint64_t *ret);
