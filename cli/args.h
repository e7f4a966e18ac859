/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * args.h: guestctl's command line, parsed once for all verbs (args.c).
 * Options may come before or after the verb; each sets its bit in
 * args.seen, and the verb's entry in guestctl.c's table says which bits
 * it takes, so that `guestctl --json list` and `guestctl list --json`
 * mean the same and an option a verb has no use for is a usage error.
 *
 * The values of a guest's options are read by common/guest-options.c, as
 * the launcher reads them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guest-options.h"

/* Options a verb may take, besides --bus and --help, which all take. */
enum {
        ARGS_JSON = 1 << 0,
        ARGS_NO_LEGEND = 1 << 1,
        ARGS_CREATE = 1 << 2, /* --kernel --initrd --cmdline --memory --vcpus --disk --[no-]acpi --[no-]cmdline-devices */
        ARGS_FORCE = 1 << 3,
        ARGS_IDLE = 1 << 4,
        ARGS_READ_ONLY = 1 << 5,
        ARGS_RAW = 1 << 6,
        ARGS_BITS = 7,
        /* Every verb that prints takes these. */
        ARGS_OUTPUT = ARGS_JSON | ARGS_NO_LEGEND,
};

struct args {
        const char *bus_address; /* NULL: $DBUS_SYSTEM_BUS_ADDRESS, else the system bus */
        bool help;
        bool json, no_legend, raw;
        bool force, read_only;
        uint64_t idle_ms;
        /* create */
        const char *kernel, *initrd, *cmdline;
        const char *memory_arg, *vcpus_arg, **disk_args; /* as given; n_disks of disk_args */
        size_t n_disks;
        /* Read from those by args_parse_guest(): */
        uint64_t memory_mib, vcpus;
        struct guest_disk_option *disks; /* n_disks */
        int acpi, cmdline_devices; /* -1: guestd's default */

        unsigned seen;                    /* ARGS_* bits given */
        const char *seen_name[ARGS_BITS]; /* per bit, an option given, for errors ("json") */
};
extern struct args args;

/* Parses the options of argv into args; optind is then the verb's index.
 * --version prints and exits. Returns GUESTCTL_EXIT_OK, or the exit
 * status of an unknown option or a bad --idle (said). */
int args_parse(int argc, char **argv);
/* Reads the values of --memory, --vcpus and --disk (common/guest-options.c),
 * once the verb is known to take them. Returns an exit status: one that is
 * not a value of its kind is a usage error, one that no guest may have an
 * invalid argument (said). */
int args_parse_guest(void);
/* Frees what args holds. */
void args_done(void);
