/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-vcpu-state.c: a vCPU saved in one machine runs on in another, from
 * the next instruction: a real-mode loop writes 0, 1, 2 to a port, is saved
 * while its third OUT is still pending, and the copy writes 3, 4. An MSR
 * and the LAPIC's TPR come along, a waiting AP stays waiting, and a state
 * KVM refuses is named. The machine's state (vm-state.c) too: the PIC's
 * mask, an IOAPIC route and the PIT's count arrive, the clock continues.
 * guestd-test: kvm (tests/run-tests.sh runs it where KVM is) */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"
#include "test.h"
#include "vcpu-state.h"
#include "vm-state.h"

#define RAM_SIZE (1 * MiB)
#define CODE_GPA 0x1000
#define PORT 0x10
#define MSR_SYSENTER_CS 0x174
#define LAPIC_TPR 0x80

struct machine {
        struct kvm_machine m;
        uint8_t *ram;
        struct kvm_run *run[2];
};

static int machine_make(int kvm_fd, struct machine *ret) {
        struct kvm_userspace_memory_region region = { .slot = 0, .memory_size = RAM_SIZE };
        int r;

        memset(ret, 0, sizeof(*ret));
        r = kvm_machine_create(kvm_fd, 2, &ret->m);
        if (r < 0)
                return r;
        ret->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ret->ram == MAP_FAILED)
                return -errno;
        region.userspace_addr = (uintptr_t) ret->ram;
        if (ioctl(ret->m.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                return -errno;
        for (unsigned i = 0; i < 2; i++) {
                ret->run[i] = mmap(NULL, ret->m.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, ret->m.vcpu_fds[i], 0);
                if (ret->run[i] == MAP_FAILED)
                        return -errno;
        }
        return 0;
}

static void machine_free(struct machine *mc) {
        for (unsigned i = 0; i < 2; i++)
                if (mc->run[i] && mc->run[i] != MAP_FAILED)
                        munmap(mc->run[i], mc->m.vcpu_mmap_size);
        if (mc->ram && mc->ram != MAP_FAILED)
                munmap(mc->ram, RAM_SIZE);
        kvm_machine_close(&mc->m);
}

/* Runs vCPU 0 to its next exit; the byte it wrote to PORT, or -1. */
static int next_out(struct machine *mc) {
        struct kvm_run *run = mc->run[0];

        if (ioctl(mc->m.vcpu_fds[0], KVM_RUN, 0) < 0) {
                fprintf(stderr, "KVM_RUN: %m\n");
                return -1;
        }
        if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT || run->io.port != PORT ||
            run->io.size != 1) {
                fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
                return -1;
        }
        return ((uint8_t *) run)[run->io.data_offset];
}

/* KVM_GET_MSRS or KVM_SET_MSRS of one MSR (struct kvm_msrs ends in a
 * flexible array). */
static int one_msr(int vcpu_fd, unsigned long request, uint32_t index, uint64_t *data) {
        uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / sizeof(uint64_t)] = { 0 };
        struct kvm_msrs *m = (struct kvm_msrs *) buf;
        int r;

        m->nmsrs = 1;
        m->entries[0].index = index;
        m->entries[0].data = *data;
        r = ioctl(vcpu_fd, request, m);
        *data = m->entries[0].data;
        return r;
}

static uint64_t get_msr(int vcpu_fd, uint32_t index) {
        uint64_t v = 0;

        return one_msr(vcpu_fd, KVM_GET_MSRS, index, &v) == 1 ? v : UINT64_MAX;
}

int main(void) {
        /* out PORT, al; inc al; jmp back to the out */
        static const uint8_t code[] = { 0xe6, PORT, 0xfe, 0xc0, 0xeb, 0xfa };
        static struct vcpu_state saved, ap, bad;
        static struct vm_state vm_saved, vm_bad;
        struct kvm_irqchip chip;
        struct kvm_pit_state2 pit;
        struct kvm_clock_data clock;
        struct machine a, b;
        struct kvm_regs regs;
        struct kvm_sregs sregs;
        struct kvm_lapic_state lapic;
        uint64_t sysenter_cs = 0x1234;
        _cleanup_free_ uint32_t *msrs = NULL;
        unsigned n_msrs = 0;
        const char *why = NULL;
        uint32_t refused = 0;
        int kvm_fd = -EBADF, r;
        bool found = false;

        r = kvm_open(&kvm_fd, &why);
        if (r == -ENOENT)
                TEST_SKIP("SKIP: %s", why);
        if (r < 0) {
                fprintf(stderr, "%s\n", why);
                return 1;
        }
        CHECK_EQ(kvm_msr_index_list(kvm_fd, &msrs, &n_msrs), 0);
        CHECK(n_msrs > 0 && n_msrs <= VCPU_STATE_MAX_MSRS);

        CHECK_EQ(machine_make(kvm_fd, &a), 0);
        memcpy(a.ram + CODE_GPA, code, sizeof(code));
        CHECK_EQ(ioctl(a.m.vcpu_fds[0], KVM_GET_SREGS, &sregs), 0);
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        CHECK_EQ(ioctl(a.m.vcpu_fds[0], KVM_SET_SREGS, &sregs), 0);
        regs = (struct kvm_regs){ .rip = CODE_GPA, .rflags = 2 };
        CHECK_EQ(ioctl(a.m.vcpu_fds[0], KVM_SET_REGS, &regs), 0);
        CHECK_EQ(one_msr(a.m.vcpu_fds[0], KVM_SET_MSRS, MSR_SYSENTER_CS, &sysenter_cs), 1);
        CHECK_EQ(ioctl(a.m.vcpu_fds[0], KVM_GET_LAPIC, &lapic), 0);
        lapic.regs[LAPIC_TPR] = 0x20;
        CHECK_EQ(ioctl(a.m.vcpu_fds[0], KVM_SET_LAPIC, &lapic), 0);

        /* Machine state with values a fresh machine does not have. */
        chip = (struct kvm_irqchip){ .chip_id = KVM_IRQCHIP_PIC_MASTER };
        CHECK_EQ(ioctl(a.m.vm_fd, KVM_GET_IRQCHIP, &chip), 0);
        chip.chip.pic.imr = 0xa5;
        CHECK_EQ(ioctl(a.m.vm_fd, KVM_SET_IRQCHIP, &chip), 0);
        chip = (struct kvm_irqchip){ .chip_id = KVM_IRQCHIP_IOAPIC };
        CHECK_EQ(ioctl(a.m.vm_fd, KVM_GET_IRQCHIP, &chip), 0);
        chip.chip.ioapic.redirtbl[3].bits = UINT64_C(0x10033); /* vector 0x33, masked */
        CHECK_EQ(ioctl(a.m.vm_fd, KVM_SET_IRQCHIP, &chip), 0);
        CHECK_EQ(ioctl(a.m.vm_fd, KVM_GET_PIT2, &pit), 0);
        pit.channels[0].count = 0x1234;
        pit.channels[0].mode = 2;
        CHECK_EQ(ioctl(a.m.vm_fd, KVM_SET_PIT2, &pit), 0);

        CHECK_EQ(next_out(&a), 0);
        CHECK_EQ(next_out(&a), 1);
        CHECK_EQ(next_out(&a), 2);
        /* Saved with the third OUT pending: the save completes it. */
        r = vcpu_state_supported(a.m.vm_fd, &why);
        if (r == -ENOTSUP)
                TEST_SKIP("SKIP: %s", why);
        CHECK_EQ(vcpu_state_save(a.m.vm_fd, a.m.vcpu_fds[0], a.run[0], msrs, n_msrs, &saved), 0);
        CHECK_EQ(saved.regs.rip, CODE_GPA + 2);
        CHECK_EQ(saved.regs.rax & 0xff, 2);
        CHECK_EQ(saved.mp_state.mp_state, KVM_MP_STATE_RUNNABLE);
        CHECK(saved.n_msrs > 0 && saved.n_msrs <= n_msrs);
        for (unsigned i = 0; i < saved.n_msrs; i++)
                if (saved.msrs[i].index == MSR_SYSENTER_CS) {
                        found = true;
                        CHECK_EQ(saved.msrs[i].data, 0x1234);
                }
        CHECK(found);
        /* The AP never started: it waits for INIT/SIPI, and says so. */
        CHECK_EQ(vcpu_state_save(a.m.vm_fd, a.m.vcpu_fds[1], a.run[1], msrs, n_msrs, &ap), 0);
        CHECK(ap.mp_state.mp_state == KVM_MP_STATE_UNINITIALIZED || ap.mp_state.mp_state == KVM_MP_STATE_INIT_RECEIVED);

        CHECK_EQ(vm_state_save(a.m.vm_fd, &vm_saved), 0);
        CHECK_EQ(vm_saved.pic_master.chip.pic.imr, 0xa5);

        /* A second machine, the same RAM, the saved state: on from 3. */
        CHECK_EQ(machine_make(kvm_fd, &b), 0);
        memcpy(b.ram, a.ram, RAM_SIZE);
        vm_bad = vm_saved;
        vm_bad.version = VM_STATE_VERSION + 1;
        CHECK_EQ(vm_state_restore(b.m.vm_fd, &vm_bad), -EINVAL);
        vm_bad = vm_saved;
        vm_bad.ioapic.chip_id = KVM_IRQCHIP_PIC_MASTER;
        CHECK_EQ(vm_state_restore(b.m.vm_fd, &vm_bad), -EINVAL);
        CHECK_EQ(vm_state_restore(b.m.vm_fd, &vm_saved), 0);
        chip = (struct kvm_irqchip){ .chip_id = KVM_IRQCHIP_PIC_MASTER };
        CHECK_EQ(ioctl(b.m.vm_fd, KVM_GET_IRQCHIP, &chip), 0);
        CHECK_EQ(chip.chip.pic.imr, 0xa5);
        chip = (struct kvm_irqchip){ .chip_id = KVM_IRQCHIP_IOAPIC };
        CHECK_EQ(ioctl(b.m.vm_fd, KVM_GET_IRQCHIP, &chip), 0);
        CHECK_EQ(chip.chip.ioapic.redirtbl[3].bits, 0x10033);
        CHECK_EQ(ioctl(b.m.vm_fd, KVM_GET_PIT2, &pit), 0);
        CHECK_EQ(pit.channels[0].count, 0x1234);
        CHECK_EQ(pit.channels[0].mode, 2);
        /* The clock goes on from the saved time: not back, and not by the
         * host's time since (at most a few seconds here). */
        CHECK_EQ(ioctl(b.m.vm_fd, KVM_GET_CLOCK, &clock), 0);
        CHECK(clock.clock >= vm_saved.clock.clock);
        CHECK(clock.clock < vm_saved.clock.clock + UINT64_C(10) * 1000000000);
        CHECK_EQ(vcpu_state_restore(b.m.vcpu_fds[0], &saved, &refused), 0);
        CHECK_EQ(vcpu_state_restore(b.m.vcpu_fds[1], &ap, &refused), 0);
        CHECK_EQ(get_msr(b.m.vcpu_fds[0], MSR_SYSENTER_CS), 0x1234);
        CHECK_EQ(ioctl(b.m.vcpu_fds[0], KVM_GET_LAPIC, &lapic), 0);
        CHECK_EQ(lapic.regs[LAPIC_TPR], 0x20);
        CHECK_EQ(next_out(&b), 3);
        CHECK_EQ(next_out(&b), 4);
        {
                struct kvm_mp_state mp;
                CHECK_EQ(ioctl(b.m.vcpu_fds[1], KVM_GET_MP_STATE, &mp), 0);
                CHECK_EQ(mp.mp_state, ap.mp_state.mp_state);
        }

        /* Refusals: another version; an MSR KVM does not know, named. */
        bad = saved;
        bad.version = VCPU_STATE_VERSION + 1;
        CHECK_EQ(vcpu_state_restore(b.m.vcpu_fds[0], &bad, NULL), -EINVAL);
        bad = saved;
        bad.n_msrs = VCPU_STATE_MAX_MSRS + 1;
        CHECK_EQ(vcpu_state_restore(b.m.vcpu_fds[0], &bad, NULL), -EINVAL);
        bad = saved;
        bad.msrs[bad.n_msrs++] = (struct kvm_msr_entry){ .index = 0x4badbeef, .data = 1 };
        CHECK_EQ(vcpu_state_restore(b.m.vcpu_fds[0], &bad, &refused), -EIO);
        CHECK_EQ(refused, 0x4badbeef);

        /* The clock is the record's: an hour later in the record, an hour
         * later in the guest. */
        vm_bad = vm_saved;
        vm_bad.clock.clock += UINT64_C(3600) * 1000000000;
        CHECK_EQ(vm_state_restore(b.m.vm_fd, &vm_bad), 0);
        CHECK_EQ(ioctl(b.m.vm_fd, KVM_GET_CLOCK, &clock), 0);
        CHECK(clock.clock >= vm_bad.clock.clock && clock.clock < vm_bad.clock.clock + UINT64_C(10) * 1000000000);

        machine_free(&a);
        machine_free(&b);
        close(kvm_fd);
        return TEST_RESULT();
}
