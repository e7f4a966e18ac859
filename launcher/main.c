/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestd-launcher: one per guest, a small KVM VMM.
 *
 * Two modes that differ only in where the fds come from. Standalone, for
 * development and benchmarks: it opens /dev/kvm (through kmod/) and the
 * files named on the command line. Under guestd (--control-fd N): it opens
 * nothing; the first message on the control socket, "setup", carries a
 * /dev/kvm fd and every file the guest uses, and each
 * field of it is checked here before the machine is built (guestd is
 * trusted, but a mismatch between the body and the fds would otherwise
 * turn into a confusing failure much later). Either way the fds go to
 * vm_run().
 *
 * Exit status: how the guest ended (see enum guest_exit): 0 powered off,
 * 1 launcher error, 3 reset requested, 4 triple fault, 5 KVM internal
 * error, 6 guest powered off reporting failure, 7 stopped by request,
 * 8 suspended to a snapshot; a one-line reason goes to stderr.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "kvm-stats.h"
#include "kvm.h"
#include "log.h"
#include "protocol-body.h"
#include "protocol.h"
#include "sandbox.h"
#include "version.h"
#include "vm.h"

#define LAUNCHER_MAX_MEMORY_MIB (UINT64_C(1) << 20) /* 1 TiB */
#define LAUNCHER_GUEST_NAME_MAX 255
#define LAUNCHER_CMDLINE_MAX 4095

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

/* ---------------------------------------------------------------- daemon mode */

/* A setup we cannot use: say why to guestd ("error", then "exited", the
 * last message) and to the log. Returns -EBADMSG. */
static int setup_fail(int control_fd, const char *fmt, ...) _printf_(2, 3);
static int setup_fail(int control_fd, const char *fmt, ...) {
        char message[256], reason[300];
        struct json_object *body;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        log_error("Bad setup from guestd: %s", message);

        body = protocol_error_encode(&(struct protocol_error_body) { message });
        if (body)
                (void) protocol_send(control_fd, PROTOCOL_ERROR, body, NULL, 0);
        json_object_put(body);

        snprintf(reason, sizeof(reason), "launcher error: bad setup: %s", message);
        body = protocol_exited_encode(&(struct protocol_exited_body) {
                GUEST_EXIT_LAUNCHER_ERROR, guest_exit_to_string(GUEST_EXIT_LAUNCHER_ERROR), reason });
        if (body)
                (void) protocol_send(control_fd, PROTOCOL_EXITED, body, NULL, 0);
        json_object_put(body);
        return -EBADMSG;
}

static bool fd_is_socket(int fd, int type, bool listening) {
        int v;
        socklen_t len = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != type)
                return false;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0)
                return false;
        return !!v == listening;
}

/* The next fd of a message, taken (TAKE_FD evaluates its argument twice). */
static int take_fd(struct protocol_message *m, size_t *next) {
        int fd = m->fds[*next];
        m->fds[(*next)++] = -EBADF;
        return fd;
}

/* Reads "setup" from the control socket and turns it into config and
 * machine; every fd it carried ends up in one of them or closed. */
static int daemon_setup(int control_fd, struct vm_config *config, struct kvm_machine *machine, char **ret_cmdline,
                        char **ret_test_violation, uint32_t **ret_msr_indices) {
        _cleanup_(protocol_message_done) struct protocol_message m = { .body = NULL };
        struct json_object *disks;
        const char *guest, *cmdline;
        uint64_t memory_mib, vcpus;
        size_t n_disks, want_fds, next = 0;
        bool initrd, resume = false;
        int r;

        r = protocol_recv(control_fd, PROTOCOL_TO_LAUNCHER, &m);
        if (r == -EBADMSG)
                return setup_fail(control_fd, "malformed first message");
        if (r < 0)
                return log_error_errno(r, "Failed to receive the setup message from guestd: %m");
        if (m.type != PROTOCOL_SETUP)
                return setup_fail(control_fd, "the first message must be 'setup', not '%s'", protocol_type_to_string(m.type));

        if (protocol_get_string(m.body, "guest", &guest) < 0 || !*guest || strlen(guest) > LAUNCHER_GUEST_NAME_MAX)
                return setup_fail(control_fd, "'guest' must be a name of 1 to %d characters", LAUNCHER_GUEST_NAME_MAX);
        if (protocol_get_uint(m.body, "memory_mib", LAUNCHER_MAX_MEMORY_MIB, &memory_mib) < 0 || memory_mib < 2 || memory_mib % 2)
                return setup_fail(control_fd, "'memory_mib' must be an even number from 2 to %" PRIu64, LAUNCHER_MAX_MEMORY_MIB);
        if (protocol_get_uint(m.body, "vcpus", KVM_MACHINE_MAX_VCPUS, &vcpus) < 0 || vcpus < 1)
                return setup_fail(control_fd, "'vcpus' must be a number from 1 to %d", KVM_MACHINE_MAX_VCPUS);
        if (protocol_get_string(m.body, "cmdline", &cmdline) < 0 || strlen(cmdline) > LAUNCHER_CMDLINE_MAX)
                return setup_fail(control_fd, "'cmdline' must be a string of at most %d characters", LAUNCHER_CMDLINE_MAX);
        if (protocol_get_bool(m.body, "initrd", &initrd) < 0)
                return setup_fail(control_fd, "'initrd' must be true or false");
        if (json_object_object_get_ex(m.body, "resume", NULL) && protocol_get_bool(m.body, "resume", &resume) < 0)
                return setup_fail(control_fd, "'resume' must be true or false");
        if (resume && initrd)
                return setup_fail(control_fd, "a resumed guest has no initrd: it is in the snapshot's RAM");
        /* Optional: ACPI tables, and the devices on the command line too. */
        if (json_object_object_get_ex(m.body, "acpi", NULL) && protocol_get_bool(m.body, "acpi", &config->acpi) < 0)
                return setup_fail(control_fd, "'acpi' must be true or false");
        if (json_object_object_get_ex(m.body, "cmdline_devices", NULL) &&
            protocol_get_bool(m.body, "cmdline_devices", &config->cmdline_devices) < 0)
                return setup_fail(control_fd, "'cmdline_devices' must be true or false");
        if (json_object_object_get_ex(m.body, "test_violation", NULL)) {
                const char *what;
                if (protocol_get_string(m.body, "test_violation", &what) < 0 || !protocol_test_violation_known(what))
                        return setup_fail(control_fd, "'test_violation' must name a known test violation");
                *ret_test_violation = strdup(what);
                if (!*ret_test_violation)
                        return setup_fail(control_fd, "out of memory");
        }
        if (!json_object_object_get_ex(m.body, "disks", &disks) || !json_object_is_type(disks, json_type_array))
                return setup_fail(control_fd, "'disks' must be an array");
        n_disks = json_object_array_length(disks);
        if (n_disks > VM_MAX_DISKS)
                return setup_fail(control_fd, "%zu disks, at most %d are supported", n_disks, VM_MAX_DISKS);

        /* /dev/kvm, kernel (or snapshot), initrd, disks, console, listen. */
        want_fds = 1 + 1 + initrd + n_disks + 2;
        if (m.n_fds != want_fds)
                        return setup_fail(control_fd, "%zu fds for %s initrd and %zu disks: want %zu", m.n_fds, initrd ? "an" : "no",
                                  n_disks, want_fds);

        for (size_t i = 0; i < n_disks; i++) {
                struct json_object *d = json_object_array_get_idx(disks, i);
                const char *id;
                bool ro;
                if (!json_object_is_type(d, json_type_object) || protocol_get_bool(d, "read_only", &ro) < 0 ||
                    protocol_get_string(d, "id", &id) < 0 || strlen(id) > VM_DISK_ID_MAX)
                        return setup_fail(control_fd, "disk %zu must be {read_only: bool, id: string of at most %d characters}", i, VM_DISK_ID_MAX);
                config->disks[i] = (struct vm_disk) { .fd = -EBADF, .read_only = ro };
                strcpy(config->disks[i].id, id);
        }
        if (!fd_is_socket(m.fds[want_fds - 2], SOCK_STREAM, false))
                return setup_fail(control_fd, "the console fd must be a connected stream socket");
        if (!fd_is_socket(m.fds[want_fds - 1], SOCK_SEQPACKET, true))
                return setup_fail(control_fd, "the listen fd must be a listening SOCK_SEQPACKET socket");

        *ret_cmdline = strdup(cmdline);
        if (!*ret_cmdline)
                return setup_fail(control_fd, "out of memory");

        /* Everything checked: take the fds. KVM binds a VM to the address
         * space (mm) of the process that created it: VM and vCPU ioctls from
         * any other process, even one holding the fd, fail with EIO. So
         * guestd cannot create the VM for us; it hands us /dev/kvm, and we
         * create the VM and exactly the vCPUs it granted before anything
         * guest-controlled runs. /dev/kvm is closed at the end of this
         * block and never needed again. */
        {
                _cleanup_close_ int kvm_fd = take_fd(&m, &next);
                r = kvm_machine_create(kvm_fd, vcpus, machine);
                if (r < 0)
                        return setup_fail(control_fd, "failed to create the virtual machine: %s", strerror(-r));
                /* The MSRs a suspend saves: only /dev/kvm can list them,
                 * and it is gone once the guest runs. */
                r = kvm_msr_index_list(kvm_fd, ret_msr_indices, &config->n_msrs);
                if (r < 0)
                        return setup_fail(control_fd, "failed to get KVM's list of MSRs: %s", strerror(-r));
                config->msr_indices = *ret_msr_indices;
        }
        config->memory_bytes = memory_mib * MiB;
        if (resume)
                config->resume_fd = take_fd(&m, &next);
        else
                config->kernel_fd = take_fd(&m, &next);
        config->initrd_fd = initrd ? take_fd(&m, &next) : -EBADF;
        config->cmdline = *ret_cmdline;
        config->n_disks = n_disks;
        for (size_t i = 0; i < n_disks; i++)
                config->disks[i].fd = take_fd(&m, &next);
        config->console_in_fd = config->console_out_fd = take_fd(&m, &next);
        /* Console output guestd cannot take is dropped, not waited for:
         * a guest must not be able to stall its launcher by flooding. */
        if (fcntl(config->console_out_fd, F_SETFL, fcntl(config->console_out_fd, F_GETFL) | O_NONBLOCK) < 0)
                return setup_fail(control_fd, "cannot make the console non-blocking: %s", strerror(errno));
        config->listen_fd = take_fd(&m, &next);
        config->control_fd = control_fd;
        config->test_violation = *ret_test_violation;
        log_info("Guest %s: %" PRIu64 " MiB, %" PRIu64 " vCPUs, %zu disks%s", guest, memory_mib, vcpus, n_disks,
                 resume ? ", resuming from a snapshot" : "");
        return 0;
}

static int run_daemon_mode(int control_fd, usec_t started) {
        struct vm_config config = { .kernel_fd = -EBADF, .initrd_fd = -EBADF, .control_fd = -EBADF, .listen_fd = -EBADF,
                                    .snapshot_fd = -EBADF, .resume_fd = -EBADF, .started_usec = started };
        _cleanup_free_ char *cmdline = NULL, *test_violation = NULL;
        _cleanup_free_ uint32_t *msr_indices = NULL;
        struct kvm_machine machine;
        struct vm_result result;
        int r;

        /* The console and control sockets lead to guestd, which may go away
         * while the guest runs: a write to them must fail, not kill us. */
        signal(SIGPIPE, SIG_IGN);
        kvm_machine_init(&machine);

        r = daemon_setup(control_fd, &config, &machine, &cmdline, &test_violation, &msr_indices);
        if (r < 0) {
                safe_close(control_fd);
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        /* vm_run() owns control_fd, listen_fd and the console from here
         * (it sends "exited" itself, even when setting up fails). */
        r = vm_run(&config, &machine, &result);
        kvm_machine_close(&machine);
        safe_close(config.kernel_fd);
        safe_close(config.initrd_fd);
        safe_close(config.resume_fd);
        for (unsigned i = 0; i < config.n_disks; i++)
                safe_close(config.disks[i].fd);
        if (r < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        log_info("%s", result.reason);
        return result.exit;
}

int main(int argc, char *argv[]) {
        enum {
                ARG_KERNEL = 0x100, ARG_INITRD, ARG_CMDLINE, ARG_MEMORY, ARG_VCPUS, ARG_DISK, ARG_CONSOLE, ARG_STATS, ARG_CONTROL_FD,
                ARG_TEST_VIOLATION, ARG_SNAPSHOT, ARG_SUSPEND_AFTER, ARG_RESUME, ARG_MMU_PAGES, ARG_ACPI, ARG_CMDLINE_DEVICES, ARG_VERSION,
        };
        static const struct option options[] = {
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "initrd", required_argument, NULL, ARG_INITRD },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "memory", required_argument, NULL, ARG_MEMORY },
                { "vcpus", required_argument, NULL, ARG_VCPUS },
                { "disk", required_argument, NULL, ARG_DISK },
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "stats", no_argument, NULL, ARG_STATS },
                { "control-fd", required_argument, NULL, ARG_CONTROL_FD },
                { "test-sandbox-violation", required_argument, NULL, ARG_TEST_VIOLATION },
                { "snapshot", required_argument, NULL, ARG_SNAPSHOT },
                { "suspend-after", required_argument, NULL, ARG_SUSPEND_AFTER },
                { "resume", required_argument, NULL, ARG_RESUME },
                { "mmu-pages", required_argument, NULL, ARG_MMU_PAGES },
                { "acpi", no_argument, NULL, ARG_ACPI },
                { "cmdline-devices", no_argument, NULL, ARG_CMDLINE_DEVICES },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        struct vm_config config = {
                .memory_bytes = 64 * MiB, .kernel_fd = -EBADF, .initrd_fd = -EBADF, .cmdline = "",
                .console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO,
                .control_fd = -EBADF, .listen_fd = -EBADF, .snapshot_fd = -EBADF, .resume_fd = -EBADF,
        };
        struct kvm_machine machine;
        struct kvm_probe_info info;
        struct vm_result result;
        _cleanup_close_ int kvm_fd = -EBADF;
        _cleanup_free_ uint32_t *msr_indices = NULL;
        const char *msg = NULL;
        uint64_t v, vcpus = 1, mmu_pages = 0;
        bool stats = false;
        int control_fd = -EBADF;
        int c, r;

        usec_t started = now_usec();

        log_set_program(argv[0]);
        kvm_machine_init(&machine);
        /* A write past RLIMIT_FSIZE (guestd lowers it to the snapshot's
         * reserve while a snapshot is written: protocol.h, "snapshot")
         * must fail with EFBIG, which the suspend reports and the guest
         * survives, not kill the launcher with the guest in it. */
        signal(SIGXFSZ, SIG_IGN);

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
                case ARG_CONTROL_FD:
                        if (safe_atou64(optarg, &v) < 0 || v > INT32_MAX || !fd_is_socket((int) v, SOCK_SEQPACKET, false)) {
                                log_error("--control-fd takes the number of an open, connected SOCK_SEQPACKET socket, not '%s'", optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        control_fd = (int) v;
                        break;
                case ARG_SNAPSHOT:
                        config.snapshot_fd = safe_close(config.snapshot_fd);
                        config.snapshot_fd = open(optarg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
                        if (config.snapshot_fd < 0) {
                                log_error_errno(-errno, "Cannot create the snapshot file %s: %m", optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        break;
                case ARG_ACPI:
                        config.acpi = true;
                        break;
                case ARG_CMDLINE_DEVICES:
                        config.cmdline_devices = true;
                        break;
                case ARG_MMU_PAGES:
                        if (safe_atou64(optarg, &mmu_pages) < 0 || mmu_pages < 64 || mmu_pages > UINT32_MAX) {
                                log_error("--mmu-pages takes a number of pages from 64 (KVM's minimum) to 2^32-1, not '%s'", optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        break;
                case ARG_SUSPEND_AFTER:
                        if (safe_atou64(optarg, &config.suspend_after_ms) < 0 || config.suspend_after_ms == 0 ||
                            config.suspend_after_ms > UINT64_C(1) << 40) {
                                log_error("--suspend-after takes a positive number of milliseconds, not '%s'", optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        break;
                case ARG_RESUME:
                        config.resume_fd = safe_close(config.resume_fd);
                        if (open_file("snapshot", optarg, &config.resume_fd) < 0)
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        break;
                case ARG_TEST_VIOLATION:
                        if (!protocol_test_violation_known(optarg)) {
                                log_error("--test-sandbox-violation: unknown call '%s'", optarg);
                                return GUEST_EXIT_LAUNCHER_ERROR;
                        }
                        config.test_violation = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("guestd-launcher %s\n", GUESTD_VERSION);
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
        r = sandbox_check_start(control_fd >= 0);
        if (r < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        if (control_fd >= 0) {
                if (config.kernel_fd >= 0 || config.initrd_fd >= 0 || config.n_disks > 0) {
                        log_error("--control-fd takes everything from guestd: no --kernel, --initrd or --disk with it.");
                        return GUEST_EXIT_LAUNCHER_ERROR;
                }
                /* Inherited without O_CLOEXEC; we exec nothing, but keep to
                 * the rule. */
                (void) fcntl(control_fd, F_SETFD, FD_CLOEXEC);
                return run_daemon_mode(control_fd, started);
        }
        if (config.kernel_fd < 0 && config.resume_fd < 0) {
                log_error("--kernel is required (or --resume FILE); try --help.");
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        if (config.resume_fd >= 0 && (config.kernel_fd >= 0 || config.initrd_fd >= 0 || *config.cmdline)) {
                log_error("--resume continues a guest: no --kernel, --initrd or --cmdline with it.");
                return GUEST_EXIT_LAUNCHER_ERROR;
        }
        if (config.suspend_after_ms > 0 && config.snapshot_fd < 0) {
                log_error("--suspend-after needs --snapshot FILE to write to.");
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
        /* A fixed cap, as lguest's fixed pool was: set before the sandbox
         * forbids the ioctl (under guestd, guestd decides the cap). */
        if (mmu_pages > 0) {
                r = kvm_set_nr_mmu_pages(machine.vm_fd, mmu_pages);
                if (r < 0) {
                        log_error_errno(r, "KVM_SET_NR_MMU_PAGES %" PRIu64 " failed: %m", mmu_pages);
                        return GUEST_EXIT_LAUNCHER_ERROR;
                }
        }
        if (config.snapshot_fd >= 0) {
                r = kvm_msr_index_list(kvm_fd, &msr_indices, &config.n_msrs);
                if (r < 0) {
                        log_error_errno(r, "Failed to get KVM's list of MSRs: %m");
                        return GUEST_EXIT_LAUNCHER_ERROR;
                }
                config.msr_indices = msr_indices;
        }
        /* --stats: the VM's shadow MMU counters at the end (KVM_GET_STATS_FD
         * before the sandbox; reading it later is a pread). */
        _cleanup_close_ int stats_fd = stats ? kvm_get_stats_fd(machine.vm_fd) : -EBADF;
        config.started_usec = started;
        /* From here on the launcher works only with fds, as under guestd. */
        kvm_fd = safe_close(kvm_fd);

        r = vm_run(&config, &machine, &result);
        usec_t ended = now_usec();
        kvm_machine_close(&machine); /* KVM tears the VM down here */
        usec_t closed = now_usec();
        /* Guest RAM is the only shared memory the launcher maps, so the
         * launcher's own peak is the peak RSS less the guest RAM touched.
         * (getrusage: the sandbox lets us open no /proc file.) */
        if (stats) {
                struct rusage ru = {};
                uint64_t peak = getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t) ru.ru_maxrss : 0;
                struct kvm_stats ks;
                uint64_t recycled = 0, zapped = 0, misses = 0;
                if (stats_fd >= 0 && kvm_stats_open(stats_fd, &ks) >= 0) {
                        (void) kvm_stats_get(&ks, "mmu_recycled", &recycled);
                        (void) kvm_stats_get(&ks, "mmu_shadow_zapped", &zapped);
                        (void) kvm_stats_get(&ks, "mmu_cache_miss", &misses);
                        kvm_stats_close(&ks);
                }
                log_info("stats: peak_rss_kib=%" PRIu64 " guest_ram_touched_kib=%" PRIu64 " launcher_peak_rss_kib=%" PRIu64
                         " main_to_guest_end_us=%" PRIu64 " vm_teardown_us=%" PRIu64 " mmu_recycled=%" PRIu64
                         " mmu_shadow_zapped=%" PRIu64 " mmu_cache_miss=%" PRIu64,
                         peak, result.guest_ram_touched_kib, peak - MIN(result.guest_ram_touched_kib, peak), ended - started,
                         closed - ended, recycled, zapped, misses);
        }
        if (r < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        log_info("%s", result.reason);
        return result.exit;
}
