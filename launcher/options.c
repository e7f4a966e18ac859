/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options.c: see options.h. One table of options, one handler each. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "guest-limits.h"
#include "guest-options.h"
#include "kvm.h"
#include "log.h"
#include "options.h"
#include "protocol.h"
#include "version.h"

/* The launcher builds what guestd allows (guest-limits.h). */
_Static_assert(VM_DISK_ID_MAX == GUEST_DISK_ID_MAX, "a disk ID is as long for the launcher as for guestd");
_Static_assert(VM_MAX_DISKS == GUEST_MAX_DISKS, "as many disks for the launcher as for guestd");
_Static_assert(GUEST_VCPUS_MAX <= KVM_MACHINE_MAX_VCPUS, "kmod makes as many vCPUs as guestd allows");

static void help(void) {
        printf("Usage: guestd-launcher --kernel FILE [OPTIONS]\n"
               "Boot a guest on KVM (standalone development mode).\n\n"
               "  --kernel FILE        PVH ELF kernel (vmlinux, test payloads) or Linux bzImage\n"
               "  --initrd FILE        initial ramdisk (PVH module / boot_params ramdisk)\n"
               "  --cmdline STRING     kernel command line\n"
               "  --memory SIZE        guest RAM: 512M, 2G, 1.5GiB, or a plain number of MiB; a whole,\n"
               "                       even number of MiB (default %d)\n"
               "  --vcpus N            number of vCPUs (default %d)\n"
               "  --disk FILE[,ro|,rw][,id=ID]  virtio-blk disk; repeat for more (at most %d)\n"
               "  --console stdio|FD   where the serial console goes (default stdio)\n"
               "  --stats              at exit, print memory use and timings to stderr (for benchmarks)\n"
               "  --mmu-pages N        a fixed cap on KVM's shadow page tables for this VM, in pages\n"
               "                       (KVM_SET_NR_MMU_PAGES, at least 64; default: KVM's own, 2%% of RAM)\n"
               "  --acpi               ACPI tables (RSDP, XSDT, FADT, MADT, DSDT) for the machine; the disks\n"
               "                       are then in the DSDT, not on the command line (--resume: the\n"
               "                       snapshot's machine has ACPI or not, whatever is given here)\n"
               "  --cmdline-devices    with --acpi: the disks on the command line as well\n"
               "  --control-fd N       run under guestd: everything comes over this launcher\n"
               "                       protocol socket (the other options are not used)\n"
               "  --snapshot FILE      where a suspend writes the guest's state; SIGUSR2 suspends\n"
               "  --suspend-after MS   suspend the guest to --snapshot after MS milliseconds\n"
               "  --resume FILE        continue a suspended guest from its snapshot (instead of\n"
               "                       --kernel; --memory, --vcpus and --disk as when it was suspended)\n"
               "  --test-sandbox-violation=CALL  test only: once sandboxed, make a forbidden\n"
               "                       call (ioctl-create-vcpu, open, socket, ...) and die of it\n"
               "  -v, --verbose        log more\n"
               "  -h, --help           show this help\n"
               "  --version            print the version and exit\n\n"
               "Exit status: 0 guest powered off, 1 launcher error, 3 reset requested,\n"
               "4 triple fault, 5 KVM internal error, 6 guest reported failure,\n"
               "7 stopped by request, 8 suspended to a snapshot.\n",
               GUEST_MEMORY_MIB_DEFAULT, GUEST_VCPUS_DEFAULT, GUEST_MAX_DISKS);
}

/* ---------------------------------------------------------------- values */

/* A value common/guest-options.c refused (r < 0), said once: -EINVAL. */
static int value_refused(int r, const char *error) {
        if (r == -ENOMEM || !error)
                return log_error_errno(-ENOMEM, "Out of memory");
        return log_error_errno(-EINVAL, "%s", error);
}

/* ---------------------------------------------------------------- the options */

static int open_file(const char *what, const char *path, int *fd) {
        *fd = safe_close(*fd);
        *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (*fd < 0)
                return log_error_errno(-errno, "Failed to open %s %s: %m", what, path);
        return 0;
}

/* A handler takes the option's value (NULL for none); 0 to go on, 1 when
 * done (--help, --version), <0 for an error (logged). */
typedef int (*option_handler_t)(struct options *o, const char *arg);

static int on_kernel(struct options *o, const char *arg) {
        return open_file("kernel", arg, &o->config.kernel_fd);
}

static int on_initrd(struct options *o, const char *arg) {
        return open_file("initrd", arg, &o->config.initrd_fd);
}

static int on_resume(struct options *o, const char *arg) {
        return open_file("snapshot", arg, &o->config.resume_fd);
}

static int on_cmdline(struct options *o, const char *arg) {
        o->config.cmdline = arg;
        return 0;
}

static int on_memory(struct options *o, const char *arg) {
        _cleanup_free_ char *error = NULL;
        uint64_t mib;
        int r = guest_options_parse_memory_mib(arg, &mib, &error);
        if (r < 0)
                return value_refused(r, error);
        o->config.memory_bytes = mib * MiB;
        return 0;
}

static int on_vcpus(struct options *o, const char *arg) {
        _cleanup_free_ char *error = NULL;
        int r = guest_options_parse_vcpus(arg, &o->vcpus, &error);
        return r < 0 ? value_refused(r, error) : 0;
}

static int on_disk(struct options *o, const char *arg) {
        _cleanup_(guest_disk_option_done) struct guest_disk_option d = {};
        _cleanup_free_ char *error = NULL;
        struct vm_disk *disk;
        const char *path;
        int r;

        if (o->config.n_disks >= VM_MAX_DISKS)
                return log_error_errno(-EINVAL, "At most %d disks are supported", VM_MAX_DISKS);
        r = guest_options_parse_disk(arg, &d, &error);
        if (r < 0)
                return value_refused(r, error);
        path = d.path;
        disk = &o->config.disks[o->config.n_disks];
        *disk = (struct vm_disk) { .read_only = d.read_only };
        /* The ID a disk has when none is given: its file's name, cut to fit. */
        if (d.id[0])
                strcpy(disk->id, d.id);
        else {
                const char *base = strrchr(path, '/');
                snprintf(disk->id, sizeof(disk->id), "%s", base ? base + 1 : path);
        }
        disk->fd = open(path, (d.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
        if (disk->fd < 0)
                return log_error_errno(-errno, "Failed to open disk %s: %m", path);
        o->config.n_disks++;
        return 0;
}

static int on_console(struct options *o, const char *arg) {
        uint64_t v;

        if (strcmp(arg, "stdio") == 0) {
                o->config.console_in_fd = STDIN_FILENO;
                o->config.console_out_fd = STDOUT_FILENO;
        } else if (safe_atou64(arg, &v) == 0 && v <= INT32_MAX && fcntl((int) v, F_GETFD) >= 0)
                o->config.console_in_fd = o->config.console_out_fd = (int) v;
        else
                return log_error_errno(-EINVAL, "--console takes 'stdio' or an open file descriptor number, not '%s'", arg);
        return 0;
}

static int on_stats(struct options *o, const char *arg) {
        o->stats = true;
        return 0;
}

static int on_control_fd(struct options *o, const char *arg) {
        uint64_t v;

        if (safe_atou64(arg, &v) < 0 || v > INT32_MAX || !fd_is_socket((int) v, SOCK_SEQPACKET, false))
                return log_error_errno(-EINVAL, "--control-fd takes the number of an open, connected SOCK_SEQPACKET socket, not '%s'", arg);
        o->control_fd = (int) v;
        return 0;
}

static int on_snapshot(struct options *o, const char *arg) {
        o->config.snapshot_fd = safe_close(o->config.snapshot_fd);
        o->config.snapshot_fd = open(arg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
        if (o->config.snapshot_fd < 0)
                return log_error_errno(-errno, "Cannot create the snapshot file %s: %m", arg);
        return 0;
}

static int on_acpi(struct options *o, const char *arg) {
        o->config.acpi = true;
        return 0;
}

static int on_cmdline_devices(struct options *o, const char *arg) {
        o->config.cmdline_devices = true;
        return 0;
}

static int on_mmu_pages(struct options *o, const char *arg) {
        if (safe_atou64(arg, &o->mmu_pages) < 0 || o->mmu_pages < 64 || o->mmu_pages > UINT32_MAX)
                return log_error_errno(-EINVAL, "--mmu-pages takes a number of pages from 64 (KVM's minimum) to 2^32-1, not '%s'", arg);
        return 0;
}

static int on_suspend_after(struct options *o, const char *arg) {
        uint64_t *ms = &o->config.suspend_after_ms;

        if (safe_atou64(arg, ms) < 0 || *ms == 0 || *ms > UINT64_C(1) << 40)
                return log_error_errno(-EINVAL, "--suspend-after takes a positive number of milliseconds, not '%s'", arg);
        return 0;
}

static int on_test_violation(struct options *o, const char *arg) {
        if (!protocol_test_violation_known(arg))
                return log_error_errno(-EINVAL, "--test-sandbox-violation: unknown call '%s'", arg);
        o->config.test_violation = arg;
        return 0;
}

static int on_verbose(struct options *o, const char *arg) {
        log_set_max_level(LOG_LEVEL_DEBUG);
        return 0;
}

static int on_help(struct options *o, const char *arg) {
        help();
        return 1;
}

static int on_version(struct options *o, const char *arg) {
        printf("guestd-launcher %s\n", GUESTD_VERSION);
        return 1;
}

static const struct {
        const char *name;
        int has_arg;
        char short_name; /* 0: none */
        option_handler_t handler;
} option_table[] = {
        { "kernel", required_argument, 0, on_kernel },
        { "initrd", required_argument, 0, on_initrd },
        { "cmdline", required_argument, 0, on_cmdline },
        { "memory", required_argument, 0, on_memory },
        { "vcpus", required_argument, 0, on_vcpus },
        { "disk", required_argument, 0, on_disk },
        { "console", required_argument, 0, on_console },
        { "stats", no_argument, 0, on_stats },
        { "control-fd", required_argument, 0, on_control_fd },
        { "test-sandbox-violation", required_argument, 0, on_test_violation },
        { "snapshot", required_argument, 0, on_snapshot },
        { "suspend-after", required_argument, 0, on_suspend_after },
        { "resume", required_argument, 0, on_resume },
        { "mmu-pages", required_argument, 0, on_mmu_pages },
        { "acpi", no_argument, 0, on_acpi },
        { "cmdline-devices", no_argument, 0, on_cmdline_devices },
        { "verbose", no_argument, 'v', on_verbose },
        { "help", no_argument, 'h', on_help },
        { "version", no_argument, 0, on_version },
};

/* getopt_long()'s value for entry i: its short name, or past any char. */
static int option_value(size_t i) {
        return option_table[i].short_name ? option_table[i].short_name : 0x100 + (int) i;
}

static option_handler_t option_handler(int value) {
        for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
                if (option_value(i) == value)
                        return option_table[i].handler;
        return NULL;
}

int options_parse(int argc, char *argv[], struct options *ret) {
        struct option long_options[ELEMENTSOF(option_table) + 1] = {};
        option_handler_t handler;
        int c, r;

        *ret = (struct options) {
                .config = {
                        .memory_bytes = GUEST_MEMORY_MIB_DEFAULT * MiB, .kernel_fd = -EBADF, .initrd_fd = -EBADF, .cmdline = "",
                        .console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO,
                        .control_fd = -EBADF, .listen_fd = -EBADF, .snapshot_fd = -EBADF, .resume_fd = -EBADF,
                },
                .vcpus = GUEST_VCPUS_DEFAULT,
                .control_fd = -EBADF,
        };
        for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
                long_options[i] = (struct option) { option_table[i].name, option_table[i].has_arg, NULL, option_value(i) };

        while ((c = getopt_long(argc, argv, "vh", long_options, NULL)) >= 0) {
                handler = option_handler(c);
                if (!handler)
                        return log_error_errno(-EINVAL, "Try --help.");
                r = handler(ret, optarg);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'; try --help.", argv[optind]);
        return 1;
}

int options_check(const struct options *o) {
        const struct vm_config *c = &o->config;

        if (o->control_fd >= 0) {
                if (c->kernel_fd >= 0 || c->initrd_fd >= 0 || c->n_disks > 0)
                        return log_error_errno(-EINVAL, "--control-fd takes everything from guestd: no --kernel, --initrd or --disk with it.");
                return 0;
        }
        if (c->kernel_fd < 0 && c->resume_fd < 0)
                return log_error_errno(-EINVAL, "--kernel is required (or --resume FILE); try --help.");
        if (c->resume_fd >= 0 && (c->kernel_fd >= 0 || c->initrd_fd >= 0 || *c->cmdline))
                return log_error_errno(-EINVAL, "--resume continues a guest: no --kernel, --initrd or --cmdline with it.");
        if (c->suspend_after_ms > 0 && c->snapshot_fd < 0)
                return log_error_errno(-EINVAL, "--suspend-after needs --snapshot FILE to write to.");
        return 0;
}
