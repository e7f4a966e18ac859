/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm.h: one guest machine, run from fds it is given.
 *
 * The launcher's two modes differ only in where the fds come from: in
 * standalone mode main.c opens /dev/kvm (through kmod/) and the files
 * itself; under guestd they arrive over the control socket. vm_run() never
 * opens a path or /dev/kvm.
 */
#pragma once

#include "guest-limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "kvm.h"

#define VM_MAX_DISKS GUEST_MAX_DISKS /* guest-limits.h */
#define VM_DISK_ID_MAX GUEST_DISK_ID_MAX /* virtio-blk's ID string */
#define VM_VIRTIO_MMIO_BASE UINT64_C(0xd0000000)
#define VM_VIRTIO_MMIO_SIZE 0x200

struct vm_disk {
        int fd;
        bool read_only;
        char id[VM_DISK_ID_MAX + 1];
};

struct vm_config {
        uint64_t memory_bytes;
        /* Closed by vm_run() (and set to -EBADF) as soon as the guest is
         * loaded: the running launcher keeps no file it does not need. */
        int kernel_fd;
        int initrd_fd;  /* -EBADF if none */
        const char *cmdline;
        struct vm_disk disks[VM_MAX_DISKS];
        unsigned n_disks;
        int console_in_fd, console_out_fd; /* console_in_fd may be -EBADF */
        /* ACPI tables for the machine (acpi.h) and its sleep registers;
         * the virtio-mmio devices then go on the command line only with
         * cmdline_devices (kernels built with VIRTIO_MMIO_CMDLINE_DEVICES
         * that should not see them twice otherwise). */
        bool acpi, cmdline_devices;
        /* Daemon mode (guestd): the launcher protocol connection the setup
         * came on, and the listening socket on which a restarted guestd
         * reconnects (-EBADF if none). Both -EBADF in standalone mode. In
         * daemon mode vm_run() owns and closes these and the console fds,
         * since a reconnecting daemon replaces them while the guest runs. */
        int control_fd;
        int listen_fd;
        /* Suspend and resume (snapshot.h). snapshot_fd: where a suspend
         * writes (-EBADF: none); suspend_after_ms: standalone mode suspends
         * by itself this long after the start (0: never). resume_fd: a
         * snapshot to resume from instead of booting kernel_fd (-EBADF:
         * boot). msr_indices: the MSRs to save (KVM_GET_MSR_INDEX_LIST,
         * which the sandbox cannot ask for). */
        int snapshot_fd;
        uint64_t suspend_after_ms;
        int resume_fd;
        const uint32_t *msr_indices;
        unsigned n_msrs;
        /* When the launcher started (CLOCK_MONOTONIC), for the log line
         * that says how long a resume took to the first guest instruction;
         * 0: unknown. */
        usec_t started_usec;
        /* Test only: a forbidden call to make once the sandbox is locked
         * (sandbox.h); NULL normally. */
        const char *test_violation;
};

struct vm_result {
        enum guest_exit exit;
        char reason[256];
        uint64_t guest_ram_touched_kib; /* guest memory the guest touched (allocated in its memfd) */
};

/* Runs the guest to its end on machine's VM and vCPU fds. Returns 0 when
 * the guest ended (how: in *ret), or a negative errno when the machine
 * could not be set up (logged). In daemon mode it also serves the control
 * connection (pause, unpause, stop, attach) and sends "state" once the
 * vCPUs run and "exited" at the end, whichever way the guest ended. */
int vm_run(struct vm_config *config, struct kvm_machine *machine, struct vm_result *ret);

/* The argument the launcher appends to the kernel command line for disk
 * i (" virtio_mmio.device=SIZE@BASE:IRQ", with its leading space): its
 * length, or -E2BIG if it does not fit size (guest-limits.h counts on
 * GUEST_DEVICE_ARG_MAX). */
int vm_device_arg(char *buf, size_t size, unsigned i);
