/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal.h: guestd's log as a host admin reads it (issue 11).
 *
 * Under systemd guestd's stderr is a stream to journald, which says so in
 * $JOURNAL_STREAM ("DEVICE:INODE" of that stream). There guestd speaks the
 * journal's native protocol (sd_journal_send()), so every line has its
 * priority (errors show in `journalctl -p err`), and the lines about a
 * guest carry fields: GUEST (its id), OWNER_UID, and for the events an
 * admin looks for a MESSAGE_ID: a guest started, stopped, crashed, killed
 * for a sandbox violation, a quota refusal. Anywhere else stderr carries
 * the line with its "<N>" priority prefix (sd-daemon(3)). Either way a
 * message is escaped text (text_escape(), util.h): one line, no controls,
 * whatever path or reason it names.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "log.h"

#define JOURNAL_MESSAGE_STARTED "fd243e715bc2479583c48e1feac634ec"
#define JOURNAL_MESSAGE_STOPPED "c209e5eef9014916b895707ca8ec2ab0"
#define JOURNAL_MESSAGE_CRASHED "358a0adf61d14242877ba20d07f0f314"
#define JOURNAL_MESSAGE_SANDBOX_VIOLATION "685b9222e3c14718a515dba09059fc2e"
#define JOURNAL_MESSAGE_QUOTA_REFUSED "efd6b357e3a445a3be93909a25215de2"

/* Chooses the journal or stderr with prefixes; returns whether the
 * journal is used. */
bool journal_setup(void);
/* A line about a guest, with its fields (message_id may be NULL). */
void log_guest(enum log_level level, const char *message_id, const char *guest_id, uid_t owner, const char *fmt, ...)
        _printf_(5, 6);
