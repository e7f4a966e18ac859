/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vcpu.h: one virtual CPU and its thread; see vcpu.c. */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "boot.h"
#include "guest-exit.h"
#include "io.h"

/* What a vCPU needs of the machine it belongs to, and all it may reach of
 * it (as a device reaches it through struct device_host): the I/O space
 * its exits go to, guest memory (to read an instruction it cannot run),
 * and two calls into the machine's run state. */
struct vcpu_host {
        struct io_map *io;
        struct guest_memory *mem;
        /* Called by the vCPU thread before every KVM_RUN: while the
         * machine is paused it waits here, out of KVM_RUN; false once the
         * guest is ending. */
        bool (*may_run)(struct vcpu_host *host);
        /* Ends the guest (the first reason wins), as device_host's does. */
        void (*request_exit)(struct vcpu_host *host, enum guest_exit e, const char *reason);
};

struct vcpu {
        struct vcpu_host *host;
        unsigned index;
        int fd;               /* not owned: the kvm_machine owns it */
        struct kvm_run *run;
        size_t run_size;
        pthread_t thread;
        bool started;
};

void vcpu_init(struct vcpu *v, struct vcpu_host *host, unsigned index);
/* Maps kvm_run and sets the initial state; entry is given for the boot CPU
 * only (the others wait for INIT/SIPI in the in-kernel local APIC). */
int vcpu_setup(struct vcpu *v, int fd, size_t run_size, const struct boot_entry *entry);
int vcpu_start(struct vcpu *v);
/* Makes the vCPU leave KVM_RUN soon; callable from any thread. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_done(struct vcpu *v);
