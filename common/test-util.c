/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-util.c: the shared helpers with a contract worth checking. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test.h"

static size_t got;
static unsigned calls;

static void count_sink(void *userdata, const void *data, size_t n) {
        got += n;
        calls++;
}

static void check_escape(const char *in, size_t len, unsigned flags, const char *want) {
        char buf[256];
        size_t n = text_escape(buf, sizeof(buf), in, len, flags);

        CHECK_EQ(n, strlen(want));
        if (strcmp(buf, want) != 0) {
                fprintf(stderr, "text_escape: got \"%s\", wanted \"%s\"\n", buf, want);
                CHECK(false);
        }
}

int main(void) {
        char buf[100], *msg = NULL, big[1000], esc[64];
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

        /* fd_is_socket: the type, and listening or not; anything else
         * (a pipe, no fd at all) is not. */
        {
                int pair[2], listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX }; /* autobind: an abstract name */

                CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
                CHECK(fd_is_socket(pair[0], SOCK_STREAM, false));
                CHECK(!fd_is_socket(pair[0], SOCK_STREAM, true));
                CHECK(!fd_is_socket(pair[0], SOCK_SEQPACKET, false));
                CHECK(listener >= 0 && bind(listener, (struct sockaddr *) &sa, sizeof(sa_family_t)) == 0 && listen(listener, 1) == 0);
                CHECK(fd_is_socket(listener, SOCK_SEQPACKET, true));
                CHECK(!fd_is_socket(listener, SOCK_SEQPACKET, false));
                CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
                CHECK(!fd_is_socket(p[0], SOCK_STREAM, false));
                CHECK(!fd_is_socket(-1, SOCK_STREAM, false));
                close(p[0]);
                close(p[1]);
                close(pair[0]);
                close(pair[1]);
                close(listener);
        }
#define TEST_SIXTY_FOUR 64
        CHECK(strcmp(STRINGIFY(TEST_SIXTY_FOUR), "64") == 0);

        /* set_error_message: -EINVAL, the sentence, and no crash without a
         * place to put it. */
        CHECK_EQ(set_error_message(&msg, "field %s is %d", "x", 7), -EINVAL);
        CHECK(msg && strcmp(msg, "field x is 7") == 0);
        free(msg);
        CHECK_EQ(set_error_message(NULL, "ignored"), -EINVAL);

        /* text_escape(): what a terminal or a log reader would act on becomes
         * a visible escape, class by class; readable text stays. */
        check_escape("plain text", 10, 0, "plain text");
        check_escape("a\nb\tc\rd", 7, 0, "a\\nb\\tc\\rd");
        check_escape("a\nb\tc\rd\r\n", 9, TEXT_ESCAPE_MULTILINE, "a\nb\tc\\rd\r\n");
        check_escape("\r", 1, TEXT_ESCAPE_MULTILINE, "\\r"); /* a lone CR at the end rewrites a line */
        check_escape("a\n\rb\r\r\nc\rd", 10, TEXT_ESCAPE_MULTILINE, "a\n\rb\r\r\nc\\rd"); /* d would hide c */
        check_escape("\x1b[31mred\x1b[0m", 12, TEXT_ESCAPE_MULTILINE, "\\x1b[31mred\\x1b[0m");
        check_escape("\0\x01\x08\x7f", 4, 0, "\\x00\\x01\\x08\\x7f");
        check_escape("\xc2\x80\xc2\x9f\xc2\xa0", 6, 0, "\\xc2\\x80\\xc2\\x9f\xc2\xa0");      /* C1; NBSP kept */
        check_escape("\xc0\xaf\xe0\x80\xaf", 5, 0, "\\xc0\\xaf\\xe0\\x80\\xaf");              /* overlong */
        check_escape("\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80");                                /* surrogate */
        check_escape("\xf4\x90\x80\x80", 4, 0, "\\xf4\\x90\\x80\\x80");                       /* past U+10FFFF */
        check_escape("\xf4\x8f\xbf\xbf", 4, 0, "\xf4\x8f\xbf\xbf");                           /* U+10FFFF */
        check_escape("\xe2\x9c", 2, 0, "\\xe2\\x9c");                                         /* cut short */
        check_escape("\xe2\x9c\x93", 3, 0, "\xe2\x9c\x93");
        check_escape("\\x1b", 4, 0, "\\x1b"); /* escaping twice changes nothing */
        /* Never an escape cut in two: "ab\x1b" in 6 bytes is "ab" (and NUL). */
        CHECK_EQ(text_escape(esc, 6, "ab\x1b", 3, 0), 2);
        CHECK(strcmp(esc, "ab") == 0);
        CHECK_EQ(text_escape(esc, 7, "ab\x1b", 3, 0), 6);
        CHECK_EQ(text_escape(esc, 1, "ab", 2, 0), 0);
        CHECK(esc[0] == 0);
        {
                _cleanup_free_ char *s = text_escape_new("x\xff\n", 3, 0);
                CHECK(s && strcmp(s, "x\\xff\\n") == 0);
        }
        return TEST_RESULT();
}
