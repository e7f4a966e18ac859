/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvm-access.h: who besides root can open /dev/kvm.
 *
 * guestd is the only way users should reach KVM: a user who can open
 * /dev/kvm directly can create VMs of any size and bypasses every quota.
 * Debian gives the device to the "kvm" group (50-udev-default.rules) and,
 * through the uaccess tag (70-uaccess.rules, 73-seat-late.rules), an ACL
 * entry to the user at the seat. guestd does not change that (libvirt,
 * GNOME Boxes or Incus may rely on it); kmod/72-guestd-kvm-lockdown.rules
 * is the admin's opt-in. guestd says at start which it is, from the
 * device's mode, owner, group and POSIX access ACL.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read and write are what opening /dev/kvm O_RDWR needs. */
#define KVM_ACCESS_MAX_ENTRIES 16

enum kvm_access_kind {
        KVM_ACCESS_OWNER, /* a non-root owner */
        KVM_ACCESS_GROUP, /* the file's group (or the ACL's group-owner entry) */
        KVM_ACCESS_OTHER, /* everyone */
        KVM_ACCESS_USER,  /* a named user in the ACL */
        KVM_ACCESS_NAMED_GROUP,
};

struct kvm_access_entry {
        enum kvm_access_kind kind;
        uint32_t id; /* uid or gid; unused for OTHER */
};

struct kvm_access {
        mode_t mode;
        uid_t owner;
        gid_t group;
        bool has_acl;
        size_t n;
        struct kvm_access_entry entries[KVM_ACCESS_MAX_ENTRIES];
};

/* Parses a "system.posix_acl_access" value (the kernel's xattr format:
 * version 2, then {tag, perm, id} entries) and adds to ret whoever, not
 * being root, may read and write (the mask applied as the kernel does).
 * -EINVAL for a malformed value. Pure: for tests. */
int kvm_access_parse_acl(const void *value, size_t size, struct kvm_access *ret);

/* From a path (stat and its ACL; the device is not opened): every way a
 * non-root user may open it for reading and writing. */
int kvm_access_check_path(const char *path, struct kvm_access *ret);

/* One line: "only root can open it (mode 0600, root:root)" or "group kvm
 * (gid 103), user 1000 (ACL) can open it (mode 0660, root:kvm)". Caller
 * frees. */
char *kvm_access_describe(const struct kvm_access *a);
/* Whether anyone but root may open it. */
static inline bool kvm_access_open_to_users(const struct kvm_access *a) {
        return a->n > 0;
}
