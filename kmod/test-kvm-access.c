/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-kvm-access.c: who besides root may open a device node, from its
 * mode bits and from a POSIX access ACL (the kernel's xattr format), on
 * temporary files; /dev/kvm itself is never touched (its mode is the
 * admin's, and tests never loosen it).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "kvm-access.h"
#include "test.h"

static size_t acl(uint8_t *buf, const uint16_t (*entries)[3], size_t n) {
        buf[0] = 2;
        buf[1] = buf[2] = buf[3] = 0;
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = buf + 4 + i * 8;
                uint32_t id = entries[i][2];
                e[0] = (uint8_t) entries[i][0];
                e[1] = (uint8_t) (entries[i][0] >> 8);
                e[2] = (uint8_t) entries[i][1];
                e[3] = 0;
                e[4] = (uint8_t) id;
                e[5] = (uint8_t) (id >> 8);
                e[6] = (uint8_t) (id >> 16);
                e[7] = (uint8_t) (id >> 24);
        }
        return 4 + n * 8;
}

static bool has(const struct kvm_access *a, enum kvm_access_kind kind, uint32_t id) {
        for (size_t i = 0; i < a->n; i++)
                if (a->entries[i].kind == kind && (kind == KVM_ACCESS_OTHER || a->entries[i].id == id))
                        return true;
        return false;
}

static void test_acl(void) {
        uint8_t buf[256];
        struct kvm_access a;
        size_t n;

        /* What uaccess gives the seat's user, beside the kvm group. */
        static const uint16_t seat[][3] = { { 0x01, 6, 0 }, { 0x02, 6, 1000 }, { 0x04, 6, 0 }, { 0x08, 6, 103 },
                                            { 0x10, 6, 0 }, { 0x20, 0, 0 } };
        n = acl(buf, seat, ELEMENTSOF(seat));
        a = (struct kvm_access) { .owner = 0, .group = 0 };
        CHECK_EQ(kvm_access_parse_acl(buf, n, &a), 0);
        CHECK(a.has_acl);
        CHECK(has(&a, KVM_ACCESS_USER, 1000));
        CHECK(has(&a, KVM_ACCESS_NAMED_GROUP, 103));
        CHECK(!has(&a, KVM_ACCESS_OTHER, 0));
        CHECK_EQ(a.n, 2);

        /* The mask takes write away from named entries. */
        static const uint16_t masked[][3] = { { 0x01, 6, 0 }, { 0x02, 6, 1000 }, { 0x04, 6, 0 }, { 0x10, 4, 0 }, { 0x20, 0, 0 } };
        n = acl(buf, masked, ELEMENTSOF(masked));
        a = (struct kvm_access) { .owner = 0, .group = 0 };
        CHECK_EQ(kvm_access_parse_acl(buf, n, &a), 0);
        CHECK_EQ(a.n, 0);

        /* Read alone is not enough; other rw is everyone. */
        static const uint16_t other[][3] = { { 0x01, 6, 0 }, { 0x04, 4, 0 }, { 0x20, 6, 0 } };
        n = acl(buf, other, ELEMENTSOF(other));
        a = (struct kvm_access) { .owner = 0, .group = 50 };
        CHECK_EQ(kvm_access_parse_acl(buf, n, &a), 0);
        CHECK(has(&a, KVM_ACCESS_OTHER, 0));
        CHECK(!has(&a, KVM_ACCESS_GROUP, 50));

        /* Malformed. */
        CHECK_EQ(kvm_access_parse_acl(buf, 3, &a), -EINVAL);
        CHECK_EQ(kvm_access_parse_acl(buf, n - 1, &a), -EINVAL);
        buf[0] = 1;
        CHECK_EQ(kvm_access_parse_acl(buf, n, &a), -EINVAL);
        static const uint16_t bad_tag[][3] = { { 0x40, 6, 0 } };
        n = acl(buf, bad_tag, 1);
        CHECK_EQ(kvm_access_parse_acl(buf, n, &a), -EINVAL);
}

static void test_files(void) {
        char path[] = "/tmp/guestd-test-kvm-access.XXXXXX";
        struct kvm_access a;
        char *text;
        int fd = mkstemp(path);
        bool root = geteuid() == 0;

        CHECK(fd >= 0);
        if (root)
                CHECK_EQ(fchown(fd, 0, 0), 0);
        CHECK_EQ(fchmod(fd, 0600), 0);
        CHECK_EQ(kvm_access_check_path(path, &a), 0);
        CHECK_EQ(a.mode, 0600);
        if (root) {
                /* What the lockdown rule makes of /dev/kvm. */
                CHECK_EQ(a.n, 0);
                text = kvm_access_describe(&a);
                CHECK(text && strstr(text, "only root can open it (mode 0600, root:root)"));
                free(text);
        } else
                CHECK(has(&a, KVM_ACCESS_OWNER, geteuid()));

        /* Debian's default: the kvm group. */
        if (root) {
                CHECK_EQ(fchown(fd, 0, 4242), 0);
                CHECK_EQ(fchmod(fd, 0660), 0);
                CHECK_EQ(kvm_access_check_path(path, &a), 0);
                CHECK(has(&a, KVM_ACCESS_GROUP, 4242));
                CHECK_EQ(a.n, 1);
                text = kvm_access_describe(&a);
                CHECK(text && strstr(text, "gid 4242") && strstr(text, "can open it (mode 0660"));
                free(text);
        }

        /* Everyone. */
        CHECK_EQ(fchmod(fd, 0666), 0);
        CHECK_EQ(kvm_access_check_path(path, &a), 0);
        CHECK(has(&a, KVM_ACCESS_OTHER, 0));
        text = kvm_access_describe(&a);
        CHECK(text && strstr(text, "every user"));
        free(text);

        /* A real ACL where the file system takes one (tmpfs, ext4). */
        {
                uint8_t buf[64];
                static const uint16_t seat[][3] = { { 0x01, 6, 0 }, { 0x02, 6, 1000 }, { 0x04, 0, 0 }, { 0x10, 6, 0 }, { 0x20, 0, 0 } };
                size_t n = acl(buf, seat, ELEMENTSOF(seat));
                if (fsetxattr(fd, "system.posix_acl_access", buf, n, 0) == 0) {
                        CHECK_EQ(kvm_access_check_path(path, &a), 0);
                        CHECK(a.has_acl);
                        CHECK(has(&a, KVM_ACCESS_USER, 1000));
                        CHECK(!has(&a, KVM_ACCESS_OTHER, 0));
                } else
                        fprintf(stderr, "note: %s takes no POSIX ACL (%m); the ACL is checked by parsing only\n", path);
        }
        close(fd);
        unlink(path);
}

int main(void) {
        test_acl();
        test_files();
        return TEST_RESULT();
}
