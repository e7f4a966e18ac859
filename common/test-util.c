/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-util.c: the shared helpers with a contract worth checking. */
#include <fcntl.h>
#include <string.h>

#include "test.h"

static size_t got;
static unsigned calls;

static void count_sink(void *userdata, const void *data, size_t n) {
        got += n;
        calls++;
}

int main(void) {
        char buf[100], *msg = NULL, big[1000];
        int p[2];

        /* read_available: what is there, in bounded reads; 1 while the
         * writer lives, 0 at end of file. */
        CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        memset(big, 'x', sizeof(big));
        CHECK_EQ(write(p[1], big, sizeof(big)), (ssize_t) sizeof(big));
        CHECK_EQ(read_available(p[0], buf, sizeof(buf), 3, count_sink, NULL), 1);
        CHECK_EQ(got, 300);
        CHECK_EQ(calls, 3);
        CHECK_EQ(read_available(p[0], buf, sizeof(buf), 100, count_sink, NULL), 1);
        CHECK_EQ(got, 1000);
        CHECK_EQ(calls, 10);
        close(p[1]);
        CHECK_EQ(read_available(p[0], buf, sizeof(buf), 100, count_sink, NULL), 0);
        CHECK_EQ(read_available(-1, buf, sizeof(buf), 100, count_sink, NULL), 0);
        close(p[0]);

        /* read_up_to: across short reads (a pipe written in pieces), up to
         * the size asked for, then what is left. */
        CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
        CHECK_EQ(write(p[1], "abc", 3), 3);
        CHECK_EQ(write(p[1], "defgh", 5), 5);
        close(p[1]);
        CHECK_EQ(read_up_to(p[0], buf, 6), 6);
        CHECK(memcmp(buf, "abcdef", 6) == 0);
        CHECK_EQ(read_up_to(p[0], buf, sizeof(buf)), 2);
        CHECK(memcmp(buf, "gh", 2) == 0);
        CHECK_EQ(read_up_to(p[0], buf, sizeof(buf)), 0);
        close(p[0]);
        CHECK_EQ(read_up_to(-1, buf, sizeof(buf)), -EBADF);

        /* set_error_message: -EINVAL, the sentence, and no crash without a
         * place to put it. */
        CHECK_EQ(set_error_message(&msg, "field %s is %d", "x", 7), -EINVAL);
        CHECK(msg && strcmp(msg, "field x is 7") == 0);
        free(msg);
        CHECK_EQ(set_error_message(NULL, "ignored"), -EINVAL);
        return TEST_RESULT();
}
