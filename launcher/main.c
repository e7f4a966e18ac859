/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestd-launcher: one per guest, a small KVM VMM.
 *
 * This file is the standalone mode, for development and benchmarks: it
 * opens /dev/kvm (through kmod/) and the files named on the command line,
 * then hands the resulting fds to vm_run(), exactly as guestd's mode will
 * hand over fds it received on the control socket.
 *
 * Exit status: how the guest ended (see enum guest_exit): 0 powered off,
 * 1 launcher error, 3 reset requested, 4 triple fault, 5 KVM internal
 * error, 6 guest powered off reporting failure; a one-line reason goes to
 * stderr.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kvm.h"
#include "log.h"
#include "vm.h"

#define LAUNCHER_MAX_MEMORY_MIB (UINT64_C(1) << 20) /* 1 TiB */

static void help(void) {
        printf("Usage: guestd-launcher --kernel FILE [OPTIONS]\n"
               "Boot a guest on KVM (standalone development mode).\n\n"
               "  --kernel FILE        PVH ELF kernel (vmlinux, test payloads) or Linux bzImage\n"
               "  --initrd FILE        initial ramdisk (PVH module / boot_params ramdisk)\n"
               "  --cmdline STRING     kernel command line\n"
               "  --memory MIB         guest RAM in MiB, a multiple of 2 (default 64)\n"
               "  --vcpus N            number of vCPUs (default 1)\n"
               "  --disk FILE[,ro][,id=ID]  virtio-blk disk; repeat for more (at most %d)\n"
               "  --console stdio|FD   where the serial console goes (default stdio)\n"
               "  --stats              at exit, print memory use and timings to stderr (for benchmarks)\n"
               "  -v, --verbose        log more\n"
               "  -h, --help           show this help\n\n"
               "Exit status: 0 guest powered off, 1 launcher error, 3 reset requested,\n"
               "4 triple fault, 5 KVM internal error, 6 guest reported failure.\n",
               VM_MAX_DISKS);
}

static int parse_disk(const char *arg, struct vm_disk *d) {
        _cleanup_free_ char *copy = strdup(arg);
        char *path, *opt, *save = NULL;
        int fd;

        if (!copy)
                return log_error_errno(-ENOMEM, "Out of memory");
        path = strtok_r(copy, ",", &save);
        if (!path || !*path)
                return log_error_errno(-EINVAL, "--disk needs a file name");
        *d = (struct vm_disk) { .fd = -EBADF };
        while ((opt = strtok_r(NULL, ",", &save))) {
                if (strcmp(opt, "ro") == 0)
                        d->read_only = true;
                else if (strncmp(opt, "id=", 3) == 0 && strlen(opt + 3) <= VM_DISK_ID_MAX)
                        strcpy(d->id, opt + 3);
                else
                        return log_error_errno(-EINVAL, "Unknown --disk option '%s' (known: ro, id=ID of at most %d characters)", opt, VM_DISK_ID_MAX);
        }
        fd = open(path, (d->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open disk %s: %m", path);
        d->fd = fd;
        if (!d->id[0]) {
                const char *base = strrchr(path, '/');
                snprintf(d->id, sizeof(d->id), "%s", base ? base + 1 : path);
        }
        return 0;
}

static int open_file(const char *what, const char *path, int *ret) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s %s: %m", what, path);
        *ret = fd;
        return 0;
}

int main(int argc, char *argv[]) {
        enum { ARG_KERNEL = 0x100, ARG_INITRD, ARG_CMDLINE, ARG_MEMORY, ARG_VCPUS, ARG_DISK, ARG_CONSOLE, ARG_STATS };
        static const struct option options[] = {
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "initrd", required_argument, NULL, ARG_INITRD },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "memory", required_argument, NULL, ARG_MEMORY },
                { "vcpus", required_argument, NULL, ARG_VCPUS },
                { "disk", required_argument, NULL, ARG_DISK },
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "stats", no_argument, NULL, ARG_STATS },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct vm_config config = {
                .memory_bytes = 64 * MiB, .kernel_fd = -EBADF, .initrd_fd = -EBADF, .cmdline = "",
                .console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO,
        };
        struct kvm_machine machine;
        struct kvm_probe_info info;
        struct vm_result result;
        _cleanup_close_ int kvm_fd = -EBADF;
        const char *msg = NULL;
        uint64_t v, vcpus = 1;
        bool stats = false;
        int c, r;

        usec_t started = now_usec();

        log_set_program(argv[0]);
        kvm_machine_init(&machine);

        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                switch (c) {
                case ARG_KERNEL:
                        config.kernel_fd = safe_close(config.kernel_fd);
                        if (open_file("kernel", optarg, &config.kernel_fd) < 0)
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        break;
                case ARG_INITRD:
                        config.initrd_fd = safe_close(config.initrd_fd);
                        if (open_file("initrd", optarg, &config.initrd_fd) < 0)
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        break;
                case ARG_CMDLINE:
                        config.cmdline = optarg;
                        break;
                case ARG_MEMORY:
                        if (safe_atou64(optarg, &v) < 0 || v < 2 || v % 2 != 0 || v > LAUNCHER_MAX_MEMORY_MIB) {
                                log_error("--memory takes a size in MiB, an even number from 2 to %" PRIu64 ", not '%s'", LAUNCHER_MAX_MEMORY_MIB, optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        config.memory_bytes = v * MiB;
                        break;
                case ARG_VCPUS:
                        if (safe_atou64(optarg, &vcpus) < 0 || vcpus < 1 || vcpus > KVM_MACHINE_MAX_VCPUS) {
                                log_error("--vcpus takes a number from 1 to %d, not '%s'", KVM_MACHINE_MAX_VCPUS, optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        break;
                case ARG_DISK:
                        if (config.n_disks >= VM_MAX_DISKS) {
                                log_error("At most %d disks are supported", VM_MAX_DISKS);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        if (parse_disk(optarg, &config.disks[config.n_disks]) < 0)
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        config.n_disks++;
                        break;
                case ARG_CONSOLE:
                        if (strcmp(optarg, "stdio") == 0) {
                                config.console_in_fd = STDIN_FILENO;
                                config.console_out_fd = STDOUT_FILENO;
                        } else if (safe_atou64(optarg, &v) == 0 && v <= INT32_MAX && fcntl((int) v, F_GETFD) >= 0) {
                                config.console_in_fd = config.console_out_fd = (int) v;
                        } else {
                                log_error("--console takes 'stdio' or an open file descriptor number, not '%s'", optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        break;
                case ARG_STATS:
                        stats = true;
                        break;
                case 'v':
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        log_error("Try --help.");
                        return GUEST_EXIT_LAUNCHER_ERROR;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument '%s'; try --help.", argv[optind]);
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        if (config.kernel_fd < 0) {
                log_error("--kernel is required; try --help.");
                return GUEST_EXIT_LAUNCHER_ERROR;
        }

        r = kvm_open(&kvm_fd, &msg);
        if (r < 0) {
                log_error_errno(r, "%s: %m", msg);
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        r = kvm_probe(kvm_fd, &info, &msg);
        if (r < 0) {
                log_error("KVM is unusable: %s", msg);
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        if (vcpus > (uint64_t) info.max_vcpus) {
                log_error("This host's KVM supports at most %d vCPUs per guest", info.max_vcpus);
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        r = kvm_machine_create(kvm_fd, vcpus, &machine);
        if (r < 0) {
                log_error_errno(r, "Failed to create the virtual machine: %m");
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        /* From here on the launcher works only with fds, as under guestd. */
        kvm_fd = safe_close(kvm_fd);

        r = vm_run(&config, &machine, &result);
        usec_t ended = now_usec();
        kvm_machine_close(&machine); /* KVM tears the VM down here */
        usec_t closed = now_usec();
        /* Guest RAM is the only shared memory the launcher maps, so the
         * launcher's own peak is VmHWM less the guest RAM touched. */
        if (stats)
                log_info("stats: peak_rss_kib=%" PRIu64 " guest_ram_touched_kib=%" PRIu64 " launcher_peak_rss_kib=%" PRIu64
                         " main_to_guest_end_us=%" PRIu64 " vm_teardown_us=%" PRIu64,
                         proc_self_status_kib("VmHWM"), result.guest_ram_touched_kib,
                         proc_self_status_kib("VmHWM") - MIN(result.guest_ram_touched_kib, proc_self_status_kib("VmHWM")),
                         ended - started, closed - ended);
        if (r < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        log_info("%s", result.reason);
        return result.exit;
}
