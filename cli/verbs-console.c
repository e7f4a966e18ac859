/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs-console.c: console, the guest's serial console on the user's
 * terminal (or a script's stdin and stdout). guestd hands over a socket
 * (OpenConsole); from then on guestctl copies bytes and the bus is not
 * needed. What the guest writes goes out as it is: the user attached to
 * the guest's terminal knowingly (output.c says why everything else is
 * escaped).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>

#include "args.h"
#include "bus.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

#define CONSOLE_ESCAPE 0x1d /* Ctrl-], as telnet, virsh console and machinectl */

static struct termios saved_termios;
static bool termios_saved;
static volatile sig_atomic_t console_quit;

static void console_restore_terminal(void) {
        if (termios_saved) {
                tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
                termios_saved = false;
        }
}

static void console_on_signal(int sig) {
        console_quit = sig;
}

static int console_raw_terminal(void) {
        struct termios t;

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return -errno;
        t = saved_termios;
        /* Every key goes to the guest (^C too), unechoed; the guest echoes.
         * Output keeps \n -> \r\n: the test payloads print bare \n. */
        cfmakeraw(&t);
        t.c_oflag |= OPOST | ONLCR;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
                return -errno;
        termios_saved = true;
        atexit(console_restore_terminal);
        return 0;
}

/*
 * Copies between the terminal and the guest's console socket.
 *
 * On a terminal: raw mode, Ctrl-] leaves, everything else is typed to the
 * guest. From a pipe or file (scripts): stdin is copied to the guest until
 * its end; after that guestctl keeps printing the guest's output until the
 * guest has been quiet for --idle milliseconds (0: until the console
 * closes). Either way it ends when the console closes (the guest stopped).
 */
static int console_copy(int console_fd, bool interactive) {
        char buf[4096];
        /* Read-only: a script's stdin is not needed; a terminal's only for
         * the escape character. */
        bool stdin_open = interactive || !args.read_only;
        usec_t last_output = now_usec();

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = console_fd, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                int timeout = -1;
                ssize_t n;

                if (console_quit)
                        return GUESTCTL_EXIT_OK;
                if (!stdin_open && !interactive && args.idle_ms > 0) {
                        usec_t idle = (now_usec() - last_output) / 1000;
                        if (idle >= args.idle_ms)
                                return GUESTCTL_EXIT_OK;
                        timeout = (int) (args.idle_ms - idle);
                }
                if (poll(p, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(-errno, "poll() failed: %m");
                        return GUESTCTL_EXIT_FAIL;
                }
                if (p[0].revents) {
                        n = read(console_fd, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                if (interactive)
                                        fprintf(stderr, "\r\n[console closed: the guest stopped]\r\n");
                                return GUESTCTL_EXIT_OK;
                        }
                        if (loop_write(STDOUT_FILENO, buf, n) < 0)
                                return GUESTCTL_EXIT_OK; /* stdout went away (| head): done */
                        last_output = now_usec();
                }
                if (p[1].revents) {
                        n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                stdin_open = false;
                                last_output = now_usec();
                                continue;
                        }
                        if (interactive) {
                                char *escape = memchr(buf, CONSOLE_ESCAPE, n);
                                if (escape) {
                                        if (escape > buf)
                                                (void) loop_write(console_fd, buf, escape - buf);
                                        return GUESTCTL_EXIT_OK;
                                }
                        }
                        if (args.read_only)
                                continue;
                        if (loop_write(console_fd, buf, n) < 0) {
                                if (interactive)
                                        fprintf(stderr, "\r\n[console closed: the guest stopped]\r\n");
                                return GUESTCTL_EXIT_OK;
                        }
                }
        }
}

int verb_console(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int console_fd = -EBADF;
        bool interactive = isatty(STDIN_FILENO);
        int fd, r;

        r = bus_guest_open(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (args.read_only && args.force) {
                log_error("--read-only and --force exclude each other: --force takes over the typing session.");
                return GUESTCTL_EXIT_USAGE;
        }
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "OpenConsole", &error, &reply, "s",
                               args.read_only ? "read-only" : args.force ? "force" : "write");
        if (r < 0)
                return bus_guest_call_failed(argv[1], &error, r, "attach to the guest's console");
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return bus_reply_malformed(r, "attach to the guest's console");
        /* The message owns fd; keep our own copy past its lifetime. */
        console_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (console_fd < 0) {
                log_error_errno(-errno, "Failed to duplicate the console fd: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        reply = sd_bus_message_unref(reply);
        bus = sd_bus_flush_close_unref(bus); /* not needed while copying */

        signal(SIGPIPE, SIG_IGN);
        struct sigaction sa = { .sa_handler = console_on_signal };
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        if (interactive) {
                r = console_raw_terminal();
                if (r < 0) {
                        log_error_errno(r, "Failed to put the terminal into raw mode: %m");
                        return GUESTCTL_EXIT_FAIL;
                }
                fprintf(stderr, "Connected to guest %s%s. Escape character is ^] (Ctrl-]).\r\n", argv[1],
                        args.read_only ? " (read-only)" : "");
        }
        r = console_copy(console_fd, interactive);
        console_restore_terminal();
        if (interactive)
                fprintf(stderr, "\n");
        return r;
}
