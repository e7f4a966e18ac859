/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vcpu-state.h: one vCPU's whole architectural state, as KVM hands it out,
 * for suspend and resume (issue 9): registers, special registers, XSAVE
 * (the FPU with it), XCRs, every MSR KVM lists, the LAPIC, pending events,
 * MP state and debug registers. Plain data, no pointers: a snapshot record
 * holds it as is.
 *
 * Two KVM rules shape it. First, a vCPU that left KVM_RUN for an I/O or
 * MMIO exit has not finished that instruction: KVM completes it on the
 * next KVM_RUN. vcpu_state_save() therefore first re-enters with
 * immediate_exit set, which completes the instruction and returns at once
 * (KVM_CAP_IMMEDIATE_EXIT), so no half-done access is lost. Second, which
 * MSRs exist comes from KVM_GET_MSR_INDEX_LIST, a /dev/kvm ioctl the
 * sandboxed launcher cannot make: the caller passes the list in (guestd
 * or standalone main.c reads it; kvm_msr_index_list() in kmod/).
 */
#pragma once

#include <linux/kvm.h>
#include <stdint.h>

#define VCPU_STATE_MAX_MSRS 512
#define VCPU_STATE_VERSION 1

struct vcpu_state {
        uint32_t version; /* VCPU_STATE_VERSION */
        uint32_t n_msrs;
        struct kvm_regs regs;
        struct kvm_sregs sregs;
        uint32_t xsave[1024]; /* struct kvm_xsave's region (it ends in a flexible array) */
        struct kvm_xcrs xcrs;
        struct kvm_lapic_state lapic;
        struct kvm_vcpu_events events;
        struct kvm_mp_state mp_state;
        struct kvm_debugregs debugregs;
        struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
};

/* 0 if this host's KVM can save and restore everything below, else
 * -ENOTSUP and a sentence saying what it lacks. */
int vcpu_state_supported(int vm_fd, const char **ret_why);
/* Saves the state of a vCPU that is out of KVM_RUN (run: its mmap'd
 * struct kvm_run). msr_indices: the MSRs to save (from
 * KVM_GET_MSR_INDEX_LIST); those KVM refuses to read for this vCPU are
 * left out. -ENOTSUP where vcpu_state_supported() says so. */
int vcpu_state_save(int vm_fd, int vcpu_fd, struct kvm_run *run, const uint32_t *msr_indices, unsigned n_msrs,
                    struct vcpu_state *ret);
/* Loads a saved state into a fresh vCPU of a machine built like the one it
 * came from. -EINVAL for a state of another version or out of bounds;
 * -EIO naming nothing when KVM refuses an MSR (*ret_msr says which, if
 * ret_msr is not NULL). */
int vcpu_state_restore(int vcpu_fd, const struct vcpu_state *s, uint32_t *ret_msr);
