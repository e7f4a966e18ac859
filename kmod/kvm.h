/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kmod/kvm.h: everything that talks to the kernel's hypervisor module
 * through /dev/kvm itself.
 *
 * Only the privileged side (guestd, or the launcher in its standalone
 * development mode) calls these: they open /dev/kvm and create VMs and
 * vCPUs, the two operations a user's quota is charged for. The result is a
 * struct kvm_machine of plain fds that can be passed over a socket; the
 * launcher needs nothing else from /dev/kvm to run the guest.
 *
 * kvm_machine_create() does, in this order, what must happen before the
 * launcher touches the VM: the in-kernel irqchip and PIT have to exist
 * before the first vCPU is created (KVM refuses KVM_CREATE_IRQCHIP after
 * that), and KVM_SET_CPUID2 needs KVM_GET_SUPPORTED_CPUID, a /dev/kvm ioctl
 * the sandboxed launcher cannot make.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-limits.h"

#define KVM_DEVICE_PATH "/dev/kvm"
#define KVM_MACHINE_MAX_VCPUS GUEST_VCPUS_MAX

struct kvm_probe_info {
        int api_version;
        int max_vcpus;           /* KVM_CAP_MAX_VCPUS */
        size_t vcpu_mmap_size;   /* KVM_GET_VCPU_MMAP_SIZE */
        bool binary_stats;       /* KVM_CAP_BINARY_STATS_FD */
        int nr_memslots;         /* KVM_CAP_NR_MEMSLOTS */
};

struct kvm_machine {
        int vm_fd;
        unsigned n_vcpus;
        int vcpu_fds[KVM_MACHINE_MAX_VCPUS];
        size_t vcpu_mmap_size;
};

/* Opens /dev/kvm (O_RDWR|O_CLOEXEC). On failure returns -errno and, if
 * ret_message is given, a sentence for a person (missing module, no
 * permission, ...). */
int kvm_open(int *ret_fd, const char **ret_message);
/* Checks the API version and every capability guestd relies on. -ENOTSUP
 * with *ret_message naming the missing capability. */
int kvm_probe(int kvm_fd, struct kvm_probe_info *ret, const char **ret_message);

/* Creates a VM with the irqchip, PIT, TSS and identity-map pages, and
 * n_vcpus vCPUs with CPUID set. On failure nothing is left open. */
int kvm_machine_create(int kvm_fd, unsigned n_vcpus, struct kvm_machine *ret);
/* Closes every fd; safe on a zeroed or already closed machine. */
void kvm_machine_close(struct kvm_machine *m);
/* Initialises a machine struct to "no fds". */
void kvm_machine_init(struct kvm_machine *m);

/* The name of a KVM ioctl request ("KVM_CREATE_VCPU"), or NULL. */
const char *kvm_ioctl_to_string(unsigned long request);

/* KVM_GET_MSR_INDEX_LIST: the MSRs KVM can save and restore, in a
 * malloc'd array (*ret_indices, *ret_n), for vCPU snapshots. */
int kvm_msr_index_list(int kvm_fd, uint32_t **ret_indices, unsigned *ret_n);

/* KVM_SET_NR_MMU_PAGES on a VM fd (minimum 64 pages, see HOST-KVM.md). */
int kvm_set_nr_mmu_pages(int vm_fd, uint64_t pages);
