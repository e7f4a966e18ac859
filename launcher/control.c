/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control.c: the launcher's I/O thread.
 *
 * While the vCPU threads run the guest, the thread that called vm_run()
 * loops here: it feeds console input to the UART while it has room,
 * flushes its output, and acts on the signals a person or systemd sends
 * the launcher. It blocks in poll() on the machine's wake_fd too, so that
 * the end of the guest, from whatever thread, ends the loop at once.
 *
 * Under guestd it also serves the control connection (protocol.h): pause,
 * unpause, stop, shutdown, suspend, the page-table cap, and attach after
 * guestd restarted. The guest does not depend on guestd: if the
 * connection breaks (guestd died or restarts) the guest keeps running,
 * its console output is dropped, and the loop waits on the listening
 * socket for a daemon to come back and attach a new console.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control.h"
#include "i8042.h"
#include "kvm.h"
#include "log.h"
#include "protocol-body.h"
#include "protocol.h"
#include "sandbox.h"
#include "serial.h"

#define CONTROL_FLUSH_MS 20

/* The launcher's side of the protocol (protocol.h). protocol_recv() has
 * already checked each message's shape; here a table says in which
 * connection states each request is allowed. A request that is merely
 * untimely (pause while paused) is refused with "error" and the guest goes
 * on; anything else not allowed, and any malformed message, is a protocol
 * error: guestd and we disagree about the state of the guest, and the
 * only safe thing left is to end it.
 */

enum control_state {
        CONTROL_STATE_ATTACHING, /* a reconnected daemon has not sent attach yet */
        CONTROL_STATE_RUNNING,
        CONTROL_STATE_PAUSED,
        CONTROL_STATE_SUSPEND_READY,  /* parked for a suspend, waiting for the file */
        CONTROL_STATE_SUSPEND_FAILED, /* its write failed, waiting to go on */
};
#define STATE(s) (1u << (s))

static enum control_state control_state(const struct control *c) {
        if (!c->attached)
                return CONTROL_STATE_ATTACHING;
        if (c->suspend_phase == CONTROL_SUSPEND_READY)
                return CONTROL_STATE_SUSPEND_READY;
        if (c->suspend_phase == CONTROL_SUSPEND_FAILED)
                return CONTROL_STATE_SUSPEND_FAILED;
        return c->machine->paused ? CONTROL_STATE_PAUSED : CONTROL_STATE_RUNNING;
}

static void control_disconnect(struct control *c) {
        sandbox_set_report_fd(-1);
        c->fd = safe_close(c->fd);
        c->attached = false;
}

static void control_protocol_error(struct control *c, const char *fmt, ...) _printf_(2, 3);
static void control_protocol_error(struct control *c, const char *fmt, ...) {
        char reason[MACHINE_REASON_SIZE];
        va_list ap;
        int n;

        n = snprintf(reason, sizeof(reason), "protocol error: ");
        va_start(ap, fmt);
        vsnprintf(reason + n, sizeof(reason) - n, fmt, ap);
        va_end(ap);
        log_error("%s", reason);
        /* "exited" with this reason goes out on the connection once the
         * vCPUs have stopped, as for any other end. */
        machine_end(c->machine, GUEST_EXIT_LAUNCHER_ERROR, reason);
}

/* Sends on the control connection; a daemon that cannot be reached is
 * gone, and the guest carries on without it. */
static void control_send(struct control *c, enum protocol_type type, struct json_object *body) {
        int r;

        if (c->fd < 0)
                return;
        r = protocol_send(c->fd, type, body, NULL, 0);
        if (r < 0) {
                log_warning_errno(r, "Failed to send '%s' to guestd, closing the connection: %m", protocol_type_to_string(type));
                control_disconnect(c);
        }
}

/* Sends body (a typed encoder's result) and puts it. */
static void control_send_body(struct control *c, enum protocol_type type, struct json_object *body) {
        if (!body)
                return (void) log_error_errno(-ENOMEM, "Out of memory");
        control_send(c, type, body);
        json_object_put(body);
}

void control_send_state(struct control *c, bool paused) {
        control_send_body(c, PROTOCOL_STATE, protocol_state_encode(&(struct protocol_state_body) { paused, (uint64_t) getpid() }));
}

/* The I/O thread is the only writer of paused, so it may read it unlocked. */
static void control_send_current_state(struct control *c) {
        control_send_state(c, c->machine->paused);
}

static void control_send_error(struct control *c, const char *message) {
        control_send_body(c, PROTOCOL_ERROR, protocol_error_encode(&(struct protocol_error_body) { message }));
}

void control_send_exited(struct control *c, enum guest_exit e, const char *reason) {
        control_send_body(c, PROTOCOL_EXITED,
                          protocol_exited_encode(&(struct protocol_exited_body) { e, guest_exit_to_string(e), reason }));
}

static void control_send_suspend_failed(struct control *c) {
        control_send_body(c, PROTOCOL_SUSPEND_FAILED,
                          protocol_suspend_failed_encode(&(struct protocol_suspend_failed_body) { c->suspend_why }));
}

/* Where the guest is, for a daemon that (re)attaches: its state, or the
 * suspend that waits for it. */
static void control_send_where(struct control *c) {
        switch (c->suspend_phase) {
        case CONTROL_SUSPEND_READY:
                return control_send(c, PROTOCOL_SUSPEND_READY, NULL);
        case CONTROL_SUSPEND_FAILED:
                return control_send_suspend_failed(c);
        case CONTROL_SUSPEND_NONE:
                break;
        }
        control_send_current_state(c);
}

static void control_attach(struct control *c, struct protocol_message *m) {
        int fd = TAKE_FD(m->fds[0]);

        /* The new guestd's log pipe replaces stdout and stderr (the old
         * one's read end went with the old guestd). dup3() swaps it in
         * atomically: other threads logging meanwhile write to one or the
         * other, never to a closed fd. */
        if (dup3(m->fds[1], STDOUT_FILENO, 0) < 0 || dup3(m->fds[1], STDERR_FILENO, 0) < 0)
                log_warning_errno(-errno, "Cannot take over guestd's new log pipe: %m");

        /* Non-blocking, as the first console: output guestd cannot take
         * is dropped rather than stall the guest (serial.c). */
        (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        /* The UART stops writing to the old console before we close it, so
         * its number cannot be reused under the UART's feet. */
        serial_set_output(c->machine->serial, fd);
        if (c->console_out_fd != c->console_in_fd)
                safe_close(c->console_out_fd);
        safe_close(c->console_in_fd);
        c->console_in_fd = c->console_out_fd = fd;
        c->console_input_open = true;
        c->attached = true;
        log_info("guestd attached: new console");
        control_send_where(c);
}

static void control_pause(struct control *c, struct protocol_message *m) {
        machine_pause(c->machine);
        serial_flush(c->machine->serial);
        control_send_current_state(c);
}

static void control_unpause(struct control *c, struct protocol_message *m) {
        machine_unpause(c->machine);
        control_send_current_state(c);
}

/* Ends the guest in order: no vCPU runs (so no virtio-blk request is half
 * done), then what the guest wrote is on stable storage, then exit. */
static void control_stop(struct control *c, struct protocol_message *m) {
        char reason[MACHINE_REASON_SIZE] = "stopped by request";
        unsigned disk = 0;
        int r;

        machine_pause(c->machine);
        serial_flush(c->machine->serial);
        r = machine_flush_disks(c->machine, &disk);
        if (r < 0)
                snprintf(reason, sizeof(reason), "stopped by request; flushing disk %u failed: %s", disk, strerror(-r));
        machine_end(c->machine, GUEST_EXIT_STOPPED, reason);
}

/* Asking the guest to shut down, for guestd's Stop and for SIGRTMIN+4:
 * the ACPI power button where the guest listens for it (machine.c), else
 * Ctrl-Alt-Del on the keyboard, which a Linux guest with a keyboard
 * driver turns into its init's shutdown (or, where
 * init has not said otherwise, a reboot: the reset then ends the launcher
 * and guestd counts it as the stop). The answer says whether anyone was
 * there to ask; guestd then waits, or stops the guest itself. *ret_how
 * says which was tried last, and on failure *ret_why why (possibly in
 * both[]). */
static int control_ask_shutdown(struct control *c, const char *who, const char **ret_how, const char **ret_why, char *both, size_t both_size) {
        const char *why = NULL, *button_why = NULL, *how = PROTOCOL_SHUTDOWN_POWER_BUTTON;
        int r;

        if (c->machine->paused) {
                r = -EBUSY;
                why = "the guest is paused";
        } else {
                r = machine_power_button(c->machine, &button_why);
                if (r < 0) {
                        how = PROTOCOL_SHUTDOWN_CTRL_ALT_DEL;
                        r = i8042_ctrl_alt_del(c->machine->i8042, &why);
                        if (r < 0 && c->machine->acpi) {
                                snprintf(both, both_size, "%s; %s", button_why, why ? why : strerror(-r));
                                why = both;
                        }
                }
        }
        if (r >= 0)
                log_info("Pressed %s: %s asks the guest to shut down",
                         strcmp(how, PROTOCOL_SHUTDOWN_POWER_BUTTON) == 0 ? "the ACPI power button" : "Ctrl-Alt-Del", who);
        else
                log_info("Cannot ask the guest to shut down: %s", why ? why : strerror(-r));
        *ret_how = how;
        *ret_why = r < 0 && !why ? strerror(-r) : why;
        return r;
}

static void control_shutdown(struct control *c, struct protocol_message *m) {
        const char *how, *why;
        char both[200];
        int r;

        r = control_ask_shutdown(c, "guestd", &how, &why, both, sizeof(both));
        control_send_body(c, PROTOCOL_SHUTDOWN_ASKED,
                          protocol_shutdown_asked_encode(&(struct protocol_shutdown_asked_body) { r >= 0, how, r >= 0 ? NULL : why }));
}

/* SIGRTMIN+4: what `machinectl poweroff` sends a machine's leader (our
 * launcher, under guestd.service), as it would a container's init to ask
 * for an orderly shutdown. The handler notes who sent it and wakes the I/O
 * loop. There, under guestd, guestd is told and stops the guest as its
 * Stop does (asks it, waits its timeout, then pulls the plug; the state
 * and the journal say so); with no guestd attached (standalone, or while
 * guestd restarts) the launcher asks the guest itself. Without this the
 * signal's default action would kill the launcher: a pulled plug. */
static volatile sig_atomic_t control_poweroff_requested;
static volatile sig_atomic_t control_poweroff_pid, control_poweroff_uid;
static int control_poweroff_wake_fd = -EBADF;

static void control_poweroff_signal(int sig, siginfo_t *si, void *context) {
        uint64_t one = 1;
        int saved = errno;

        control_poweroff_pid = si ? si->si_pid : 0;
        control_poweroff_uid = si ? (sig_atomic_t) si->si_uid : 0;
        control_poweroff_requested = 1;
        if (control_poweroff_wake_fd >= 0)
                (void) !write(control_poweroff_wake_fd, &one, sizeof(one));
        errno = saved;
}

static void control_poweroff(struct control *c) {
        struct protocol_poweroff_signal_body b = { .pid = (uint64_t) control_poweroff_pid, .uid = (uint32_t) control_poweroff_uid };
        const char *how, *why;
        char both[200];

        log_info("SIGRTMIN+4 (power off, as machinectl poweroff sends) from pid %" PRIu64 ", uid %" PRIu64, b.pid, b.uid);
        if (c->daemon_mode && c->fd >= 0 && c->attached) {
                control_send_body(c, PROTOCOL_POWEROFF_SIGNAL, protocol_poweroff_signal_encode(&b));
                if (c->fd >= 0)
                        return;
                /* guestd went away just now (the send failed and closed
                 * the connection): as if it had been away. */
        }
        (void) control_ask_shutdown(c, c->daemon_mode ? "SIGRTMIN+4 (guestd is away)" : "SIGRTMIN+4", &how, &why, both, sizeof(both));
}

/* Standalone with --snapshot, SIGUSR2 asks for a suspend (as a person or
 * a test would: kill -USR2). The handler only notes it and wakes the I/O
 * loop, which suspends. */
static volatile sig_atomic_t control_suspend_requested;
static int control_suspend_wake_fd = -EBADF;

static void control_suspend_signal(int sig) {
        uint64_t one = 1;
        int saved = errno;

        control_suspend_requested = 1;
        if (control_suspend_wake_fd >= 0)
                (void) !write(control_suspend_wake_fd, &one, sizeof(one));
        errno = saved;
}

/* How far a suspend has got, for guestd. */
static void control_snapshot_progress(void *userdata, uint64_t done, uint64_t total) {
        struct control *c = userdata;

        control_send_body(c, PROTOCOL_PROGRESS, protocol_progress_encode(&(struct protocol_progress_body) { done, total }));
}

/* guestd's "mmu_pages": the cap on the VM's shadow page tables. The
 * ioctl waits for guestd's verdict (seccomp user notification). */
static void control_mmu_pages(struct control *c, struct protocol_message *m) {
        struct protocol_mmu_pages_body b;
        int error;

        if (protocol_mmu_pages_decode(m->body, &b) < 0)
                return control_protocol_error(c, "'mmu_pages' without a page count");
        error = -kvm_set_nr_mmu_pages(c->machine->kvm->vm_fd, b.pages);
        if (error)
                log_warning("Cannot set the shadow page-table cap to %" PRIu64 " pages: %s", b.pages, strerror(error));
        control_send_body(c, PROTOCOL_MMU_PAGES_SET,
                          protocol_mmu_pages_set_encode(&(struct protocol_mmu_pages_set_body) { b.pages, error }));
}

/* guestd's "suspend": park, flush, and wait for the file. */
static void control_suspend(struct control *c, struct protocol_message *m) {
        char why[200];

        if (suspend_park(c->machine, &c->suspend, why, sizeof(why)) < 0) {
                control_send_error(c, why);
                control_send_current_state(c);
                return;
        }
        c->suspend_phase = CONTROL_SUSPEND_READY;
        control_send(c, PROTOCOL_SUSPEND_READY, NULL);
}

/* guestd's "snapshot": the file, with RLIMIT_FSIZE at the reserve guestd
 * charged for it. A write that fails closes it before saying so: guestd
 * gives the launcher its limit back only once nothing can write the file
 * (a launcher that kept a copy would then write past the reserve). */
static void control_snapshot(struct control *c, struct protocol_message *m) {
        int fd = TAKE_FD(m->fds[0]), r;

        r = suspend_write(c->machine, &c->suspend, fd, control_snapshot_progress, c, c->suspend_why, sizeof(c->suspend_why));
        safe_close(fd);
        if (r >= 0) {
                c->suspend_phase = CONTROL_SUSPEND_NONE;
                return; /* "exited" follows once the vCPU threads have ended */
        }
        log_error("Suspend failed; the guest waits, parked, until guestd says it goes on");
        c->suspend_phase = CONTROL_SUSPEND_FAILED;
        control_send_suspend_failed(c);
}

/* guestd's "suspend_abort": the guest goes on as it was before the
 * suspend. */
static void control_suspend_abort(struct control *c, struct protocol_message *m) {
        log_info("Suspend called off; the guest goes on %s", c->suspend.was_paused ? "paused" : "running");
        c->suspend_phase = CONTROL_SUSPEND_NONE;
        suspend_unpark(c->machine, &c->suspend);
        control_send_current_state(c);
}

struct control_handler {
        void (*handle)(struct control *c, struct protocol_message *m);
        unsigned allowed;   /* STATE() mask: handled */
        unsigned refused;   /* STATE() mask: answered with "error", the guest goes on */
        const char *refusal;
};

/* setup is absent: it comes once, before the machine exists (main.c).
 * ON: the guest runs or is paused, no suspend waiting.
 * While a suspend waits (SUSPEND_*) only what belongs to it, a stop (the
 * guest ends in order from there as from anywhere) and guestd's page-table
 * cap, which it sets whatever the guest does, are allowed. */
#define SUSPENDING (STATE(CONTROL_STATE_SUSPEND_READY) | STATE(CONTROL_STATE_SUSPEND_FAILED))
#define ON (STATE(CONTROL_STATE_RUNNING) | STATE(CONTROL_STATE_PAUSED))
static const struct control_handler control_handlers[_PROTOCOL_TYPE_MAX] = {
        [PROTOCOL_ATTACH]  = { .handle = control_attach, .allowed = STATE(CONTROL_STATE_ATTACHING) },
        [PROTOCOL_PAUSE]   = { .handle = control_pause, .allowed = STATE(CONTROL_STATE_RUNNING),
                               .refused = STATE(CONTROL_STATE_PAUSED), .refusal = "the guest is already paused" },
        [PROTOCOL_UNPAUSE] = { .handle = control_unpause, .allowed = STATE(CONTROL_STATE_PAUSED),
                               .refused = STATE(CONTROL_STATE_RUNNING), .refusal = "the guest is not paused" },
        [PROTOCOL_STOP]    = { .handle = control_stop, .allowed = ON | SUSPENDING },
        [PROTOCOL_SHUTDOWN] = { .handle = control_shutdown, .allowed = ON },
        [PROTOCOL_SUSPEND] = { .handle = control_suspend, .allowed = ON },
        [PROTOCOL_SNAPSHOT] = { .handle = control_snapshot, .allowed = STATE(CONTROL_STATE_SUSPEND_READY) },
        [PROTOCOL_SUSPEND_ABORT] = { .handle = control_suspend_abort, .allowed = SUSPENDING },
        [PROTOCOL_MMU_PAGES] = { .handle = control_mmu_pages, .allowed = ON | SUSPENDING },
};
#undef ON
#undef SUSPENDING

static void control_receive(struct control *c) {
        struct protocol_message m = { .body = NULL };
        const struct control_handler *h;
        enum control_state state = control_state(c);
        int r;

        r = protocol_recv(c->fd, PROTOCOL_TO_LAUNCHER, &m);
        if (r == -EAGAIN || r == -EINTR)
                return;
        if (r == -EBADMSG)
                return control_protocol_error(c, "malformed message from guestd");
        if (r < 0) {
                if (r == -ECONNRESET)
                        log_info("guestd closed the control connection; the guest keeps running");
                else
                        log_warning_errno(r, "The control connection failed, the guest keeps running: %m");
                return control_disconnect(c);
        }

        h = &control_handlers[m.type];
        if (h->refused & STATE(state))
                control_send_error(c, h->refusal);
        else if (h->handle && (h->allowed & STATE(state)))
                h->handle(c, &m);
        else if (state == CONTROL_STATE_ATTACHING)
                control_protocol_error(c, "'%s' before 'attach' on a new connection", protocol_type_to_string(m.type));
        else
                control_protocol_error(c, "'%s' is not allowed now", protocol_type_to_string(m.type));
        protocol_message_done(&m);
}

/* A daemon (re)connects on the listening socket. Only root, or our own
 * user (a daemon's tests run unprivileged), may take over the guest. */
static void control_accept(struct control *c) {
        _cleanup_close_ int fd = -EBADF;
        struct ucred cred;
        socklen_t len = sizeof(cred);

        fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(-errno, "Failed to accept a control connection: %m");
                return;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                log_warning_errno(-errno, "Failed to get the credentials of a control connection: %m");
                return;
        }
        if (cred.uid != 0 && cred.uid != geteuid()) {
                log_warning("Refused a control connection from uid %u", (unsigned) cred.uid);
                return;
        }
        log_info("guestd reconnected (pid %d)", (int) cred.pid);
        c->fd = TAKE_FD(fd);
        sandbox_set_report_fd(c->fd);
        c->attached = false;
}

/* The I/O loop: console input into the UART while it has room, a
 * periodic flush of console output, and in daemon mode the control
 * connection (or, without one, the listening socket), until the guest
 * ends. */
void control_run(struct control *c) {
        while (!machine_exiting(c->machine)) {
                struct pollfd p[3] = { { .fd = c->machine->wake_fd, .events = POLLIN }, { .fd = -1 }, { .fd = -1 } };
                size_t space = serial_rx_space(c->machine->serial);
                bool listening = false;

                if (c->console_input_open && c->console_in_fd >= 0 && space > 0)
                        p[1] = (struct pollfd) { .fd = c->console_in_fd, .events = POLLIN };
                if (c->fd >= 0)
                        p[2] = (struct pollfd) { .fd = c->fd, .events = POLLIN };
                else if (c->listen_fd >= 0) {
                        p[2] = (struct pollfd) { .fd = c->listen_fd, .events = POLLIN };
                        listening = true;
                }
                if (poll(p, ELEMENTSOF(p), CONTROL_FLUSH_MS) < 0 && errno != EINTR) {
                        machine_end(c->machine, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: poll failed");
                        break;
                }
                if (p[0].revents & POLLIN) {
                        uint64_t v;
                        (void) !read(c->machine->wake_fd, &v, sizeof(v));
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        uint8_t buf[SERIAL_RX_SIZE];
                        ssize_t n = read(c->console_in_fd, buf, MIN(space, sizeof(buf)));
                        if (n > 0)
                                serial_receive(c->machine->serial, buf, n);
                        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                                c->console_input_open = false; /* end of console input: the guest keeps running */
                }
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (listening)
                                control_accept(c);
                        else
                                control_receive(c);
                }
                serial_flush(c->machine->serial);
                if (control_poweroff_requested) {
                        control_poweroff_requested = 0;
                        control_poweroff(c);
                }
                if ((c->suspend_at > 0 && now_usec() >= c->suspend_at) || control_suspend_requested) {
                        char why[200];
                        c->suspend_at = 0;
                        control_suspend_requested = 0;
                        (void) suspend_now(c->machine, c->snapshot_fd, why, sizeof(why));
                }
        }
        serial_flush(c->machine->serial);
}

void control_init(struct control *c, struct machine *m, int control_fd, int listen_fd, int console_in_fd, int console_out_fd) {
        *c = (struct control) {
                .machine = m,
                .daemon_mode = control_fd >= 0,
                .fd = control_fd,
                .listen_fd = listen_fd,
                .attached = true, /* setup came on it */
                .console_in_fd = console_in_fd,
                .console_out_fd = console_out_fd,
                .console_input_open = console_in_fd >= 0,
                .snapshot_fd = -EBADF,
        };
}

void control_catch_signals(struct control *c) {
        struct sigaction poweroff = { .sa_sigaction = control_poweroff_signal, .sa_flags = SA_RESTART | SA_SIGINFO };

        control_poweroff_wake_fd = c->machine->wake_fd;
        sigemptyset(&poweroff.sa_mask);
        if (sigaction(SIGRTMIN + 4, &poweroff, NULL) < 0)
                log_warning_errno(-errno, "Cannot take SIGRTMIN+4 (machinectl poweroff): %m");
        if (!c->daemon_mode && c->snapshot_fd >= 0) {
                struct sigaction suspend = { .sa_handler = control_suspend_signal, .sa_flags = SA_RESTART };
                control_suspend_wake_fd = c->machine->wake_fd;
                sigaction(SIGUSR2, &suspend, NULL);
        }
}

void control_done(struct control *c) {
        /* The handlers stay (the sandbox allows no sigaction now); they
         * only find no fd to wake. */
        control_suspend_wake_fd = -EBADF;
        control_poweroff_wake_fd = -EBADF;
        if (!c->daemon_mode)
                return;
        c->fd = safe_close(c->fd);
        c->listen_fd = safe_close(c->listen_fd);
        if (c->console_out_fd != c->console_in_fd)
                safe_close(c->console_out_fd);
        c->console_in_fd = c->console_out_fd = safe_close(c->console_in_fd);
}
