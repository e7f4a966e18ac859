/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm.c: putting a machine together and running it, the launcher's story
 * from its fds to the guest's end.
 *
 * The machine is a PC without firmware: RAM in a memfd, the in-kernel
 * interrupt controllers and PIT that kmod/ created, COM1, the i8042 (for
 * reset), the power-off port and one virtio-mmio block device per disk.
 * There is no BIOS: boot.c writes what the kernel's boot protocol expects
 * straight into memory and vcpu.c sets the registers it expects. A resume
 * builds the same machine and takes RAM and every part's state from the
 * snapshot instead (suspend.c).
 *
 * vm_run() then tells the rest in order: the vCPU threads start parked
 * (machine.c), the sandbox is locked while nothing of the guest has run,
 * the vCPUs are let go, and this thread serves the console and guestd
 * (control.c) until some thread ends the guest; then it reports how.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "acpi.h"
#include "boot.h"
#include "control.h"
#include "i8042.h"
#include "kvm-stats.h"
#include "log.h"
#include "machine.h"
#include "mptable.h"
#include "power.h"
#include "protocol.h"
#include "sandbox.h"
#include "serial.h"
#include "snapshot.h"
#include "suspend.h"
#include "virtio-blk.h"
#include "vm.h"

#define VM_CMDLINE_MAX GUEST_CMDLINE_SIZE /* guest-limits.h */

_Static_assert(VM_MAX_DISKS == MACHINE_MAX_DISKS, "the configuration's disks fit the machine");
_Static_assert(sizeof(((struct vm_result *) NULL)->reason) == MACHINE_REASON_SIZE, "the machine's reason fits the result");

static int vm_set_memory(struct machine *m) {
        struct kvm_userspace_memory_region low = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = m->mem.low_size,
                .userspace_addr = (uintptr_t) m->mem.host,
        };
        if (ioctl(m->kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &low) < 0)
                return -errno;
        if (m->mem.size > m->mem.low_size) {
                struct kvm_userspace_memory_region high = {
                        .slot = 1, .guest_phys_addr = GUEST_HIGH_RAM_START,
                        .memory_size = m->mem.size - m->mem.low_size,
                        .userspace_addr = (uintptr_t) (m->mem.host + m->mem.low_size),
                };
                if (ioctl(m->kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &high) < 0)
                        return -errno;
        }
        return 0;
}

/* virtio-mmio devices use the ISA IRQs nothing else in this machine does:
 * 5, 6, 7, 9, 10, 11, 12, 14 (0 PIT, 1 keyboard, 2 cascade, 3 COM2, 4 COM1,
 * 8 RTC, 13 FPU, 15 are taken or reserved on a PC). */
static const unsigned virtio_irqs[VM_MAX_DISKS] = { 5, 6, 7, 9, 10, 11, 12, 14 };

int vm_device_arg(char *buf, size_t size, unsigned i) {
        int n;

        if (i >= VM_MAX_DISKS)
                return -EINVAL;
        n = snprintf(buf, size, " virtio_mmio.device=%u@0x%" PRIx64 ":%u", VM_VIRTIO_MMIO_SIZE,
                     VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE, virtio_irqs[i]);
        return n < 0 || (size_t) n >= size ? -E2BIG : n;
}

/* The ACPI tables (acpi.h) in the reserved area below 1 MiB, from the same
 * devices vm_add_devices() made, and their address where the boot
 * protocol says. The MP table stays, for kernels without ACPI. */
static int vm_write_acpi(struct machine *m, const struct vm_config *config, const struct boot_entry *entry) {
        struct acpi_machine am = {
                .n_vcpus = m->kvm->n_vcpus,
                .ioapic_id = m->kvm->n_vcpus, /* as in the MP table */
                .com1_port = SERIAL_COM1_PORT,
                .com1_irq = SERIAL_COM1_IRQ,
                .n_virtio = config->n_disks,
                .virtio_size = VM_VIRTIO_MMIO_SIZE,
        };
        uint8_t *buf = guest_memory_ptr(&m->mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
        uint64_t rsdp;
        int r;

        if (!buf)
                return log_error_errno(-EFAULT, "No guest memory for the ACPI tables");
        for (unsigned i = 0; i < config->n_disks; i++) {
                am.virtio_base[i] = VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE;
                am.virtio_irq[i] = virtio_irqs[i];
        }
        r = acpi_build(&am, buf, ACPI_TABLES_SIZE, ACPI_TABLES_ADDR, &rsdp, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to build the ACPI tables: %m");
        r = boot_set_acpi_rsdp(&m->mem, entry, rsdp);
        if (r < 0)
                return log_error_errno(r, "Failed to tell the kernel where the ACPI tables are: %m");
        log_debug("ACPI tables at 0x%x, RSDP at 0x%" PRIx64, ACPI_TABLES_ADDR, rsdp);
        return 0;
}

static int vm_add_devices(struct machine *m, const struct vm_config *config, char *cmdline, size_t cmdline_size) {
        int r;

        r = serial_create(&m->io, &m->device_host, SERIAL_COM1_PORT, SERIAL_COM1_IRQ, config->console_out_fd, &m->serial);
        if (r < 0)
                return log_error_errno(r, "Failed to create the serial port: %m");
        r = i8042_create(&m->io, &m->device_host, &m->i8042);
        if (r < 0)
                return log_error_errno(r, "Failed to create the i8042: %m");
        r = power_create(&m->io, &m->device_host);
        if (r < 0)
                return log_error_errno(r, "Failed to create the power-off port: %m");
        if (m->acpi) {
                r = acpi_sleep_create(&m->io, &m->device_host);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the ACPI sleep registers: %m");
        }

        if (snprintf(cmdline, cmdline_size, "%s", config->cmdline ? config->cmdline : "") >= (int) cmdline_size)
                return log_error_errno(-E2BIG, "The kernel command line is too long");
        for (unsigned i = 0; i < config->n_disks; i++) {
                uint64_t base = VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE;
                size_t len = strlen(cmdline);
                char arg[GUEST_DEVICE_ARG_MAX + 1];
                r = virtio_blk_create(&m->io, &m->device_host, base, virtio_irqs[i], config->disks[i].fd,
                                      config->disks[i].read_only, config->disks[i].id, &m->disks[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to create virtio-blk device %u: %m", i);
                /* Linux (and our payloads) find virtio-mmio devices here,
                 * as with QEMU's microvm; with ACPI, in the DSDT. */
                if (m->acpi && !config->cmdline_devices)
                        continue;
                if (vm_device_arg(arg, sizeof(arg), i) < 0 ||
                    snprintf(cmdline + len, cmdline_size - len, "%s", len ? arg : arg + 1) >= (int) (cmdline_size - len))
                        return log_error_errno(-E2BIG, "The kernel command line is too long");
        }
        return 0;
}

/* Guest RAM: fresh, or on resume the snapshot's (opened into *snap). */
static int vm_create_memory(struct machine *m, const struct vm_config *config, struct snapshot *snap) {
        int r;

        if (config->resume_fd >= 0) {
                r = suspend_open_snapshot(m, config->resume_fd, config->memory_bytes, snap);
                if (r < 0)
                        return r;
        } else {
                r = guest_memory_create(&m->mem, config->memory_bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %" PRIu64 " MiB of guest memory: %m", config->memory_bytes / MiB);
        }
        r = vm_set_memory(m);
        if (r < 0)
                return log_error_errno(r, "Failed to give guest memory to KVM: %m");
        return 0;
}

/* A fresh boot: the kernel and what its boot protocol expects in memory,
 * the MP table and (with ACPI) the ACPI tables; *ret says how to enter
 * it. The kernel and initrd are closed here, loaded or not. */
static int vm_load_kernel(struct machine *m, struct vm_config *config, const char *cmdline, struct boot_entry *ret) {
        int r;

        r = boot_load(&m->mem, config->kernel_fd, config->initrd_fd, cmdline, ret);
        config->kernel_fd = safe_close(config->kernel_fd);
        config->initrd_fd = safe_close(config->initrd_fd);
        if (r < 0)
                return r;
        r = mptable_write(&m->mem, m->kvm->n_vcpus);
        if (r < 0)
                return log_error_errno(r, "Failed to write the MP table: %m");
        if (m->acpi) {
                r = vm_write_acpi(m, config, ret);
                if (r < 0)
                        return r;
        }
        log_debug("Booting %s kernel, entry 0x%" PRIx64 ", command line: %s", ret->protocol, ret->entry, cmdline);
        return 0;
}

/* Everything but running it: RAM, devices, the kernel or the snapshot's
 * state, the vCPUs' registers. */
static int vm_assemble(struct machine *m, struct vm_config *config) {
        _cleanup_(snapshot_close) struct snapshot snap = { .state = NULL };
        bool resume = config->resume_fd >= 0;
        char cmdline[VM_CMDLINE_MAX];
        struct boot_entry entry = { .entry = 0 };
        int r;

        if (config->n_disks > VM_MAX_DISKS)
                return log_error_errno(-E2BIG, "At most %d disks are supported", VM_MAX_DISKS);
        m->n_disks = config->n_disks;
        for (unsigned i = 0; i < config->n_disks; i++) {
                m->disk_fds[i] = config->disks[i].fd;
                m->disk_read_only[i] = config->disks[i].read_only;
        }
        m->acpi = config->acpi;
        m->msr_indices = config->msr_indices;
        m->n_msrs = config->n_msrs;

        r = vm_create_memory(m, config, &snap);
        if (r < 0)
                return r;
        r = vm_add_devices(m, config, cmdline, sizeof(cmdline));
        if (r < 0)
                return r;
        if (!resume) {
                r = vm_load_kernel(m, config, cmdline, &entry);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < m->kvm->n_vcpus; i++) {
                r = vcpu_setup(&m->vcpus[i], m->kvm->vcpu_fds[i], m->kvm->vcpu_mmap_size, i == 0 && !resume ? &entry : NULL);
                if (r < 0)
                        return r;
        }
        /* Resume: the snapshot's state over what setup put there; its RAM
         * already holds the kernel, the boot data and the MP table. */
        if (resume) {
                r = suspend_restore_state(m, &snap);
                if (r < 0)
                        return r;
                log_info("Resumed from the snapshot");
        }
        return 0;
}

/* With every vCPU parked and nothing of the guest run yet: the sandbox is
 * locked on every thread. Under guestd, the VM's statistics and the
 * seccomp listener go to guestd, which alone decides the page-table cap.
 * Any failure ends the guest before its first instruction. */
static void vm_lock_sandbox(struct machine *m, struct control *c, const char *test_violation) {
        int listener = -EBADF, stats_fd = -EBADF;

        sandbox_set_report_fd(c->fd);
        if (c->daemon_mode && !machine_exiting(m)) {
                stats_fd = kvm_get_stats_fd(m->kvm->vm_fd);
                if (stats_fd < 0)
                        machine_end(m, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: cannot get the VM's statistics (KVM_GET_STATS_FD)");
        }
        if (!machine_exiting(m) && sandbox_lock(c->daemon_mode ? &listener : NULL) < 0)
                machine_end(m, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: cannot lock the sandbox (seccomp)");
        if (c->daemon_mode && !machine_exiting(m)) {
                int fds[2] = { listener, stats_fd };
                if (c->fd >= 0 && protocol_send(c->fd, PROTOCOL_SUPERVISE, NULL, fds, 2) < 0)
                        log_warning_errno(-errno, "Cannot hand guestd the page-table supervision: %m");
        }
        /* The launcher must not hold the listener: it could answer its own
         * requests. */
        listener = safe_close(listener);
        stats_fd = safe_close(stats_fd);
        if (!machine_exiting(m) && test_violation && sandbox_test_violation(test_violation, m->kvm->vm_fd) < 0)
                machine_end(m, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: the sandbox let a forbidden system call through");
}

/* From a machine put together to a guest that runs: signals taken while
 * sigaction is still allowed, the vCPU threads started parked, the
 * sandbox locked, and only then the first guest instruction. */
static void vm_start(struct machine *m, struct control *c, const struct vm_config *config) {
        if (config->suspend_after_ms > 0)
                c->suspend_at = now_usec() + config->suspend_after_ms * 1000;
        control_catch_signals(c);
        machine_start_vcpus(m);
        vm_lock_sandbox(m, c, config->test_violation);
        /* "running" goes out before the first instruction runs, so that
         * guestd always hears it before whatever "exited" follows. */
        if (!machine_exiting(m))
                control_send_state(c, false);
        if (config->resume_fd >= 0 && config->started_usec > 0)
                log_info("Resumed: the first guest instruction runs %.1f ms after the launcher started",
                         (double) (now_usec() - config->started_usec) / 1000);
        machine_unpause(m);
}

/* The guest has ended: once every vCPU thread has, how it ended goes to
 * the log, to guestd ("exited") and to *ret. */
static void vm_finish(struct machine *m, struct control *c, struct vm_result *ret) {
        machine_join_vcpus(m);
        *ret = (struct vm_result) { .exit = m->exit, .guest_ram_touched_kib = guest_memory_allocated_kib(&m->mem) };
        memcpy(ret->reason, m->reason, sizeof(ret->reason));
        if (m->io.unclaimed_reads || m->io.unclaimed_writes)
                log_info("%" PRIu64 " unclaimed port/MMIO reads answered with all-ones, %" PRIu64 " unclaimed writes dropped",
                         (uint64_t) m->io.unclaimed_reads, (uint64_t) m->io.unclaimed_writes);
        if (serial_tx_dropped(m->serial) > 0)
                log_info("%" PRIu64 " bytes of console output dropped: the console was full or gone", serial_tx_dropped(m->serial));
        control_send_exited(c, m->exit, m->reason);
}

int vm_run(struct vm_config *config, struct kvm_machine *kvm, struct vm_result *ret) {
        _cleanup_(machine_done) struct machine m;
        _cleanup_(control_done) struct control c;
        int r;

        control_init(&c, &m, config->control_fd, config->listen_fd, config->console_in_fd, config->console_out_fd);
        c.snapshot_fd = config->snapshot_fd;
        r = machine_init(&m, kvm);
        if (r >= 0)
                r = vm_assemble(&m, config);
        if (r < 0) {
                char reason[MACHINE_REASON_SIZE];
                snprintf(reason, sizeof(reason), "launcher error: failed to set up the machine: %s", strerror(-r));
                control_send_exited(&c, GUEST_EXIT_LAUNCHER_ERROR, reason);
                return r;
        }
        vm_start(&m, &c, config);
        control_run(&c);
        vm_finish(&m, &c, ret);
        return 0;
}
