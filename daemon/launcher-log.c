/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* launcher-log.c: see launcher-log.h. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "launcher-log.h"
#include "log.h"

static void emit_to_log(struct launcher_log *l, const char *text, void *userdata) {
        /* The launcher names itself on every line; we name it already. */
        if (strncmp(text, "guestd-launcher: ", 17) == 0)
                text += 17;
        log_info("Guest %s: launcher: %s", l->guest_id, text);
}

void launcher_log_init(struct launcher_log *l, const char *guest_id) {
        *l = (struct launcher_log) { .fd = -EBADF, .emit = emit_to_log };
        snprintf(l->guest_id, sizeof(l->guest_id), "%s", guest_id);
}

static void emit(struct launcher_log *l, const char *text) {
        l->emit(l, text, l->userdata);
}

bool launcher_log_admit(struct launcher_log *l, uint64_t now) {
        if (now - l->window_start >= LAUNCHER_LOG_WINDOW_USEC) {
                if (l->suppressed > 0) {
                        char note[96];
                        snprintf(note, sizeof(note), "(%llu more lines suppressed)", (unsigned long long) l->suppressed);
                        emit(l, note);
                }
                l->window_start = now;
                l->in_window = 0;
                l->suppressed = 0;
        }
        if (l->in_window >= LAUNCHER_LOG_BURST) {
                l->suppressed++;
                return false;
        }
        l->in_window++;
        return true;
}

/* One finished line, if the window has room for it. */
static void line_done(struct launcher_log *l, uint64_t now) {
        char text[TEXT_ESCAPE_SIZE(LAUNCHER_LOG_LINE_MAX)];

        if (!launcher_log_admit(l, now)) {
                l->len = 0;
                return;
        }
        (void) text_escape(text, sizeof(text), l->line, l->len, 0);
        l->len = 0;
        emit(l, text);
}

void launcher_log_feed(struct launcher_log *l, const char *buf, size_t n, uint64_t now) {
        for (size_t i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                        line_done(l, now);
                        continue;
                }
                if (l->len == sizeof(l->line))
                        line_done(l, now); /* an over-long line is cut */
                l->line[l->len++] = buf[i];
        }
}

void launcher_log_flush(struct launcher_log *l, uint64_t now) {
        if (l->len > 0)
                line_done(l, now);
}

static void log_sink(void *userdata, const void *data, size_t n) {
        launcher_log_feed(userdata, data, n, now_usec());
}

/* Returns 0 at end of file or error, 1 if more may come. */
static int read_some(struct launcher_log *l) {
        char buf[4096];

        return read_available(l->fd, buf, sizeof(buf), 8, log_sink, l);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct launcher_log *l = userdata;

        if (read_some(l) == 0)
                launcher_log_detach(l);
        return 0;
}

int launcher_log_attach(struct launcher_log *l, sd_event *event, int fd) {
        int r;

        launcher_log_detach(l);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        l->fd = fd;
        r = sd_event_add_io(event, &l->source, fd, EPOLLIN, on_readable, l);
        if (r < 0)
                l->fd = safe_close(l->fd);
        return r;
}

void launcher_log_detach(struct launcher_log *l) {
        if (l->fd >= 0) {
                l->source = sd_event_source_disable_unref(l->source);
                /* What is in the pipe now (bounded, as always). */
                (void) read_some(l);
                launcher_log_flush(l, now_usec());
                l->fd = safe_close(l->fd);
        }
        l->source = sd_event_source_disable_unref(l->source);
}
