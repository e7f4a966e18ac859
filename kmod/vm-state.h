/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm-state.h: the machine-wide state KVM keeps in the kernel, for suspend
 * and resume (issue 9): both 8259 PICs and the IOAPIC of the in-kernel
 * irqchip, the PIT (KVM_CREATE_PIT2) and the KVM clock. Plain data, as a
 * snapshot record holds it. The vCPUs are vcpu-state.h's; RAM and the
 * devices the launcher emulates are saved by their own code.
 *
 * The clock: KVM_GET_CLOCK gives the guest's kvmclock time. Restoring it
 * as saved makes the guest's clock continue from where it stopped, with
 * no jump backwards and no catch-up for the time it was suspended, which
 * is what a resumed guest expects of a suspend (its wall clock is NTP's
 * to correct, as after a laptop's suspend).
 */
#pragma once

#include <linux/kvm.h>
#include <stdint.h>

#define VM_STATE_VERSION 1

struct vm_state {
        uint32_t version; /* VM_STATE_VERSION */
        uint32_t reserved;
        struct kvm_irqchip pic_master; /* chip_id KVM_IRQCHIP_PIC_MASTER */
        struct kvm_irqchip pic_slave;  /* KVM_IRQCHIP_PIC_SLAVE */
        struct kvm_irqchip ioapic;     /* KVM_IRQCHIP_IOAPIC */
        struct kvm_pit_state2 pit;
        struct kvm_clock_data clock;
};

/* Saves the irqchip, PIT and clock of vm_fd, whose vCPUs are out of
 * KVM_RUN (paused). */
int vm_state_save(int vm_fd, struct vm_state *ret);
/* Loads them into a fresh VM built like the saved one (irqchip and PIT
 * created), before its vCPUs run. -EINVAL for another version or chip ids
 * that are not the ones saved. */
int vm_state_restore(int vm_fd, const struct vm_state *s);
