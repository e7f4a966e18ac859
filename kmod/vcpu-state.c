/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vcpu-state.c: saving and restoring a vCPU's state (vcpu-state.h).
 *
 * Restore order follows what KVM needs: MP state before the registers (a
 * vCPU waiting for SIPI ignores them otherwise), special registers before
 * MSRs (EFER and the paging mode decide which MSR writes are valid), the
 * LAPIC before the events (a pending interrupt refers to it), and the
 * events last, since setting the registers can clear an injected one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util.h"
#include "vcpu-state.h"

_Static_assert(sizeof(((struct vcpu_state *) 0)->xsave) == sizeof(struct kvm_xsave), "KVM_GET_XSAVE's 4096 bytes");

/* struct kvm_msrs ends in a flexible array: room for n entries. */
static struct kvm_msrs *msr_buffer_new(unsigned n) {
        return calloc(1, sizeof(struct kvm_msrs) + n * sizeof(struct kvm_msr_entry));
}

static int vcpu_ioctl(int fd, unsigned long request, void *arg) {
        return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

/* KVM_GET_MSRS reads entries in order and stops at the first it cannot
 * read (the list names MSRs this vCPU's CPUID may not have): drop that one
 * and go on from there. */
static int save_msrs(int vcpu_fd, const uint32_t *indices, unsigned n, struct vcpu_state *s) {
        _cleanup_free_ struct kvm_msrs *buf = NULL; /* 8 KiB: not on a vCPU thread's stack */
        unsigned kept = 0, at = 0;

        if (n > VCPU_STATE_MAX_MSRS)
                return -E2BIG;
        buf = msr_buffer_new(n);
        if (!buf)
                return -ENOMEM;
        while (at < n) {
                int r;

                buf->nmsrs = n - at;
                buf->pad = 0;
                for (unsigned i = 0; i < n - at; i++)
                        buf->entries[i] = (struct kvm_msr_entry){ .index = indices[at + i] };
                r = ioctl(vcpu_fd, KVM_GET_MSRS, buf);
                if (r < 0)
                        return -errno;
                memcpy(&s->msrs[kept], buf->entries, (size_t) r * sizeof(buf->entries[0]));
                kept += (unsigned) r;
                at += (unsigned) r + 1; /* past the one it refused, if any */
        }
        s->n_msrs = kept;
        return 0;
}

int vcpu_state_supported(int vm_fd, const char **ret_why) {
        static const struct {
                int cap;
                const char *why;
        } needed[] = {
                { KVM_CAP_XSAVE, "KVM has no XSAVE here (KVM_CAP_XSAVE): the CPU lacks it" },
                { KVM_CAP_DEBUGREGS, "KVM cannot save debug registers here (KVM_CAP_DEBUGREGS)" },
                { KVM_CAP_VCPU_EVENTS, "KVM cannot save pending events here (KVM_CAP_VCPU_EVENTS)" },
                { KVM_CAP_IMMEDIATE_EXIT, "KVM cannot finish a pending I/O without running the guest (KVM_CAP_IMMEDIATE_EXIT)" },
        };

        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
                if (ioctl(vm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
                        if (ret_why)
                                *ret_why = needed[i].why;
                        return -ENOTSUP;
                }
        /* struct kvm_xsave is 4096 bytes; larger XSAVE state (AMX) needs
         * KVM_GET_XSAVE2, which this format does not hold yet. */
        if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2) > (int) sizeof(struct kvm_xsave)) {
                if (ret_why)
                        *ret_why = "this host's XSAVE state is larger than 4096 bytes (AMX): not supported yet";
                return -ENOTSUP;
        }
        return 0;
}

int vcpu_state_save(int vm_fd, int vcpu_fd, struct kvm_run *run, const uint32_t *msr_indices, unsigned n_msrs,
                    struct vcpu_state *ret) {
        int r;

        /* Finish an I/O or MMIO instruction the vCPU left KVM_RUN for:
         * with immediate_exit set KVM completes it and returns EINTR
         * without running guest code. */
        __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        r = ioctl(vcpu_fd, KVM_RUN, 0) < 0 ? -errno : 0;
        __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        if (r != -EINTR)
                return r < 0 ? r : -EIO;

        r = vcpu_state_supported(vm_fd, NULL);
        if (r < 0)
                return r;

        memset(ret, 0, sizeof(*ret));
        ret->version = VCPU_STATE_VERSION;
        if ((r = vcpu_ioctl(vcpu_fd, KVM_GET_MP_STATE, &ret->mp_state)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_GET_REGS, &ret->regs)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_GET_SREGS, &ret->sregs)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_GET_XSAVE, ret->xsave)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &ret->debugregs)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_GET_LAPIC, &ret->lapic)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &ret->events)) < 0)
                return r;
        /* XCRs exist where the host CPU has XSAVE (KVM_CAP_XCRS); without
         * it nr_xcrs stays 0 and restore sets none. */
        if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 && (r = vcpu_ioctl(vcpu_fd, KVM_GET_XCRS, &ret->xcrs)) < 0)
                return r;
        return save_msrs(vcpu_fd, msr_indices, n_msrs, ret);
}

int vcpu_state_restore(int vcpu_fd, const struct vcpu_state *s, uint32_t *ret_msr) {
        _cleanup_free_ struct kvm_msrs *buf = NULL;
        struct kvm_vcpu_events events;
        int r;

        if (s->version != VCPU_STATE_VERSION || s->n_msrs > VCPU_STATE_MAX_MSRS || s->xcrs.nr_xcrs > KVM_MAX_XCRS)
                return -EINVAL;
        if ((r = vcpu_ioctl(vcpu_fd, KVM_SET_MP_STATE, (void *) &s->mp_state)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_SET_REGS, (void *) &s->regs)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_SET_SREGS, (void *) &s->sregs)) < 0 ||
            (r = vcpu_ioctl(vcpu_fd, KVM_SET_XSAVE, (void *) s->xsave)) < 0 ||
            (s->xcrs.nr_xcrs > 0 && (r = vcpu_ioctl(vcpu_fd, KVM_SET_XCRS, (void *) &s->xcrs)) < 0) ||
            (r = vcpu_ioctl(vcpu_fd, KVM_SET_DEBUGREGS, (void *) &s->debugregs)) < 0)
                return r;

        buf = msr_buffer_new(s->n_msrs);
        if (!buf)
                return -ENOMEM;
        buf->nmsrs = s->n_msrs;
        memcpy(buf->entries, s->msrs, s->n_msrs * sizeof(s->msrs[0]));
        r = ioctl(vcpu_fd, KVM_SET_MSRS, buf);
        if (r < 0)
                return -errno;
        if ((unsigned) r < s->n_msrs) {
                if (ret_msr)
                        *ret_msr = s->msrs[r].index;
                return -EIO;
        }

        if ((r = vcpu_ioctl(vcpu_fd, KVM_SET_LAPIC, (void *) &s->lapic)) < 0)
                return r;
        /* Restore everything the events struct carries, including the
         * NMI and SIPI vectors and the interrupt shadow. */
        events = s->events;
        events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SHADOW;
        return vcpu_ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &events);
}
