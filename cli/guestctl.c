/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestctl: the command-line client of guestd. It is an ordinary,
 * unprivileged D-Bus client: every verb is one or two calls on the bus name
 * org.guestd1 (dbus/org.guestd1.xml), and guestd decides from the bus
 * credentials who is asking. guestctl itself checks only what it must to
 * build a request (its own command line, and the values of a guest's
 * options within the limits every guest has: common/guest-options.c);
 * everything else, names and the caller's quota included, is the
 * daemon's to judge, so that there is one place where the rules live and
 * the daemon's sentence is what the user reads.
 *
 * This file is the verb table and main(): the options are parsed once for
 * all verbs (args.c), then checked against the verb's entry, so
 * `guestctl --json list` and `guestctl list --json` mean the same. The
 * verbs are in verbs-*.c (verbs.h says which where), their calls to guestd
 * in bus.c, what they print in output.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus-api.h"
#include "guest-limits.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        int min_args, max_args; /* positional arguments after the verb */
        unsigned options;       /* ARGS_* bits accepted besides --bus, --help */
        const char *usage;
        const char *summary; /* --help's line */
        const char *help;    /* VERB --help's paragraph */
};

static int verb_help(int argc, char **argv);

static const struct verb verbs[] = {
        { "create", verb_create, 1, 1, ARGS_CREATE | ARGS_OUTPUT,
          "create NAME --kernel FILE [--initrd FILE] [--cmdline STRING] [--memory SIZE] [--vcpus N] "
          "[--disk FILE[,ro|,rw][,id=ID]]... [--[no-]acpi] [--[no-]cmdline-devices] [--json]",
          "define a guest",
          "Define a guest (memory defaults to " STRINGIFY(GUEST_MEMORY_MIB_DEFAULT) " MiB, vCPUs to " STRINGIFY(GUEST_VCPUS_DEFAULT)
          "; relative paths are taken from the current directory). --memory takes a size: 512M, 2G, 1.5GiB, or a plain number of "
          "MiB; a whole, even number of MiB. The guest has ACPI tables, where distribution kernels find their disks and the power "
          "button that stop presses; --no-acpi: none (--acpi: the default, said). --cmdline-devices: the disks on the kernel command "
          "line too (virtio_mmio.device=, for kernels built to find them there); the default without ACPI, and never both off. "
          "--json: print the new guest's name and object." },
        { "remove", verb_remove, 1, 1, ARGS_OUTPUT, "remove NAME", "remove a guest that is not running",
          "Remove a guest that is not running." },
        { "list", verb_list, 0, 0, ARGS_OUTPUT, "list [--json] [--no-legend]", "list your guests",
          "List your guests (uid 0, and an admin polkit authorizes: everyone's, with their owners)." },
        { "status", verb_status, 1, 1, ARGS_OUTPUT | ARGS_RAW, "status NAME [--json] [--raw]", "show a guest's state and configuration",
          "Show a guest's state and configuration. On a terminal, control characters in what the guest's launcher or owner "
          "wrote (its state reason, paths, command line) are shown escaped; --raw: as they are." },
        { "start", verb_start, 1, 1, ARGS_OUTPUT, "start NAME", "start a guest", "Start a guest, within your quota." },
        { "stop", verb_stop, 1, 1, ARGS_OUTPUT | ARGS_FORCE, "stop NAME [--force] [--json]", "shut a guest down, or kill it",
          "Ask the guest to shut down (the ACPI power button where the guest listens for it, else Ctrl-Alt-Del), wait up to the "
          "policy's timeouts.stop, then stop it in order (vCPUs halted, disks flushed); prints which happened (--json: as "
          "state_reason). --force kills it at once (of a suspended guest: discards its snapshot)." },
        { "pause", verb_pause, 1, 1, ARGS_OUTPUT, "pause NAME", "freeze a guest's vCPUs in memory (virsh suspend)",
          "Freeze a running guest's vCPUs; it keeps its memory and its quota (what virsh calls suspend)." },
        { "unpause", verb_unpause, 1, 1, ARGS_OUTPUT, "unpause NAME", "let a paused guest run again (virsh resume)",
          "Let a paused guest run again (what virsh calls resume)." },
        { "suspend", verb_suspend, 1, 1, ARGS_OUTPUT, "suspend NAME [--json]",
          "save a guest to disk and end it (not virsh suspend: that is pause)",
          "Save a running or paused guest whole to a snapshot on disk (charged to your snapshot storage) and end it: it then holds "
          "no memory, vCPUs or running quota, and resume starts it again where it was. This is not virsh's suspend, which only "
          "freezes a guest in memory: that is pause here. A progress bar shows on a terminal; --json: none." },
        { "resume", verb_resume, 1, 1, ARGS_OUTPUT, "resume NAME [--json]", "start a suspended guest from its snapshot",
          "Start a suspended guest again from its snapshot, where it stopped (the snapshot is deleted once it runs). A paused "
          "guest is let run again with unpause." },
        { "console", verb_console, 1, 1, ARGS_IDLE | ARGS_FORCE | ARGS_READ_ONLY, "console NAME [--read-only|--force] [--idle MS]",
          "attach to a guest's serial console",
          "Attach to the guest's serial console; Ctrl-] leaves. One session at a time types into the guest: --read-only "
          "attaches beside it and only watches, --force takes its place (it is disconnected). With stdin not a terminal: "
          "stdin is typed, and guestctl leaves once stdin has ended and the guest has said nothing for --idle milliseconds "
          "(default 1000; 0: until the guest stops)." },
        { "log", verb_log, 1, 1, ARGS_OUTPUT | ARGS_RAW, "log NAME [--json] [--raw]", "print what a guest wrote to its console",
          "Print the last " STRINGIFY(GUEST_CONSOLE_LOG_KIB) " KiB the guest wrote to its console. On a terminal, control "
          "characters (escape sequences) and bytes that are not UTF-8 are shown escaped (\\x1b), lines and tabs kept; --raw: "
          "the bytes as they are." },
        { "quota", verb_quota, 0, 0, ARGS_OUTPUT, "quota [--json] [--no-legend]", "show your limits and use, and the host's budget",
          "Show your limits and what you use of them, and the host's page-table budget." },
        { "budget", verb_budget, 0, 1, ARGS_OUTPUT, "budget [SIZE|N%|policy] [--json]", "show or set the host's page-table budget",
          "Show the host-wide budget of KVM's shadow page tables, what they use and the memory pressure; root: set the "
          "budget, a size (64M, 1G, or a plain number of MiB) or a share of the host's RAM, until the policy is reloaded "
          "(\"policy\": the policy's again)." },
        { "help", verb_help, 0, 1, 0, "help [VERB]", "show this help, or a verb's", "Show this help, or a verb's." },
};

static const struct verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static void help_verb(FILE *f, const struct verb *v) {
        fprintf(f, "Usage: guestctl [--bus ADDRESS] %s\n\n%s\n", v->usage, v->help);
}

static void help(FILE *f) {
        fprintf(f, "Usage: guestctl [--bus ADDRESS] [--json] [--no-legend] VERB [ARGS...]\n"
                   "\n"
                   "Create and run virtual machines through guestd, within your quota.\n"
                   "\n"
                   "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s\n      %s\n", verbs[i].usage, verbs[i].summary);
        fprintf(f, "\n"
                   "Options:\n"
                   "  --bus ADDRESS  D-Bus address of the bus guestd is on (default: $DBUS_SYSTEM_BUS_ADDRESS,\n"
                   "                 else the system bus)\n"
                   "  --json         machine-readable output (every verb but console and help; those that print\n"
                   "                 nothing print nothing; suspend, resume: no progress bar)\n"
                   "  --no-legend    tables without their header line (every verb but console and help)\n"
                   "  --raw          log, status: print what a guest or its owner wrote as it is; on a terminal\n"
                   "                 control characters are otherwise shown escaped (\\x1b)\n"
                   "  -h, --help     this help; `guestctl VERB --help` for one verb\n"
                   "  --version      print the version and exit\n"
                   "\n"
                   "Sizes: 512M, 2G, 1.5GiB (K, M, G, T: each 1024 times the one before), or a plain number of MiB.\n"
                   "\n"
                   "Exit status: 0 ok, 1 other failure, 2 usage error, 3 no such guest, 4 access denied,\n"
                   "5 quota exceeded, 6 bad state, 7 guestd unreachable, 8 invalid argument, 9 exists,\n"
                   "10 KVM unavailable, 11 bad snapshot, 12 timed out. See guestctl(1).\n");
}

static int verb_help(int argc, char **argv) {
        const struct verb *v;

        if (argc < 2) {
                help(stdout);
                return GUESTCTL_EXIT_OK;
        }
        v = verb_find(argv[1]);
        if (!v) {
                log_error("Unknown verb \"%s\"; `guestctl --help` lists them.", argv[1]);
                return GUESTCTL_EXIT_USAGE;
        }
        help_verb(stdout, v);
        return GUESTCTL_EXIT_OK;
}

/* Whether v takes what the command line gave it; said if not. */
static int verb_check_args(const struct verb *v, int n_args) {
        unsigned refused = args.seen & ~v->options;

        for (unsigned b = 0; b < ARGS_BITS; b++)
                if (refused & (1u << b)) {
                        log_error("\"%s\" does not take --%s.", v->name, args.seen_name[b]);
                        help_verb(stderr, v);
                        return GUESTCTL_EXIT_USAGE;
                }
        if (n_args < v->min_args || n_args > v->max_args) {
                log_error("\"%s\" takes %s.", v->name,
                          v->max_args == 0             ? "no arguments" :
                          v->min_args == v->max_args ? "exactly one argument" :
                                                       "at most one argument");
                help_verb(stderr, v);
                return GUESTCTL_EXIT_USAGE;
        }
        return GUESTCTL_EXIT_OK;
}

static int run(int argc, char **argv) {
        const struct verb *v;
        int r;

        r = args_parse(argc, argv);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (optind >= argc) {
                help(args.help ? stdout : stderr);
                return args.help ? GUESTCTL_EXIT_OK : GUESTCTL_EXIT_USAGE;
        }
        v = verb_find(argv[optind]);
        if (!v) {
                log_error("Unknown verb \"%s\"; `guestctl --help` lists them.", argv[optind]);
                return GUESTCTL_EXIT_USAGE;
        }
        if (args.help) {
                help_verb(stdout, v);
                return GUESTCTL_EXIT_OK;
        }
        r = verb_check_args(v, argc - optind - 1);
        if (r == GUESTCTL_EXIT_OK)
                r = args_parse_guest();
        if (r != GUESTCTL_EXIT_OK)
                return r;
        return v->fn(argc - optind, argv + optind);
}

int main(int argc, char **argv) {
        int r;

        log_set_program("guestctl");
        r = run(argc, argv);
        args_done();
        return r;
}
