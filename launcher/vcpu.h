/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vcpu.h: one virtual CPU and its thread; see vcpu.c. */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "boot.h"

struct vm;

struct vcpu {
        struct vm *vm;
        unsigned index;
        int fd;               /* not owned: the kvm_machine owns it */
        struct kvm_run *run;
        size_t run_size;
        pthread_t thread;
        bool started;
};

void vcpu_init(struct vcpu *v, struct vm *vm, unsigned index);
/* Maps kvm_run and sets the initial state; entry is given for the boot CPU
 * only (the others wait for INIT/SIPI in the in-kernel local APIC). */
int vcpu_setup(struct vcpu *v, int fd, size_t run_size, const struct boot_entry *entry);
int vcpu_start(struct vcpu *v);
/* Makes the vCPU leave KVM_RUN soon; callable from any thread. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_done(struct vcpu *v);
