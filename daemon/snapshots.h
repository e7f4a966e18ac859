/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshots.h: where suspended guests live: state-dir/snapshots/, root's
 * and mode 0700, so that a snapshot (which holds the guest's memory) is
 * read by nobody but guestd and the launcher it hands the fd to.
 *
 * A guest has at most two files there: "<id>.snap.new", being written
 * by its launcher during a suspend, and "<id>.snap", the committed
 * snapshot of a suspended guest (kept while it resumes, until the resumed
 * guest runs). Commit is the crash-safe step between them: fsync the new
 * file, check it (header, records and checksums, common/snapshot.h),
 * rename it into place, fsync the directory. Whatever moment guestd or the
 * launcher is killed at, the files and the guest's record together say
 * either "running" or "suspended with a valid snapshot" (supervise.c).
 */
#pragma once

#include <stdint.h>

#include "guest.h"

/* dir_fd: state-dir/snapshots (manager.c makes it). */

/* A new, empty "<id>.snap.new" for the launcher to write (read-write). */
int snapshots_create_new(int dir_fd, const struct guest *g);
/* The same file, read-only (to ask whether anything still writes it). */
int snapshots_open_new(int dir_fd, const struct guest *g);
/* Commits g's new snapshot (see above). If there is no new file but a
 * committed one (guestd was killed after the rename), checks that one.
 * Returns 0 and the blocks the snapshot takes, in bytes; or -errno and
 * a sentence (caller frees): -ENOENT none, -EBADMSG / -EPROTONOSUPPORT
 * not a usable snapshot of this guest. */
int snapshots_commit(int dir_fd, const struct guest *g, uint64_t *ret_bytes, char **ret_error);
/* Opens g's committed snapshot read-only for a resume, checked as in
 * commit; the same errors. */
int snapshots_open(int dir_fd, const struct guest *g, int *ret_fd, char **ret_error);
/* Removes g's new file only, or both. Both are durable (directory
 * fsynced) when this returns 0. */
int snapshots_remove_new(int dir_fd, const struct guest *g);
int snapshots_remove(int dir_fd, const struct guest *g);
/* At start-up, once every record is loaded and every launcher found
 * again: removes each file no guest needs (a committed snapshot needs a
 * suspended or resuming guest; a new one a suspending guest). */
void snapshots_clean(int dir_fd, struct guest *const *guests, size_t n_guests);
