/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journal.c: see journal.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "journal.h"

static bool use_journal;

static void journal_sink(enum log_level level, const char *text) {
        (void) sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", log_level_to_priority(level), "SYSLOG_IDENTIFIER=%s",
                               log_get_program(), NULL);
}

/* Whether stderr is the stream $JOURNAL_STREAM names. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

bool journal_setup(void) {
        use_journal = stderr_is_journal();
        if (use_journal)
                log_set_sink(journal_sink);
        else
                log_set_priority_prefix(true);
        return use_journal;
}

void log_guest(enum log_level level, const char *message_id, const char *guest_id, uid_t owner, const char *fmt, ...) {
        char raw[1024], text[TEXT_ESCAPE_SIZE(sizeof(raw))];
        va_list ap;

        if (level > log_get_max_level())
                return;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        if (!use_journal) {
                log_full_errno(level, 0, "%s", raw); /* escapes it */
                return;
        }
        /* As log_full_errno() does: the journal would keep a newline or
         * an escape sequence in MESSAGE=, and `journalctl -a` would show
         * it to whoever reads the log. */
        text_escape(text, sizeof(text), raw, strlen(raw), 0);
        if (message_id)
                (void) sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", log_level_to_priority(level), "SYSLOG_IDENTIFIER=%s",
                                       log_get_program(), "GUEST=%s", guest_id, "OWNER_UID=%u", (unsigned) owner, "MESSAGE_ID=%s",
                                       message_id, NULL);
        else
                (void) sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", log_level_to_priority(level), "SYSLOG_IDENTIFIER=%s",
                                       log_get_program(), "GUEST=%s", guest_id, "OWNER_UID=%u", (unsigned) owner, NULL);
}
