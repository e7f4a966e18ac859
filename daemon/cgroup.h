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
 *
 * Where systemd-machined runs, a launcher is not in such a cgroup but in
 * the scope systemd made for its machine (machined.h), with the same
 * bounds. Either way guestd learns a launcher's cgroup from
 * /proc/PID/cgroup (cgroup_pid_get_path()), never by making up a path,
 * reads its memory.stat there (cgroup_page_tables()), and removes only the
 * cgroups it made itself (cgroups_guest_path_is_own()): systemd collects
 * an empty scope on its own.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroups;

/* Where guestd looks for the unified hierarchy. */
#define CGROUP_ROOT "/sys/fs/cgroup"

/* Sets up the layout. Never fails guestd: on any problem *ret is NULL and
 * *ret_why says why (caller frees). root: the cgroup2 mount
 * ("/sys/fs/cgroup", or a test's). guestd does so only when a launcher
 * needs it (pagetables_own_cgroups()): once C hands controllers down,
 * systemd can no longer start a process in C (no process may sit beside
 * cgroups with controllers), and a guestd run as a service could not be
 * started again while a guest runs (status 219/CGROUP). */
void cgroups_setup(const char *root, struct cgroups **ret, char **ret_why);
struct cgroups *cgroups_free(struct cgroups *c);
/* Whether a predecessor set the layout up: guestd is in C/guestd-daemon
 * already, or C/guestd-guests exists (launchers may be in it). */
bool cgroups_layout_exists(const char *root);
/* The directory of the guests' cgroups, for the log. */
const char *cgroups_base(const struct cgroups *c);

/* Whether the launchers' cgroups have the pids controller (pids.max). */
bool cgroups_have_pids(const struct cgroups *c);
/* Moves pid (a launcher just forked, before it has made its VM) into the
 * guest id's cgroup, creating it, with memory.max at memory_max bytes and
 * pids.max at pids_max tasks where the controller is there (0: none). */
int cgroups_guest_attach(struct cgroups *c, const char *id, pid_t pid, uint64_t memory_max, uint64_t pids_max);
/* Whether path (as /proc/PID/cgroup names it) is the cgroup
 * cgroups_guest_attach() makes for guest id: guestd's own to remove. */
bool cgroups_guest_path_is_own(const struct cgroups *c, const char *id, const char *path);
/* Removes the guest's cgroup once its launcher is gone (-EBUSY while a
 * process is left in it). */
int cgroups_guest_remove(struct cgroups *c, const char *id);

/* The cgroup v2 path of process pid (0: guestd itself) as its
 * /proc/PID/cgroup says, "/machine.slice/machine-x.scope", relative to the
 * hierarchy guestd sees at CGROUP_ROOT (caller frees). -ENOENT: no v2
 * line, or a cgroup outside guestd's cgroup namespace ("/.."). */
int cgroup_pid_get_path(pid_t pid, char **ret);
/* The same from the text of such a file. */
int cgroup_parse_proc(const char *text, char **ret);
/* sec_pagetables of the cgroup at path (as above) below the hierarchy at
 * root, in bytes; -ENOENT if the cgroup is gone, has no memory controller,
 * or the kernel does not count them (before Linux 6.0). */
int cgroup_page_tables(const char *root, const char *path, uint64_t *ret);

/* SecPageTables from a meminfo file (/proc/meminfo): the host's KVM page
 * tables, in bytes; -ENOENT where the kernel does not count them. */
int meminfo_sec_page_tables(const char *path, uint64_t *ret);
/* A "KEY VALUE" line's value from memory.stat text; -ENOENT if absent. */
int memory_stat_get(const char *text, const char *key, uint64_t *ret);
