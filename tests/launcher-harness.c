/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-harness: plays guestd's part of the launcher protocol against a
 * real guestd-launcher, so the launcher's daemon mode is tested without
 * the daemon: it creates the VM through kmod/ as guestd does, starts
 * `guestd-launcher --control-fd N`, sends "setup" and runs one scenario.
 *
 *   launcher-harness LAUNCHER GUESTS_DIR SCENARIO
 *
 * Scenarios: basic, pause, reattach, poweroff-signal, suspend,
 * suspend-fail, suspend-reattach, suspend-bad, bad, bad-setup,
 * bad-attach. Exit 0 when every check passed, 77 when KVM is not usable
 * here, 1 otherwise.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "kvm.h"
#include "protocol-body.h"
#include "protocol.h"
#include "snapshot.h"
#include "test.h"

/* The uid the harness runs launchers as: the top of the tests' reserved
 * range (tests/daemon-lib.sh), which the daemon tests leave unused. */
#define HARNESS_LAUNCHER_UID 3740099

#define MSG_TIMEOUT_MS 30000
#define COUNT_OPTIONS "count.delay=20000"

struct harness {
        const char *launcher, *guests;
        char dir[64], sock_path[108];
        pid_t pid;
        int control;   /* our end of the control socket */
        int console;   /* our end of the console */
        char out[1 << 16];
        size_t out_len;
        bool supervised; /* this launcher has sent "supervise" */
};

static void say(const char *fmt, ...) _printf_(1, 2);
static void say(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "harness: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
}

/* Reads whatever console output is there within timeout_ms. */
static void console_read(struct harness *h, int timeout_ms) {
        struct pollfd p = { .fd = h->console, .events = POLLIN };

        if (h->console < 0 || poll(&p, 1, timeout_ms) <= 0)
                return;
        if (h->out_len >= sizeof(h->out) - 1) {
                /* Keep the last half: tests look at recent output. */
                memmove(h->out, h->out + sizeof(h->out) / 2, sizeof(h->out) / 2);
                h->out_len -= sizeof(h->out) / 2;
        }
        ssize_t n = read(h->console, h->out + h->out_len, sizeof(h->out) - 1 - h->out_len);
        if (n > 0)
                h->out_len += n;
        h->out[h->out_len] = 0;
}

static bool console_wait(struct harness *h, const char *s, int timeout_ms) {
        usec_t end = now_usec() + (usec_t) timeout_ms * 1000;

        while (!strstr(h->out, s)) {
                if (now_usec() >= end) {
                        say("no '%s' on the console; got: %.300s", s, h->out_len > 300 ? h->out + h->out_len - 300 : h->out);
                        return false;
                }
                console_read(h, 50);
        }
        return true;
}

/* The last "count N" line number on the console, or -1. */
static long console_last_count(struct harness *h) {
        const char *p = h->out, *last = NULL;
        while ((p = strstr(p, "count "))) {
                last = p;
                p += 6;
        }
        return last ? strtol(last + 6, NULL, 10) : -1;
}

static int recv_message(struct harness *h, struct protocol_message *m) {
        usec_t end = now_usec() + MSG_TIMEOUT_MS * 1000;

        /* Keep draining the console so the launcher never blocks on it. */
        for (;;) {
                struct pollfd p = { .fd = h->control, .events = POLLIN };
                if (poll(&p, 1, 20) > 0)
                        break;
                console_read(h, 0);
                if (now_usec() >= end) {
                        say("no message from the launcher in time");
                        return -ETIMEDOUT;
                }
        }
        int r = protocol_recv(h->control, PROTOCOL_TO_DAEMON, m);
        if (r < 0)
                say("protocol_recv: %s", strerror(-r));
        /* "supervise" comes once, before the first "state": a seccomp
         * listener and the VM's statistics, which guestd keeps and the
         * harness only checks. */
        if (r >= 0 && m->type == PROTOCOL_SUPERVISE) {
                char path[64], a[64] = "", b[64] = "";
                snprintf(path, sizeof(path), "/proc/self/fd/%d", m->fds[0]);
                (void) !readlink(path, a, sizeof(a) - 1);
                snprintf(path, sizeof(path), "/proc/self/fd/%d", m->fds[1]);
                (void) !readlink(path, b, sizeof(b) - 1);
                CHECK(strcmp(a, "anon_inode:seccomp notify") == 0);
                CHECK(strcmp(b, "anon_inode:kvm-vm-stats") == 0);
                CHECK(!h->supervised);
                h->supervised = true;
                protocol_message_done(m);
                return recv_message(h, m);
        }
        return r;
}

/* Receives a message and checks it is of type want; for "state", also
 * the state. */
static bool expect_message(struct harness *h, enum protocol_type want, const char *state) {
        struct protocol_message m;
        const char *s = NULL;
        bool ok;

        if (recv_message(h, &m) < 0) {
                CHECK(false);
                return false;
        }
        ok = m.type == want;
        if (!ok)
                say("got '%s', wanted '%s': %s", protocol_type_to_string(m.type), protocol_type_to_string(want),
                    json_object_to_json_string(m.body));
        if (ok && state) {
                uint64_t pid;
                ok = protocol_get_string(m.body, "state", &s) == 0 && strcmp(s, state) == 0 &&
                     protocol_get_uint(m.body, "pid", INT32_MAX, &pid) == 0 && pid == (uint64_t) h->pid;
                if (!ok)
                        say("wrong state message: %s", json_object_to_json_string(m.body));
        }
        if (ok && (want == PROTOCOL_ERROR || want == PROTOCOL_SUSPEND_FAILED))
                ok = protocol_get_string(m.body, "message", &s) == 0 && *s;
        if (ok && want == PROTOCOL_SUSPEND_FAILED)
                say("suspend_failed: %s", s);
        CHECK(ok);
        protocol_message_done(&m);
        return ok;
}

static bool expect_exited(struct harness *h, int exit, const char *reason_part) {
        struct protocol_message m;
        const char *reason = "", *name = "";
        uint64_t e = 999;
        bool ok;

        if (recv_message(h, &m) < 0) {
                CHECK(false);
                return false;
        }
        ok = m.type == PROTOCOL_EXITED && protocol_get_uint(m.body, "exit", 255, &e) == 0 && (int) e == exit &&
             protocol_get_string(m.body, "reason", &reason) == 0 && strstr(reason, reason_part) &&
             protocol_get_string(m.body, "exit_name", &name) == 0 && *name;
        if (!ok)
                say("wanted exited %d '%s', got: %s", exit, reason_part, json_object_to_json_string(m.body));
        else
                say("exited: %s", json_object_to_json_string(m.body));
        CHECK(ok);
        protocol_message_done(&m);
        return ok;
}

static bool expect_launcher_exit(struct harness *h, int status) {
        usec_t end = now_usec() + MSG_TIMEOUT_MS * 1000;
        int st;

        for (;;) {
                pid_t r = waitpid(h->pid, &st, WNOHANG);
                if (r == h->pid)
                        break;
                if (now_usec() >= end) {
                        say("the launcher did not exit");
                        kill(h->pid, SIGKILL);
                        waitpid(h->pid, &st, 0);
                        CHECK(false);
                        return false;
                }
                console_read(h, 20);
        }
        h->pid = 0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != status) {
                say("launcher ended with wait status 0x%x, wanted exit %d", st, status);
                CHECK(false);
                return false;
        }
        return true;
}

static int send_simple(struct harness *h, enum protocol_type t) {
        int r = protocol_send(h->control, t, NULL, NULL, 0);
        if (r < 0)
                say("send %s: %s", protocol_type_to_string(t), strerror(-r));
        CHECK_EQ(r, 0);
        return r;
}

/* Creates the machine, the sockets and the launcher, and sends setup.
 * bad_fds: the body and the fds disagree (the bad-setup case). */
static int harness_start(struct harness *h, const char *kernel, const char *cmdline, bool bad_fds) {
        const char *msg;
        char path[512], fdarg[16];
        int kvm_fd, kernel_fd, control[2], console[2], listen_fd, r;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        /* guestd opens /dev/kvm; the launcher creates the VM on it, since
         * KVM binds a VM to the process that created it. */
        r = kvm_open(&kvm_fd, &msg);
        if (r < 0)
                TEST_SKIP("KVM is not usable: %s", msg);
        snprintf(path, sizeof(path), "%s/%s", h->guests, kernel);
        kernel_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (kernel_fd < 0) {
                say("open %s: %m", path);
                return -errno;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
                return -errno;
        strcpy(h->dir, "/tmp/launcher-harness.XXXXXX");
        if (!mkdtemp(h->dir))
                return -errno;
        snprintf(h->sock_path, sizeof(h->sock_path), "%s/control", h->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->sock_path);
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(listen_fd, 4) < 0)
                return -errno;

        int exe_fd = open(h->launcher, O_RDONLY | O_CLOEXEC);
        if (exe_fd < 0)
                return -errno;
        h->supervised = false;
        h->pid = fork();
        if (h->pid < 0)
                return -errno;
        if (h->pid == 0) {
                /* As guestd does: no privileges left (the launcher refuses
                 * to run under a control socket otherwise). */
                for (int cap = 0; cap < 64; cap++)
                        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
                                break;
                if (setgroups(0, NULL) < 0 || setresgid(HARNESS_LAUNCHER_UID, HARNESS_LAUNCHER_UID, HARNESS_LAUNCHER_UID) < 0 ||
                    setresuid(HARNESS_LAUNCHER_UID, HARNESS_LAUNCHER_UID, HARNESS_LAUNCHER_UID) < 0 ||
                    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(126);
                /* The one fd the launcher inherits, without O_CLOEXEC. */
                fcntl(control[1], F_SETFD, 0);
                snprintf(fdarg, sizeof(fdarg), "%d", control[1]);
                char *argv[] = { (char *) h->launcher, (char *) "--control-fd", fdarg, NULL };
                extern char **environ;
                fexecve(exe_fd, argv, environ);
                _exit(127);
        }
        close(exe_fd);
        close(control[1]);
        h->control = control[0];
        h->console = console[0];

        struct json_object *body = json_object_new_object();
        json_object_object_add(body, "guest", json_object_new_string("harness"));
        json_object_object_add(body, "memory_mib", json_object_new_int(16));
        json_object_object_add(body, "vcpus", json_object_new_int(1));
        json_object_object_add(body, "cmdline", json_object_new_string(cmdline));
        /* bad_fds: the body promises an initrd its fds do not bring. */
        json_object_object_add(body, "initrd", json_object_new_boolean(bad_fds));
        json_object_object_add(body, "disks", json_object_new_array());
        int fds[4] = { kvm_fd, kernel_fd, console[1], listen_fd };
        r = protocol_send(h->control, PROTOCOL_SETUP, body, fds, ELEMENTSOF(fds));
        json_object_put(body);
        /* The launcher has its own copies now. */
        close(kvm_fd);
        close(kernel_fd);
        close(console[1]);
        close(listen_fd);
        if (r < 0)
                say("send setup: %s", strerror(-r));
        return r;
}

static void harness_done(struct harness *h) {
        if (h->pid > 0) {
                kill(h->pid, SIGKILL);
                waitpid(h->pid, NULL, 0);
        }
        safe_close(h->control);
        safe_close(h->console);
        if (h->sock_path[0])
                unlink(h->sock_path);
        if (h->dir[0])
                rmdir(h->dir);
}

static void scenario_basic(struct harness *h) {
        if (harness_start(h, "hello.elf", "", false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(console_wait(h, "Hello from the guestd test guest", MSG_TIMEOUT_MS));
        expect_exited(h, 0, "powered off");
        expect_launcher_exit(h, 0);
}

/* Waits for count line n or later. */
static bool wait_count(struct harness *h, long n) {
        usec_t end = now_usec() + (usec_t) MSG_TIMEOUT_MS * 1000;
        while (console_last_count(h) < n) {
                if (now_usec() >= end) {
                        say("no 'count %ld' in time (last %ld)", n, console_last_count(h));
                        return false;
                }
                console_read(h, 50);
        }
        return true;
}

static void scenario_pause(struct harness *h) {
        long before, after;

        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 3));
        send_simple(h, PROTOCOL_PAUSE);
        expect_message(h, PROTOCOL_STATE, "paused");
        /* Anything the guest wrote before the pause is flushed by now. */
        console_read(h, 100);
        before = console_last_count(h);
        size_t len = h->out_len;
        usec_t end = now_usec() + 1000 * 1000;
        while (now_usec() < end)
                console_read(h, 50);
        CHECK_EQ(h->out_len, len);
        after = console_last_count(h);
        CHECK_EQ(after, before);
        say("paused at count %ld, nothing for 1 s", before);

        send_simple(h, PROTOCOL_UNPAUSE);
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, before + 2));
        say("resumed, now at count %ld", console_last_count(h));

        send_simple(h, PROTOCOL_STOP);
        expect_exited(h, 7, "stopped by request");
        expect_launcher_exit(h, 7);
}

static int connect_listen(struct harness *h) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->sock_path);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                say("connect %s: %m", h->sock_path);
                safe_close(fd);
                return -errno;
        }
        return fd;
}

/* The daemon "dies": control and console go away; a new one connects. */
static int reconnect(struct harness *h) {
        h->control = safe_close(h->control);
        h->console = safe_close(h->console);
        h->out_len = 0;
        h->out[0] = 0;
        /* Give the launcher time to notice and drop the console output it
         * cannot deliver. */
        usleep(300 * 1000);
        h->control = connect_listen(h);
        return h->control;
}

static void scenario_reattach(struct harness *h) {
        int console[2], logpipe[2];

        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 2));
        if (reconnect(h) < 0)
                { CHECK(false); return; }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0 || pipe2(logpipe, O_CLOEXEC) < 0)
                { CHECK(false); return; }
        int fds[2] = { console[1], logpipe[1] };
        CHECK_EQ(protocol_send(h->control, PROTOCOL_ATTACH, NULL, fds, 2), 0);
        close(console[1]);
        close(logpipe[1]);
        h->console = console[0];
        expect_message(h, PROTOCOL_STATE, "running");
        /* The launcher now logs into the new pipe. */
        {
                char text[512] = "";
                struct pollfd p = { .fd = logpipe[0], .events = POLLIN };
                ssize_t n = poll(&p, 1, 5000) > 0 ? read(logpipe[0], text, sizeof(text) - 1) : -1;
                if (n > 0)
                        text[n] = 0;
                say("launcher log after attach: %s", text);
                CHECK(strstr(text, "attached") != NULL);
        }
        /* The guest kept counting while nobody listened: the first line
         * on the new console (waited for, not read for a fixed time: a
         * loaded machine may take longer) is past 2. */
        CHECK(wait_count(h, 0));
        long first = console_last_count(h);
        CHECK(first > 2);
        CHECK(wait_count(h, first + 2));
        say("new console: count %ld and on", first);

        /* Pausing works on the new connection too. */
        send_simple(h, PROTOCOL_PAUSE);
        expect_message(h, PROTOCOL_STATE, "paused");
        send_simple(h, PROTOCOL_STOP);
        expect_exited(h, 7, "stopped by request");
        expect_launcher_exit(h, 7);
}

/* SIGRTMIN+4, as `machinectl poweroff` sends a machine's leader: with a
 * daemon attached the launcher tells it who sent it and leaves the guest
 * alone (guestd stops it as its Stop does); with none it presses the
 * guest's button itself, and a guest that listens powers off. Never the
 * signal's default action, death. */
static void scenario_poweroff_signal(struct harness *h) {
        struct protocol_message m;
        struct protocol_poweroff_signal_body b;

        if (harness_start(h, "kbd.elf", "", false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(console_wait(h, "kbd: keyboard ready", MSG_TIMEOUT_MS));
        CHECK_EQ(kill(h->pid, SIGRTMIN + 4), 0);
        if (recv_message(h, &m) < 0)
                { CHECK(false); return; }
        if (m.type != PROTOCOL_POWEROFF_SIGNAL)
                say("got '%s', wanted 'poweroff_signal'", protocol_type_to_string(m.type));
        CHECK(m.type == PROTOCOL_POWEROFF_SIGNAL);
        CHECK_EQ(protocol_poweroff_signal_decode(m.body, &b), 0);
        say("poweroff_signal: %s", json_object_to_json_string(m.body));
        CHECK(b.pid == (uint64_t) getpid() && b.uid == (uint64_t) getuid());
        protocol_message_done(&m);
        /* The guest was not asked: that is guestd's to do. */
        {
                usec_t end = now_usec() + 500 * 1000;
                while (now_usec() < end)
                        console_read(h, 50);
        }
        CHECK(strstr(h->out, "ctrl-alt-del") == NULL);
        CHECK(waitpid(h->pid, NULL, WNOHANG) == 0);

        /* guestd goes away; the signal again, at once: whether the
         * launcher has seen the close yet or finds it when its message to
         * guestd fails, it asks the guest (Ctrl-Alt-Del: kbd has no ACPI
         * driver), which powers off. */
        h->control = safe_close(h->control);
        h->console = safe_close(h->console);
        CHECK_EQ(kill(h->pid, SIGRTMIN + 4), 0);
        expect_launcher_exit(h, 0);
}

/* ---------------------------------------------------------------- suspend
 *
 * guestd's part of a suspend (protocol.h): "suspend", and the launcher
 * parks and flushes and says "suspend_ready"; its soft RLIMIT_FSIZE comes
 * down to the snapshot's reserve, as guestd lowers it; "snapshot" with
 * the file. */

#define HARNESS_RESERVE snapshot_max_file_size(16 * MiB, 1) /* the guest harness_start() makes */

static void set_fsize(struct harness *h, uint64_t soft) {
        struct rlimit l;

        CHECK_EQ(prlimit(h->pid, RLIMIT_FSIZE, NULL, &l), 0);
        l.rlim_cur = MIN((rlim_t) soft, l.rlim_max);
        CHECK_EQ(prlimit(h->pid, RLIMIT_FSIZE, &l, NULL), 0);
}

static void restore_fsize(struct harness *h) {
        set_fsize(h, RLIM_INFINITY);
}

/* A file for the snapshot in the harness's directory, opened flags. */
static int snapshot_file(struct harness *h, const char *name, int flags, char path[static 128]) {
        int fd;

        snprintf(path, 128, "%s/%s", h->dir, name);
        fd = open(path, flags | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                say("open %s: %m", path);
        CHECK(fd >= 0);
        return fd;
}

/* Whether the launcher has an fd of path open (its /proc/PID/fd, which
 * root may read). */
static bool launcher_holds(struct harness *h, const char *path) {
        char dir[64];
        struct stat want, st;
        struct dirent *de;
        bool found = false;
        DIR *d;

        if (stat(path, &want) < 0)
                return false;
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) h->pid);
        d = opendir(dir);
        CHECK(d != NULL);
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 && st.st_dev == want.st_dev &&
                    st.st_ino == want.st_ino)
                        found = true;
        if (d)
                closedir(d);
        return found;
}

/* No console output for a while: the vCPUs are parked. */
static void check_parked(struct harness *h) {
        long before;
        size_t len;
        usec_t end;

        console_read(h, 100);
        before = console_last_count(h);
        len = h->out_len;
        end = now_usec() + 500 * 1000;
        while (now_usec() < end)
                console_read(h, 50);
        CHECK_EQ(h->out_len, len);
        say("parked at count %ld", before);
}

/* The launcher's end of a suspend that worked: "progress" on the way,
 * "exited" 8, and a file that is a whole snapshot of 16 MiB. */
static void expect_suspended(struct harness *h, int fd) {
        struct protocol_message m;
        struct snapshot snap;
        _cleanup_free_ char *why = NULL;
        unsigned progress = 0;

        while (recv_message(h, &m) == 0 && m.type == PROTOCOL_PROGRESS) {
                progress++;
                protocol_message_done(&m);
        }
        CHECK(progress > 0);
        CHECK_EQ(m.type, PROTOCOL_EXITED);
        say("%u progress messages, then %s", progress, json_object_to_json_string(m.body));
        protocol_message_done(&m);
        expect_launcher_exit(h, 8);
        CHECK_EQ(snapshot_open(fd, &snap, &why), 0);
        if (why)
                say("snapshot: %s", why);
        CHECK_EQ(snap.header.memory_size, 16 * MiB);
        snapshot_close(&snap);
}

/* "suspend", answered by "suspend_ready": the launcher is parked. */
static void suspend_park(struct harness *h) {
        send_simple(h, PROTOCOL_SUSPEND);
        expect_message(h, PROTOCOL_SUSPEND_READY, NULL);
}

/* The rest of a suspend that works: the reserve as the limit, the file,
 * and the launcher's end with a whole snapshot in it. */
static void suspend_write_whole(struct harness *h) {
        char path[128];
        int fd;

        set_fsize(h, HARNESS_RESERVE);
        fd = snapshot_file(h, "snap", O_RDWR, path);
        CHECK_EQ(protocol_send(h->control, PROTOCOL_SNAPSHOT, NULL, &fd, 1), 0);
        expect_suspended(h, fd);
        safe_close(fd);
        unlink(path);
}

/* The whole handshake; the file size limit the launcher writes under is
 * the reserve, and that is enough. */
static void scenario_suspend(struct harness *h) {
        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 2));
        suspend_park(h);
        check_parked(h);
        suspend_write_whole(h);
}

/* A write that fails: the launcher says why, holds no copy of the file,
 * and is neither dead of SIGXFSZ nor running: parked until told to go on,
 * then as it was, running or paused. */
static void suspend_fail_once(struct harness *h, int flags, uint64_t fsize, const char *paused_or_running) {
        char path[128];
        int fd;

        suspend_park(h);
        set_fsize(h, fsize);
        fd = snapshot_file(h, "snap", flags, path);
        CHECK_EQ(protocol_send(h->control, PROTOCOL_SNAPSHOT, NULL, &fd, 1), 0);
        safe_close(fd);
        expect_message(h, PROTOCOL_SUSPEND_FAILED, NULL);
        CHECK(!launcher_holds(h, path));
        CHECK(waitpid(h->pid, NULL, WNOHANG) == 0);
        if (strcmp(paused_or_running, "running") == 0)
                check_parked(h);
        restore_fsize(h);
        unlink(path);
        send_simple(h, PROTOCOL_SUSPEND_ABORT);
        expect_message(h, PROTOCOL_STATE, paused_or_running);
}

static void scenario_suspend_fail(struct harness *h) {
        long n;

        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 2));
        /* Past the file size limit (a reserve too small for the RAM). */
        suspend_fail_once(h, O_RDWR, 64 * 1024, "running");
        n = console_last_count(h);
        CHECK(wait_count(h, n + 2));
        say("went on counting: %ld", console_last_count(h));
        /* Paused first, then a file it cannot write: paused afterwards. */
        send_simple(h, PROTOCOL_PAUSE);
        expect_message(h, PROTOCOL_STATE, "paused");
        suspend_fail_once(h, O_RDONLY, HARNESS_RESERVE, "paused");
        send_simple(h, PROTOCOL_UNPAUSE);
        expect_message(h, PROTOCOL_STATE, "running");
        n = console_last_count(h);
        CHECK(wait_count(h, n + 2));
        /* Called off before any file (guestd could not make one). */
        suspend_park(h);
        send_simple(h, PROTOCOL_SUSPEND_ABORT);
        expect_message(h, PROTOCOL_STATE, "running");
        n = console_last_count(h);
        CHECK(wait_count(h, n + 2));
        send_simple(h, PROTOCOL_STOP);
        expect_exited(h, 7, "stopped by request");
        expect_launcher_exit(h, 7);
}

/* A new connection (a restarted guestd) while the suspend waits: attach
 * is answered with where the suspend is, not "state". */
static int reattach(struct harness *h) {
        int console[2], logpipe[2], r;

        if (reconnect(h) < 0)
                return -ENOTCONN;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0 || pipe2(logpipe, O_CLOEXEC) < 0)
                return -errno;
        int fds[2] = { console[1], logpipe[1] };
        r = protocol_send(h->control, PROTOCOL_ATTACH, NULL, fds, 2);
        close(console[1]);
        close(logpipe[1]);
        close(logpipe[0]);
        h->console = console[0];
        return r;
}

static void scenario_suspend_reattach(struct harness *h) {
        char path[128];
        long n;
        int fd;

        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 2));
        suspend_park(h);
        CHECK_EQ(reattach(h), 0);
        expect_message(h, PROTOCOL_SUSPEND_READY, NULL);
        check_parked(h);
        set_fsize(h, 64 * 1024);
        fd = snapshot_file(h, "snap", O_RDWR, path);
        CHECK_EQ(protocol_send(h->control, PROTOCOL_SNAPSHOT, NULL, &fd, 1), 0);
        safe_close(fd);
        expect_message(h, PROTOCOL_SUSPEND_FAILED, NULL);
        CHECK_EQ(reattach(h), 0);
        expect_message(h, PROTOCOL_SUSPEND_FAILED, NULL);
        CHECK(!launcher_holds(h, path));
        restore_fsize(h);
        unlink(path);
        send_simple(h, PROTOCOL_SUSPEND_ABORT);
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 0));
        n = console_last_count(h);
        CHECK(wait_count(h, n + 2));
        say("went on counting after two reattaches: %ld", console_last_count(h));
        /* And now a suspend that works, on this connection. */
        suspend_park(h);
        suspend_write_whole(h);
}

/* A snapshot file that was not asked for is a protocol error. */
static void scenario_suspend_bad(struct harness *h) {
        char path[128];
        int fd;

        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        fd = snapshot_file(h, "snap", O_RDWR, path);
        CHECK_EQ(protocol_send(h->control, PROTOCOL_SNAPSHOT, NULL, &fd, 1), 0);
        safe_close(fd);
        expect_exited(h, 1, "'snapshot' is not allowed now");
        expect_launcher_exit(h, 1);
        unlink(path);
}

/* Untimely requests are refused and the guest goes on; then garbage is a
 * protocol error that ends it. */
static void scenario_bad(struct harness *h) {
        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        send_simple(h, PROTOCOL_UNPAUSE);
        expect_message(h, PROTOCOL_ERROR, NULL);
        send_simple(h, PROTOCOL_PAUSE);
        expect_message(h, PROTOCOL_STATE, "paused");
        send_simple(h, PROTOCOL_PAUSE);
        expect_message(h, PROTOCOL_ERROR, NULL);
        send_simple(h, PROTOCOL_UNPAUSE);
        expect_message(h, PROTOCOL_STATE, "running");
        CHECK(wait_count(h, 2));

        CHECK_EQ(send(h->control, "not json at all", 15, 0), 15);
        expect_exited(h, 1, "protocol error");
        expect_launcher_exit(h, 1);
}

static void scenario_bad_setup(struct harness *h) {
        if (harness_start(h, "hello.elf", "", true) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_ERROR, NULL);
        expect_exited(h, 1, "bad setup");
        expect_launcher_exit(h, 1);
}

/* A second setup is a protocol error; so is anything but attach first on
 * a new connection. */
static void scenario_bad_attach(struct harness *h) {
        if (harness_start(h, "count.elf", COUNT_OPTIONS, false) < 0)
                { CHECK(false); return; }
        expect_message(h, PROTOCOL_STATE, "running");
        if (reconnect(h) < 0)
                { CHECK(false); return; }
        send_simple(h, PROTOCOL_PAUSE);
        expect_exited(h, 1, "before 'attach'");
        expect_launcher_exit(h, 1);
}

static const struct {
        const char *name;
        void (*run)(struct harness *h);
} scenarios[] = {
        { "basic", scenario_basic },
        { "pause", scenario_pause },
        { "reattach", scenario_reattach },
        { "bad", scenario_bad },
        { "bad-setup", scenario_bad_setup },
        { "bad-attach", scenario_bad_attach },
        { "poweroff-signal", scenario_poweroff_signal },
        { "suspend", scenario_suspend },
        { "suspend-fail", scenario_suspend_fail },
        { "suspend-reattach", scenario_suspend_reattach },
        { "suspend-bad", scenario_suspend_bad },
};

int main(int argc, char *argv[]) {
        struct harness h = { .control = -EBADF, .console = -EBADF };

        if (argc != 4) {
                fprintf(stderr, "Usage: %s LAUNCHER GUESTS_DIR SCENARIO\n", argv[0]);
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        h.launcher = argv[1];
        h.guests = argv[2];
        for (size_t i = 0; i < ELEMENTSOF(scenarios); i++)
                if (strcmp(argv[3], scenarios[i].name) == 0) {
                        scenarios[i].run(&h);
                        harness_done(&h);
                        return TEST_RESULT();
                }
        fprintf(stderr, "Unknown scenario '%s'\n", argv[3]);
        return 1;
}
