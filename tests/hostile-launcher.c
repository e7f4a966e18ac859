/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostile-launcher: a launcher taken over by its guest, as guestd meets
 * it. guestd runs it in guestd-launcher's place (guestd --launcher), in
 * the same sandbox, with the same fds; it speaks the protocol
 * (common/protocol.h) as an attacker would. The scenario is the guest's
 * kernel command line's "hostile=NAME" (guestctl create --cmdline), so a
 * test picks one per guest (tests/test-daemon-hostile-launcher.sh).
 *
 *   hostile-launcher --control-fd 3          (how guestd starts it)
 *
 * Every scenario first reads "setup" (closing each fd that came) and says
 * "state running", so the Start succeeds; then:
 *   stay          nothing more: it runs until killed or its socket closes
 *   error-long    an "error" of 65000 bytes (a record the loader refused)
 *   error-forge   an "error" with a newline and a forged priority-0 line
 *   error-utf8    an "error" that is not UTF-8
 *   error-flood   valid one-line "error"s, as fast as the socket takes
 *                 them, for 20 s (the log, guestd's CPU, others' calls)
 *   state-flood   "state running" as fast as it can, for 20 s
 *   exit-utf8     "exited" whose reason is not UTF-8, then it exits
 *   exit-escape   "exited" whose reason holds a terminal escape
 *   asked-forge   "shutdown_asked" with a forged line in "why"
 *   oversized     a message larger than PROTOCOL_MAX_MESSAGE
 *   garbage       bytes that are not JSON
 *   no-type       JSON without "type"
 *   wrong-dir     a message guestd sends, never receives ("setup")
 *   out-of-order  "progress" while running (only allowed while suspending)
 *   fd-flood      a "state" carrying fds it must not carry
 *   violation-bad a "violation" without its system call
 *   supervise-fake "supervise" with two fds that are not a seccomp listener
 *                 and a VM's statistics
 *   mmu-set-bad   "mmu_pages_set" without its pages
 *   poweroff-bad  "poweroff_signal" with a negative pid
 *   snapshot-keep, snapshot-drop   a suspend as a taken-over launcher goes
 *                 about it (issue 20, item 5): "suspend_ready" at once;
 *                 with the file, it writes as far past the snapshot's
 *                 reserve as it can (its RLIMIT_FSIZE from its start is its
 *                 largest disk's size) and says how far it got; then says
 *                 its write failed and keeps the file open to write on
 *                 once guestd gives its limit back (keep), or closes it
 *                 (drop) and goes on when guestd says so
 *   ready-unasked "suspend_ready" while running (no suspend asked for)
 * Then it waits until guestd kills it: as a real launcher, it outlives a
 * guestd that goes away (its socket closed). It prints
 * what it does on stderr (guestd's log of the launcher). Exit 0, or 2
 * for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "protocol-body.h"
#include "protocol.h"
#include "util.h"

#define FLOOD_SECONDS 20

static int control = -1;

static void say(const char *what) {
        fprintf(stderr, "hostile-launcher: %s\n", what);
}

static void send_body(enum protocol_type type, struct json_object *body) {
        int r = protocol_send(control, type, body, NULL, 0);

        if (r < 0)
                fprintf(stderr, "hostile-launcher: sending %s: %s\n", protocol_type_to_string(type), strerror(-r));
        json_object_put(body);
}

static void send_raw(const void *buf, size_t len, const int *fds, size_t n_fds) {
        ssize_t n = fdpass_send(control, buf, len, fds, n_fds, 0);

        if (n < 0)
                fprintf(stderr, "hostile-launcher: sending raw bytes: %s\n", strerror((int) -n));
}

static void send_error(const char *message) {
        send_body(PROTOCOL_ERROR, protocol_error_encode(&(struct protocol_error_body) { message }));
}

static void flood(bool errors) {
        time_t end = time(NULL) + FLOOD_SECONDS;
        unsigned long n = 0;
        char text[64];

        while (time(NULL) < end) {
                if (errors) {
                        snprintf(text, sizeof(text), "flood %lu", n);
                        send_error(text);
                } else
                        send_body(PROTOCOL_STATE,
                                  protocol_state_encode(&(struct protocol_state_body) { .paused = false, .pid = (uint64_t) getpid() }));
                n++;
        }
        snprintf(text, sizeof(text), "flood done: %lu messages", n);
        say(text);
}

static void run(const char *scenario) {
        if (strcmp(scenario, "stay") == 0)
                return;
        if (strcmp(scenario, "error-long") == 0) {
                size_t len = 65000;
                char *text = malloc(len + 1);
                if (!text)
                        return;
                memset(text, 'L', len);
                text[len] = 0;
                send_error(text);
                free(text);
        } else if (strcmp(scenario, "error-forge") == 0)
                send_error("x\n<0>guestd: Guest 0_prod: forged sandbox violation");
        else if (strcmp(scenario, "error-utf8") == 0)
                send_error("bad \xff\xfe utf-8");
        else if (strcmp(scenario, "error-flood") == 0)
                flood(true);
        else if (strcmp(scenario, "state-flood") == 0)
                flood(false);
        else if (strcmp(scenario, "exit-utf8") == 0 || strcmp(scenario, "exit-escape") == 0) {
                const char *reason = strcmp(scenario, "exit-utf8") == 0 ? "powered off \xc3\x28" : "powered off \x1b]0;owned\x07\x1b[2J";
                send_body(PROTOCOL_EXITED, protocol_exited_encode(&(struct protocol_exited_body) { 3, "poweroff", reason }));
                exit(3);
        } else if (strcmp(scenario, "asked-forge") == 0)
                send_body(PROTOCOL_SHUTDOWN_ASKED, protocol_shutdown_asked_encode(&(struct protocol_shutdown_asked_body) {
                                                           false, "acpi", "no\n<0>guestd: forged" }));
        else if (strcmp(scenario, "oversized") == 0) {
                size_t len = PROTOCOL_MAX_MESSAGE + 100;
                char *buf = malloc(len);
                if (!buf)
                        return;
                memset(buf, ' ', len);
                memcpy(buf, "{\"type\":\"error\",\"message\":\"", 27);
                buf[len - 2] = '"';
                buf[len - 1] = '}';
                send_raw(buf, len, NULL, 0);
                free(buf);
        } else if (strcmp(scenario, "garbage") == 0)
                send_raw("\x00\x01not json at all\xff", 19, NULL, 0);
        else if (strcmp(scenario, "no-type") == 0)
                send_raw("{\"state\":\"running\"}", 19, NULL, 0);
        else if (strcmp(scenario, "wrong-dir") == 0)
                send_raw("{\"type\":\"setup\"}", 16, NULL, 0);
        else if (strcmp(scenario, "ready-unasked") == 0)
                send_body(PROTOCOL_SUSPEND_READY, NULL);
        else if (strncmp(scenario, "snapshot-", 9) == 0)
                /* A write past RLIMIT_FSIZE fails rather than kills, as in
                 * guestd-launcher; the rest comes with guestd's messages. */
                signal(SIGXFSZ, SIG_IGN);
        else if (strcmp(scenario, "out-of-order") == 0)
                send_body(PROTOCOL_PROGRESS, protocol_progress_encode(&(struct protocol_progress_body) { 1, 2 }));
        else if (strcmp(scenario, "violation-bad") == 0)
                send_raw("{\"type\":\"violation\"}", 20, NULL, 0);
        else if (strcmp(scenario, "supervise-fake") == 0) {
                int fds[2] = { STDERR_FILENO, STDERR_FILENO };
                send_raw("{\"type\":\"supervise\"}", 20, fds, 2);
        } else if (strcmp(scenario, "mmu-set-bad") == 0)
                send_raw("{\"type\":\"mmu_pages_set\"}", 24, NULL, 0);
        else if (strcmp(scenario, "poweroff-bad") == 0)
                send_raw("{\"type\":\"poweroff_signal\",\"pid\":-1,\"uid\":0}", 43, NULL, 0);
        else if (strcmp(scenario, "fd-flood") == 0) {
                int fds[8];
                for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                        fds[i] = STDERR_FILENO;
                send_raw("{\"type\":\"state\",\"state\":\"running\"}", 35, fds, ELEMENTSOF(fds));
        } else {
                char text[160];
                snprintf(text, sizeof(text), "unknown scenario '%.100s': staying", scenario);
                say(text);
        }
}

/* A write of one byte at offset, and what came of it, in the log. */
static void write_far(int fd, uint64_t offset, const char *when) {
        struct rlimit l = {};
        char text[200];
        ssize_t n;

        (void) getrlimit(RLIMIT_FSIZE, &l);
        n = pwrite(fd, "x", 1, (off_t) offset);
        snprintf(text, sizeof(text), "%s: a byte at %" PRIu64 " MiB into the snapshot (RLIMIT_FSIZE %" PRIu64 "): %s", when,
                 offset >> 20, (uint64_t) l.rlim_cur, n == 1 ? "written" : strerror(errno));
        say(text);
}

/* snapshot-keep and snapshot-drop: guestd's side of a suspend. */
static void suspend_step(const char *scenario, struct protocol_message *m) {
        static int kept = -1;
        const uint64_t far = UINT64_C(64) << 30; /* 64 GiB: past any reserve here, within the test's 1 TiB disk */

        if (m->type == PROTOCOL_SUSPEND)
                send_body(PROTOCOL_SUSPEND_READY, NULL);
        else if (m->type == PROTOCOL_SNAPSHOT) {
                int fd = m->fds[0];
                m->fds[0] = -1;
                write_far(fd, far, "with the snapshot file");
                if (strcmp(scenario, "snapshot-keep") == 0)
                        kept = fd;
                else
                        close(fd);
                send_body(PROTOCOL_SUSPEND_FAILED,
                          protocol_suspend_failed_encode(&(struct protocol_suspend_failed_body) { "no room left (a lie)" }));
        } else if (m->type == PROTOCOL_SUSPEND_ABORT) {
                if (kept >= 0)
                        write_far(kept, far, "told to go on");
                send_body(PROTOCOL_STATE, protocol_state_encode(&(struct protocol_state_body) { .paused = false, .pid = (uint64_t) getpid() }));
        }
}

int main(int argc, char **argv) {
        struct protocol_message m = {};
        const char *cmdline = NULL, *p;
        char scenario[64] = "stay";
        struct pollfd pfd;
        char buf[256];
        int r;

        if (argc != 3 || strcmp(argv[1], "--control-fd") != 0) {
                fprintf(stderr, "usage: hostile-launcher --control-fd FD\n");
                return 2;
        }
        control = atoi(argv[2]);
        r = protocol_recv(control, PROTOCOL_TO_LAUNCHER, &m);
        if (r < 0) {
                fprintf(stderr, "hostile-launcher: no setup: %s\n", strerror(-r));
                return 0;
        }
        if (m.type == PROTOCOL_SETUP && protocol_get_string(m.body, "cmdline", &cmdline) >= 0 && (p = strstr(cmdline, "hostile="))) {
                size_t n = strcspn(p + 8, " ");
                snprintf(scenario, sizeof(scenario), "%.*s", (int) (n < sizeof(scenario) ? n : sizeof(scenario) - 1), p + 8);
        }
        snprintf(buf, sizeof(buf), "scenario %s", scenario);
        say(buf);
        protocol_message_done(&m); /* closes every fd that came */

        send_body(PROTOCOL_STATE, protocol_state_encode(&(struct protocol_state_body) { .paused = false, .pid = (uint64_t) getpid() }));
        run(scenario);

        /* Until guestd kills it; after guestd hangs up, on as a real
         * launcher runs on. */
        pfd = (struct pollfd) { .fd = control, .events = POLLIN };
        for (;;) {
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                        break;
                r = protocol_recv(control, PROTOCOL_TO_LAUNCHER, &m);
                if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE) {
                        say("guestd hung up: running on");
                        for (;;)
                                pause();
                }
                if (r >= 0) {
                        snprintf(buf, sizeof(buf), "guestd says %s", protocol_type_to_string(m.type));
                        say(buf);
                        if (strncmp(scenario, "snapshot-", 9) == 0)
                                suspend_step(scenario, &m);
                        protocol_message_done(&m);
                }
        }
        return 0;
}
