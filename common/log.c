/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: see log.h. One write(2) per line so lines from threads don't mix;
 * every line is escaped text (util.h's text_escape()), so one call is one
 * line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *program = "guestd";
static enum log_level max_level = LOG_LEVEL_INFO;
static bool priority_prefix;
static log_sink_t sink;

void log_set_priority_prefix(bool on) {
        priority_prefix = on;
}

int log_level_to_priority(enum log_level level) {
        static const int priority[] = { [LOG_LEVEL_ERROR] = 3, [LOG_LEVEL_WARNING] = 4, [LOG_LEVEL_INFO] = 6, [LOG_LEVEL_DEBUG] = 7 };
        return (unsigned) level <= LOG_LEVEL_DEBUG ? priority[level] : 7;
}

void log_set_sink(log_sink_t s) {
        sink = s;
}

const char *log_get_program(void) {
        return program;
}

void log_set_program(const char *name) {
        const char *slash = strrchr(name, '/');
        program = slash ? slash + 1 : name;
}

void log_set_max_level(enum log_level level) {
        max_level = level;
}

enum log_level log_get_max_level(void) {
        return max_level;
}

/* Room for "<N>" and the program's name, escaped. */
#define LOG_PREFIX_MAX 128

int log_full_errno(enum log_level level, int error, const char *fmt, ...) {
        char text[1024], line[LOG_PREFIX_MAX + TEXT_ESCAPE_SIZE(sizeof(text)) + 1];
        va_list ap;
        int saved = errno;
        size_t n = 0, start;

        if (level > max_level)
                return error;

        if (error != 0)
                errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (priority_prefix)
                n = (size_t) snprintf(line, sizeof(line), "<%d>", log_level_to_priority(level));
        n += text_escape(line + n, LOG_PREFIX_MAX - 2 - n, program, strlen(program), 0);
        line[n++] = ':';
        line[n++] = ' ';
        /* A message may carry what a user, a guest or a launcher wrote (a
         * path, a reason): escaped, it cannot end the line and start a
         * forged one ("\n<0>guestd: ..."), nor reach a terminal that
         * shows the log as controls. One line, whatever was formatted. */
        start = n;
        n += text_escape(line + n, sizeof(line) - 1 - n, text, strlen(text), 0);
        if (sink) {
                sink(level, line + start);
                errno = saved;
                return error;
        }
        line[n++] = '\n';
        (void) !write(STDERR_FILENO, line, n);
        errno = saved;
        return error;
}
