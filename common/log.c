/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: see log.h. One write(2) per line so lines from threads don't mix. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *program = "guestd";
static enum log_level max_level = LOG_LEVEL_INFO;

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
        n = snprintf(line, sizeof(line), "%s: ", program);
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
        va_end(ap);
        n = strlen(line);
        line[n++] = '\n';
        (void) !write(STDERR_FILENO, line, n);
        errno = saved;
        return error;
}
