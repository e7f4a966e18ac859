/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-exit.h: how a guest ended, as guestd-launcher's exit status and
 * the "exit" field of its "exited" message (protocol.h). One list for the
 * launcher that reports it and the daemon that classifies it
 * (daemon/exit-classify.h).
 */
#pragma once

enum guest_exit {
        GUEST_EXIT_POWEROFF = 0,       /* guest powered off cleanly */
        GUEST_EXIT_LAUNCHER_ERROR = 1, /* the launcher itself failed (or bad usage) */
        GUEST_EXIT_RESET = 3,          /* guest asked for a CPU reset */
        GUEST_EXIT_SHUTDOWN = 4,       /* triple fault: KVM_EXIT_SHUTDOWN */
        GUEST_EXIT_INTERNAL_ERROR = 5, /* KVM internal error, e.g. emulation failure */
        GUEST_EXIT_GUEST_FAILURE = 6,  /* guest powered off reporting failure */
        GUEST_EXIT_STOPPED = 7,        /* stopped by request (guestd's stop): the plug, disks flushed */
        GUEST_EXIT_SUSPENDED = 8,      /* suspended: its state is in a snapshot file */
        _GUEST_EXIT_MAX,
};

/* "powered off", "reset requested", ...; "unknown" for anything else. */
const char *guest_exit_to_string(int e);
