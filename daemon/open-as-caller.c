/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "disk-format.h"
#include "fdpass.h"
#include "log.h"
#include "open-as-caller.h"
#include "util.h"

/* The socket's number in the child: the first after the standard streams. */
#define OPENER_CHILD_SOCK_FD 3

struct opener {
        struct opener_pool *pool;
        struct opener *next;
        uid_t uid;
        struct file_request *req; /* copies; paths owned */
        size_t n;
        int *fds;
        size_t received; /* answers so far: the first says the child is the caller */
        int sock;
        sd_event_source *sock_source, *child_source, *timer_source;
        opener_done_t done; /* NULL once called or cancelled */
        void (*destroy)(void *userdata); /* instead of done, at the pool's end */
        void *userdata;
        bool killed; /* finished before the child ended: it lingers */
};

struct opener_pool {
        sd_event *event;
        struct opener *all;
};

/* ------------------------------------------------------------ the child */

/* One result per packet: an int (0 or errno) and, if 0, the fd. */
static int send_result(int sock, int error, int fd) {
        ssize_t n = fdpass_send(sock, &error, sizeof(error), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, 0);
        return n < 0 ? (int) n : 0;
}

/* Opens path as the process is, the way a user's path must be opened:
 * no /proc magic link (/proc/PID/fd/N, /proc/self/root, /dev/fd/N, ...)
 * is followed. Such a link hands over whatever file the process it
 * names has open, whoever may read that file by name; a user names the
 * file itself. */
static int open_user_path(const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK),
                .resolve = RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

        return fd < 0 ? -errno : fd;
}

/* Keeps nothing of guestd's but the socket to it, at fd 3, and
 * /dev/null as its standard streams: whatever guestd holds at this
 * moment (another user's files while their Start waits, its journal
 * stream) must not be reachable through /proc/self/fd once this
 * process is the caller. Returns the socket's new number. */
static int keep_only(int sock) {
        int null;

        if (sock <= STDERR_FILENO)
                return -EBADF; /* guestd's standard streams are always open */
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                return -errno;
        for (int i = STDIN_FILENO; i <= STDERR_FILENO; i++)
                if (null != i && dup2(null, i) < 0)
                        return -errno;
        if (null > STDERR_FILENO)
                safe_close(null);
        if (sock != OPENER_CHILD_SOCK_FD) {
                if (dup2(sock, OPENER_CHILD_SOCK_FD) < 0)
                        return -errno;
                sock = OPENER_CHILD_SOCK_FD;
        }
        if (close_range(OPENER_CHILD_SOCK_FD + 1, ~0U, 0) < 0)
                return -errno;
        return sock;
}

/* A disk's first sector, read here, as the caller, within the opener's
 * timeout: read in guestd's loop, a file whose reads never answer (FUSE)
 * would stall guestd. 0, or the error to send. */
static int check_disk_contents(int fd) {
        enum disk_format f;
        int r = disk_format_probe(fd, &f);

        if (r < 0)
                return -r;
        return f == DISK_FORMAT_RAW ? 0 : EIMAGE_GUESTD + (int) f;
}

/* Becomes the caller, opens each file, sends the results. O_NONBLOCK so
 * that a FIFO cannot block the open; the type check then refuses anything
 * but a regular file (or a block device for a disk), and a disk's
 * contents must be raw (disk-format.h). */
_noreturn_ static void open_child(int sock, const struct caller *c, const struct file_request *req, size_t n) {
        sigset_t none;
        int r;

        /* Ends with guestd, once the kernel lets it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        r = keep_only(sock);
        if (r < 0) {
                (void) send_result(sock, -r, -EBADF);
                _exit(EXIT_FAILURE);
        }
        sock = r;
        if (setgroups(c->n_gids, c->gids) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 || setresuid(c->uid, c->uid, c->uid) < 0) {
                (void) send_result(sock, errno, -EBADF);
                _exit(EXIT_FAILURE);
        }
        (void) send_result(sock, 0, STDIN_FILENO); /* "I am the caller now" */
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                int fd = open_user_path(req[i].path, req[i].flags), error = 0;

                if (fd < 0)
                        error = -fd;
                else if (fstat(fd, &st) < 0)
                        error = errno;
                else if (!S_ISREG(st.st_mode) && !(req[i].block_ok && S_ISBLK(st.st_mode)))
                        error = EFTYPE_GUESTD;
                else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
                        error = errno;
                else if (req[i].block_ok)
                        error = check_disk_contents(fd);
                if (send_result(sock, error, error ? -EBADF : fd) < 0)
                        _exit(EXIT_FAILURE);
                safe_close(fd);
        }
        _exit(EXIT_SUCCESS);
}

/* ------------------------------------------------------------ the daemon's side */

/* 1: one result read; 0: nothing to read now; < 0: the stream is broken
 * (-ECONNRESET at its end). */
static int recv_result(int sock, int *ret_error, int *ret_fd) {
        int error = 0, fds[2], flags = 0;
        size_t n_fds = 0;
        ssize_t n;

        /* Room for one fd more than a result has, to see a packet with two. */
        n = fdpass_recv(sock, &error, sizeof(error), fds, ELEMENTSOF(fds), &n_fds, MSG_DONTWAIT, &flags);
        if (n == -EAGAIN)
                return 0;
        if (n < 0)
                return (int) n;
        if (n == 0) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return -ECONNRESET;
        }
        if ((size_t) n != sizeof(error) || n_fds > 1 || (error == 0) != (n_fds == 1) || (flags & (MSG_TRUNC | MSG_CTRUNC))) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return -EBADMSG;
        }
        *ret_error = error;
        *ret_fd = n_fds ? fds[0] : -EBADF;
        return 1;
}

int opener_file_error(sd_bus_error *error, const struct file_request *req, int e) {
        if (e == EACCES || e == EPERM)
                return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED,
                                         "You may not %s the %s %s (%s); guestd opens guest files with your own rights.",
                                         req->flags == O_RDWR ? "read and write" : "read", req->what, req->path, strerror(e));
        if (e == ENOENT || e == ENOTDIR)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "The %s %s does not exist.", req->what, req->path);
        if (e == ELOOP)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                         "The %s %s leads through a /proc magic link (such as /proc/PID/fd/N or /dev/fd/N) or a loop of "
                                         "symbolic links; guestd follows neither: name the file itself.",
                                         req->what, req->path);
        if (e == ENOSYS)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED,
                                         "Cannot open the %s %s safely: this kernel lacks openat2() (Linux 5.6 or later is needed).",
                                         req->what, req->path);
        if (e > EIMAGE_GUESTD && e < EIMAGE_GUESTD + _DISK_FORMAT_MAX)
                return disk_format_error(error, req->path, (enum disk_format) (e - EIMAGE_GUESTD));
        if (e == EFTYPE_GUESTD)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "The %s %s is not a regular file%s.", req->what,
                                         req->path, req->block_ok ? " or block device" : "");
        if (e == EROFS || e == ETXTBSY)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                         "The %s %s cannot be opened for writing (%s); set \"read_only\": true for it.", req->what,
                                         req->path, strerror(e));
        return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "Cannot open the %s %s: %s.", req->what, req->path, strerror(e));
}

static void opener_unlink(struct opener *o) {
        for (struct opener **p = &o->pool->all; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        return;
                }
}

static void opener_free(struct opener *o) {
        if (!o)
                return;
        opener_unlink(o);
        sd_event_source_disable_unref(o->sock_source);
        sd_event_source_disable_unref(o->timer_source);
        /* Only ever freed once the child has ended (or was never made). */
        sd_event_source_disable_unref(o->child_source);
        safe_close(o->sock);
        for (size_t i = 0; i < o->n; i++) {
                free((char *) o->req[i].path);
                if (o->fds)
                        safe_close(o->fds[i]);
        }
        free(o->req);
        free(o->fds);
        free(o);
}

/* No more answers are wanted: stop listening, and either free it (its
 * child has ended) or kill the child and let it linger until it ends. */
static void opener_finish(struct opener *o, bool child_ended) {
        o->done = NULL;
        o->sock_source = sd_event_source_disable_unref(o->sock_source);
        o->timer_source = sd_event_source_disable_unref(o->timer_source);
        o->sock = safe_close(o->sock);
        if (child_ended || !o->child_source) {
                opener_free(o);
                return;
        }
        /* A child that has sent everything exits by itself at once; one
         * that has not is killed. Either way it is reaped by its event
         * source, never waited for here. */
        if (o->received < o->n + 1)
                (void) sd_event_source_send_child_signal(o->child_source, SIGKILL, NULL, 0);
        o->killed = o->received < o->n + 1;
}

static void opener_fail(struct opener *o, const sd_bus_error *error, bool child_ended) {
        opener_done_t done = o->done;
        void *userdata = o->userdata;

        opener_finish(o, child_ended);
        done(-EIO, error, NULL, 0, userdata);
}

/* Reads every answer there is. Returns 1 when the request is settled
 * (done called), 0 to wait for more. */
static int opener_read(struct opener *o, bool child_ended) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        while (o->received < o->n + 1) {
                int e = 0, fd = -EBADF, r = recv_result(o->sock, &e, &fd);

                if (r == 0 && !child_ended)
                        return 0;
                if (r <= 0) {
                        const char *what = o->received == 0 ? "switching to your uid" : o->req[o->received - 1].what;
                        const char *path = o->received == 0 ? "" : o->req[o->received - 1].path;
                        sd_bus_error_setf(&error, GUESTD_ERROR_FAILED, "Opening the guest's files failed (%s%s%s): %s.", what,
                                          *path ? " " : "", path, r == 0 ? "the opening process ended early" : strerror(-r));
                        opener_fail(o, &error, child_ended);
                        return 1;
                }
                if (o->received == 0) {
                        safe_close(fd);
                        if (e != 0) {
                                sd_bus_error_setf(&error, GUESTD_ERROR_FAILED,
                                                  "Cannot switch to uid %u to open the guest's files: %s.", (unsigned) o->uid,
                                                  strerror(e));
                                opener_fail(o, &error, child_ended);
                                return 1;
                        }
                } else if (e != 0) {
                        opener_file_error(&error, &o->req[o->received - 1], e);
                        o->received++;
                        opener_fail(o, &error, child_ended);
                        return 1;
                } else
                        o->fds[o->received - 1] = fd;
                o->received++;
        }

        /* Everything is here: hand the fds over. */
        {
                opener_done_t done = o->done;
                void *userdata = o->userdata;
                int *fds = TAKE_PTR(o->fds);
                size_t n = o->n;

                opener_finish(o, child_ended);
                done(0, NULL, fds, n, userdata);
                free(fds);
        }
        return 1;
}

static int on_sock(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) opener_read(userdata, false);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct opener *o = userdata;

        if (!o->done) {
                /* Settled earlier; its child has ended now. */
                if (o->killed)
                        log_debug("An opener of uid %u ended after it was killed", (unsigned) o->uid);
                opener_free(o);
                return 0;
        }
        /* Whatever it sent before it ended is still in the socket. */
        (void) opener_read(o, true);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct opener *o = userdata;
        uint64_t timeout;

        /* Answers may have come in the same iteration. */
        if (opener_read(o, false) > 0)
                return 0;
        (void) sd_event_source_get_time(s, &timeout);
        if (o->received == 0)
                sd_bus_error_setf(&error, GUESTD_ERROR_TIMEOUT, "Switching to uid %u to open the guest's files did not finish in time.",
                                  (unsigned) o->uid);
        else {
                const struct file_request *req = &o->req[o->received - 1];
                sd_bus_error_setf(&error, GUESTD_ERROR_TIMEOUT,
                                  "Opening the %s %s did not finish in time: its file system does not answer. Nothing was started.",
                                  req->what, req->path);
        }
        log_warning("uid %u: %s", (unsigned) o->uid, error.message);
        opener_fail(o, &error, false);
        return 0;
}

int opener_start(struct opener_pool *p, const struct caller *c, const struct file_request *req, size_t n, uint64_t timeout_usec,
                 opener_done_t done, void *userdata, struct opener **ret, sd_bus_error *error) {
        struct opener *o;
        int pair[2], pidfd = -EBADF, r;
        pid_t pid;

        o = calloc(1, sizeof(*o));
        if (!o)
                return sd_bus_error_set_errno(error, ENOMEM);
        o->pool = p;
        o->uid = c->uid;
        o->sock = -EBADF;
        o->done = done;
        o->userdata = userdata;
        o->req = calloc(n ? n : 1, sizeof(*o->req));
        o->fds = calloc(n ? n : 1, sizeof(int));
        if (!o->req || !o->fds) {
                opener_free(o);
                return sd_bus_error_set_errno(error, ENOMEM);
        }
        for (size_t i = 0; i < n; i++) {
                o->fds[i] = -EBADF;
                o->req[i] = req[i];
                o->req[i].path = strdup(req[i].path);
                o->n = i + 1;
                if (!o->req[i].path) {
                        opener_free(o);
                        return sd_bus_error_set_errno(error, ENOMEM);
                }
        }
        o->next = p->all;
        p->all = o;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Cannot make a socket pair: %m");
                opener_free(o);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Cannot fork: %m");
                safe_close(pair[0]);
                safe_close(pair[1]);
                opener_free(o);
                return r;
        }
        if (pid == 0) {
                safe_close(pair[0]);
                open_child(pair[1], c, o->req, o->n);
        }
        safe_close(pair[1]);
        o->sock = pair[0];
        /* Our own child, not yet waited for: the pid cannot be reused
         * before pidfd_open(). */
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Cannot follow the opening process: %m");
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0); /* SIGKILLed before it did anything: ends at once */
                opener_free(o);
                return r;
        }
        r = sd_event_add_child_pidfd(p->event, &o->child_source, pidfd, WEXITED, on_child, o);
        if (r < 0) {
                (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, pidfd, &(siginfo_t) {}, WEXITED);
                safe_close(pidfd);
                opener_free(o);
                return sd_bus_error_set_errnof(error, -r, "Cannot watch the opening process: %s", strerror(-r));
        }
        (void) sd_event_source_set_child_pidfd_own(o->child_source, true);
        r = sd_event_add_io(p->event, &o->sock_source, o->sock, EPOLLIN, on_sock, o);
        if (r >= 0)
                r = sd_event_add_time_relative(p->event, &o->timer_source, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, o);
        if (r < 0) {
                o->done = NULL;
                opener_finish(o, false);
                return sd_bus_error_set_errnof(error, -r, "Cannot watch the opening process: %s", strerror(-r));
        }
        if (ret)
                *ret = o;
        return 0;
}

void opener_cancel(struct opener *o) {
        if (o && o->done)
                opener_finish(o, false);
}

void opener_set_destroy(struct opener *o, void (*destroy)(void *userdata)) {
        o->destroy = destroy;
}

unsigned opener_waiting(struct opener_pool *p, uid_t uid) {
        unsigned n = 0;

        for (struct opener *o = p->all; o; o = o->next)
                if (o->done && o->uid == uid)
                        n++;
        return n;
}

unsigned opener_lingering(struct opener_pool *p, uid_t uid) {
        unsigned n = 0;

        for (struct opener *o = p->all; o; o = o->next)
                if (o->killed && o->uid == uid)
                        n++;
        return n;
}

int opener_pool_new(sd_event *event, struct opener_pool **ret) {
        struct opener_pool *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        *ret = p;
        return 0;
}

struct opener_pool *opener_pool_free(struct opener_pool *p) {
        if (!p)
                return NULL;
        while (p->all) {
                struct opener *o = p->all;
                if (o->child_source)
                        (void) sd_event_source_send_child_signal(o->child_source, SIGKILL, NULL, 0);
                /* Not waited for: an unkillable child is left to init. */
                if (o->done && o->destroy)
                        o->destroy(o->userdata);
                o->done = NULL;
                opener_free(o);
        }
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

int opener_pool_room(sd_event *event, struct opener_pool **pool, uid_t uid, const char *doing, sd_bus_error *error) {
        unsigned n;
        int r;

        if (!*pool) {
                r = opener_pool_new(event, pool);
                if (r < 0)
                        return sd_bus_error_set_errno(error, -r);
        }
        n = opener_lingering(*pool, uid);
        if (n >= OPENER_LINGERING_MAX)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "%u earlier opens of your files have not ended yet (their file systems do not answer); "
                                         "guestd %s nothing more of yours until they do.",
                                         n, doing);
        return 0;
}

size_t opener_guest_requests(const struct guest_config *c, bool boot_files, struct file_request ret[static 2 + GUEST_MAX_DISKS]) {
        size_t n = 0;

        if (boot_files) {
                ret[n++] = (struct file_request) { .what = "kernel", .path = c->kernel, .flags = O_RDONLY };
                if (c->initrd)
                        ret[n++] = (struct file_request) { .what = "initrd", .path = c->initrd, .flags = O_RDONLY };
        }
        for (size_t i = 0; i < c->n_disks; i++)
                ret[n++] = (struct file_request) {
                        .what = "disk",
                        .path = c->disks[i].path,
                        .flags = c->disks[i].read_only ? O_RDONLY : O_RDWR,
                        .block_ok = true,
                };
        return n;
}
