/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-launcher-log.c: a hostile launcher's stderr, cut, escaped and rate-limited. */
#include <string.h>

#include "launcher-log.h"
#include "test.h"

static char lines[200][LAUNCHER_LOG_LINE_MAX * 4 + 1];
static unsigned n_lines;

static void capture(struct launcher_log *l, const char *text, void *userdata) {
        if (n_lines < ELEMENTSOF(lines))
                snprintf(lines[n_lines++], sizeof(lines[0]), "%s", text);
}

static void setup(struct launcher_log *l) {
        launcher_log_init(l, "1000_test");
        l->emit = capture;
        n_lines = 0;
}

int main(void) {
        struct launcher_log l;
        char big[3 * LAUNCHER_LOG_LINE_MAX];
        uint64_t t = 1000000;

        /* Lines, split across reads; a partial line waits for its end. */
        setup(&l);
        launcher_log_feed(&l, "first line\nsec", 14, t);
        CHECK_EQ(n_lines, 1);
        CHECK(strcmp(lines[0], "first line") == 0);
        launcher_log_feed(&l, "ond\n", 4, t);
        CHECK_EQ(n_lines, 2);
        CHECK(strcmp(lines[1], "second") == 0);

        /* Control characters, escapes and high bytes cannot reach the log
         * raw: no terminal sequences, no forged line breaks. */
        setup(&l);
        launcher_log_feed(&l, "a\x1b[2Jb\rc\\d\xff\x00" "e\n", 14, t);
        CHECK_EQ(n_lines, 1);
        CHECK(strcmp(lines[0], "a\\x1b[2Jb\\rc\\d\\xff\\x00e") == 0);

        /* An endless line is cut into pieces of at most the maximum. */
        setup(&l);
        memset(big, 'x', sizeof(big));
        launcher_log_feed(&l, big, sizeof(big), t);
        CHECK_EQ(n_lines, 2);
        CHECK_EQ(strlen(lines[0]), LAUNCHER_LOG_LINE_MAX);
        launcher_log_flush(&l, t);
        CHECK_EQ(n_lines, 3);
        CHECK_EQ(strlen(lines[2]), LAUNCHER_LOG_LINE_MAX);

        /* A flood: BURST lines per window, the rest counted and reported
         * when the next window starts. */
        setup(&l);
        for (int i = 0; i < 500; i++)
                launcher_log_feed(&l, "spam\n", 5, t + (uint64_t) i);
        CHECK_EQ(n_lines, LAUNCHER_LOG_BURST);
        launcher_log_feed(&l, "later\n", 6, t + LAUNCHER_LOG_WINDOW_USEC + 1000);
        CHECK_EQ(n_lines, LAUNCHER_LOG_BURST + 2);
        CHECK(strcmp(lines[LAUNCHER_LOG_BURST], "(450 more lines suppressed)") == 0);
        CHECK(strcmp(lines[LAUNCHER_LOG_BURST + 1], "later") == 0);

        /* Empty lines are lines too (and count). */
        setup(&l);
        launcher_log_feed(&l, "\n\n", 2, t);
        CHECK_EQ(n_lines, 2);
        CHECK(lines[0][0] == 0);
        return TEST_RESULT();
}
