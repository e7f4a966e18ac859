/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-kvm.c: kmod/ against the host's real /dev/kvm (skips without one).
 * guestd-test: kvm (tests/run-tests.sh runs it where KVM is) */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "test.h"

int main(void) {
        struct kvm_probe_info info;
        struct kvm_machine m;
        const char *msg = NULL;
        int fd = -EBADF, r;

        r = kvm_open(&fd, &msg);
        if (r == -ENOENT)
                TEST_SKIP("SKIP: %s", msg);
        CHECK_EQ(r, 0);
        if (r < 0) {
                fprintf(stderr, "%s\n", msg);
                return 1;
        }
        CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        CHECK_EQ(kvm_probe(fd, &info, &msg), 0);
        CHECK_EQ(info.api_version, KVM_API_VERSION);
        CHECK(info.max_vcpus >= 1);
        CHECK(info.vcpu_mmap_size >= 4096);

        CHECK_EQ(kvm_machine_create(fd, 0, &m), -EINVAL);
        CHECK_EQ(kvm_machine_create(fd, KVM_MACHINE_MAX_VCPUS + 1, &m), -EINVAL);

        CHECK_EQ(kvm_machine_create(fd, 2, &m), 0);
        CHECK_EQ(m.n_vcpus, 2);
        CHECK(m.vm_fd >= 0 && m.vcpu_fds[0] >= 0 && m.vcpu_fds[1] >= 0);
        CHECK_EQ(m.vcpu_fds[2], -EBADF);
        CHECK(m.vcpu_mmap_size == info.vcpu_mmap_size);
        /* The irqchip exists: creating it again fails with EEXIST. */
        CHECK(ioctl(m.vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 && errno == EEXIST);
        /* The page-table cap: 64 is KVM's minimum, 63 is refused. */
        CHECK_EQ(kvm_set_nr_mmu_pages(m.vm_fd, 64), 0);
        CHECK_EQ(kvm_set_nr_mmu_pages(m.vm_fd, 63), -EINVAL);
        CHECK_EQ(kvm_set_nr_mmu_pages(m.vm_fd, 4096), 0);
        kvm_machine_close(&m);
        CHECK_EQ(m.vm_fd, -EBADF);
        kvm_machine_close(&m); /* twice is harmless */
        close(fd);
        return TEST_RESULT();
}
