/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * options.h: the launcher's command line. Standalone (development and
 * benchmarks) it names the files the guest uses, and the launcher opens
 * them here, as it opens nothing under guestd; --control-fd runs it under
 * guestd, where everything comes in "setup" instead (main.c).
 *
 * The values' syntax (--memory SIZE, --vcpus N, --disk
 * FILE[,ro|,rw][,id=ID]) is common/guest-options.h's, which guestctl reads
 * a guest's configuration with too.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

struct options {
        /* The machine as vm_run() takes it, the files opened: kernel,
         * initrd, disks, snapshot (to write), resume (to read). */
        struct vm_config config;
        uint64_t vcpus;
        uint64_t mmu_pages; /* 0: KVM's own default */
        bool stats;
        int control_fd; /* --control-fd: -EBADF if not under guestd */
};

/* Parses argv into ret, opening the files it names. Returns 1 to go on,
 * 0 when done (--help, --version printed), -EINVAL for a usage error
 * (logged). */
int options_parse(int argc, char *argv[], struct options *ret);
/* The checks between options, after the sandbox's first check (main.c):
 * 0, or -EINVAL (logged). */
int options_check(const struct options *o);
