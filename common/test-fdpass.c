/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fdpass.c: a packet with fds, whole; more fds than asked for are
 * closed, not leaked; nothing there is -EAGAIN; end of stream is 0. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fdpass.h"
#include "test.h"

#include <dirent.h>

static bool is_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

int main(void) {
        int sv[2], fds[4], got[4], flags = 0, p[2];
        size_t n_fds = 0;
        char buf[16];
        struct stat a, b;

        CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        CHECK_EQ(pipe2(p, O_CLOEXEC), 0);

        /* Nothing there yet. */
        CHECK_EQ(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n_fds, MSG_DONTWAIT, &flags), -EAGAIN);

        /* Data and two fds; they arrive as new, close-on-exec fds of the same files. */
        fds[0] = p[0];
        fds[1] = p[1];
        CHECK_EQ(fdpass_send(sv[0], "hello", 5, fds, 2, 0), 5);
        CHECK_EQ(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n_fds, 0, &flags), 5);
        CHECK(memcmp(buf, "hello", 5) == 0);
        CHECK_EQ(n_fds, 2);
        CHECK_EQ(flags & (MSG_TRUNC | MSG_CTRUNC), 0);
        CHECK_EQ(fstat(got[0], &a), 0);
        CHECK_EQ(fstat(p[0], &b), 0);
        CHECK(a.st_ino == b.st_ino);
        CHECK(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
        close(got[0]);
        close(got[1]);

        /* More fds than the receiver takes: the rest are closed. */
        CHECK_EQ(fdpass_send(sv[0], "x", 1, fds, 2, 0), 1);
        int before = count_fds();
        CHECK_EQ(fdpass_recv(sv[1], buf, sizeof(buf), got, 1, &n_fds, 0, &flags), 1);
        CHECK_EQ(n_fds, 1);
        CHECK(is_open(got[0]));
        CHECK_EQ(count_fds(), before + 1); /* the one taken; the other closed */
        close(got[0]);

        /* Without fds; too many fds to send is refused. */
        CHECK_EQ(fdpass_send(sv[0], "y", 1, NULL, 0, 0), 1);
        CHECK_EQ(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n_fds, 0, &flags), 1);
        CHECK_EQ(n_fds, 0);
        CHECK_EQ(fdpass_send(sv[0], "z", 1, fds, 1000, 0), -EINVAL);
        CHECK_EQ(fdpass_send(sv[0], "z", 1, NULL, 1, 0), -EINVAL);

        /* End of stream; a closed peer is an error to send to, not SIGPIPE. */
        close(sv[0]);
        CHECK_EQ(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n_fds, 0, &flags), 0);
        CHECK_EQ(fdpass_send(sv[1], "w", 1, NULL, 0, 0), -EPIPE);
        close(sv[1]);
        close(p[0]);
        close(p[1]);
        return TEST_RESULT();
}
