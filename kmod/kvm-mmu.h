/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvm-mmu.h: whether a cap on a VM's shadow page tables
 * (KVM_SET_NR_MMU_PAGES) frees anything on this host, read from the KVM
 * modules' parameters in sysfs. KVM builds page tables out of host memory
 * in four ways:
 *
 *  - shadow paging (kvm-amd npt=0, kvm-intel ept=0, or a CPU without
 *    either): KVM shadows every guest page table, and the cap bounds them;
 *  - PVM (kvm_pvm): shadow paging for the guest's user mode only (its
 *    kernel mode is emulated), and the cap bounds those;
 *  - two-dimensional paging (NPT/EPT) with the legacy MMU (kvm tdp_mmu=N):
 *    KVM's own tables for guest-physical memory, which the cap bounds;
 *  - NPT/EPT with the TDP MMU (tdp_mmu=Y, most hosts): KVM ignores the
 *    cap (Linux removed the limit's effect there), so guestd must say the
 *    budget has no effect, and never claim memory it did not free.
 *
 * A module's parameters say nothing unless a guest can run: a kvm module
 * (even kvm_pvm) can be loaded where there is no /dev/kvm (a container
 * without the device, a module that failed to set up), and there the
 * answer is "none", whatever the parameters say. guestd, the bus and
 * guestctl report only what was found: no /dev/kvm, no KVM module, or a
 * parameter guestd cannot read ("unknown") make no claim about the caps.
 */
#pragma once

#include <stdbool.h>

enum kvm_mmu_kind {
        KVM_MMU_NONE,        /* no /dev/kvm, or no KVM module: no guest runs here */
        KVM_MMU_UNKNOWN,     /* a parameter that reads neither yes nor no: claim nothing */
        KVM_MMU_SHADOW,      /* every guest page table is shadowed: the cap bounds them */
        KVM_MMU_SHADOW_USER, /* PVM: guest user mode shadowed: the cap bounds it */
        KVM_MMU_TDP_LEGACY,  /* NPT/EPT, legacy MMU: the cap bounds KVM's tables */
        KVM_MMU_TDP,         /* NPT/EPT, TDP MMU: the cap has no effect */
        _KVM_MMU_KIND_MAX,
};

struct kvm_mmu_info {
        enum kvm_mmu_kind kind;
        bool cap_effective; /* SHADOW, SHADOW_USER, TDP_LEGACY only */
        char why[160];      /* one sentence, for the log and the bus */
};

/* Reads root/dev/kvm's existence and
 * root/sys/module/{kvm,kvm_amd,kvm_intel,kvm_pvm}/parameters/... (root:
 * NULL or "" for this host, or a test's tree). Always fills *ret, why
 * included; returns 0, or -errno where a parameter could not be read or
 * understood (*ret then says KVM_MMU_UNKNOWN, and which). */
int kvm_mmu_probe(const char *root, struct kvm_mmu_info *ret);
const char *kvm_mmu_kind_to_string(enum kvm_mmu_kind k);
