/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshots.c: see snapshots.h. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "snapshot.h"
#include "snapshots.h"
#include "util.h"

#define SUFFIX ".snap"
#define SUFFIX_NEW ".snap.new"

static char *file_name(const struct guest *g, const char *suffix) {
        char *s;

        if (asprintf(&s, "%s%s", g->id, suffix) < 0)
                return NULL;
        return s;
}

int snapshots_create_new(int dir_fd, const struct guest *g) {
        _cleanup_free_ char *name = file_name(g, SUFFIX_NEW);
        int fd;

        if (!name)
                return -ENOMEM;
        fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        return fd < 0 ? -errno : fd;
}

int snapshots_open_new(int dir_fd, const struct guest *g) {
        _cleanup_free_ char *name = file_name(g, SUFFIX_NEW);
        int fd;

        if (!name)
                return -ENOMEM;
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

/* Checks that fd holds a whole snapshot of g's machine. */
static int check(int fd, const struct guest *g, char **ret_error) {
        struct snapshot s;
        int r;

        r = snapshot_open(fd, &s, ret_error);
        if (r < 0) {
                if (!*ret_error)
                        *ret_error = strdup(strerror(-r));
                return r;
        }
        if (s.header.memory_size != g->config.memory_mib * MiB) {
                if (asprintf(ret_error, "the snapshot holds %" PRIu64 " MiB of RAM, the guest has %" PRIu64,
                             s.header.memory_size / MiB, g->config.memory_mib) < 0)
                        *ret_error = NULL;
                r = -EBADMSG;
        }
        snapshot_close(&s);
        return r;
}

static int allocated_bytes(int fd, uint64_t *ret) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        *ret = (uint64_t) st.st_blocks * 512;
        return 0;
}

int snapshots_commit(int dir_fd, const struct guest *g, uint64_t *ret_bytes, char **ret_error) {
        _cleanup_free_ char *name = file_name(g, SUFFIX), *name_new = file_name(g, SUFFIX_NEW);
        _cleanup_close_ int fd = -EBADF;
        int r;

        *ret_error = NULL;
        if (!name || !name_new)
                return -ENOMEM;
        fd = openat(dir_fd, name_new, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0 && errno == ENOENT) {
                /* Renamed already: killed between the rename and the record. */
                fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (fd < 0) {
                        r = -errno;
                        *ret_error = strdup(r == -ENOENT ? "the launcher wrote no snapshot" : strerror(-r));
                        return r;
                }
                r = check(fd, g, ret_error);
                return r < 0 ? r : allocated_bytes(fd, ret_bytes);
        }
        if (fd < 0) {
                r = -errno;
                *ret_error = strdup(strerror(-r));
                return r;
        }
        /* The launcher fdatasync()ed it; a launcher killed on the way may
         * not have: the data first, then the check, then the name. */
        if (fsync(fd) < 0) {
                r = -errno;
                if (asprintf(ret_error, "cannot put the snapshot on stable storage: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = check(fd, g, ret_error);
        if (r < 0)
                return r;
        if (renameat(dir_fd, name_new, dir_fd, name) < 0 || fsync(dir_fd) < 0) {
                r = -errno;
                if (asprintf(ret_error, "cannot put the snapshot in place: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return allocated_bytes(fd, ret_bytes);
}

int snapshots_open(int dir_fd, const struct guest *g, int *ret_fd, char **ret_error) {
        _cleanup_free_ char *name = file_name(g, SUFFIX);
        _cleanup_close_ int fd = -EBADF;
        int r;

        *ret_error = NULL;
        if (!name)
                return -ENOMEM;
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                *ret_error = strdup(r == -ENOENT ? "its snapshot file is missing" : strerror(-r));
                return r;
        }
        r = check(fd, g, ret_error);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int remove_files(int dir_fd, const struct guest *g, bool committed_too) {
        _cleanup_free_ char *name = file_name(g, SUFFIX), *name_new = file_name(g, SUFFIX_NEW);
        int r = 0;

        if (!name || !name_new)
                return -ENOMEM;
        if (unlinkat(dir_fd, name_new, 0) < 0 && errno != ENOENT)
                r = log_error_errno(-errno, "Cannot remove %s: %m", name_new);
        if (committed_too && unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                r = log_error_errno(-errno, "Cannot remove %s: %m", name);
        if (fsync(dir_fd) < 0 && r >= 0)
                r = -errno;
        return r;
}

int snapshots_remove_new(int dir_fd, const struct guest *g) {
        return remove_files(dir_fd, g, false);
}

int snapshots_remove(int dir_fd, const struct guest *g) {
        return remove_files(dir_fd, g, true);
}

static bool needed(const char *file, struct guest *const *guests, size_t n_guests) {
        for (size_t i = 0; i < n_guests; i++) {
                const struct guest *g = guests[i];
                size_t n = strlen(g->id);

                if (strncmp(file, g->id, n) != 0)
                        continue;
                if (strcmp(file + n, SUFFIX) == 0)
                        return g->state == GUEST_SUSPENDED || (g->state == GUEST_STARTING && g->resuming);
                if (strcmp(file + n, SUFFIX_NEW) == 0)
                        return g->state == GUEST_SUSPENDING;
        }
        return false;
}

void snapshots_clean(int dir_fd, struct guest *const *guests, size_t n_guests) {
        _cleanup_close_ int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        bool removed = false;
        DIR *d;

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d)
                return;
        fd = -EBADF; /* the DIR owns it */
        rewinddir(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || needed(de->d_name, guests, n_guests))
                        continue;
                log_info("Removing snapshot file %s: no guest needs it", de->d_name);
                if (unlinkat(dir_fd, de->d_name, 0) < 0)
                        log_warning_errno(-errno, "Cannot remove snapshot file %s: %m", de->d_name);
                else
                        removed = true;
        }
        closedir(d);
        if (removed)
                (void) fsync(dir_fd);
}
