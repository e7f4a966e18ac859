/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * console.h: a guest's serial console, as seen from the daemon.
 *
 * The launcher's COM1 is one end of a stream socket pair; the daemon holds
 * the other. Everything the guest writes goes into a 64 KiB ring (the tail
 * GetConsoleLog returns) and to every attached client (OpenConsole).
 * One client at a time is the writer, whose typing goes to the guest; the
 * others attach read-only (their input is dropped), or take the writer's
 * place with force (the old writer is told and disconnected), as virsh
 * console does. A guest has at most CONSOLE_CLIENTS_PER_GUEST clients,
 * and bus.c holds each user to CONSOLE_CLIENTS_PER_USER over all guests:
 * every client is an fd of guestd's. Nothing here may block the
 * daemon's single loop: every fd is non-blocking, output to a client that
 * does not read is buffered up to a bound and the client is then dropped.
 */
#pragma once

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "guest-limits.h"

#define CONSOLE_LOG_SIZE (GUEST_CONSOLE_LOG_KIB * 1024)
#define CONSOLE_CLIENT_BUFFER_MAX (256 * 1024)
#define CONSOLE_INPUT_BUFFER_MAX (64 * 1024)
#define CONSOLE_CLIENTS_PER_GUEST 8
#define CONSOLE_CLIENTS_PER_USER 16

enum console_mode {
        CONSOLE_WRITE,     /* the writer; -EBUSY if there is one */
        CONSOLE_READ_ONLY, /* output only */
        CONSOLE_FORCE,     /* the writer, disconnecting the one there is */
        _CONSOLE_MODE_MAX,
        _CONSOLE_MODE_INVALID = -EINVAL,
};
/* "write" (or ""), "read-only", "force". */
enum console_mode console_mode_from_string(const char *s);

struct console;

int console_new(sd_event *event, const char *guest_id, struct console **ret);
struct console *console_free(struct console *c);

/* Takes fd (the daemon's end of the guest's console socket pair). Any
 * previous one is closed first. */
int console_attach_guest(struct console *c, int fd);
/* Reads what the guest left in the socket, then closes it and every
 * client (they see end of file). */
void console_detach_guest(struct console *c);
/* A new client of uid: returns the client's end of a fresh socket pair.
 * -EBUSY: there is a writer (CONSOLE_WRITE); -EUSERS: the guest has
 * CONSOLE_CLIENTS_PER_GUEST clients. */
int console_open_client(struct console *c, uid_t uid, enum console_mode mode, int *ret_fd);
/* The ring's contents in order, oldest first (caller frees). */
int console_get_log(struct console *c, uint8_t **ret, size_t *ret_len);
size_t console_n_clients(struct console *c);
/* The clients uid has on this console. */
size_t console_n_clients_of(struct console *c, uid_t uid);

/* The ring on its own, for tests. */
struct console_ring {
        uint8_t data[CONSOLE_LOG_SIZE];
        size_t start, len;
};
void console_ring_append(struct console_ring *r, const void *buf, size_t len);
/* Copies out at most size bytes, oldest first; returns the count. */
size_t console_ring_copy(const struct console_ring *r, uint8_t *out, size_t size);
