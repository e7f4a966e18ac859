/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * suspend.c: suspend to a snapshot file and resume from one.
 *
 * With every vCPU parked (so no device access is half done and the disks'
 * queues are quiet) the whole machine goes into one snapshot file
 * (snapshot.h): the machine record, each vCPU, the in-kernel irqchip, PIT
 * and clock, each device, then RAM. The disks are flushed first, so that
 * what the snapshot's guest believes written is on them.
 *
 * Two halves, because of the one limit guestd bounds the snapshot with:
 * RLIMIT_FSIZE is the process's, and the guest's disks are files this
 * process writes too, so it can be lowered to the snapshot's reserve only
 * while no disk write can come. Disks are written by the vCPU threads
 * alone (virtio-blk requests run in the vCPU's MMIO exit), so once every
 * vCPU is parked none can. Under guestd: park and flush, "suspend_ready";
 * guestd lowers the limit and sends the file; write it, or say why not
 * and wait, parked, until guestd has the limit back up and says go on
 * (protocol.h, control.c). Standalone there is no guestd and no lowered
 * limit: both halves at once.
 *
 * Resume builds the same machine, maps the snapshot's RAM in place of
 * fresh memory (it already holds the kernel, the boot data and the MP
 * table) and puts every part's state over what setup put there.
 */
#include <stdio.h>
#include <string.h>

#include "i8042.h"
#include "log.h"
#include "serial.h"
#include "suspend.h"
#include "vcpu-state.h"
#include "virtio-blk.h"
#include "vm-state.h"

/* The snapshot's machine record: what a resume must rebuild the same. */
struct vm_snapshot_machine {
        uint64_t memory_bytes;
        uint32_t n_vcpus;
        uint32_t n_disks;
        uint32_t flags; /* VM_MACHINE_* */
        uint32_t reserved;
};
#define VM_MACHINE_ACPI 0x1
/* Snapshots from before ACPI: the record without flags (no ACPI). */
#define VM_SNAPSHOT_MACHINE_V1_SIZE offsetof(struct vm_snapshot_machine, flags)

/* Snapshot records of the devices, in this order (index of
 * SNAPSHOT_RECORD_DEVICE); disk i is VM_DEVICE_DISK0 + i. */
enum {
        VM_DEVICE_SERIAL = 0,
        VM_DEVICE_I8042 = 1,
        VM_DEVICE_DISK0 = 2,
};

/* guestd bounds a snapshot's size before it is written (snapshot.h). */
#define VM_RECORD_MAX(payload) (sizeof(struct snapshot_record) + (sizeof(payload) + 7) / 8 * 8)
_Static_assert(VM_RECORD_MAX(struct vcpu_state) <= SNAPSHOT_STATE_PER_VCPU_MAX, "a vCPU's record fits guestd's bound");
_Static_assert(VM_RECORD_MAX(struct vm_snapshot_machine) + VM_RECORD_MAX(struct vm_state) + VM_RECORD_MAX(struct serial_state) +
                       VM_RECORD_MAX(struct i8042_state) + MACHINE_MAX_DISKS * VM_RECORD_MAX(struct virtio_mmio_state) <=
               SNAPSHOT_STATE_FIXED_MAX,
               "the machine's records fit guestd's bound");

static int suspend_snapshot_write(struct machine *m, int fd, suspend_progress_t progress, void *userdata, char *why,
                                  size_t why_size) {
        struct vm_snapshot_machine machine = {
                .memory_bytes = m->mem.size, .n_vcpus = m->kvm->n_vcpus, .n_disks = m->n_disks,
                .flags = m->acpi ? VM_MACHINE_ACPI : 0,
        };
        _cleanup_free_ struct vcpu_state *vcpu = NULL;
        struct snapshot_writer w;
        struct vm_state vms;
        struct serial_state serial;
        struct i8042_state i8042;
        int r;

#define FAIL(r, ...)                                                           \
        do {                                                                   \
                snprintf(why, why_size, __VA_ARGS__);                          \
                log_error("Cannot suspend: %s", why);                          \
                return (r);                                                    \
        } while (0)

        vcpu = malloc(sizeof(*vcpu));
        if (!vcpu)
                FAIL(-ENOMEM, "out of memory");
        r = snapshot_writer_start(&w, fd, m->mem.size);
        if (r < 0)
                FAIL(r, "cannot start the snapshot: %s", strerror(-r));
        if (progress)
                snapshot_writer_set_progress(&w, progress, userdata);
        r = snapshot_write_record(&w, SNAPSHOT_RECORD_MACHINE, 0, &machine, sizeof(machine));
        for (unsigned i = 0; r >= 0 && i < m->kvm->n_vcpus; i++) {
                r = vcpu_state_save(m->kvm->vm_fd, m->vcpus[i].fd, m->vcpus[i].run, m->msr_indices, m->n_msrs, vcpu);
                if (r < 0)
                        FAIL(r, "cannot save vCPU %u's state: %s", i, strerror(-r));
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_VCPU, i, vcpu, sizeof(*vcpu));
        }
        if (r >= 0) {
                r = vm_state_save(m->kvm->vm_fd, &vms);
                if (r < 0)
                        FAIL(r, "cannot save the irqchip, PIT and clock: %s", strerror(-r));
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_VM, 0, &vms, sizeof(vms));
        }
        if (r >= 0) {
                serial_save(m->serial, &serial);
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_SERIAL, &serial, sizeof(serial));
        }
        if (r >= 0) {
                i8042_save(m->i8042, &i8042);
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_I8042, &i8042, sizeof(i8042));
        }
        for (unsigned i = 0; r >= 0 && i < m->n_disks; i++) {
                struct virtio_mmio_state d;
                virtio_blk_save(m->disks[i], &d);
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_DISK0 + i, &d, sizeof(d));
        }
        if (r >= 0)
                r = m->mem.fd >= 0 ? snapshot_write_memory(&w, m->mem.fd) : snapshot_write_memory_mapped(&w, m->mem.host);
        if (r >= 0)
                r = snapshot_writer_finish(&w);
        if (r < 0)
                FAIL(r, "writing the snapshot failed: %s", strerror(-r));
#undef FAIL
        log_info("Snapshot written: %" PRIu64 " KiB of RAM, %" PRIu64 " bytes of state", w.memory_written_bytes / 1024,
                 w.state_offset - w.state_start);
        return 0;
}

int suspend_park(struct machine *m, struct suspend *s, char *why, size_t why_size) {
        unsigned disk = 0;
        int r;

        s->was_paused = m->paused;
        s->begun = now_usec();
        machine_pause(m);
        if (machine_exiting(m)) {
                snprintf(why, why_size, "the guest is ending");
                return -ESHUTDOWN;
        }
        serial_flush(m->serial);
        r = machine_flush_disks(m, &disk);
        if (r < 0) {
                snprintf(why, why_size, "flushing disk %u failed: %s", disk, strerror(-r));
                log_error("Cannot suspend: %s; the guest goes on %s", why, s->was_paused ? "paused" : "running");
                if (!s->was_paused)
                        machine_unpause(m);
                return r;
        }
        return 0;
}

void suspend_unpark(struct machine *m, const struct suspend *s) {
        if (!s->was_paused)
                machine_unpause(m);
}

int suspend_write(struct machine *m, const struct suspend *s, int fd, suspend_progress_t progress, void *userdata, char *why,
                  size_t why_size) {
        int r;

        r = suspend_snapshot_write(m, fd, progress, userdata, why, why_size);
        if (r < 0)
                return r;
        do
                r = fdatasync(fd) < 0 ? -errno : 0;
        while (r == -EINTR);
        if (r < 0) {
                snprintf(why, why_size, "cannot put the snapshot on stable storage: %s", strerror(-r));
                log_error("Cannot suspend: %s", why);
                return r;
        }
        log_info("Suspended in %.1f ms (vCPUs stopped, disks flushed, snapshot written and on stable storage)",
                 (double) (now_usec() - s->begun) / 1000);
        machine_end(m, GUEST_EXIT_SUSPENDED, "suspended to a snapshot");
        return 0;
}

int suspend_now(struct machine *m, int fd, char *why, size_t why_size) {
        struct suspend s;
        int r;

        r = suspend_park(m, &s, why, why_size);
        if (r < 0)
                return r;
        r = suspend_write(m, &s, fd, NULL, NULL, why, why_size);
        if (r < 0) {
                log_error("Suspend failed; the guest goes on %s", s.was_paused ? "paused" : "running");
                suspend_unpark(m, &s);
        }
        return r;
}

/* ---------------------------------------------------------------- resume */

/* The snapshot's record of a part, checked for its size. */
static const void *suspend_snapshot_part(const struct snapshot *s, uint32_t type, uint32_t index, uint64_t size, const char *what) {
        uint64_t got = 0;
        const void *p = snapshot_find(s, type, index, &got);

        if (!p)
                log_error("The snapshot has no %s", what);
        else if (got != size) {
                log_error("The snapshot's %s is %" PRIu64 " bytes, this launcher's is %" PRIu64, what, got, size);
                p = NULL;
        }
        return p;
}

int suspend_open_snapshot(struct machine *m, int fd, uint64_t memory_bytes, struct snapshot *s) {
        struct vm_snapshot_machine record = {};
        const void *found;
        uint64_t size = 0;
        _cleanup_free_ char *why = NULL;
        int r;

        r = snapshot_open(fd, s, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot resume: %s", why ? why : "cannot read the snapshot");
        /* Two layouts: with the flags, and before them (no ACPI). */
        found = snapshot_find(s, SNAPSHOT_RECORD_MACHINE, 0, &size);
        if (!found)
                return log_error_errno(-EBADMSG, "The snapshot has no machine record");
        if (size != sizeof(record) && size != VM_SNAPSHOT_MACHINE_V1_SIZE)
                return log_error_errno(-EBADMSG, "The snapshot's machine record is %" PRIu64 " bytes, this launcher's is %zu",
                                       size, sizeof(record));
        memcpy(&record, found, size);
        if (record.flags & ~(uint32_t) VM_MACHINE_ACPI)
                return log_error_errno(-EBADMSG, "The snapshot's machine has features this launcher does not know (flags 0x%" PRIx32 ")",
                                       record.flags);
        /* The machine the guest booted on, whatever this start asked. */
        m->acpi = record.flags & VM_MACHINE_ACPI;
        if (record.memory_bytes != s->header.memory_size)
                return log_error_errno(-EBADMSG, "Cannot resume: corrupt snapshot: its machine record and its header disagree on the memory size");
        if (record.memory_bytes != memory_bytes || record.n_vcpus != m->kvm->n_vcpus || record.n_disks != m->n_disks)
                return log_error_errno(-EINVAL, "Cannot resume: the snapshot is of a guest with %" PRIu64 " MiB, %u vCPUs and %u disks; this one has %" PRIu64 " MiB, %u vCPUs and %u disks",
                                       record.memory_bytes / MiB, record.n_vcpus, record.n_disks, memory_bytes / MiB, m->kvm->n_vcpus, m->n_disks);
        r = guest_memory_map_snapshot(&m->mem, fd, s->header.memory_offset, s->header.memory_size);
        if (r < 0)
                return log_error_errno(r, "Cannot map the snapshot's RAM: %m");
        return 0;
}

int suspend_restore_state(struct machine *m, const struct snapshot *s) {
        const struct vm_state *vms;
        const struct serial_state *serial;
        const void *i8042;
        uint64_t i8042_size = 0;
        uint32_t msr = 0;
        int r;

        vms = suspend_snapshot_part(s, SNAPSHOT_RECORD_VM, 0, sizeof(*vms), "irqchip, PIT and clock");
        serial = suspend_snapshot_part(s, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_SERIAL, sizeof(*serial), "serial port");
        /* Two layouts: with the keyboard, and before it (i8042.h). */
        i8042 = snapshot_find(s, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_I8042, &i8042_size);
        if (!i8042)
                log_error("The snapshot has no i8042");
        if (!vms || !serial || !i8042)
                return -EBADMSG;
        r = vm_state_restore(m->kvm->vm_fd, vms);
        if (r < 0)
                return log_error_errno(r, "Cannot restore the irqchip, PIT and clock: %m");
        if ((r = serial_restore(m->serial, serial)) < 0 || (r = i8042_restore_sized(m->i8042, i8042, i8042_size)) < 0)
                return log_error_errno(r, "The snapshot's serial port or i8042 state is invalid: %m");
        for (unsigned i = 0; i < m->n_disks; i++) {
                const struct virtio_mmio_state *d =
                        suspend_snapshot_part(s, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_DISK0 + i, sizeof(*d), "disk");
                if (!d)
                        return -EBADMSG;
                r = virtio_blk_restore(m->disks[i], d);
                if (r < 0)
                        return log_error_errno(r, "The snapshot's state of disk %u is invalid: %m", i);
        }
        for (unsigned i = 0; i < m->kvm->n_vcpus; i++) {
                const struct vcpu_state *v = suspend_snapshot_part(s, SNAPSHOT_RECORD_VCPU, i, sizeof(*v), "vCPU");
                if (!v)
                        return -EBADMSG;
                r = vcpu_state_restore(m->vcpus[i].fd, v, &msr);
                if (r == -EIO)
                        return log_error_errno(r, "Cannot restore vCPU %u: KVM refuses MSR 0x%x", i, msr);
                if (r < 0)
                        return log_error_errno(r, "Cannot restore vCPU %u: %m", i);
        }
        return 0;
}
