/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * machine.c: the running machine's parts and run state; see machine.h.
 *
 * Three kinds of thread meet here. The vCPU threads ask before every
 * KVM_RUN whether they may run (and park while the machine is paused);
 * devices and vCPUs end the guest; the I/O thread pauses, unpauses and
 * waits for the end. All of it under one lock, so that a pause and an end
 * that race each other leave no vCPU parked for ever and no pause waiting
 * for a vCPU that has left.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "acpi.h"
#include "i8042.h"
#include "log.h"
#include "machine.h"
#include "serial.h"
#include "virtio-blk.h"

static struct machine *machine_of_vcpu_host(struct vcpu_host *host) {
        return (struct machine *) ((char *) host - offsetof(struct machine, vcpu_host));
}

static void machine_irq_line(struct device_host *host, unsigned irq, int level) {
        struct machine *m = (struct machine *) host;
        struct kvm_irq_level l = { .irq = irq, .level = level };

        if (ioctl(m->kvm->vm_fd, KVM_IRQ_LINE, &l) < 0)
                log_warning_errno(-errno, "KVM_IRQ_LINE %u failed: %m", irq);
}

void machine_end(struct machine *m, enum guest_exit e, const char *reason) {
        uint64_t one = 1;

        pthread_mutex_lock(&m->lock);
        if (!m->exiting) {
                m->exiting = true;
                m->exit = e;
                snprintf(m->reason, sizeof(m->reason), "%s", reason);
                for (unsigned i = 0; i < m->kvm->n_vcpus; i++)
                        vcpu_kick(&m->vcpus[i]);
                /* Parked vCPUs must leave, and a pause waiting for them
                 * must give up. */
                pthread_cond_broadcast(&m->unpause_cond);
                pthread_cond_broadcast(&m->parked_cond);
        }
        pthread_mutex_unlock(&m->lock);
        (void) !write(m->wake_fd, &one, sizeof(one));
}

static void machine_device_request_exit(struct device_host *host, enum guest_exit e, const char *reason) {
        machine_end((struct machine *) host, e, reason);
}

static void machine_vcpu_request_exit(struct vcpu_host *host, enum guest_exit e, const char *reason) {
        machine_end(machine_of_vcpu_host(host), e, reason);
}

bool machine_exiting(struct machine *m) {
        bool r;

        pthread_mutex_lock(&m->lock);
        r = m->exiting;
        pthread_mutex_unlock(&m->lock);
        return r;
}

static bool machine_vcpu_may_run(struct vcpu_host *host) {
        struct machine *m = machine_of_vcpu_host(host);
        bool r;

        pthread_mutex_lock(&m->lock);
        if (m->paused && !m->exiting) {
                m->n_parked++;
                pthread_cond_broadcast(&m->parked_cond);
                while (m->paused && !m->exiting)
                        pthread_cond_wait(&m->unpause_cond, &m->lock);
                m->n_parked--;
        }
        r = !m->exiting;
        pthread_mutex_unlock(&m->lock);
        return r;
}

/* A vCPU in the middle of a device access finishes it first, so devices
 * are quiescent too once this returns. */
void machine_pause(struct machine *m) {
        pthread_mutex_lock(&m->lock);
        m->paused = true;
        for (unsigned i = 0; i < m->n_started; i++)
                vcpu_kick(&m->vcpus[i]);
        while (m->n_parked < m->n_started && !m->exiting)
                pthread_cond_wait(&m->parked_cond, &m->lock);
        pthread_mutex_unlock(&m->lock);
}

void machine_unpause(struct machine *m) {
        pthread_mutex_lock(&m->lock);
        m->paused = false;
        pthread_cond_broadcast(&m->unpause_cond);
        pthread_mutex_unlock(&m->lock);
}

void machine_start_vcpus(struct machine *m) {
        /* Each thread parks before its first KVM_RUN, so that nothing of
         * the guest runs before the launcher has locked its sandbox. */
        m->paused = true;
        for (unsigned i = 0; i < m->kvm->n_vcpus; i++) {
                if (vcpu_start(&m->vcpus[i]) < 0) {
                        machine_end(m, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: failed to start a vCPU thread");
                        break;
                }
                /* Under the lock: a pause counts the vCPUs it waits for. */
                pthread_mutex_lock(&m->lock);
                m->n_started = i + 1;
                pthread_mutex_unlock(&m->lock);
        }
        machine_pause(m);
}

void machine_join_vcpus(struct machine *m) {
        for (unsigned i = 0; i < m->n_started; i++)
                vcpu_join(&m->vcpus[i]);
}

int machine_flush_disks(struct machine *m, unsigned *ret_disk) {
        int first = 0;

        for (unsigned i = 0; i < m->n_disks; i++) {
                if (m->disk_read_only[i])
                        continue;
                int r;
                do
                        r = fdatasync(m->disk_fds[i]) < 0 ? -errno : 0;
                while (r == -EINTR);
                if (r < 0) {
                        log_error_errno(r, "Failed to flush disk %u: %m", i);
                        if (first == 0) {
                                first = r;
                                *ret_disk = i;
                        }
                }
        }
        return first;
}

/* The ACPI power button (acpi.h): a pulse on the Generic Event Device's
 * interrupt, which the guest's GED driver turns into Notify(PWRB, 0x80):
 * a KEY_POWER press its init or acpid acts on. Only where the guest
 * listens: a GED driver unmasks the pin in the in-kernel IOAPIC when it
 * takes the interrupt; a kernel without ACPI leaves it masked. */
int machine_power_button(struct machine *m, const char **ret_why) {
        struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

        if (!m->acpi) {
                *ret_why = "the machine has no ACPI";
                return -ENODEV;
        }
        if (ioctl(m->kvm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
                *ret_why = "cannot read the IOAPIC";
                return log_warning_errno(-errno, "KVM_GET_IRQCHIP (IOAPIC) failed: %m");
        }
        if (chip.chip.ioapic.redirtbl[ACPI_GED_GSI].fields.mask) {
                *ret_why = "no ACPI event driver has taken the power button's interrupt";
                return -ENODEV;
        }
        machine_irq_line(&m->device_host, ACPI_GED_GSI, 1);
        machine_irq_line(&m->device_host, ACPI_GED_GSI, 0);
        return 0;
}

int machine_init(struct machine *m, struct kvm_machine *kvm) {
        *m = (struct machine) {
                .device_host = { .irq_line = machine_irq_line, .request_exit = machine_device_request_exit },
                .vcpu_host = { .may_run = machine_vcpu_may_run, .request_exit = machine_vcpu_request_exit },
                .kvm = kvm,
                .mem = { .fd = -EBADF },
                .wake_fd = -EBADF,
        };
        m->device_host.mem = &m->mem;
        m->vcpu_host.mem = &m->mem;
        m->vcpu_host.io = &m->io;
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->unpause_cond, NULL);
        pthread_cond_init(&m->parked_cond, NULL);
        for (unsigned i = 0; i < KVM_MACHINE_MAX_VCPUS; i++)
                vcpu_init(&m->vcpus[i], &m->vcpu_host, i);
        m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->wake_fd < 0)
                return log_error_errno(-errno, "Failed to create an eventfd: %m");
        return 0;
}

void machine_done(struct machine *m) {
        for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++)
                m->disks[i] = virtio_blk_free(m->disks[i]);
        m->serial = serial_free(m->serial);
        m->i8042 = i8042_free(m->i8042);
        for (unsigned i = 0; i < KVM_MACHINE_MAX_VCPUS; i++)
                vcpu_done(&m->vcpus[i]);
        guest_memory_destroy(&m->mem);
        m->wake_fd = safe_close(m->wake_fd);
        pthread_cond_destroy(&m->unpause_cond);
        pthread_cond_destroy(&m->parked_cond);
        pthread_mutex_destroy(&m->lock);
}
