/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h: one-line logging to stderr, prefixed with the program name, and
 * with the line's syslog priority as "<N>" (sd-daemon(3)) where the
 * program asks for it (guestd: journald, or whatever reads its stderr,
 * then knows errors from chatter). A program may divert lines to a sink
 * of its own (guestd: the journal's native protocol, daemon/journal.c).
 * What a line says is escaped first (text_escape(), util.h): whatever a
 * message formats (a user's path, a launcher's reason), a line is one line
 * of printable text, in stderr and in the sink alike.
 * Errors are negative errno values; log_*_errno() logs with %m set from the
 * error and returns it, so the edge that handles an error can say
 *     return log_error_errno(r, "Failed to map guest memory: %m");
 */
#pragma once

#include "util.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_program(const char *name);
/* "<3>" for errors, "<4>" warnings, "<6>" information, "<7>" debugging. */
void log_set_priority_prefix(bool on);
int log_level_to_priority(enum log_level level);
/* Every line goes to sink instead of stderr (NULL: stderr again); text is
 * the message alone, without program or priority. */
typedef void (*log_sink_t)(enum log_level level, const char *text);
void log_set_sink(log_sink_t sink);
const char *log_get_program(void);
void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);
/* Logs at level; if error != 0, errno is set to -error for %m. Returns error. */
int log_full_errno(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
