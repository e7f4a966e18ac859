/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-log.c: a log line is one line (issue 20, item 8). guestd logs what
 * users, guests and launchers hand it (a kernel path, a reason); on stderr
 * with "<N>" prefixes a newline in it would start a line of its own, with
 * a priority of the user's choosing, and an escape sequence would reach
 * whoever reads the log on a terminal. Each line written here is read back
 * from a pipe in place of stderr.
 */
#include <fcntl.h>
#include <string.h>

#include "log.h"
#include "test.h"

/* What one log call writes to stderr, into buf (NUL-terminated). */
static ssize_t capture(char *buf, size_t size, void (*fn)(void)) {
        _cleanup_close_ int saved = -EBADF, rd = -EBADF, wr = -EBADF;
        int p[2];
        ssize_t n;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rd = p[0];
        wr = p[1];
        saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved < 0 || dup2(wr, STDERR_FILENO) < 0)
                return -errno;
        fn();
        /* stderr back before anything checks (and reports) */
        (void) dup2(saved, STDERR_FILENO);
        wr = safe_close(wr);
        n = read_up_to(rd, buf, size - 1);
        if (n >= 0)
                buf[n] = 0;
        return n;
}

static void log_forged(void) {
        /* As guestd logs a kernel path that a user chose. */
        log_error("Opening %s timed out.", "/home/u/vmlinuz\n<0>guestd: forged\r\t\x1b[2J\x7f\xc2\x9b\xff\xc3(end)");
}

static void log_long(void) {
        char s[3000];

        memset(s, '\n', sizeof(s) - 1);
        s[sizeof(s) - 1] = 0;
        log_warning("%s", s);
}

static void log_unicode(void) {
        log_info("caf\xc3\xa9 \xe2\x9c\x93 back\\slash %s", "\xf0\x9f\x90\xa7");
}

static char sunk[8192];
static unsigned sunk_calls;

static void sink(enum log_level level, const char *text) {
        snprintf(sunk, sizeof(sunk), "%s", text);
        sunk_calls++;
}

int main(void) {
        static const char want_forged[] = "<3>guestd: Opening /home/u/vmlinuz\\n<0>guestd: forged\\r\\t\\x1b[2J\\x7f\\xc2\\x9b\\xff\\xc3(end) "
                                          "timed out.\n";
        char buf[16384];
        ssize_t n;

        log_set_program("guestd");
        log_set_priority_prefix(true);

        /* The forged line: the newline, the other controls, DEL, the C1
         * CSI and the bytes that are not UTF-8 all come out as visible
         * escapes, on the one line the call writes. */
        n = capture(buf, sizeof(buf), log_forged);
        CHECK_EQ(n, (ssize_t) strlen(want_forged));
        if (strcmp(buf, want_forged) != 0) {
                fprintf(stderr, "got:    %s", buf);
                fprintf(stderr, "wanted: %s", want_forged);
                CHECK(false);
        }
        CHECK(strchr(buf, '\n') == buf + n - 1);

        /* A message of nothing but newlines, longer than a line holds: one
         * line still, cut where the formatted text was cut (1023 bytes),
         * every one of them escaped. */
        n = capture(buf, sizeof(buf), log_long);
        CHECK_EQ(n, (ssize_t) (strlen("<4>guestd: ") + 1023 * 2 + 1));
        CHECK(strncmp(buf, "<4>guestd: \\n\\n", 15) == 0);
        CHECK(n > 0 && strchr(buf, '\n') == buf + n - 1);

        /* Valid UTF-8 and backslashes stay as they are: a log reader's
         * text is kept readable. */
        n = capture(buf, sizeof(buf), log_unicode);
        CHECK(n > 0 && strcmp(buf, "<6>guestd: caf\xc3\xa9 \xe2\x9c\x93 back\\slash \xf0\x9f\x90\xa7\n") == 0);

        /* A program's name is escaped too (the launcher's comes from its
         * argv[0]), and without the prefix only the name leads. */
        log_set_priority_prefix(false);
        log_set_program("/usr/libexec/guest\nd");
        n = capture(buf, sizeof(buf), log_unicode);
        CHECK(n > 0 && strncmp(buf, "guest\\nd: caf", 13) == 0);
        log_set_program("guestd");

        /* A sink (guestd's journal) gets the same escaped text. */
        log_set_sink(sink);
        n = capture(buf, sizeof(buf), log_forged);
        CHECK_EQ(n, 0);
        CHECK_EQ(sunk_calls, 1);
        /* the same text, without prefix and newline */
        CHECK_EQ(strlen(sunk), strlen(want_forged) - strlen("<3>guestd: ") - 1);
        CHECK(strncmp(sunk, want_forged + strlen("<3>guestd: "), strlen(sunk)) == 0);
        log_set_sink(NULL);

        return TEST_RESULT();
}
