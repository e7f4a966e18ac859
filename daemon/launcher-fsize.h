/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-fsize.h: the bound on what a launcher writes into guestd's
 * snapshot directory.
 *
 * A launcher runs with RLIMIT_FSIZE at its spawn-time bound, the larger
 * of the snapshot reserve and its largest writable disk (spawn.c): the
 * limit is per process and its disks are files it writes. That bound
 * says nothing about the snapshot: with a 1 TiB sparse disk a 64 MiB
 * guest's launcher could write 1 TiB into the state directory. So while
 * it writes a snapshot, and only then, its soft limit is the snapshot
 * reserve its owner was charged (docs/design.md, "Quota"): the launcher
 * has parked every vCPU first, and only vCPU threads write the disks, so
 * no disk write sees the lowered limit (protocol.h, "suspend").
 *
 * Only the soft limit is lowered. The launcher cannot raise it again
 * (setrlimit and prlimit64 are not in its seccomp allowlist: a call
 * kills it, launcher/test-launcher-seccomp.c), and the hard limit keeps the
 * spawn-time bound for whichever guestd gives it back: one restarted
 * during a suspend knows nothing else of it.
 *
 * Before the limit goes back up after a failed write, nothing may hold
 * the snapshot file open for writing, or a taken-over launcher that kept
 * a copy would write past the reserve once it can:
 * launcher_fsize_check_released() asks the kernel, which counts every
 * open file description that may write a file.
 */
#pragma once

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"

/* The soft limit while a snapshot is written: the largest snapshot this
 * guest can make (snapshot_max_file_size(), what the suspend reserved). */
uint64_t launcher_fsize_snapshot(const struct guest_config *c);

/* Lowers the launcher's soft RLIMIT_FSIZE to limit (not above its hard
 * limit); gives it back (soft = hard). pidfd pins the pid: the calls fail
 * with -ESRCH where the launcher has ended. */
int launcher_fsize_lower(pid_t pid, int pidfd, uint64_t limit);
int launcher_fsize_restore(pid_t pid, int pidfd);
/* The launcher's soft and hard RLIMIT_FSIZE (for tests and logs). */
int launcher_fsize_get(pid_t pid, uint64_t *ret_soft, uint64_t *ret_hard);

/* Whether anything can still write the file open as file_fd (read-only,
 * guestd's own file, which only guestd and one launcher ever had): 0
 * nothing can, -EBUSY something holds it open for writing, another
 * -errno when the kernel cannot tell (a file system without leases). */
int launcher_fsize_check_released(int file_fd);
