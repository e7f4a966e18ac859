/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* args.c: see args.h. One table of options, one handler each. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus-api.h"
#include "guest-limits.h"
#include "log.h"
#include "util.h"
#include "version.h"

struct args args = {
        .memory_mib = GUEST_MEMORY_MIB_DEFAULT,
        .vcpus = GUEST_VCPUS_DEFAULT,
        .acpi = -1,
        .cmdline_devices = -1,
        .idle_ms = 1000,
};

/* A value common/guest-options.c refused: not a value of its kind is a
 * usage error; one no guest may have is an invalid argument, as guestd
 * would have said. */
static int value_refused(int r, const char *error) {
        if (!error || r == -ENOMEM) {
                log_error("Out of memory.");
                return GUESTCTL_EXIT_FAIL;
        }
        log_error("%s", error);
        return r == -ERANGE ? GUESTCTL_EXIT_INVALID_ARGUMENT : GUESTCTL_EXIT_USAGE;
}

/* A handler takes the option's value (NULL for none) and returns an exit
 * status. */
typedef int (*args_handler_t)(const char *value);

static int on_version(const char *value) {
        printf("guestctl %s\n", GUESTD_VERSION);
        exit(GUESTCTL_EXIT_OK);
}

static int on_idle(const char *value) {
        if (safe_atou64(value, &args.idle_ms) < 0) {
                log_error("--idle takes a number of milliseconds, not \"%s\".", value);
                return GUESTCTL_EXIT_USAGE;
        }
        return GUESTCTL_EXIT_OK;
}

/* --disk may be repeated. Its value, like those of --memory and --vcpus,
 * is read once the verb is known to take it (args_parse_guest()): a verb
 * that does not is told so first. */
static int on_disk(const char *value) {
        const char **d = reallocarray(args.disk_args, args.n_disks + 1, sizeof(*d));

        if (!d) {
                log_error("Out of memory.");
                return GUESTCTL_EXIT_FAIL;
        }
        args.disk_args = d;
        args.disk_args[args.n_disks++] = value;
        return GUESTCTL_EXIT_OK;
}

/* Each option does one of: sets a flag, keeps its value, sets a
 * three-way switch, or calls its handler. */
static const struct {
        const char *name;
        int has_arg;
        char short_name; /* 0: none */
        unsigned bit;    /* ARGS_*; 0: every verb takes it */
        bool *flag;
        const char **value;
        int *tristate, to;
        args_handler_t handler;
} args_table[] = {
        { "help", no_argument, 'h', 0, .flag = &args.help },
        { "version", no_argument, 0, 0, .handler = on_version },
        { "bus", required_argument, 0, 0, .value = &args.bus_address },
        { "json", no_argument, 0, ARGS_JSON, .flag = &args.json },
        { "no-legend", no_argument, 0, ARGS_NO_LEGEND, .flag = &args.no_legend },
        { "raw", no_argument, 0, ARGS_RAW, .flag = &args.raw },
        { "force", no_argument, 'f', ARGS_FORCE, .flag = &args.force },
        { "read-only", no_argument, 0, ARGS_READ_ONLY, .flag = &args.read_only },
        { "idle", required_argument, 0, ARGS_IDLE, .handler = on_idle },
        { "kernel", required_argument, 0, ARGS_CREATE, .value = &args.kernel },
        { "initrd", required_argument, 0, ARGS_CREATE, .value = &args.initrd },
        { "cmdline", required_argument, 0, ARGS_CREATE, .value = &args.cmdline },
        { "memory", required_argument, 0, ARGS_CREATE, .value = &args.memory_arg },
        { "vcpus", required_argument, 0, ARGS_CREATE, .value = &args.vcpus_arg },
        { "disk", required_argument, 0, ARGS_CREATE, .handler = on_disk },
        { "acpi", no_argument, 0, ARGS_CREATE, .tristate = &args.acpi, .to = 1 },
        { "no-acpi", no_argument, 0, ARGS_CREATE, .tristate = &args.acpi, .to = 0 },
        { "cmdline-devices", no_argument, 0, ARGS_CREATE, .tristate = &args.cmdline_devices, .to = 1 },
        { "no-cmdline-devices", no_argument, 0, ARGS_CREATE, .tristate = &args.cmdline_devices, .to = 0 },
};

static int args_apply(size_t i, const char *value) {
        if (args_table[i].flag)
                *args_table[i].flag = true;
        else if (args_table[i].value)
                *args_table[i].value = value;
        else if (args_table[i].tristate)
                *args_table[i].tristate = args_table[i].to;
        else
                return args_table[i].handler(value);
        return GUESTCTL_EXIT_OK;
}

/* getopt_long()'s value for entry i: its short name, or past any char. */
static int args_value(size_t i) {
        return args_table[i].short_name ? args_table[i].short_name : 0x100 + (int) i;
}

static int args_index(int value) {
        for (size_t i = 0; i < ELEMENTSOF(args_table); i++)
                if (args_value(i) == value)
                        return (int) i;
        return -1;
}

/* Notes that entry i was given, by its bit, for the verb's check. */
static void args_seen(size_t i) {
        unsigned bit = args_table[i].bit;

        if (!bit)
                return;
        args.seen |= bit;
        for (unsigned b = 0; b < ARGS_BITS; b++)
                if (bit == 1u << b && !args.seen_name[b])
                        args.seen_name[b] = args_table[i].name;
}

static int args_unknown(char **argv) {
        if (optopt > 0 && optopt < 0x100)
                log_error("Unknown option -%c; see guestctl --help.", optopt);
        else
                log_error("Unknown option or missing argument in \"%s\"; see guestctl --help.", argv[optind - 1]);
        return GUESTCTL_EXIT_USAGE;
}

int args_parse(int argc, char **argv) {
        struct option options[ELEMENTSOF(args_table) + 1] = {};
        int c, i, r;

        for (size_t k = 0; k < ELEMENTSOF(args_table); k++)
                options[k] = (struct option) { args_table[k].name, args_table[k].has_arg, NULL, args_value(k) };
        opterr = 0;
        while ((c = getopt_long(argc, argv, "hf", options, NULL)) >= 0) {
                i = args_index(c);
                if (i < 0)
                        return args_unknown(argv);
                args_seen((size_t) i);
                r = args_apply((size_t) i, optarg);
                if (r != GUESTCTL_EXIT_OK)
                        return r;
        }
        return GUESTCTL_EXIT_OK;
}

int args_parse_guest(void) {
        _cleanup_free_ char *error = NULL;
        int r = 0;

        if (args.memory_arg)
                r = guest_options_parse_memory_mib(args.memory_arg, &args.memory_mib, &error);
        if (r >= 0 && args.vcpus_arg)
                r = guest_options_parse_vcpus(args.vcpus_arg, &args.vcpus, &error);
        if (r >= 0 && args.n_disks > 0) {
                args.disks = calloc(args.n_disks, sizeof(*args.disks));
                if (!args.disks)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < args.n_disks; i++)
                r = guest_options_parse_disk(args.disk_args[i], &args.disks[i], &error);
        return r < 0 ? value_refused(r, error) : GUESTCTL_EXIT_OK;
}

void args_done(void) {
        for (size_t i = 0; args.disks && i < args.n_disks; i++)
                guest_disk_option_done(&args.disks[i]);
        free(args.disks);
        free(args.disk_args);
        args.disks = NULL;
        args.disk_args = NULL;
        args.n_disks = 0;
}
