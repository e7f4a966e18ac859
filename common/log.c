/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: see log.h. One write(2) per line so lines from threads don't mix. */
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

int log_full_errno(enum log_level level, int error, const char *fmt, ...) {
        char line[1024];
        va_list ap;
        int saved = errno, n;

        if (level > max_level)
                return error;

        if (error != 0)
                errno = error < 0 ? -error : error;
        if (priority_prefix)
                n = snprintf(line, sizeof(line), "<%d>%s: ", log_level_to_priority(level), program);
        else
                n = snprintf(line, sizeof(line), "%s: ", program);
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
        va_end(ap);
        if (sink) {
                sink(level, line + n);
                errno = saved;
                return error;
        }
        n = strlen(line);
        line[n++] = '\n';
        (void) !write(STDERR_FILENO, line, n);
        errno = saved;
        return error;
}
