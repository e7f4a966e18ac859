/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spawn.h: making a guest's launcher: its uid from the reserved range, its
 * sockets, its limits, and the sandboxed child that becomes it.
 *
 * spawn_launcher() clones a child in fresh PID, mount, IPC, UTS, network
 * and cgroup namespaces; the child, while it still has the privileges each
 * step needs, pivots into an empty read-only root, sets the rlimits from
 * the guest's size, drops every capability (bounding set included), takes
 * the launcher uid with no groups, sets no_new_privs and not-dumpable,
 * closes every fd but the ones it hands on, and executes the launcher from
 * an fd. A step that fails is reported over a pipe (which step, errno) and
 * the call fails with it. supervise.c owns what happens afterwards.
 */
#pragma once

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "guest.h"
#include "manager.h"

/* The launcher's address space limit: guest RAM, plus this for the
 * launcher itself (a static binary, its heap and the C library's thread
 * arenas), plus a stack and KVM's run area per vCPU. */
#define LAUNCHER_AS_MARGIN_MIB 256
#define LAUNCHER_AS_PER_VCPU_MIB 16
/* RLIMIT_NPROC: the vCPU threads plus this (main thread, and room for a
 * zombie or two of an earlier launcher under the same uid). */
#define LAUNCHER_NPROC_MARGIN 8

/* A uid from the reserved range that no running launcher has, taken
 * round-robin; -EUSERS when all are in use. */
int launcher_uid_pick(struct manager *m, uid_t *ret);
/* Logs, as errors, every live process under a launcher uid that no
 * loaded guest accounts for (a record guestd could not load); returns
 * how many. Their uids stay out of launcher_uid_pick()'s reach. */
unsigned launcher_uids_report_unaccounted(struct manager *m);

/* runtime-dir/launchers/<id>.sock: where a restarted guestd finds the
 * launcher again. */
int launchers_dir_open(struct manager *m);
int launcher_socket_address(struct manager *m, struct guest *g, int dir_fd, struct sockaddr_un *ret, socklen_t *ret_len);
int launcher_listen_socket(struct manager *m, struct guest *g);
void unlink_launcher_socket(struct manager *m, struct guest *g);

/* The launcher cgroup's memory.max, and its RLIMIT_FSIZE from its start
 * (at least its largest writable disk, its RAM and the snapshot reserve;
 * while it writes a snapshot its soft limit is the reserve alone:
 * launcher-fsize.h). */
uint64_t launcher_memory_max(const struct guest_config *c);
/* The launcher's tasks at most: its cgroup's pids.max and RLIMIT_NPROC. */
uint64_t launcher_tasks_max(const struct guest_config *c);
uint64_t launcher_file_size_limit(const struct guest_config *c, const int *disk_fds);

/* Clones the sandboxed launcher with control_fd as its fd 3 and log_fd as
 * its stdout and stderr. On success *ret_pid and *ret_pidfd; on failure
 * error says which step failed. */
int spawn_launcher(struct manager *m, struct guest *g, uid_t uid, uint64_t fsize, int control_fd, int log_fd, pid_t *ret_pid,
                   int *ret_pidfd, sd_bus_error *error);
/* Kills a launcher that got no "setup" (nothing of its guest ran) and
 * reaps it in the event loop once it has ended, never waiting for it.
 * Takes pidfd. */
void spawn_kill_unstarted(sd_event *event, int pidfd);
/* Where the launcher runs, read from /proc/PID/cgroup (cgroup.h): 1 and
 * its path in a cgroup of its own (guestd's, or its machine's scope); 0
 * still in guestd's own cgroup, where a move failed (that memory.stat is
 * guestd's, not the guest's); -errno if it cannot be read. */
int launcher_cgroup_find(pid_t pid, char **ret);
