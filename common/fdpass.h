/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdpass.h: one packet with file descriptors over an AF_UNIX socket
 * (SCM_RIGHTS), the way every process of the project passes fds: guestd to
 * its launchers (protocol.h) and the child that opens a user's files to
 * guestd (daemon/open-as-caller.c).
 *
 * Receiving takes every fd that came, whatever else is wrong with the
 * packet: each is handed to the caller or closed, never leaked into the
 * process. Received fds are close-on-exec.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* The most fds one packet carries anywhere in the project (a launcher's
 * "setup" the most: protocol.h); the kernel's own limit is 253. */
#define FDPASS_MAX_FDS 96

/* Sends buf[0..len) with fds[0..n_fds) (MSG_NOSIGNAL and flags), retrying
 * on EINTR. Returns the bytes sent or -errno. */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, int flags);

/* Receives one packet into buf (at most size bytes) and up to max_fds fds
 * (more are closed: a caller that wants fewer counts them first by asking
 * for one more), retrying on EINTR;
 * flags as for recvmsg (MSG_DONTWAIT). Returns the bytes received (0: end
 * of stream) or -errno (-EAGAIN: nothing there). *ret_msg_flags: the
 * packet's MSG_TRUNC / MSG_CTRUNC. */
ssize_t fdpass_recv(int sock, void *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds, int flags,
                    int *ret_msg_flags);
