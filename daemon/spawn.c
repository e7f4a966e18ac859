/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spawn.c: see spawn.h. */
#include <cap-ng.h>
#include <dirent.h>
#include <inttypes.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "budget.h"
#include "launcher-fsize.h"
#include "cgroup.h"
#include "log.h"
#include "snapshot.h"
#include "spawn.h"

/* ------------------------------------------------------------ launcher uid and sockets */

/* Calls fn for each live process (zombies hold nothing) that runs under
 * a uid of the launchers' range, by any of its uids. */
static int launcher_processes(struct manager *m, void (*fn)(struct manager *m, pid_t pid, uid_t uid, void *userdata), void *userdata) {
        DIR *proc = opendir("/proc");
        struct dirent *de;

        if (!proc)
                return -errno;
        while ((de = readdir(proc))) {
                char path[64], line[256];
                FILE *f;
                uint64_t pid;
                unsigned uids[4];
                bool zombie = false, have_uids = false;

                if (safe_atou64(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                        continue;
                snprintf(path, sizeof(path), "/proc/%" PRIu64 "/status", pid);
                f = fopen(path, "re");
                if (!f)
                        continue; /* it ended meanwhile */
                while (fgets(line, sizeof(line), f)) {
                        if (strncmp(line, "State:", 6) == 0)
                                zombie = strchr(line, 'Z') != NULL;
                        else if (sscanf(line, "Uid: %u %u %u %u", &uids[0], &uids[1], &uids[2], &uids[3]) == 4) {
                                have_uids = true;
                                break; /* State comes before Uid */
                        }
                }
                fclose(f);
                if (!have_uids || zombie)
                        continue;
                for (int i = 0; i < 4; i++)
                        if (uids[i] >= m->launcher_uid_first && uids[i] <= m->launcher_uid_last) {
                                fn(m, (pid_t) pid, (uid_t) uids[i], userdata);
                                break;
                        }
        }
        closedir(proc);
        return 0;
}

static void mark_in_use(struct manager *m, pid_t pid, uid_t uid, void *userdata) {
        bool *in_use = userdata;

        in_use[uid - m->launcher_uid_first] = true;
}

/* Each running launcher has a uid of its own, so no launcher can signal
 * or ptrace another, and the guest's owner cannot touch its launcher.
 * The uids go round the range rather than lowest first: a launcher that
 * has just ended may linger a moment as a zombie under its uid (once
 * guestd restarted, its old launchers are PID 1's to reap), and a fresh
 * launcher should not share a uid, or its process count, with it. A uid
 * under which any process still runs is never handed out, whether or not
 * a guest record accounts for it (a launcher whose record could not be
 * loaded runs on: launcher_uids_report_unaccounted()). */
int launcher_uid_pick(struct manager *m, uid_t *ret) {
        uint64_t n = (uint64_t) m->launcher_uid_last - m->launcher_uid_first + 1;
        _cleanup_free_ bool *in_use = calloc(n, sizeof(bool));
        int r;

        if (!in_use)
                return -ENOMEM;
        r = launcher_processes(m, mark_in_use, in_use);
        if (r < 0)
                return log_error_errno(r, "Cannot list the processes (/proc) to find a free launcher uid: %m");
        for (uint64_t k = 0; k < n; k++) {
                uid_t u = (uid_t) (m->launcher_uid_first + (m->launcher_uid_cursor + k) % n);
                bool used = in_use[u - m->launcher_uid_first];
                for (size_t i = 0; i < m->n_guests && !used; i++) {
                        const struct guest *g = m->guests[i];
                        /* A launcher waiting for its "setup" has its uid too. */
                        used = (g->launcher_pid > 0 && g->launcher_uid == u) || (g->start_pid > 0 && g->launcher_uid == u);
                }
                if (!used) {
                        m->launcher_uid_cursor = (m->launcher_uid_cursor + k + 1) % n;
                        *ret = u;
                        return 0;
                }
        }
        return -EUSERS;
}

static void report_unaccounted(struct manager *m, pid_t pid, uid_t uid, void *userdata) {
        unsigned *n = userdata;

        for (size_t i = 0; i < m->n_guests; i++) {
                const struct guest *g = m->guests[i];
                if ((g->launcher_pid == pid && g->launcher_uid == uid) || (g->start_pid > 0 && g->start_pid == pid))
                        return;
        }
        (*n)++;
        log_error("Process %d runs as launcher uid %u but belongs to no guest guestd could load (its record is missing, "
                  "unreadable or invalid: see above): nobody's quota accounts for it, and no launcher starts under uid %u "
                  "while it runs. Find its guest by its console or its handle, then end it (kill %d).",
                  (int) pid, (unsigned) uid, (unsigned) uid, (int) pid);
}

unsigned launcher_uids_report_unaccounted(struct manager *m) {
        unsigned n = 0;
        int r = launcher_processes(m, report_unaccounted, &n);

        if (r < 0)
                log_error_errno(r, "Cannot list the processes (/proc) to find launchers no guest accounts for: %m");
        return n;
}

/* runtime-dir/launchers/<id>.sock, reached through /proc/self/fd so that
 * the path fits sockaddr_un's 108 bytes whatever the runtime directory. */
int launcher_socket_address(struct manager *m, struct guest *g, int dir_fd, struct sockaddr_un *ret, socklen_t *ret_len) {
        int n;

        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        n = snprintf(ret->sun_path, sizeof(ret->sun_path), "/proc/self/fd/%d/%s.sock", dir_fd, g->id);
        if (n < 0 || (size_t) n >= sizeof(ret->sun_path))
                return -ENAMETOOLONG;
        *ret_len = offsetof(struct sockaddr_un, sun_path) + n + 1;
        return 0;
}

int launchers_dir_open(struct manager *m) {
        int fd = open(m->launchers_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

void unlink_launcher_socket(struct manager *m, struct guest *g) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s.sock", m->launchers_dir, g->id) >= 0)
                (void) unlink(path);
}

int launcher_listen_socket(struct manager *m, struct guest *g) {
        _cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        dir_fd = launchers_dir_open(m);
        if (dir_fd < 0)
                return dir_fd;
        r = launcher_socket_address(m, g, dir_fd, &sa, &len);
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.sock", g->id) < 0)
                return -ENOMEM;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A stale socket from a launcher that is gone (its guest is not
         * active, or we would not be starting it). */
        (void) unlinkat(dir_fd, name, 0);
        if (bind(fd, (struct sockaddr *) &sa, len) < 0)
                return -errno;
        /* Only root (the daemon) connects; the launcher merely accepts on
         * the fd it was given. */
        if (fchmodat(dir_fd, name, 0600, 0) < 0 || listen(fd, 4) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* ------------------------------------------------------------ spawning */

struct spawn_failure {
        int error;
        char step[48];
};

/* What the launcher may use, from the guest's size: address space for
 * guest RAM plus the launcher itself and a stack per thread; an fd for each
 * vCPU, file and socket it holds, with room; its vCPU threads, the main
 * thread and nothing more (the count is per uid, and the uid is the
 * launcher's alone); no core file; no file larger than fsize (see
 * launcher_file_size_limit()). */
/* The launcher's cgroup's memory.max: what RLIMIT_AS allows it to map,
 * and KVM's page tables for the guest at their default cap (KVM charges
 * them to the launcher's cgroup too). */
uint64_t launcher_memory_max(const struct guest_config *c) {
        return c->memory_mib * MiB + LAUNCHER_AS_MARGIN_MIB * MiB + (uint64_t) c->vcpus * LAUNCHER_AS_PER_VCPU_MIB * MiB +
               budget_kvm_default_pages(c->memory_mib * MiB) * BUDGET_PAGE_SIZE;
}

/* Its tasks: the vCPU threads, the main thread and a few more; the
 * cgroup's pids.max and RLIMIT_NPROC alike. */
uint64_t launcher_tasks_max(const struct guest_config *c) {
        return c->vcpus + LAUNCHER_NPROC_MARGIN;
}

#define LAUNCHER_N_LIMITS 5
static void launcher_limits(const struct guest_config *c, uint64_t fsize, struct rlimit ret[static LAUNCHER_N_LIMITS],
                            int resources[static LAUNCHER_N_LIMITS]) {
        uint64_t as = c->memory_mib * MiB + LAUNCHER_AS_MARGIN_MIB * MiB + (uint64_t) c->vcpus * LAUNCHER_AS_PER_VCPU_MIB * MiB;

        resources[0] = RLIMIT_AS;
        ret[0] = (struct rlimit) { as, as };
        resources[1] = RLIMIT_NOFILE;
        ret[1] = (struct rlimit) { 64 + 2 * c->vcpus, 64 + 2 * c->vcpus };
        resources[2] = RLIMIT_NPROC;
        ret[2] = (struct rlimit) { launcher_tasks_max(c), launcher_tasks_max(c) };
        resources[3] = RLIMIT_CORE;
        ret[3] = (struct rlimit) { 0, 0 };
        resources[4] = RLIMIT_FSIZE;
        ret[4] = (struct rlimit) { fsize, fsize };
}

/* RLIMIT_FSIZE for the launcher, soft and hard, from its start: what the
 * files it writes need. The limit is per process: the guest's disks are
 * written by the same process, so it is at least the largest writable
 * disk file (a launcher never writes past a disk's size; block devices
 * are not subject to it); its RAM's memfd is as large as the RAM; and it
 * is at least the snapshot's reserve, down to which guestd lowers the
 * soft limit while a snapshot is written (launcher-fsize.h: that, not
 * this, is what bounds the snapshot, whatever the disks look like). */
uint64_t launcher_file_size_limit(const struct guest_config *c, const int *disk_fds) {
        uint64_t limit = MAX(launcher_fsize_snapshot(c), c->memory_mib * MiB);

        for (size_t i = 0; i < c->n_disks; i++) {
                struct stat st;
                if (!c->disks[i].read_only && fstat(disk_fds[i], &st) >= 0 && S_ISREG(st.st_mode))
                        limit = MAX(limit, (uint64_t) st.st_size);
        }
        return limit;
}

/* The child between clone and exec: it becomes the sandbox, step by step,
 * while it still has the privileges each step needs, and then executes the
 * launcher from an fd (the launcher is a static binary: the empty root
 * has no dynamic loader). Runs in a fresh PID namespace as its PID 1, in
 * fresh mount, IPC, UTS, network and cgroup namespaces. */
/* The steps of launcher_child() below: each answers NULL, or the step
 * that failed with errno set. */

/* An empty root. Nothing we mount may leak back to the host, then a
 * read-only, empty tmpfs becomes / and the host's tree is detached: the
 * launcher can name no file at all. */
static const char *child_empty_root(const char *sandbox_dir) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return "make mounts private";
        if (mount("guestd-empty", sandbox_dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=1,mode=0555") < 0)
                return "mount the empty root";
        if (chdir(sandbox_dir) < 0)
                return "chdir to the empty root";
        /* pivot_root(".", "."): the old root ends up on top of the new one,
         * from where the detach takes it away. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return "pivot_root";
        if (umount2(".", MNT_DETACH) < 0)
                return "detach the old root";
        if (chdir("/") < 0)
                return "chdir /";
        return NULL;
}

/* stdout and stderr: the log pipe guestd reads (launcher-log.h); the
 * control socket as fd 3, the only fd the launcher inherits beyond stdio
 * (everything else arrives in "setup"); stdin: nothing. report_fd and
 * exe_fd live until exec, moved off 3 if they were there. */
static const char *child_fds(int control_fd, int log_fd, int *report_fd, int *exe_fd) {
        int p[2];

        if (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)
                return "dup2 the log pipe";
        if (control_fd != 3) {
                if (*report_fd == 3 || *exe_fd == 3) {
                        int moved = fcntl(3, F_DUPFD_CLOEXEC, 4);
                        if (moved < 0)
                                _exit(127); /* nowhere to report it */
                        if (*report_fd == 3)
                                *report_fd = moved;
                        else
                                *exe_fd = moved;
                }
                if (dup2(control_fd, 3) < 0)
                        return "dup2";
        } else if (fcntl(3, F_SETFD, 0) < 0)
                return "fcntl";
        /* There is no /dev/null in the empty root: an empty pipe whose
         * writer is closed. */
        if (pipe2(p, O_CLOEXEC) < 0 || dup2(p[0], STDIN_FILENO) < 0)
                return "stdin";
        safe_close(p[0]);
        safe_close(p[1]);
        /* Close-on-exec rather than close: report_fd and exe_fd live
         * until exec. */
        if (close_range(4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return "close_range";
        return NULL;
}

/* Its limits, no new privileges, no capabilities (the bounding set goes
 * while we still have CAP_SETPCAP; the uid change then empties the other
 * sets: no keepcaps), the launcher uid. */
static const char *child_confine(const struct guest_config *c, uint64_t fsize, uid_t uid) {
        struct rlimit limits[LAUNCHER_N_LIMITS];
        int resources[LAUNCHER_N_LIMITS];

        launcher_limits(c, fsize, limits, resources);
        for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                if (setrlimit(resources[i], &limits[i]) < 0)
                        return "setrlimit";
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return "no_new_privs";
        capng_clear(CAPNG_SELECT_BOTH);
        if (capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
                errno = EPERM;
                return "drop bounding set";
        }
        if (setgroups(0, NULL) < 0)
                return "setgroups";
        if (setresgid(uid, uid, uid) < 0)
                return "setresgid";
        if (setresuid(uid, uid, uid) < 0)
                return "setresuid";
        capng_clear(CAPNG_SELECT_BOTH);
        if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
                errno = EPERM;
                return "drop capabilities";
        }
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (getuid() == 0 || geteuid() == 0) {
                errno = EPERM;
                return "verify the uid";
        }
        return NULL;
}

_noreturn_ static void launcher_child(struct manager *m, struct guest *g, uid_t uid, uint64_t fsize, int control_fd, int log_fd,
                                     int report_fd) {
        struct spawn_failure f = {};
        char *argv[] = { (char *) "guestd-launcher", (char *) "--control-fd", (char *) "3", NULL };
        char *envp[] = { NULL };
        const char *step = NULL;
        sigset_t all;
        int exe_fd = -EBADF;

        /* sd-event blocks the signals it handles; a blocked mask and
         * ignored signals survive exec, so put both back. */
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) signal(s, SIG_DFL);
        /* Its own session: a terminal's ^C aimed at guestd must not end
         * the guests, which outlive the daemon by design. */
        if (setsid() < 0)
                step = "setsid";
        /* The launcher itself, opened while the host's file system is
         * still visible. */
        if (!step && (exe_fd = open(m->launcher_path, O_RDONLY | O_CLOEXEC)) < 0)
                step = "open the launcher";
        if (!step)
                step = child_empty_root(m->sandbox_dir);
        /* Its own UTS namespace: the name is cosmetic, a failure harmless. */
        if (!step)
                (void) !sethostname("guestd-launcher", strlen("guestd-launcher"));
        if (!step)
                step = child_fds(control_fd, log_fd, &report_fd, &exe_fd);
        if (!step)
                step = child_confine(&g->config, fsize, uid);
        if (!step) {
                /* The launcher checks once more that it has no privileges
                 * left (launcher/sandbox.c) before it touches anything. */
                syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
                step = "exec";
        }
        f.error = errno;
        snprintf(f.step, sizeof(f.step), "%s", step);
        (void) !write(report_fd, &f, sizeof(f));
        _exit(127);
}

/* clone3() with the namespaces the launcher lives in and a pidfd for it
 * from the start (no window in which the pid could be reused). Under
 * systemd's RestrictNamespaces= (guestd.service) clone3() answers ENOSYS:
 * a seccomp filter cannot read flags that sit in memory, so systemd
 * refuses the call in a way that makes callers use clone(), whose flags
 * it can check, as glibc does. Then clone() does the same, raw (no new
 * stack: the child goes on as after fork()); on x86-64 its arguments are
 * flags, stack, parent_tid (where CLONE_PIDFD puts the pidfd), child_tid,
 * tls. */
static pid_t clone_sandboxed(int *ret_pidfd) {
        const uint64_t flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP;
        struct clone_args args = {
                .flags = flags,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        pid_t pid;

        pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0 && errno == ENOSYS)
                pid = (pid_t) syscall(SYS_clone, (unsigned long) flags | SIGCHLD, NULL, ret_pidfd, NULL, NULL);
        return pid;
}

int spawn_launcher(struct manager *m, struct guest *g, uid_t uid, uint64_t fsize, int control_fd, int log_fd, pid_t *ret_pid,
                   int *ret_pidfd, sd_bus_error *error) {
        struct spawn_failure f = {};
        int pipefd[2], pidfd = -EBADF;
        ssize_t n;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make a pipe: %m");
        /* The daemon is single-threaded, so the child of a raw clone3 may
         * use the C library as after fork(). */
        pid = clone_sandboxed(&pidfd);
        if (pid < 0) {
                int e = errno;
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                log_error_errno(-e, "Cannot create the launcher's namespaces: %m");
                return sd_bus_error_set_errnof(error, e, "Cannot start the launcher in its sandbox: %s", strerror(e));
        }
        if (pid == 0) {
                safe_close(pipefd[0]);
                launcher_child(m, g, uid, fsize, control_fd, log_fd, pipefd[1]);
        }
        safe_close(pipefd[1]);
        /* End of file: exec worked (the pipe was close-on-exec). */
        do
                n = read(pipefd[0], &f, sizeof(f));
        while (n < 0 && errno == EINTR);
        safe_close(pipefd[0]);
        if (n == sizeof(f)) {
                (void) waitid(P_PIDFD, pidfd, &(siginfo_t) {}, WEXITED);
                safe_close(pidfd);
                log_error("Cannot start launcher %s: %s: %s", m->launcher_path, f.step, strerror(f.error));
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot start the launcher (%s: %s).", f.step, strerror(f.error));
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        return 0;
}


/* The killed launcher has ended (its pidfd is readable): reaped, and its
 * source, which owns the pidfd, goes. */
static int on_unstarted_ended(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) waitid(P_PIDFD, fd, &(siginfo_t) {}, WEXITED | WNOHANG);
        sd_event_source_disable_unref(s);
        return 0;
}

void spawn_kill_unstarted(sd_event *event, int pidfd) {
        sd_event_source *s = NULL;
        int r;

        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        /* Watched as a plain readable fd (launcher-conn.c does the same);
         * the source is its own, dropped when it fires. */
        r = sd_event_add_io(event, &s, pidfd, EPOLLIN, on_unstarted_ended, NULL);
        if (r < 0) {
                log_warning_errno(r, "Cannot watch a killed launcher; it stays a zombie until guestd ends: %m");
                safe_close(pidfd);
                return;
        }
        (void) sd_event_source_set_io_fd_own(s, true);
}

/* Where the launcher runs, read from /proc/PID/cgroup (cgroup.h): 1 and
 * its path in a cgroup of its own (guestd's, or its machine's scope); 0
 * still in guestd's own cgroup, where a move failed (that memory.stat is
 * guestd's, not the guest's); -errno if it cannot be read. */
int launcher_cgroup_find(pid_t pid, char **ret) {
        _cleanup_free_ char *path = NULL, *ours = NULL;
        int r;

        *ret = NULL;
        r = cgroup_pid_get_path(pid, &path);
        if (r < 0)
                return r;
        if (cgroup_pid_get_path(0, &ours) >= 0 && strcmp(ours, path) == 0)
                return 0;
        *ret = TAKE_PTR(path);
        return 1;
}
