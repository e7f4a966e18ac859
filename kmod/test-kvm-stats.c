/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-kvm-stats.c: a real VM's binary statistics: the fd is recognised
 * as a VM's, the shadow MMU counters the page-table budget reads are
 * there and readable, and a fd that only pretends (a file with a stats
 * header that does not hold together, a file that is not KVM's) is
 * refused.
 * guestd-test: kvm (tests/run-tests.sh runs it where KVM is) */
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-stats.h"
#include "kvm.h"
#include "test.h"

int main(void) {
        static const char *const mmu[] = { "mmu_shadow_zapped", "mmu_recycled", "mmu_cache_miss", "mmu_pte_write" };
        struct kvm_machine m;
        struct kvm_stats s;
        const char *msg = NULL;
        int kvm_fd = -EBADF, stats_fd, fake, r;
        uint64_t v;

        r = kvm_open(&kvm_fd, &msg);
        if (r == -ENOENT)
                TEST_SKIP("SKIP: %s", msg);
        CHECK_EQ(r, 0);
        if (r < 0)
                return 1;
        kvm_machine_init(&m);
        CHECK_EQ(kvm_machine_create(kvm_fd, 1, &m), 0);

        stats_fd = kvm_get_stats_fd(m.vm_fd);
        CHECK(stats_fd >= 0);
        CHECK((fcntl(stats_fd, F_GETFD) & FD_CLOEXEC) != 0);
        CHECK(kvm_stats_fd_is_vm(stats_fd));
        CHECK_EQ(kvm_stats_open(stats_fd, &s), 0);
        CHECK(s.n_desc > 0);
        for (size_t i = 0; i < ELEMENTSOF(mmu); i++) {
                const struct kvm_stat_desc *d = kvm_stats_find(&s, mmu[i]);
                CHECK(d != NULL);
                if (!d)
                        fprintf(stderr, "no %s among %u statistics\n", mmu[i], s.n_desc);
                else {
                        CHECK_EQ(d->size, 1);
                        CHECK_EQ(kvm_stats_read(&s, d, &v), 0);
                        printf("%s = %llu\n", mmu[i], (unsigned long long) v);
                }
        }
        CHECK_EQ(kvm_stats_get(&s, "no_such_statistic", &v), -ENOENT);
        kvm_stats_close(&s);

        /* A vCPU's stats fd is not a VM's. */
        {
                int vcpu_stats = kvm_get_stats_fd(m.vcpu_fds[0]);
                CHECK(vcpu_stats >= 0);
                CHECK(!kvm_stats_fd_is_vm(vcpu_stats));
                close(vcpu_stats);
        }

        /* A file that claims a million descriptors, one that claims none. */
        fake = memfd_create("fake-stats", MFD_CLOEXEC);
        CHECK(fake >= 0);
        CHECK(!kvm_stats_fd_is_vm(fake));
        {
                struct kvm_stats_header h = { .name_size = 48, .num_desc = 1000000, .desc_offset = 24, .data_offset = 4096 };
                CHECK_EQ(pwrite(fake, &h, sizeof(h), 0), (ssize_t) sizeof(h));
                CHECK_EQ(kvm_stats_open(fake, &s), -EBADMSG);
                h.num_desc = 0;
                CHECK_EQ(pwrite(fake, &h, sizeof(h), 0), (ssize_t) sizeof(h));
                CHECK_EQ(kvm_stats_open(fake, &s), -EBADMSG);
                /* One descriptor whose name has no end. */
                uint8_t desc[sizeof(struct kvm_stats_desc) + 48];
                memset(desc, 'x', sizeof(desc));
                ((struct kvm_stats_desc *) (void *) desc)->size = 1;
                h.num_desc = 1;
                CHECK_EQ(pwrite(fake, &h, sizeof(h), 0), (ssize_t) sizeof(h));
                CHECK_EQ(pwrite(fake, desc, sizeof(desc), 24), (ssize_t) sizeof(desc));
                CHECK_EQ(kvm_stats_open(fake, &s), -EBADMSG);
        }
        close(fake);

        close(stats_fd);
        kvm_machine_close(&m);
        close(kvm_fd);
        return TEST_RESULT();
}
