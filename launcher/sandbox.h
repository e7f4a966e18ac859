/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sandbox.h: the launcher's own part of its sandbox.
 *
 * guestd builds most of the sandbox before it executes the launcher
 * (daemon/supervise.c): new namespaces, an empty read-only root, a uid of
 * the launcher's own, no capabilities in any set, no_new_privs, rlimits.
 * The launcher finishes it in two steps:
 *
 *   sandbox_check_start()  first thing in main(): not dumpable (its owner
 *                          must not ptrace it or read its memory through
 *                          /proc), and under guestd a check that it really
 *                          got no privileges: a launcher started wrongly
 *                          refuses to run rather than run with too much.
 *   sandbox_lock()         once the machine is built and before the first
 *                          guest instruction: the seccomp allowlist of
 *                          launcher-seccomp.c on every thread.
 *
 * A system call outside the allowlist is not made: the kernel raises
 * SIGSYS in the thread that tried it. The handler tells guestd which call
 * it was (a "violation" message, see protocol.h; standalone, a line on
 * stderr) and the launcher then dies of SIGSYS.
 */
#pragma once

#include <stdbool.h>

/* 0, or -EPERM (logged) if under guestd the launcher runs with any
 * privilege it should not have. */
int sandbox_check_start(bool under_guestd);

/* Where a violation is reported: the control socket to guestd, or -1 for
 * stderr only. May change while the guest runs (a daemon reattaches). */
void sandbox_set_report_fd(int fd);

/* Installs the SIGSYS handler and the seccomp filter (all threads). */
/* With ret_listener (under guestd): KVM_SET_NR_MMU_PAGES goes to guestd
 * for its verdict, through the listener fd returned there, which the
 * caller must hand to guestd and close (launcher-seccomp.h). */
int sandbox_lock(int *ret_listener);

/* Test only (guestd --test-sandbox-violation, or the launcher's option of
 * the same name): after sandbox_lock(), make the forbidden call named by
 * what (protocol.h lists them). Returns -EINVAL for an unknown name, and
 * -ENOTRECOVERABLE if the call was let through; otherwise the launcher
 * dies of it. */
int sandbox_test_violation(const char *what, int vm_fd);
