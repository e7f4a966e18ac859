/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seccomp-errno: runs a command with one system call answered by an
 * error, as some hosts answer it:
 *
 *   seccomp-errno SYSCALL ERRNO COMMAND [ARG...]
 *     ERRNO: EAGAIN, ENOSYS or EPERM
 *
 *   seccomp-errno getrandom EAGAIN ...  a machine whose entropy pool is
 *       not ready yet (just booted, no RDRAND, no random.trust_cpu): the
 *       kernel answers GRND_NONBLOCK so; the blocking form, which would
 *       wait for the pool, fails the same way here: a program that needs
 *       it is one that would hang at boot (tests/test-launcher-no-entropy.sh)
 *   seccomp-errno clone3 ENOSYS ...  a service under systemd's
 *       RestrictNamespaces=, which answers clone3() so (its flags are in
 *       memory, out of a filter's reach) to make callers use clone()
 *       (tests/test-daemon-restrict-namespaces.sh)
 *
 * The filter is inherited across fork and exec and stacks under the
 * program's own (the launcher's allowlist), so a library's fallback runs
 * for real. Loading it sets no_new_privs, as NoNewPrivileges=yes does.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
        const char *name;
        int value;
} errnos[] = {
        { "EAGAIN", EAGAIN },
        { "ENOSYS", ENOSYS },
        { "EPERM", EPERM },
};

int main(int argc, char *argv[]) {
        scmp_filter_ctx ctx;
        int nr, err = 0, r;

        if (argc < 4) {
                fprintf(stderr, "usage: seccomp-errno SYSCALL ERRNO COMMAND [ARG...]\n");
                return 2;
        }
        nr = seccomp_syscall_resolve_name(argv[1]);
        if (nr == __NR_SCMP_ERROR) {
                fprintf(stderr, "seccomp-errno: no system call '%s'\n", argv[1]);
                return 2;
        }
        for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
                if (strcmp(argv[2], errnos[i].name) == 0)
                        err = errnos[i].value;
        if (!err) {
                fprintf(stderr, "seccomp-errno: ERRNO is EAGAIN, ENOSYS or EPERM, not '%s'\n", argv[2]);
                return 2;
        }
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx) {
                fprintf(stderr, "seccomp-errno: seccomp_init failed\n");
                return 1;
        }
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
        if (r >= 0)
                r = seccomp_load(ctx); /* sets no_new_privs itself */
        seccomp_release(ctx);
        if (r < 0) {
                fprintf(stderr, "seccomp-errno: cannot load the filter: %s\n", strerror(-r));
                return 1;
        }
        execvp(argv[3], argv + 3);
        fprintf(stderr, "seccomp-errno: cannot execute %s: %s\n", argv[3], strerror(errno));
        return 127;
}
