/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "kvm-access.h"
#include "util.h"

/* The kernel's ACL xattr layout (include/uapi/linux/posix_acl_xattr.h). */
#define ACL_XATTR_VERSION 0x0002
#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define ACL_READ 0x04
#define ACL_WRITE 0x02
#define RW (ACL_READ | ACL_WRITE)

static void add(struct kvm_access *a, enum kvm_access_kind kind, uint32_t id) {
        for (size_t i = 0; i < a->n; i++)
                if (a->entries[i].kind == kind && a->entries[i].id == id)
                        return;
        if (a->n < KVM_ACCESS_MAX_ENTRIES)
                a->entries[a->n++] = (struct kvm_access_entry) { kind, id };
}

int kvm_access_parse_acl(const void *value, size_t size, struct kvm_access *ret) {
        const uint8_t *p = value;
        uint32_t version;
        uint16_t mask = 0xffff;
        bool have_mask = false;
        size_t n;

        if (size < 4 || (size - 4) % 8 != 0)
                return -EINVAL;
        version = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        if (version != ACL_XATTR_VERSION)
                return -EINVAL;
        n = (size - 4) / 8;
        /* The mask first: it bounds named entries and the group owner. */
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = p + 4 + i * 8;
                uint16_t tag = (uint16_t) (e[0] | e[1] << 8), perm = (uint16_t) (e[2] | e[3] << 8);
                if (tag == ACL_MASK) {
                        mask = perm;
                        have_mask = true;
                }
        }
        ret->has_acl = true;
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = p + 4 + i * 8;
                uint16_t tag = (uint16_t) (e[0] | e[1] << 8), perm = (uint16_t) (e[2] | e[3] << 8);
                uint32_t id = (uint32_t) e[4] | (uint32_t) e[5] << 8 | (uint32_t) e[6] << 16 | (uint32_t) e[7] << 24;

                switch (tag) {
                case ACL_USER_OBJ:
                        if ((perm & RW) == RW && ret->owner != 0)
                                add(ret, KVM_ACCESS_OWNER, ret->owner);
                        break;
                case ACL_USER:
                        if ((perm & mask & RW) == RW && id != 0)
                                add(ret, KVM_ACCESS_USER, id);
                        break;
                case ACL_GROUP_OBJ:
                        if ((perm & mask & RW) == RW && ret->group != 0)
                                add(ret, KVM_ACCESS_GROUP, ret->group);
                        break;
                case ACL_GROUP:
                        if ((perm & mask & RW) == RW && id != 0)
                                add(ret, KVM_ACCESS_NAMED_GROUP, id);
                        break;
                case ACL_MASK:
                        break;
                case ACL_OTHER:
                        if ((perm & RW) == RW)
                                add(ret, KVM_ACCESS_OTHER, 0);
                        break;
                default:
                        return -EINVAL;
                }
        }
        (void) have_mask;
        return 0;
}

int kvm_access_check_path(const char *path, struct kvm_access *ret) {
        uint8_t acl[4 + 8 * 64];
        struct stat st;
        ssize_t n;

        if (stat(path, &st) < 0)
                return -errno;
        *ret = (struct kvm_access) { .mode = st.st_mode & 07777, .owner = st.st_uid, .group = st.st_gid };
        n = getxattr(path, "system.posix_acl_access", acl, sizeof(acl));
        if (n >= 0)
                return kvm_access_parse_acl(acl, (size_t) n, ret);
        if (errno != ENODATA && errno != ENOTSUP && errno != EOPNOTSUPP)
                return -errno;
        /* No ACL: the mode bits say it all. */
        if ((st.st_mode & 0600) == 0600 && st.st_uid != 0)
                add(ret, KVM_ACCESS_OWNER, st.st_uid);
        if ((st.st_mode & 0060) == 0060 && st.st_gid != 0)
                add(ret, KVM_ACCESS_GROUP, st.st_gid);
        if ((st.st_mode & 0006) == 0006)
                add(ret, KVM_ACCESS_OTHER, 0);
        return 0;
}

static void append(char **buf, size_t *len, size_t *size, const char *fmt, ...) _printf_(4, 5);
static void append(char **buf, size_t *len, size_t *size, const char *fmt, ...) {
        va_list ap;
        int k;

        if (!*buf)
                return;
        for (;;) {
                va_start(ap, fmt);
                k = vsnprintf(*buf + *len, *size - *len, fmt, ap);
                va_end(ap);
                if (k < 0) {
                        *buf = (free(*buf), NULL);
                        return;
                }
                if ((size_t) k < *size - *len) {
                        *len += (size_t) k;
                        return;
                }
                char *b = realloc(*buf, *size * 2 + (size_t) k);
                if (!b) {
                        *buf = (free(*buf), NULL);
                        return;
                }
                *buf = b;
                *size = *size * 2 + (size_t) k;
        }
}

static void append_user(char **buf, size_t *len, size_t *size, uid_t uid) {
        struct passwd *pw = getpwuid(uid);
        if (pw)
                append(buf, len, size, "user %s (uid %u)", pw->pw_name, (unsigned) uid);
        else
                append(buf, len, size, "uid %u", (unsigned) uid);
}

static void append_group(char **buf, size_t *len, size_t *size, gid_t gid) {
        struct group *gr = getgrgid(gid);
        if (!gr) {
                append(buf, len, size, "gid %u", (unsigned) gid);
                return;
        }
        append(buf, len, size, "the members of group %s (gid %u", gr->gr_name, (unsigned) gid);
        if (gr->gr_mem && gr->gr_mem[0]) {
                append(buf, len, size, ": ");
                for (size_t i = 0; gr->gr_mem[i] && i < 8; i++)
                        append(buf, len, size, "%s%s", i ? ", " : "", gr->gr_mem[i]);
                if (gr->gr_mem[8])
                        append(buf, len, size, ", ...");
        }
        append(buf, len, size, ")");
}

char *kvm_access_describe(const struct kvm_access *a) {
        size_t len = 0, size = 256;
        char *buf = malloc(size);
        struct group *gr;
        struct passwd *pw;

        if (!buf)
                return NULL;
        buf[0] = 0;
        if (a->n == 0)
                append(&buf, &len, &size, "only root can open it");
        for (size_t i = 0; i < a->n; i++) {
                const struct kvm_access_entry *e = &a->entries[i];
                append(&buf, &len, &size, "%s", i ? ", " : "");
                switch (e->kind) {
                case KVM_ACCESS_OWNER:
                        append(&buf, &len, &size, "its owner, ");
                        append_user(&buf, &len, &size, e->id);
                        break;
                case KVM_ACCESS_USER:
                        append_user(&buf, &len, &size, e->id);
                        append(&buf, &len, &size, " by its ACL");
                        break;
                case KVM_ACCESS_GROUP:
                        append_group(&buf, &len, &size, e->id);
                        break;
                case KVM_ACCESS_NAMED_GROUP:
                        append_group(&buf, &len, &size, e->id);
                        append(&buf, &len, &size, " by its ACL");
                        break;
                case KVM_ACCESS_OTHER:
                        append(&buf, &len, &size, "every user");
                        break;
                }
        }
        if (a->n > 0)
                append(&buf, &len, &size, " can open it");
        pw = getpwuid(a->owner);
        gr = getgrgid(a->group);
        append(&buf, &len, &size, " (mode %04o, ", (unsigned) a->mode);
        if (pw)
                append(&buf, &len, &size, "%s", pw->pw_name);
        else
                append(&buf, &len, &size, "%u", (unsigned) a->owner);
        if (gr)
                append(&buf, &len, &size, ":%s", gr->gr_name);
        else
                append(&buf, &len, &size, ":%u", (unsigned) a->group);
        append(&buf, &len, &size, "%s)", a->has_acl ? ", with an ACL" : "");
        return buf;
}
