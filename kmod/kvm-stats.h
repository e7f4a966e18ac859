/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvm-stats.h: KVM's binary statistics (KVM_GET_STATS_FD, Linux 5.14+):
 * a read-only fd per VM or vCPU whose header and descriptors say which
 * counters it has and where their values are. The page-table budget reads
 * a guest's shadow MMU counters here (mmu_shadow_zapped, mmu_recycled,
 * mmu_cache_miss, ...).
 *
 * The reader trusts no offset or count it read: guestd reads stats fds
 * that launchers pass it, and checks (kvm_stats_fd_is_vm()) that the fd
 * is KVM's before it reads it at all.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KVM_STATS_NAME_MAX 64

struct kvm_stat_desc {
        char name[KVM_STATS_NAME_MAX];
        uint32_t flags;    /* KVM_STATS_TYPE_*, _UNIT_*, _BASE_* */
        uint16_t size;     /* values (u64) it has: 1, or a histogram's buckets */
        uint64_t offset;   /* of its first value in the fd */
};

struct kvm_stats {
        int fd; /* not owned */
        struct kvm_stat_desc *desc;
        unsigned n_desc;
};

/* KVM_GET_STATS_FD on a VM or vCPU fd: a new fd (O_CLOEXEC) or -errno. */
int kvm_get_stats_fd(int vm_or_vcpu_fd);
/* Whether fd is a VM's stats fd ("anon_inode:kvm-vm-stats"). */
bool kvm_stats_fd_is_vm(int fd);
/* Reads the header and descriptors; -EBADMSG for a layout that does not
 * hold together. */
int kvm_stats_open(int fd, struct kvm_stats *ret);
void kvm_stats_close(struct kvm_stats *s);
/* The descriptor called name, or NULL. */
const struct kvm_stat_desc *kvm_stats_find(const struct kvm_stats *s, const char *name);
/* The current value of a one-value statistic. */
int kvm_stats_read(const struct kvm_stats *s, const struct kvm_stat_desc *d, uint64_t *ret);
/* kvm_stats_find() and kvm_stats_read() in one: -ENOENT if there is no
 * such statistic. */
int kvm_stats_get(const struct kvm_stats *s, const char *name, uint64_t *ret);
