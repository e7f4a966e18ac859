/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-log.h: what a launcher writes on its stderr, into guestd's log.
 *
 * A launcher's stdout and stderr are the write end of a pipe whose read
 * end guestd holds (a reattaching guestd hands over a new pipe in
 * "attach"). The launcher is not trusted: it may write anything, as fast
 * as it likes. So each line is cut at LAUNCHER_LOG_LINE_MAX bytes, what
 * is not text is escaped (util.h text_escape: no terminal escapes, no
 * forged lines), every line is prefixed with the guest it came from, and
 * at most LAUNCHER_LOG_BURST lines per LAUNCHER_LOG_WINDOW_USEC go to the
 * log; the rest are counted and the count is logged when the window ends.
 * Reading is non-blocking and bounded per event, like the console; the
 * pipe is non-blocking at the launcher's end too, so a guestd that falls
 * behind costs the launcher log lines, never a stall.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define LAUNCHER_LOG_LINE_MAX 400
#define LAUNCHER_LOG_BURST 50
#define LAUNCHER_LOG_WINDOW_USEC (10 * 1000000ULL)

struct launcher_log {
        char guest_id[128];
        int fd;
        sd_event_source *source;
        char line[LAUNCHER_LOG_LINE_MAX];
        size_t len;
        uint64_t window_start;
        unsigned in_window;
        uint64_t suppressed;
        /* Where finished lines go: guestd's log normally, a test's buffer. */
        void (*emit)(struct launcher_log *l, const char *text, void *userdata);
        void *userdata;
};

void launcher_log_init(struct launcher_log *l, const char *guest_id);
/* Takes fd (the read end) and follows it; any previous one is drained and
 * closed first. */
int launcher_log_attach(struct launcher_log *l, sd_event *event, int fd);
/* Reads what is left, logs a last partial line, closes. */
void launcher_log_detach(struct launcher_log *l);

/* The line cutting, escaping and rate limiting on bytes already read, at
 * time now_usec (CLOCK_MONOTONIC): for the reader and for tests. */
void launcher_log_feed(struct launcher_log *l, const char *buf, size_t n, uint64_t now_usec);
/* Whether one more line about this launcher may go to the log now: the
 * same budget as its stderr's lines (its protocol "error" texts share
 * it), counting what is suppressed. */
bool launcher_log_admit(struct launcher_log *l, uint64_t now_usec);
/* Ends a partial line (at end of file). */
void launcher_log_flush(struct launcher_log *l, uint64_t now_usec);
