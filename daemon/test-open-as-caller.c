/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-open-as-caller.c: the opener in an event loop: the files come back
 * as fds of the right files; each wrong kind of path is refused with its
 * sentence; a cancelled request calls nobody; the child is reaped. A path
 * that never answers (FUSE) is tests/test-daemon-availability.sh's.
 * Switching to a caller's uid needs root: elsewhere this skips.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "open-as-caller.h"
#include "test.h"

struct result {
        bool done;
        int r;
        char *error_name, *error_message;
        int fds[4];
        size_t n;
};

static void on_done(int r, const sd_bus_error *error, int *fds, size_t n, void *userdata) {
        struct result *res = userdata;

        res->done = true;
        res->r = r;
        if (error) {
                res->error_name = error->name ? strdup(error->name) : NULL;
                res->error_message = error->message ? strdup(error->message) : NULL;
        }
        for (size_t i = 0; i < n && i < 4; i++)
                res->fds[i] = fds[i];
        res->n = n;
}

static void run_until(sd_event *e, struct result *res) {
        for (int i = 0; i < 500 && !res->done; i++)
                CHECK(sd_event_run(e, 10 * 1000) >= 0);
}

int main(void) {
        char dir[] = "/tmp/guestd-test-opener.XXXXXX", file[64], missing[64];
        struct caller me = { .uid = 0, .gid = 0 };
        struct opener_pool *pool = NULL;
        struct opener *o = NULL;
        sd_event *e = NULL;
        struct stat a, b;
        sigset_t mask;
        int fd;

        if (geteuid() != 0)
                TEST_SKIP("SKIP: the opener switches to the caller's uid, which needs root");
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        CHECK(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/kernel", dir);
        snprintf(missing, sizeof(missing), "%s/missing", dir);
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        close(fd);
        CHECK(sd_event_default(&e) >= 0);
        CHECK_EQ(opener_pool_new(e, &pool), 0);

        /* Two files, the same one twice: both fds come back. */
        {
                struct result res = {};
                struct file_request req[] = { { "kernel", file, O_RDONLY, false }, { "disk", file, O_RDWR, true } };
                CHECK_EQ(opener_start(pool, &me, req, 2, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                run_until(e, &res);
                CHECK(res.done);
                CHECK_EQ(res.r, 0);
                CHECK_EQ(res.n, 2);
                CHECK_EQ(fstat(res.fds[0], &a), 0);
                CHECK_EQ(stat(file, &b), 0);
                CHECK(a.st_ino == b.st_ino);
                CHECK_EQ(fcntl(res.fds[1], F_GETFL) & O_ACCMODE, O_RDWR);
                close(res.fds[0]);
                close(res.fds[1]);
        }
        /* Missing, a directory: named errors with the path. */
        {
                struct result res = {};
                struct file_request req[] = { { "kernel", missing, O_RDONLY, false } };
                CHECK_EQ(opener_start(pool, &me, req, 1, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                run_until(e, &res);
                CHECK(res.done && res.r < 0);
                CHECK(res.error_name && strcmp(res.error_name, GUESTD_ERROR_INVALID_ARGUMENT) == 0);
                CHECK(res.error_message && strstr(res.error_message, "does not exist") && strstr(res.error_message, missing));
                free(res.error_name);
                free(res.error_message);
        }
        {
                struct result res = {};
                struct file_request req[] = { { "kernel", file, O_RDONLY, false }, { "disk", dir, O_RDONLY, true } };
                CHECK_EQ(opener_start(pool, &me, req, 2, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                run_until(e, &res);
                CHECK(res.done && res.r < 0);
                CHECK(res.error_message && strstr(res.error_message, "is not a regular file or block device"));
                free(res.error_name);
                free(res.error_message);
        }
        /* Cancelled at once: done is never called. */
        {
                struct result res = {};
                struct file_request req[] = { { "kernel", file, O_RDONLY, false } };
                CHECK_EQ(opener_start(pool, &me, req, 1, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                opener_cancel(o);
                for (int i = 0; i < 50; i++)
                        (void) sd_event_run(e, 10 * 1000);
                CHECK(!res.done);
        }
        /* Every child has ended and been reaped by now. */
        for (int i = 0; i < 100 && opener_lingering(pool, 0) > 0; i++)
                (void) sd_event_run(e, 10 * 1000);
        CHECK_EQ(opener_lingering(pool, 0), 0);
        CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1); /* ECHILD: no child left unreaped */

        opener_pool_free(pool);
        sd_event_unref(e);
        unlink(file);
        rmdir(dir);
        return TEST_RESULT();
}
