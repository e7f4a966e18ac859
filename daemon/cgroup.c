/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup.c: see cgroup.h. */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "util.h"

#define DAEMON_LEAF "guestd-daemon"
#define GUESTS_DIR "guestd-guests"

struct cgroups {
        char *base;      /* .../guestd-guests, under the mount */
        char *base_path; /* the same as /proc/PID/cgroup names it */
        int base_fd;
        bool pids; /* the pids controller is handed down too */
};

/* Reads a small file below dir_fd into buf (NUL-terminated). */
static int read_small(int dir_fd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t have;

        if (fd < 0)
                return -errno;
        have = read_up_to(fd, buf, size - 1);
        if (have < 0)
                return (int) have;
        buf[have] = 0;
        return (int) have;
}

static int write_small(int dir_fd, const char *name, const char *text) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return -errno;
        return loop_write(fd, text, strlen(text));
}

/* Whether the space-separated list has word. */
static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

/* Hands a controller ("memory", "pids") from dir_fd's cgroup to its
 * children. */
static int enable_controller(int dir_fd, const char *name) {
        char buf[512], word[16];
        int r;

        r = read_small(dir_fd, "cgroup.subtree_control", buf, sizeof(buf));
        if (r >= 0 && has_word(buf, name))
                return 0;
        r = read_small(dir_fd, "cgroup.controllers", buf, sizeof(buf));
        if (r < 0)
                return r;
        if (!has_word(buf, name))
                return -EOPNOTSUPP;
        snprintf(word, sizeof(word), "+%s", name);
        return write_small(dir_fd, "cgroup.subtree_control", word);
}

/* Whether path has ".." for a component: the kernel's way of naming a
 * cgroup outside the reader's cgroup namespace. */
static bool path_goes_up(const char *path) {
        for (const char *p = path; (p = strstr(p, "/..")); p += 3)
                if (p[3] == 0 || p[3] == '/')
                        return true;
        return false;
}

int cgroup_parse_proc(const char *text, char **ret) {
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                size_t len;
                char *path;

                if (strncmp(p, "0::", 3) != 0)
                        continue;
                len = strcspn(p + 3, "\n");
                if (len == 0 || p[3] != '/')
                        return -ENOENT;
                path = strndup(p + 3, len);
                if (!path)
                        return -ENOMEM;
                if (path_goes_up(path)) {
                        free(path);
                        return -ENOENT;
                }
                *ret = path;
                return 0;
        }
        return -ENOENT;
}

int cgroup_pid_get_path(pid_t pid, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        char file[64], buf[8192];
        ssize_t have;

        if (pid == 0)
                snprintf(file, sizeof(file), "/proc/self/cgroup");
        else
                snprintf(file, sizeof(file), "/proc/%d/cgroup", (int) pid);
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        have = read_up_to(fd, buf, sizeof(buf) - 1);
        if (have < 0)
                return (int) have;
        buf[have] = 0;
        return cgroup_parse_proc(buf, ret);
}

bool cgroups_layout_exists(const char *root) {
        _cleanup_free_ char *own = NULL, *guests = NULL;
        char *slash;

        if (cgroup_pid_get_path(0, &own) < 0)
                return false;
        slash = strrchr(own, '/');
        if (slash && strcmp(slash + 1, DAEMON_LEAF) == 0)
                return true;
        if (strcmp(own, "/") == 0)
                own[0] = 0;
        if (asprintf(&guests, "%s%s/" GUESTS_DIR, root, own) < 0)
                return false;
        return access(guests, F_OK) == 0;
}

void cgroups_setup(const char *root, struct cgroups **ret, char **ret_why) {
        _cleanup_free_ char *own = NULL, *top = NULL;
        _cleanup_close_ int top_fd = -EBADF, base_fd = -EBADF;
        struct cgroups *c = NULL;
        struct statfs sfs;
        const char *step;
        char *slash, pid[32];
        int r;

        *ret = NULL;
        *ret_why = NULL;
        if (statfs(root, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                if (asprintf(ret_why, "%s is not a cgroup v2 file system", root) < 0)
                        *ret_why = NULL;
                return;
        }
        step = "cannot read /proc/self/cgroup";
        r = cgroup_pid_get_path(0, &own);
        if (r < 0)
                goto fail;
        /* Restarted: we are in C/guestd-daemon already. */
        slash = strrchr(own, '/');
        if (slash && strcmp(slash + 1, DAEMON_LEAF) == 0)
                *slash = 0;
        if (strcmp(own, "/") == 0)
                own[0] = 0; /* the root cgroup */
        if (asprintf(&top, "%s%s", root, own) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        step = top;
        top_fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (top_fd < 0) {
                r = -errno;
                goto fail;
        }
        if (own[0] != 0) {
                /* Not the root cgroup: guestd moves to a leaf of its own
                 * first, or C could not hand controllers down. */
                step = "cannot move guestd into " DAEMON_LEAF;
                if (mkdirat(top_fd, DAEMON_LEAF, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        goto fail;
                }
                snprintf(pid, sizeof(pid), "%d", (int) getpid());
                r = write_small(top_fd, DAEMON_LEAF "/cgroup.procs", pid);
                if (r < 0)
                        goto fail;
        }
        step = "cannot enable the memory controller";
        r = enable_controller(top_fd, "memory");
        if (r < 0)
                goto fail;
        step = "cannot make " GUESTS_DIR;
        if (mkdirat(top_fd, GUESTS_DIR, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                goto fail;
        }
        base_fd = openat(top_fd, GUESTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (base_fd < 0) {
                r = -errno;
                goto fail;
        }
        step = "cannot enable the memory controller in " GUESTS_DIR;
        r = enable_controller(base_fd, "memory");
        if (r < 0)
                goto fail;
        c = calloc(1, sizeof(*c));
        if (!c || asprintf(&c->base, "%s/%s", top, GUESTS_DIR) < 0 || asprintf(&c->base_path, "%s/%s", own, GUESTS_DIR) < 0) {
                if (c)
                        free(c->base);
                free(c);
                r = -ENOMEM;
                goto fail;
        }
        /* The pids controller bounds the launcher's tasks in its cgroup as
         * well as RLIMIT_NPROC does per uid; where it cannot be had the
         * rlimit stays alone (cgroups_have_pids() says so). */
        c->pids = enable_controller(top_fd, "pids") >= 0 && enable_controller(base_fd, "pids") >= 0;
        c->base_fd = TAKE_FD(base_fd);
        *ret = c;
        return;
fail:
        if (asprintf(ret_why, "%s: %s", step, strerror(-r)) < 0)
                *ret_why = NULL;
}

struct cgroups *cgroups_free(struct cgroups *c) {
        if (c) {
                safe_close(c->base_fd);
                free(c->base);
                free(c->base_path);
                free(c);
        }
        return NULL;
}

const char *cgroups_base(const struct cgroups *c) {
        return c ? c->base : NULL;
}

bool cgroups_have_pids(const struct cgroups *c) {
        return c && c->pids;
}

int cgroups_guest_attach(struct cgroups *c, const char *id, pid_t pid, uint64_t memory_max, uint64_t pids_max) {
        _cleanup_close_ int fd = -EBADF;
        char text[32];
        int r;

        if (!c)
                return -ENOENT;
        if (mkdirat(c->base_fd, id, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(c->base_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (memory_max > 0) {
                snprintf(text, sizeof(text), "%" PRIu64, memory_max);
                r = write_small(fd, "memory.max", text);
                if (r < 0)
                        return r;
        }
        if (c->pids && pids_max > 0) {
                snprintf(text, sizeof(text), "%" PRIu64, pids_max);
                r = write_small(fd, "pids.max", text);
                if (r < 0)
                        return r;
        }
        snprintf(text, sizeof(text), "%d", (int) pid);
        return write_small(fd, "cgroup.procs", text);
}

int memory_stat_get(const char *text, const char *key, uint64_t *ret) {
        size_t n = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, key, n) == 0 && p[n] == ' ') {
                        char value[32];
                        size_t len = strcspn(p + n + 1, "\n");
                        if (len == 0 || len >= sizeof(value))
                                return -EBADMSG;
                        memcpy(value, p + n + 1, len);
                        value[len] = 0;
                        return safe_atou64(value, ret) < 0 ? -EBADMSG : 0;
                }
        return -ENOENT;
}

int cgroup_page_tables(const char *root, const char *path, uint64_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *dir = NULL, *buf = NULL;
        int r;

        if (!path || path[0] != '/' || path_goes_up(path))
                return -ENOENT;
        if (asprintf(&dir, "%s%s", root, path) < 0)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        buf = malloc(16384);
        if (!buf)
                return -ENOMEM;
        r = read_small(fd, "memory.stat", buf, 16384);
        if (r < 0)
                return r;
        return memory_stat_get(buf, "sec_pagetables", ret);
}

bool cgroups_guest_path_is_own(const struct cgroups *c, const char *id, const char *path) {
        size_t n;

        if (!c || !path)
                return false;
        n = strlen(c->base_path);
        return strncmp(path, c->base_path, n) == 0 && path[n] == '/' && strcmp(path + n + 1, id) == 0;
}

int cgroups_guest_remove(struct cgroups *c, const char *id) {
        if (!c)
                return 0;
        if (unlinkat(c->base_fd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int meminfo_sec_page_tables(const char *path, uint64_t *ret) {
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");
        int r = -ENOENT;

        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0) {
                unsigned long long kib;
                if (sscanf(line, "SecPageTables: %llu kB", &kib) == 1) {
                        *ret = (uint64_t) kib * 1024;
                        r = 0;
                        break;
                }
        }
        fclose(f);
        return r;
}
