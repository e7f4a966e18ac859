/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vm-state.c: saving and restoring the VM-wide in-kernel state
 * (vm-state.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm-state.h"

static int vm_ioctl(int fd, unsigned long request, void *arg) {
        return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

int vm_state_save(int vm_fd, struct vm_state *ret) {
        int r;

        memset(ret, 0, sizeof(*ret));
        ret->version = VM_STATE_VERSION;
        ret->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
        ret->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
        ret->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
        if ((r = vm_ioctl(vm_fd, KVM_GET_IRQCHIP, &ret->pic_master)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_GET_IRQCHIP, &ret->pic_slave)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_GET_IRQCHIP, &ret->ioapic)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_GET_PIT2, &ret->pit)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_GET_CLOCK, &ret->clock)) < 0)
                return r;
        return 0;
}

int vm_state_restore(int vm_fd, const struct vm_state *s) {
        struct kvm_clock_data clock;
        int r;

        if (s->version != VM_STATE_VERSION || s->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
            s->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE || s->ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
                return -EINVAL;
        if ((r = vm_ioctl(vm_fd, KVM_SET_IRQCHIP, (void *) &s->pic_master)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_SET_IRQCHIP, (void *) &s->pic_slave)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_SET_IRQCHIP, (void *) &s->ioapic)) < 0 ||
            (r = vm_ioctl(vm_fd, KVM_SET_PIT2, (void *) &s->pit)) < 0)
                return r;
        /* Only the guest's time: the host-side fields (realtime, host_tsc)
         * describe the machine it was saved on, and KVM_CLOCK_REALTIME
         * would advance the guest by the time it spent suspended. */
        clock = (struct kvm_clock_data){ .clock = s->clock.clock };
        return vm_ioctl(vm_fd, KVM_SET_CLOCK, &clock);
}
