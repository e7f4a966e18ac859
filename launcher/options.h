/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * options.h: the launcher's command line. Standalone (development and
 * benchmarks) it names the files the guest uses, and the launcher opens
 * them here, as it opens nothing under guestd; --control-fd runs it under
 * guestd, where everything comes in "setup" instead (main.c).
 *
 * The values' syntax (--memory MIB, --vcpus N, --disk FILE[,ro][,id=ID])
 * is in functions of their own, within guest-limits.h, so that guestctl,
 * which takes the same options for a guest's configuration, can use them
 * later.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guest-limits.h"
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

/* --disk FILE[,ro][,id=ID]: the value, not yet opened. */
struct options_disk {
        char *path; /* malloc'd */
        bool read_only;
        char id[GUEST_DISK_ID_MAX + 1]; /* "" when not given */
};

/* Each returns 0, or -EINVAL (-ENOMEM) with a line logged that says what
 * the option takes. */
int options_parse_memory_mib(const char *arg, uint64_t *ret);
int options_parse_vcpus(const char *arg, uint64_t *ret);
int options_parse_disk(const char *arg, struct options_disk *ret);

/* Parses argv into ret, opening the files it names. Returns 1 to go on,
 * 0 when done (--help, --version printed), -EINVAL for a usage error
 * (logged). */
int options_parse(int argc, char *argv[], struct options *ret);
/* The checks between options, after the sandbox's first check (main.c):
 * 0, or -EINVAL (logged). */
int options_check(const struct options *o);
