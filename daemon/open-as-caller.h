/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * open-as-caller.h: opening a user's files with the user's own rights,
 * without ever making guestd wait.
 *
 * guestd never opens a path a user named with root's authority: a child
 * process becomes the caller (uid, gid, groups), opens each file and
 * sends the fds back over a socket pair. The daemon's side is event
 * sources in its loop (the socket, the child's pidfd, a timer), so a file
 * on a FUSE or NFS mount that never answers holds up nobody but its own
 * request: when the timer runs out the request fails with
 * org.guestd1.Error.Timeout naming the file, and the child is killed.
 * A child the kernel cannot end yet (a task stuck in an uninterruptible
 * wait) stays an event source, reaped whenever it ends, never waited for;
 * opener_lingering() counts them per user so that one user cannot pile
 * them up.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "manager.h"

/* Our own errno-like code for "wrong file type" (no errno says it). */
#define EFTYPE_GUESTD 10000
/* And for a disk whose first sector says it is an image, not raw:
 * EIMAGE_GUESTD + its enum disk_format (disk-format.h). */
#define EIMAGE_GUESTD 10100
/* At most this many of one user's openers may linger (killed, not yet
 * ended) before their next Start is refused. */
#define OPENER_LINGERING_MAX 4
/* A CreateGuest is refused while this many opens of its caller's files
 * are under way, creates' and Starts' together: each is a child process
 * in guestd's care until it answers or its timeout ends it. (Starts are
 * bounded by the calls a user may have waiting, pending.h.) */
#define OPENER_WAITING_MAX 16

struct file_request {
        const char *what; /* "kernel", "initrd", "disk" */
        const char *path;
        int flags;        /* O_RDONLY or O_RDWR */
        bool block_ok;    /* a disk: a block device is fine, and its first sector must not
                           * say it is an image format (disk-format.h) */
};

/* The requests for a guest's files, in the order the launcher takes
 * them: the kernel and the initrd (boot_files; not for a resume, whose
 * snapshot takes their place), then the disks. Returns how many. */
size_t opener_guest_requests(const struct guest_config *c, bool boot_files, struct file_request ret[static 2 + GUEST_MAX_DISKS]);

/* Called exactly once unless the request is cancelled first. On success
 * r is 0 and the callee owns fds[0..n-1]; on failure r < 0, error says
 * why (for the user) and fds is NULL. */
typedef void (*opener_done_t)(int r, const sd_bus_error *error, int *fds, size_t n, void *userdata);

struct opener;
struct opener_pool; /* every opener of one daemon, lingering ones too */

int opener_pool_new(sd_event *event, struct opener_pool **ret);
/* Kills what still runs; does not wait for it. */
struct opener_pool *opener_pool_free(struct opener_pool *p);
/* Openers of uid that were killed and have not ended yet. */
unsigned opener_lingering(struct opener_pool *p, uid_t uid);
/* *pool, made at its first use, if uid may have one more opener: 0, or
 * org.guestd1.Error.LimitExceeded while uid has OPENER_LINGERING_MAX
 * killed ones that have not ended (their file systems do not answer);
 * doing: what guestd then does nothing more of ("creates", "starts"). */
int opener_pool_room(sd_event *event, struct opener_pool **pool, uid_t uid, const char *doing, sd_bus_error *error);
/* Openers of uid whose answer has not come yet (Starts and creates). */
unsigned opener_waiting(struct opener_pool *p, uid_t uid);

/* Starts opening req[0..n-1] as c; done is called from the event loop,
 * at the latest timeout_usec from now. Returns < 0 with error set if it
 * cannot even start. The paths are copied. */
int opener_start(struct opener_pool *p, const struct caller *c, const struct file_request *req, size_t n, uint64_t timeout_usec,
                 opener_done_t done, void *userdata, struct opener **ret, sd_bus_error *error);
/* done will not be called; the child is killed and reaped when it ends. */
void opener_cancel(struct opener *o);
/* destroy(userdata) is called instead of done if the pool is freed
 * before the answer came (guestd's end), so that whoever owns userdata
 * through done can free it. */
void opener_set_destroy(struct opener *o, void (*destroy)(void *userdata));

/* The user's sentence for a failed open of req (errno e). */
int opener_file_error(sd_bus_error *error, const struct file_request *req, int e);
