/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* launcher-fsize.c: see launcher-fsize.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/resource.h>

#include "launcher-fsize.h"
#include "snapshot.h"
#include "util.h"

uint64_t launcher_fsize_snapshot(const struct guest_config *c) {
        return snapshot_max_file_size(c->memory_mib * MiB, c->vcpus);
}

/* prlimit(2) on the launcher's pid: its uid is not ours, which takes
 * CAP_SYS_RESOURCE (guestd.service keeps it). The pid was the launcher's
 * if the launcher still lives afterwards: a pid is reused only once its
 * process has ended and been reaped. */
static int launcher_prlimit(pid_t pid, int pidfd, const struct rlimit *new, struct rlimit *old) {
        if (prlimit(pid, RLIMIT_FSIZE, new, old) < 0)
                return -errno;
        if (pidfd >= 0 && pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return -errno;
        return 0;
}

int launcher_fsize_lower(pid_t pid, int pidfd, uint64_t limit) {
        struct rlimit l;
        int r;

        r = launcher_prlimit(pid, pidfd, NULL, &l);
        if (r < 0)
                return r;
        l.rlim_cur = MIN((rlim_t) limit, l.rlim_max);
        return launcher_prlimit(pid, pidfd, &l, NULL);
}

int launcher_fsize_restore(pid_t pid, int pidfd) {
        struct rlimit l;
        int r;

        r = launcher_prlimit(pid, pidfd, NULL, &l);
        if (r < 0)
                return r;
        l.rlim_cur = l.rlim_max;
        return launcher_prlimit(pid, pidfd, &l, NULL);
}

int launcher_fsize_get(pid_t pid, uint64_t *ret_soft, uint64_t *ret_hard) {
        struct rlimit l;

        if (prlimit(pid, RLIMIT_FSIZE, NULL, &l) < 0)
                return -errno;
        *ret_soft = l.rlim_cur;
        *ret_hard = l.rlim_max;
        return 0;
}

/* A read lease is granted only while no open file description of the
 * file anywhere may write it (the kernel's count of them, i_writecount):
 * every fd and dup of one in any process, one in flight in a socket's
 * queue, a mapping made through one. So nothing hides from it, and
 * nothing can appear after it: the launcher opens no file (no open or
 * openat in its seccomp allowlist) and the snapshot directory is root's.
 * The lease is given back at once; no one is waiting to break it.
 *
 * Not a scan of the launcher's /proc/PID/fd, which would do less:
 * following another uid's fd links takes CAP_SYS_PTRACE, which
 * guestd.service does not give guestd (the launcher is not dumpable
 * either); a launcher can move an fd between numbers while they are read
 * (dup3() onto stdout and stderr is in its allowlist); and it would see
 * nothing in flight. (Nothing could hide in a socket of the launcher's
 * own anyway: its allowlist has no socket() or socketpair(), so every
 * socket it holds leads to guestd, and an fd sent there is guestd's to
 * close.) A mapping the launcher made and kept after closing the fd is
 * harmless even where it escapes the count (overlayfs maps the file
 * beneath): a write through a mapping cannot make a file longer. */
int launcher_fsize_check_released(int file_fd) {
        if (fcntl(file_fd, F_SETLEASE, F_RDLCK) < 0)
                return errno == EAGAIN ? -EBUSY : -errno;
        (void) fcntl(file_fd, F_SETLEASE, F_UNLCK);
        return 0;
}
