/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-launcher-fsize.c: the snapshot is bounded by its reserve whatever
 * the guest's disks look like (issue 20). A child stands in for the
 * launcher, with the RLIMIT_FSIZE guestd starts a launcher with: a 1 TiB
 * sparse writable disk makes that 1 TiB, and at that limit it can write
 * far past the reserve (what a taken-over launcher could do on Suspend
 * before). Lowered as for a snapshot, it writes up to the reserve and not
 * a byte further; given back, it writes its disk anywhere again. And the
 * check before the limit goes back up sees every way to keep the
 * snapshot writable: an fd, a dup of one, a mapping made through one. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "launcher-fsize.h"
#include "snapshot.h"
#include "spawn.h"
#include "test.h"

#define TiB (UINT64_C(1) << 40)

enum { FILE_SNAPSHOT, FILE_DISK, FILE_DUP, N_FILES };

/* What the parent asks the child to do, and its answer (0 or -errno). */
struct command {
        char op;    /* 'w' write a byte at offset, 'c' close, 'd' dup the snapshot, 'm' map, 'u' unmap, 'q' quit */
        int which;  /* FILE_* */
        uint64_t offset;
};

static void child_loop(int sock, int fds[N_FILES], uint64_t fsize) {
        struct rlimit l = { fsize, fsize };
        struct command c;
        void *map = NULL;

        /* As the launcher starts: its limit from guestd, and a write past
         * it an error (EFBIG), not death by SIGXFSZ. */
        if (setrlimit(RLIMIT_FSIZE, &l) < 0)
                _exit(2);
        signal(SIGXFSZ, SIG_IGN);
        while (read(sock, &c, sizeof(c)) == sizeof(c)) {
                int r = 0;
                switch (c.op) {
                case 'w':
                        r = pwrite(fds[c.which], "x", 1, (off_t) c.offset) == 1 ? 0 : -errno;
                        break;
                case 'c':
                        fds[c.which] = safe_close(fds[c.which]);
                        break;
                case 'd':
                        fds[FILE_DUP] = fcntl(fds[FILE_SNAPSHOT], F_DUPFD_CLOEXEC, 100);
                        r = fds[FILE_DUP] < 0 ? -errno : 0;
                        break;
                case 'm':
                        map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[c.which], 0);
                        r = map == MAP_FAILED ? -errno : 0;
                        break;
                case 'u':
                        r = munmap(map, 4096) < 0 ? -errno : 0;
                        break;
                case 'q':
                        _exit(0);
                }
                if (write(sock, &r, sizeof(r)) != sizeof(r))
                        _exit(3);
        }
        _exit(0);
}

static int ask(int sock, char op, int which, uint64_t offset) {
        struct command c = { op, which, offset };
        int r = -EIO;

        if (write(sock, &c, sizeof(c)) != sizeof(c) || read(sock, &r, sizeof(r)) != sizeof(r))
                return -EIO;
        return r;
}

static uint64_t soft_limit(pid_t pid) {
        uint64_t soft = 0, hard = 0;
        CHECK_EQ(launcher_fsize_get(pid, &soft, &hard), 0);
        return soft;
}

int main(void) {
        char dir[] = "/tmp/test-launcher-fsize.XXXXXX", path[64];
        struct guest_config c = {
                .memory_mib = 64, .vcpus = 2, .n_disks = 2,
                .disks = { { .read_only = false }, { .read_only = true } },
        };
        int fds[N_FILES] = { -EBADF, -EBADF, -EBADF }, disk_fds[2], sv[2], check_fd, pidfd, r;
        uint64_t reserve = launcher_fsize_snapshot(&c), spawn_limit, soft, hard;
        struct stat st;
        pid_t pid;

        CHECK(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/disk", dir);
        disk_fds[0] = fds[FILE_DISK] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        snprintf(path, sizeof(path), "%s/ro-disk", dir);
        disk_fds[1] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        snprintf(path, sizeof(path), "%s/snap", dir);
        fds[FILE_SNAPSHOT] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(disk_fds[0] >= 0 && disk_fds[1] >= 0 && fds[FILE_SNAPSHOT] >= 0);
        /* A sparse 1 TiB disk (and a larger read-only one, which the
         * launcher never writes: it does not count). */
        if (ftruncate(disk_fds[0], (off_t) TiB) < 0 || ftruncate(disk_fds[1], (off_t) (2 * TiB)) < 0)
                TEST_SKIP("cannot make a sparse 1 TiB file in %s: %m", dir);

        /* The reserve is the largest snapshot the guest can make; the
         * spawn-time limit covers it, the RAM and the writable disk. */
        CHECK_EQ(reserve, snapshot_max_file_size(64 * MiB, 2));
        spawn_limit = launcher_file_size_limit(&c, disk_fds);
        CHECK_EQ(spawn_limit, TiB);
        c.disks[0].read_only = true;
        CHECK_EQ(launcher_file_size_limit(&c, disk_fds), reserve);
        c.disks[0].read_only = false;
        c.n_disks = 0;
        CHECK_EQ(launcher_file_size_limit(&c, disk_fds), reserve);
        c.n_disks = 2;

        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                safe_close(sv[0]);
                child_loop(sv[1], fds, spawn_limit);
        }
        safe_close(sv[1]);
        pidfd = pidfd_open(pid, 0);
        CHECK(pidfd >= 0);
        /* Only the child holds the snapshot file open for writing now. */
        fds[FILE_SNAPSHOT] = safe_close(fds[FILE_SNAPSHOT]);
        CHECK_EQ(ask(sv[0], 'w', FILE_DISK, 0), 0); /* the child is ready */

        /* At its spawn-time limit the "launcher" writes a snapshot file
         * as far as its disk is large: nothing bounds the snapshot. */
        CHECK_EQ(ask(sv[0], 'w', FILE_SNAPSHOT, 8 * reserve), 0);
        CHECK_EQ(truncate(path, 0), 0);

        /* Lowered for the snapshot: up to the reserve and no further; the
         * hard limit keeps the spawn-time bound. The disk, past the
         * reserve, is refused too: the limit is the process's, which is
         * why the launcher parks its vCPUs (the disks' only writers)
         * first. */
        CHECK_EQ(launcher_fsize_lower(pid, pidfd, reserve), 0);
        CHECK_EQ(launcher_fsize_get(pid, &soft, &hard), 0);
        CHECK_EQ(soft, reserve);
        CHECK_EQ(hard, spawn_limit);
        CHECK_EQ(ask(sv[0], 'w', FILE_SNAPSHOT, reserve - 1), 0);
        CHECK_EQ(ask(sv[0], 'w', FILE_SNAPSHOT, reserve), -EFBIG);
        CHECK_EQ(ask(sv[0], 'w', FILE_SNAPSHOT, 8 * reserve), -EFBIG);
        CHECK_EQ(stat(path, &st), 0);
        CHECK_EQ(st.st_size, reserve);
        CHECK_EQ(ask(sv[0], 'w', FILE_DISK, 2 * reserve), -EFBIG);

        /* Before the limit goes back up: anything that can still write
         * the snapshot is seen, however it is held. */
        check_fd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(check_fd >= 0);
        r = launcher_fsize_check_released(check_fd);
        if (r != 0 && r != -EBUSY)
                fprintf(stderr, "no leases on %s (%s): the release check is not tested here\n", dir, strerror(-r));
        else {
                CHECK_EQ(r, -EBUSY); /* the child's fd */
                CHECK_EQ(ask(sv[0], 'd', FILE_SNAPSHOT, 0), 0);
                CHECK_EQ(ask(sv[0], 'c', FILE_SNAPSHOT, 0), 0);
                CHECK_EQ(launcher_fsize_check_released(check_fd), -EBUSY); /* a dup of it */
                CHECK_EQ(ask(sv[0], 'm', FILE_DUP, 0), 0);
                CHECK_EQ(ask(sv[0], 'c', FILE_DUP, 0), 0);
                CHECK_EQ(launcher_fsize_check_released(check_fd), -EBUSY); /* a mapping made through it */
                CHECK_EQ(ask(sv[0], 'u', 0, 0), 0);
                CHECK_EQ(launcher_fsize_check_released(check_fd), 0);
                /* guestd's own copy counts as much as anyone's. */
                fds[FILE_SNAPSHOT] = open(path, O_RDWR | O_CLOEXEC);
                CHECK_EQ(launcher_fsize_check_released(check_fd), -EBUSY);
                fds[FILE_SNAPSHOT] = safe_close(fds[FILE_SNAPSHOT]);
                CHECK_EQ(launcher_fsize_check_released(check_fd), 0);
        }
        safe_close(check_fd);

        /* Given back: the whole spawn-time limit, the disk writable
         * anywhere again. */
        CHECK_EQ(launcher_fsize_restore(pid, pidfd), 0);
        CHECK_EQ(soft_limit(pid), spawn_limit);
        CHECK_EQ(ask(sv[0], 'w', FILE_DISK, 2 * reserve), 0);
        CHECK_EQ(ask(sv[0], 'w', FILE_DISK, TiB - 1), 0);
        /* Never raised past the hard limit. */
        CHECK_EQ(launcher_fsize_lower(pid, pidfd, 4 * TiB), 0);
        CHECK_EQ(soft_limit(pid), spawn_limit);

        CHECK_EQ(ask(sv[0], 'q', 0, 0), -EIO);
        CHECK_EQ(waitpid(pid, NULL, 0), pid);
        /* The launcher gone (and reaped): refused, never some other pid's. */
        CHECK(launcher_fsize_restore(pid, pidfd) < 0);
        safe_close(pidfd);
        safe_close(sv[0]);
        safe_close(disk_fds[0]);
        safe_close(disk_fds[1]);
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        (void) !system(path);
        return TEST_RESULT();
}
