/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuse-hang MOUNTPOINT: mounts a FUSE file system whose server never
 * answers (tests/test-daemon-availability.sh). It opens /dev/fuse, mounts
 * with allow_other so that the test users reach it, prints "ready" and
 * then reads nothing: FUSE_INIT is never answered, so every lookup below
 * the mount point waits, as on a network file system whose server is
 * gone. Those waits are killable (SIGKILL ends them), as NFS's are.
 * On SIGTERM or SIGINT it detaches the mount and closes /dev/fuse, which
 * ends every request still waiting with ENOTCONN.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv) {
        char opts[128];
        sigset_t set;
        int fd, sig;

        if (argc != 2) {
                fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
                return 2;
        }
        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "fuse-hang: cannot open /dev/fuse: %s\n", strerror(errno));
                return 1;
        }
        snprintf(opts, sizeof(opts), "fd=%d,rootmode=40755,user_id=0,group_id=0,allow_other", fd);
        if (mount("guestd-hang", argv[1], "fuse.guestd-hang", MS_NOSUID | MS_NODEV, opts) < 0) {
                fprintf(stderr, "fuse-hang: cannot mount on %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        printf("ready\n");
        fflush(stdout);
        sigwait(&set, &sig);
        (void) umount2(argv[1], MNT_DETACH);
        close(fd);
        return 0;
}
