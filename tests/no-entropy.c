/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-entropy: runs a command as on a machine whose entropy pool is not
 * ready yet (just booted, no RDRAND, no random.trust_cpu): every
 * getrandom() fails with EAGAIN, as the kernel
 * answers GRND_NONBLOCK then. The blocking form, which would wait for
 * the pool, fails the same way: a program that needs it here is one that
 * would hang at boot.
 *
 *   no-entropy COMMAND [ARG...]
 *
 * The filter is inherited across exec and stacks under the program's own
 * (the launcher's allowlist), so a library that falls back to opening
 * /dev/urandom does so for real, where the launcher's sandbox refuses it
 * (tests/test-launcher-no-entropy.sh).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        scmp_filter_ctx ctx;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: no-entropy COMMAND [ARG...]\n");
                return 2;
        }
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx) {
                fprintf(stderr, "no-entropy: seccomp_init failed\n");
                return 1;
        }
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAGAIN), SCMP_SYS(getrandom), 0);
        if (r >= 0)
                r = seccomp_load(ctx); /* sets no_new_privs itself */
        seccomp_release(ctx);
        if (r < 0) {
                fprintf(stderr, "no-entropy: cannot load the filter: %s\n", strerror(-r));
                return 1;
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "no-entropy: cannot execute %s: %s\n", argv[1], strerror(errno));
        return 127;
}
