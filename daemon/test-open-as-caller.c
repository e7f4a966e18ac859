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
        /* What guestd holds while it forks (here: a file in a directory
         * only root may enter, the shape of another user's kernel while
         * that user's Start waits) is not the caller's through
         * /proc/self/fd or /dev/fd: by name "nobody" may not reach it. */
        {
                char secret_dir[] = "/tmp/guestd-test-opener-secret.XXXXXX", secret[96], via_proc[64], via_dev[64];
                struct caller nobody = { .uid = 65534, .gid = 65534 };
                int held;

                CHECK(mkdtemp(secret_dir));
                CHECK_EQ(chmod(secret_dir, 0700), 0);
                snprintf(secret, sizeof(secret), "%s/kernel", secret_dir);
                held = open(secret, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
                CHECK(held >= 0);
                snprintf(via_proc, sizeof(via_proc), "/proc/self/fd/%d", held);
                snprintf(via_dev, sizeof(via_dev), "/dev/fd/%d", held);
                {
                        struct result res = {};
                        struct file_request req[] = { { "kernel", secret, O_RDONLY, false } };
                        CHECK_EQ(opener_start(pool, &nobody, req, 1, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                        run_until(e, &res);
                        CHECK(res.done && res.r < 0);
                        CHECK(res.error_name && strcmp(res.error_name, GUESTD_ERROR_ACCESS_DENIED) == 0);
                        free(res.error_name);
                        free(res.error_message);
                }
                for (int k = 0; k < 2; k++) {
                        struct result res = {};
                        struct file_request req[] = { { "kernel", k == 0 ? via_proc : via_dev, O_RDONLY, false } };
                        CHECK_EQ(opener_start(pool, &nobody, req, 1, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                        run_until(e, &res);
                        CHECK(res.done && res.r < 0);
                        if (res.r == 0)
                                fprintf(stderr, "nobody opened %s: guestd's fd %d reached the caller\n", req[0].path, held);
                        /* Closed in the child ("does not exist"), and not
                         * followed had it been there ("magic link"). */
                        CHECK(res.error_message && (strstr(res.error_message, "magic link") || strstr(res.error_message, "does not exist")));
                        for (size_t i = 0; i < res.n; i++)
                                close(res.fds[i]);
                        free(res.error_name);
                        free(res.error_message);
                }
                /* A magic link to a file the child does hold (its standard
                 * input, /dev/null) is not followed either, even for root:
                 * a user names the file itself. */
                {
                        struct result res = {};
                        struct file_request req[] = { { "kernel", "/proc/self/fd/0", O_RDONLY, false } };
                        CHECK_EQ(opener_start(pool, &me, req, 1, 5 * 1000000ULL, on_done, &res, &o, NULL), 0);
                        run_until(e, &res);
                        CHECK(res.done && res.r < 0);
                        CHECK(res.error_message && strstr(res.error_message, "magic link"));
                        for (size_t i = 0; i < res.n; i++)
                                close(res.fds[i]);
                        free(res.error_name);
                        free(res.error_message);
                }
                close(held);
                unlink(secret);
                rmdir(secret_dir);
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
