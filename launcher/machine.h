/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * machine.h: the machine while it runs: its parts (RAM, the I/O space, the
 * devices, the vCPUs) and the one lock by which its threads agree whether
 * it runs, is paused or is ending.
 *
 * vm.c puts the parts together, control.c and suspend.c act on them from
 * the I/O thread, and the vCPU threads and devices reach the machine only
 * through the hosts it gives them (struct vcpu_host, struct device_host).
 * Any thread may end the guest: the first reason wins, every vCPU is
 * kicked out of KVM_RUN, and the I/O loop is woken through wake_fd.
 *
 * Pausing kicks every vCPU out of KVM_RUN and parks it on a condition
 * variable before it may enter again; machine_pause() returns only once
 * every vCPU is parked, so "paused" means no guest instruction runs and no
 * device access is half done.
 */
#pragma once

#include "guest-limits.h"

#include <pthread.h>
#include <stdbool.h>

#include "device.h"
#include "io.h"
#include "kvm.h"
#include "memory.h"
#include "vcpu.h"

#define MACHINE_MAX_DISKS GUEST_MAX_DISKS /* guest-limits.h */
#define MACHINE_REASON_SIZE 256

struct machine {
        struct device_host device_host; /* first: a device's host is the machine */
        struct vcpu_host vcpu_host;
        struct kvm_machine *kvm;        /* not owned: the VM and vCPU fds */
        struct guest_memory mem;
        struct io_map io;
        struct serial *serial;
        struct i8042 *i8042;
        struct virtio_blk *disks[MACHINE_MAX_DISKS];
        struct vcpu vcpus[KVM_MACHINE_MAX_VCPUS];
        /* The disks' fds (not owned), for flushing, and whether each is
         * read-only. */
        int disk_fds[MACHINE_MAX_DISKS];
        bool disk_read_only[MACHINE_MAX_DISKS];
        unsigned n_disks;
        /* The machine has ACPI (its tables, sleep registers, the GED power
         * button): from the configuration, or on resume from the
         * snapshot's machine record. */
        bool acpi;
        /* An eventfd that wakes the I/O loop when the guest ends. */
        int wake_fd;
        /* The MSRs a snapshot saves (KVM_GET_MSR_INDEX_LIST, which the
         * sandbox cannot ask for; not owned). */
        const uint32_t *msr_indices;
        unsigned n_msrs;

        /* lock also guards pausing: vCPUs park on unpause_cond while
         * paused; machine_pause() waits on parked_cond until all of the
         * n_started vCPUs are parked. The I/O thread is the only writer of
         * paused, so it may read it unlocked. */
        pthread_mutex_t lock;
        pthread_cond_t unpause_cond, parked_cond;
        bool exiting;
        bool paused;
        unsigned n_started, n_parked;
        /* How the guest ended, once exiting. */
        enum guest_exit exit;
        char reason[MACHINE_REASON_SIZE];
};

/* Sets up the run state and the hosts, with no parts yet, on kvm's VM and
 * vCPUs; machine_done() undoes it (also after a failure here). */
int machine_init(struct machine *m, struct kvm_machine *kvm);
/* Frees the devices, unmaps the vCPUs and RAM, closes wake_fd. */
void machine_done(struct machine *m);

/* Ends the guest with e and a one-line reason; the first call wins. */
void machine_end(struct machine *m, enum guest_exit e, const char *reason);
bool machine_exiting(struct machine *m);

/* Starts the vCPU threads, each parked before its first KVM_RUN, and
 * returns once all are (the machine is then paused). A thread that cannot
 * start ends the guest. */
void machine_start_vcpus(struct machine *m);
void machine_join_vcpus(struct machine *m);
/* Stops every vCPU and returns once each is parked outside KVM_RUN (or the
 * guest is ending). */
void machine_pause(struct machine *m);
void machine_unpause(struct machine *m);

/* With the vCPUs paused: puts what the guest wrote to its disks on stable
 * storage. Returns the first failure, naming the disk in *ret_disk. */
int machine_flush_disks(struct machine *m, unsigned *ret_disk);

/* Presses the ACPI power button, where the guest listens for it; else
 * -ENODEV (or a KVM error) and *ret_why says why not. */
int machine_power_button(struct machine *m, const char **ret_why);
