/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestd-launcher: one per guest, a small KVM VMM.
 *
 * Two modes that differ only in where the fds come from. Standalone, for
 * development and benchmarks: it opens /dev/kvm (through kmod/) and the
 * files named on the command line (options.c). Under guestd (--control-fd
 * N): it opens nothing; the first message on the control socket, "setup",
 * carries a /dev/kvm fd and every file the guest uses, and its decoder
 * (protocol_setup_decode(), common/protocol-body.c) checks every field and
 * that the fds match before the machine is built (guestd is trusted, but
 * a mismatch between the body and the fds would otherwise turn into a
 * confusing failure much later). Either way the fds go to vm_run().
 *
 * Exit status: how the guest ended (see enum guest_exit): 0 powered off,
 * 1 launcher error, 3 reset requested, 4 triple fault, 5 KVM internal
 * error, 6 guest powered off reporting failure, 7 stopped by request,
 * 8 suspended to a snapshot; a one-line reason goes to stderr.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "guest-exit.h"
#include "kvm-stats.h"
#include "kvm.h"
#include "log.h"
#include "options.h"
#include "protocol-body.h"
#include "protocol.h"
#include "sandbox.h"
#include "vm.h"

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

/* The next fd of a message, taken (TAKE_FD evaluates its argument twice). */
static int take_fd(struct protocol_message *m, size_t *next) {
        int fd = m->fds[*next];
        m->fds[(*next)++] = -EBADF;
        return fd;
}

/* Receives "setup" (the first message, and only once) into m and decodes
 * it into ret, which points into m's body. The fds: as many as the body
 * says (the decoder checks), and the last two the sockets they must be. */
static int setup_receive(int control_fd, struct protocol_message *m, struct protocol_setup_body *ret) {
        _cleanup_free_ char *why = NULL;
        int r;

        r = protocol_recv(control_fd, PROTOCOL_TO_LAUNCHER, m);
        if (r == -EBADMSG)
                return setup_fail(control_fd, "malformed first message");
        if (r < 0)
                return log_error_errno(r, "Failed to receive the setup message from guestd: %m");
        if (m->type != PROTOCOL_SETUP)
                return setup_fail(control_fd, "the first message must be 'setup', not '%s'", protocol_type_to_string(m->type));
        r = protocol_setup_decode(m->body, m->n_fds, ret, &why);
        if (r < 0)
                return setup_fail(control_fd, "%s", why ?: "out of memory");
        if (!fd_is_socket(m->fds[m->n_fds - 2], SOCK_STREAM, false))
                return setup_fail(control_fd, "the console fd must be a connected stream socket");
        if (!fd_is_socket(m->fds[m->n_fds - 1], SOCK_SEQPACKET, true))
                return setup_fail(control_fd, "the listen fd must be a listening SOCK_SEQPACKET socket");
        return 0;
}

/* The VM and its vCPUs, on setup's first fd. KVM binds a VM to the
 * address space (mm) of the process that created it: VM and vCPU ioctls
 * from any other process, even one holding the fd, fail with EIO. So
 * guestd cannot create the VM for us; it hands us /dev/kvm, and we create
 * the VM and exactly the vCPUs it granted before anything guest-controlled
 * runs. /dev/kvm is closed on return and never needed again. */
static int setup_create_machine(int control_fd, struct protocol_message *m, size_t *next, unsigned vcpus,
                                struct vm_config *config, struct kvm_machine *machine, uint32_t **ret_msr_indices) {
        _cleanup_close_ int kvm_fd = take_fd(m, next);
        int r;

        r = kvm_machine_create(kvm_fd, vcpus, machine);
        if (r < 0)
                return setup_fail(control_fd, "failed to create the virtual machine: %s", strerror(-r));
        /* The MSRs a suspend saves: only /dev/kvm can list them, and it
         * is gone once the guest runs. */
        r = kvm_msr_index_list(kvm_fd, ret_msr_indices, &config->n_msrs);
        if (r < 0)
                return setup_fail(control_fd, "failed to get KVM's list of MSRs: %s", strerror(-r));
        config->msr_indices = *ret_msr_indices;
        return 0;
}

/* The rest of setup's fds into config, in the protocol's order. */
static int setup_take_files(int control_fd, struct protocol_message *m, size_t *next, const struct protocol_setup_body *s,
                            struct vm_config *config) {
        if (s->resume)
                config->resume_fd = take_fd(m, next);
        else
                config->kernel_fd = take_fd(m, next);
        config->initrd_fd = s->initrd ? take_fd(m, next) : -EBADF;
        config->n_disks = s->n_disks;
        for (size_t i = 0; i < s->n_disks; i++) {
                config->disks[i] = (struct vm_disk) { .fd = take_fd(m, next), .read_only = s->disks[i].read_only };
                strcpy(config->disks[i].id, s->disks[i].id); /* at most GUEST_DISK_ID_MAX, as VM_DISK_ID_MAX */
        }
        config->console_in_fd = config->console_out_fd = take_fd(m, next);
        /* Console output guestd cannot take is dropped, not waited for:
         * a guest must not be able to stall its launcher by flooding. */
        if (fcntl(config->console_out_fd, F_SETFL, fcntl(config->console_out_fd, F_GETFL) | O_NONBLOCK) < 0)
                return setup_fail(control_fd, "cannot make the console non-blocking: %s", strerror(errno));
        config->listen_fd = take_fd(m, next);
        return 0;
}

/* Reads "setup" from the control socket and turns it into config and
 * machine; every fd it carried ends up in one of them or closed. config
 * points into m's body, which the caller keeps while the guest runs. */
static int daemon_setup(int control_fd, struct protocol_message *m, struct vm_config *config, struct kvm_machine *machine,
                        uint32_t **ret_msr_indices) {
        struct protocol_setup_body s;
        size_t next = 0;
        int r;

        r = setup_receive(control_fd, m, &s);
        if (r < 0)
                return r;
        r = setup_create_machine(control_fd, m, &next, s.vcpus, config, machine, ret_msr_indices);
        if (r < 0)
                return r;
        r = setup_take_files(control_fd, m, &next, &s, config);
        if (r < 0)
                return r;
        config->memory_bytes = s.memory_mib * MiB;
        config->cmdline = s.cmdline;
        config->acpi = s.acpi;
        config->cmdline_devices = s.cmdline_devices;
        config->test_violation = s.test_violation;
        config->control_fd = control_fd;
        log_info("Guest %s: %" PRIu64 " MiB, %u vCPUs, %zu disks%s", s.guest, s.memory_mib, s.vcpus, s.n_disks,
                 s.resume ? ", resuming from a snapshot" : "");
        return 0;
}

static int run_daemon_mode(int control_fd, usec_t started) {
        struct vm_config config = { .kernel_fd = -EBADF, .initrd_fd = -EBADF, .control_fd = -EBADF, .listen_fd = -EBADF,
                                    .snapshot_fd = -EBADF, .resume_fd = -EBADF, .started_usec = started };
        _cleanup_(protocol_message_done) struct protocol_message setup = { .body = NULL };
        _cleanup_free_ uint32_t *msr_indices = NULL;
        struct kvm_machine machine;
        struct vm_result result;
        int r;

        /* Inherited without O_CLOEXEC; we exec nothing, but keep to the
         * rule. */
        (void) fcntl(control_fd, F_SETFD, FD_CLOEXEC);
        /* The console and control sockets lead to guestd, which may go away
         * while the guest runs: a write to them must fail, not kill us. */
        signal(SIGPIPE, SIG_IGN);
        kvm_machine_init(&machine);

        r = daemon_setup(control_fd, &setup, &config, &machine, &msr_indices);
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

/* ---------------------------------------------------------------- standalone */

/* Opens /dev/kvm and makes the VM and its vCPUs, with what only /dev/kvm
 * or the VM's fd give before the sandbox: the MSR list a suspend saves,
 * the fixed page-table cap, the statistics fd (-EBADF without --stats). */
static int standalone_create_machine(struct options *o, struct kvm_machine *machine, uint32_t **ret_msr_indices,
                                     int *ret_stats_fd) {
        _cleanup_close_ int kvm_fd = -EBADF;
        struct kvm_probe_info info;
        const char *msg = NULL;
        int r;

        r = kvm_open(&kvm_fd, &msg);
        if (r < 0)
                return log_error_errno(r, "%s: %m", msg);
        r = kvm_probe(kvm_fd, &info, &msg);
        if (r < 0)
                return log_error_errno(r, "KVM is unusable: %s", msg);
        if (o->vcpus > (uint64_t) info.max_vcpus)
                return log_error_errno(-EINVAL, "This host's KVM supports at most %d vCPUs per guest", info.max_vcpus);
        r = kvm_machine_create(kvm_fd, o->vcpus, machine);
        if (r < 0)
                return log_error_errno(r, "Failed to create the virtual machine: %m");
        /* A fixed cap, as lguest's fixed pool was: set before the sandbox
         * forbids the ioctl (under guestd, guestd decides the cap). */
        if (o->mmu_pages > 0) {
                r = kvm_set_nr_mmu_pages(machine->vm_fd, o->mmu_pages);
                if (r < 0)
                        return log_error_errno(r, "KVM_SET_NR_MMU_PAGES %" PRIu64 " failed: %m", o->mmu_pages);
        }
        if (o->config.snapshot_fd >= 0) {
                r = kvm_msr_index_list(kvm_fd, ret_msr_indices, &o->config.n_msrs);
                if (r < 0)
                        return log_error_errno(r, "Failed to get KVM's list of MSRs: %m");
                o->config.msr_indices = *ret_msr_indices;
        }
        /* --stats: the VM's shadow MMU counters at the end (KVM_GET_STATS_FD
         * before the sandbox; reading it later is a pread). */
        *ret_stats_fd = o->stats ? kvm_get_stats_fd(machine->vm_fd) : -EBADF;
        /* From here on the launcher works only with fds, as under guestd. */
        return 0;
}

/* --stats: memory use and timings. Guest RAM is the only shared memory
 * the launcher maps, so the launcher's own peak is the peak RSS less the
 * guest RAM touched. (getrusage: the sandbox lets us open no /proc file.) */
static void standalone_print_stats(int stats_fd, const struct vm_result *result, usec_t started, usec_t ended, usec_t closed) {
        struct rusage ru = {};
        uint64_t peak = getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t) ru.ru_maxrss : 0;
        uint64_t recycled = 0, zapped = 0, misses = 0;
        struct kvm_stats ks;

        if (stats_fd >= 0 && kvm_stats_open(stats_fd, &ks) >= 0) {
                (void) kvm_stats_get(&ks, "mmu_recycled", &recycled);
                (void) kvm_stats_get(&ks, "mmu_shadow_zapped", &zapped);
                (void) kvm_stats_get(&ks, "mmu_cache_miss", &misses);
                kvm_stats_close(&ks);
        }
        log_info("stats: peak_rss_kib=%" PRIu64 " guest_ram_touched_kib=%" PRIu64 " launcher_peak_rss_kib=%" PRIu64
                 " main_to_guest_end_us=%" PRIu64 " vm_teardown_us=%" PRIu64 " mmu_recycled=%" PRIu64 " mmu_shadow_zapped=%" PRIu64
                 " mmu_cache_miss=%" PRIu64,
                 peak, result->guest_ram_touched_kib, peak - MIN(result->guest_ram_touched_kib, peak), ended - started, closed - ended,
                 recycled, zapped, misses);
}

static int run_standalone(struct options *o, usec_t started) {
        _cleanup_free_ uint32_t *msr_indices = NULL;
        _cleanup_close_ int stats_fd = -EBADF;
        struct kvm_machine machine;
        struct vm_result result;
        int r;

        kvm_machine_init(&machine);
        r = standalone_create_machine(o, &machine, &msr_indices, &stats_fd);
        if (r < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        o->config.started_usec = started;

        r = vm_run(&o->config, &machine, &result);
        usec_t ended = now_usec();
        kvm_machine_close(&machine); /* KVM tears the VM down here */
        usec_t closed = now_usec();
        if (o->stats)
                standalone_print_stats(stats_fd, &result, started, ended, closed);
        if (r < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        log_info("%s", result.reason);
        return result.exit;
}

int main(int argc, char *argv[]) {
        usec_t started = now_usec();
        struct options o;
        int r;

        log_set_program(argv[0]);
        /* A write past RLIMIT_FSIZE (guestd lowers it to the snapshot's
         * reserve while a snapshot is written: protocol.h, "snapshot")
         * must fail with EFBIG, which the suspend reports and the guest
         * survives, not kill the launcher with the guest in it. */
        signal(SIGXFSZ, SIG_IGN);

        r = options_parse(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? GUEST_EXIT_LAUNCHER_ERROR : 0;
        if (sandbox_check_start(o.control_fd >= 0) < 0 || options_check(&o) < 0)
                return GUEST_EXIT_LAUNCHER_ERROR;
        if (o.control_fd >= 0)
                return run_daemon_mode(o.control_fd, started);
        return run_standalone(&o, started);
}
