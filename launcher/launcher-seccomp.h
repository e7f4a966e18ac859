/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-seccomp.h: the system calls guestd-launcher may make once its
 * guest is about to run. The list itself, with the reason for every entry,
 * is in launcher-seccomp.c; launcher/sandbox.c installs it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* One allowed system call. With n_values > 0, argument arg must equal one
 * of values[] (e.g. the ioctl requests); with exec_check, argument arg (a
 * protection) must not contain PROT_EXEC. */
struct launcher_seccomp_entry {
        const char *syscall;
        const char *why;
        int arg;                      /* -1: any arguments */
        const unsigned long *values;  /* allowed values of argument arg */
        const char *const *value_names;
        size_t n_values;
        bool no_exec;                 /* argument arg must not ask for PROT_EXEC */
        bool own_process;             /* argument 0 must be our own pid (tgkill) */
};

extern const struct launcher_seccomp_entry launcher_seccomp_allowlist[];
extern const size_t launcher_seccomp_allowlist_size;

/* Builds the filter and loads it on every thread of the process (TSYNC).
 * A system call it does not allow raises SIGSYS in the calling thread
 * (SECCOMP_RET_TRAP) and is not made. With ret_listener (under guestd),
 * KVM_SET_NR_MMU_PAGES becomes a user notification and *ret_listener the
 * listener fd, for guestd alone; without, that ioctl is refused like any
 * other. Returns 0 or -errno. */
int launcher_seccomp_install(int *ret_listener);
