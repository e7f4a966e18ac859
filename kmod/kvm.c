/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kmod/kvm.c: open, probe and create through /dev/kvm; see kvm.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "log.h"

/* Guest-physical pages Intel VMX needs for the real-mode TSS and the
 * identity page table; they sit just below 4 GiB inside the MMIO hole,
 * where no RAM or device lives. */
#define KVM_TSS_ADDR UINT64_C(0xfffbd000)
#define KVM_IDENTITY_MAP_ADDR UINT64_C(0xfffbc000)

int kvm_open(int *ret_fd, const char **ret_message) {
        const char *msg;
        int fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);

        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        switch (errno) {
        case ENOENT:
        case ENODEV:
        case ENXIO:
                msg = KVM_DEVICE_PATH " does not exist: the kvm module (kvm_intel or kvm_amd) is not loaded, "
                      "or this machine has no hardware virtualisation";
                break;
        case EACCES:
        case EPERM:
                msg = "no permission to open " KVM_DEVICE_PATH ": only guestd (root) opens it; "
                      "ordinary users start guests through guestd";
                break;
        default:
                msg = "cannot open " KVM_DEVICE_PATH;
        }
        if (ret_message)
                *ret_message = msg;
        return -errno;
}

static const struct {
        int cap;
        const char *name;
} required_caps[] = {
        { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel interrupt controllers)" },
        { KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel PIT)" },
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
        { KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
        { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
        { KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

int kvm_probe(int kvm_fd, struct kvm_probe_info *ret, const char **ret_message) {
        static char buf[160];
        int r;

        *ret = (struct kvm_probe_info) {};
        r = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
        if (r < 0) {
                if (ret_message)
                        *ret_message = "KVM_GET_API_VERSION failed: this is not a KVM device";
                return -errno;
        }
        ret->api_version = r;
        if (r != KVM_API_VERSION) {
                snprintf(buf, sizeof(buf), "KVM API version %d, guestd needs %d", r, KVM_API_VERSION);
                if (ret_message)
                        *ret_message = buf;
                return -ENOTSUP;
        }
        for (size_t i = 0; i < ELEMENTSOF(required_caps); i++)
                if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
                        snprintf(buf, sizeof(buf), "KVM lacks %s, which guestd needs", required_caps[i].name);
                        if (ret_message)
                                *ret_message = buf;
                        return -ENOTSUP;
                }

        r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
        ret->max_vcpus = r > 0 ? r : 4; /* the API says: if absent, assume 4 */
        r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
        ret->nr_memslots = r > 0 ? r : 32;
        ret->binary_stats = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) > 0;
        r = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (r <= 0) {
                if (ret_message)
                        *ret_message = "KVM_GET_VCPU_MMAP_SIZE failed";
                return r < 0 ? -errno : -EIO;
        }
        ret->vcpu_mmap_size = r;
        return 0;
}

void kvm_machine_init(struct kvm_machine *m) {
        *m = (struct kvm_machine) { .vm_fd = -EBADF };
        for (unsigned i = 0; i < KVM_MACHINE_MAX_VCPUS; i++)
                m->vcpu_fds[i] = -EBADF;
}

void kvm_machine_close(struct kvm_machine *m) {
        for (unsigned i = 0; i < KVM_MACHINE_MAX_VCPUS; i++)
                m->vcpu_fds[i] = safe_close(m->vcpu_fds[i]);
        m->vm_fd = safe_close(m->vm_fd);
        m->n_vcpus = 0;
}

/* The supported CPUID table, adjusted per vCPU: the APIC ID fields must
 * match the vCPU index (the MP table says so too), and XSAVE is hidden
 * because the emulator on shadow-paging hosts cannot execute XSAVE/XRSTOR
 * (HOST-KVM.md); AVX depends on XSAVE and goes with it.
 *
 * The KVM paravirtual features that work by hypercall are hidden too. On
 * those hosts a guest's kernel mode is emulated, and the emulator treats
 * VMCALL/VMMCALL as an instruction to "fix": it rewrites it into the
 * host's native hypercall instruction and restarts it, which is emulated
 * again, forever; the hypercall never reaches KVM. A guest with several
 * vCPUs then spins at 100% in its first PV IPI (KVM_HC_SEND_IPI) or PV
 * spinlock kick (KVM_HC_KICK_CPU) while the others wait on it. Without
 * these bits Linux uses plain local APIC IPIs and native spinlocks, as
 * under QEMU, whose default CPU models do not offer them either. */
#define KVM_PV_HYPERCALL_FEATURES                                                     \
        ((1u << KVM_FEATURE_PV_UNHALT) |        /* PV spinlocks: KVM_HC_KICK_CPU */  \
         (1u << KVM_FEATURE_PV_SEND_IPI) |      /* KVM_HC_SEND_IPI */                \
         (1u << KVM_FEATURE_PV_SCHED_YIELD) |   /* KVM_HC_SCHED_YIELD */             \
         (1u << KVM_FEATURE_HC_MAP_GPA_RANGE))  /* KVM_HC_MAP_GPA_RANGE */

static struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd) {
        for (unsigned n = 64; n <= 4096; n *= 2) {
                struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
                if (!c)
                        return NULL;
                c->nent = n;
                if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
                        return c;
                free(c);
                if (errno != E2BIG)
                        return NULL;
        }
        errno = E2BIG;
        return NULL;
}

static void cpuid_adjust(struct kvm_cpuid2 *c, unsigned vcpu) {
        for (unsigned i = 0; i < c->nent; i++) {
                struct kvm_cpuid_entry2 *e = &c->entries[i];
                switch (e->function) {
                case 1:
                        e->ebx = (e->ebx & 0x00ffffff) | (vcpu << 24);
                        e->ecx &= ~((1u << 26) | (1u << 27) | (1u << 28)); /* XSAVE, OSXSAVE, AVX */
                        /* Running under a hypervisor: without this bit a kernel
                         * does not look at KVM's leaves (0x40000000), so it has
                         * no kvm-clock, which a hardware-reduced ACPI machine
                         * (no PIT, no legacy PIC) needs for its timer. */
                        e->ecx |= 1u << 31;
                        break;
                case 7:
                        if (e->index == 0)
                                e->ebx &= ~(1u << 5); /* AVX2 */
                        break;
                case 0xb:
                case 0x1f:
                        e->edx = vcpu; /* x2APIC ID */
                        break;
                case KVM_CPUID_FEATURES:
                        e->eax &= ~KVM_PV_HYPERCALL_FEATURES;
                        break;
                }
        }
}

int kvm_machine_create(int kvm_fd, unsigned n_vcpus, struct kvm_machine *ret) {
        _cleanup_free_ struct kvm_cpuid2 *cpuid = NULL;
        struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
        uint64_t identity = KVM_IDENTITY_MAP_ADDR;
        struct kvm_machine m;
        int r;

        if (n_vcpus == 0 || n_vcpus > KVM_MACHINE_MAX_VCPUS)
                return -EINVAL;
        kvm_machine_init(&m);

        r = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (r <= 0)
                return r < 0 ? -errno : -EIO;
        m.vcpu_mmap_size = r;

        cpuid = cpuid_get_supported(kvm_fd);
        if (!cpuid)
                return -errno;

        m.vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
        if (m.vm_fd < 0)
                return -errno;
        /* KVM_CREATE_VM returns an fd with O_CLOEXEC already set. */
        if (ioctl(m.vm_fd, KVM_SET_TSS_ADDR, (unsigned long) KVM_TSS_ADDR) < 0 ||
            ioctl(m.vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 ||
            ioctl(m.vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
            ioctl(m.vm_fd, KVM_CREATE_PIT2, &pit) < 0)
                goto fail;

        for (unsigned i = 0; i < n_vcpus; i++) {
                int fd = ioctl(m.vm_fd, KVM_CREATE_VCPU, (unsigned long) i);
                if (fd < 0)
                        goto fail;
                m.vcpu_fds[i] = fd;
                m.n_vcpus++;
                cpuid_adjust(cpuid, i);
                if (ioctl(fd, KVM_SET_CPUID2, cpuid) < 0)
                        goto fail;
        }
        *ret = m;
        return 0;
fail:
        r = -errno;
        kvm_machine_close(&m);
        return r;
}

int kvm_set_nr_mmu_pages(int vm_fd, uint64_t pages) {
        if (pages < 64 || pages > UINT32_MAX)
                return -EINVAL;
        if (ioctl(vm_fd, KVM_SET_NR_MMU_PAGES, (unsigned long) pages) < 0)
                return -errno;
        return 0;
}

#define KVM_IOCTL_NAME(r) { r, #r }
static const struct {
        unsigned long request;
        const char *name;
} kvm_ioctl_names[] = {
        KVM_IOCTL_NAME(KVM_GET_API_VERSION), KVM_IOCTL_NAME(KVM_CREATE_VM), KVM_IOCTL_NAME(KVM_CHECK_EXTENSION),
        KVM_IOCTL_NAME(KVM_GET_VCPU_MMAP_SIZE), KVM_IOCTL_NAME(KVM_GET_SUPPORTED_CPUID), KVM_IOCTL_NAME(KVM_CREATE_VCPU),
        KVM_IOCTL_NAME(KVM_SET_USER_MEMORY_REGION), KVM_IOCTL_NAME(KVM_SET_NR_MMU_PAGES), KVM_IOCTL_NAME(KVM_SET_TSS_ADDR),
        KVM_IOCTL_NAME(KVM_SET_IDENTITY_MAP_ADDR), KVM_IOCTL_NAME(KVM_CREATE_IRQCHIP), KVM_IOCTL_NAME(KVM_CREATE_PIT2),
        KVM_IOCTL_NAME(KVM_IRQ_LINE), KVM_IOCTL_NAME(KVM_IRQ_LINE_STATUS), KVM_IOCTL_NAME(KVM_IRQFD), KVM_IOCTL_NAME(KVM_IOEVENTFD),
        KVM_IOCTL_NAME(KVM_GET_STATS_FD), KVM_IOCTL_NAME(KVM_CREATE_DEVICE), KVM_IOCTL_NAME(KVM_SET_GSI_ROUTING),
        KVM_IOCTL_NAME(KVM_RUN), KVM_IOCTL_NAME(KVM_GET_REGS), KVM_IOCTL_NAME(KVM_SET_REGS), KVM_IOCTL_NAME(KVM_GET_SREGS),
        KVM_IOCTL_NAME(KVM_SET_SREGS), KVM_IOCTL_NAME(KVM_TRANSLATE), KVM_IOCTL_NAME(KVM_GET_FPU), KVM_IOCTL_NAME(KVM_SET_FPU),
        KVM_IOCTL_NAME(KVM_GET_LAPIC), KVM_IOCTL_NAME(KVM_SET_LAPIC), KVM_IOCTL_NAME(KVM_SET_CPUID2), KVM_IOCTL_NAME(KVM_GET_MSRS),
        KVM_IOCTL_NAME(KVM_SET_MSRS), KVM_IOCTL_NAME(KVM_SET_SIGNAL_MASK), KVM_IOCTL_NAME(KVM_GET_MP_STATE),
        KVM_IOCTL_NAME(KVM_SET_MP_STATE), KVM_IOCTL_NAME(KVM_SET_GUEST_DEBUG), KVM_IOCTL_NAME(KVM_GET_IRQCHIP),
        KVM_IOCTL_NAME(KVM_SET_IRQCHIP), KVM_IOCTL_NAME(KVM_GET_PIT2), KVM_IOCTL_NAME(KVM_SET_PIT2), KVM_IOCTL_NAME(KVM_GET_CLOCK),
        KVM_IOCTL_NAME(KVM_SET_CLOCK), KVM_IOCTL_NAME(KVM_ENABLE_CAP),
};

const char *kvm_ioctl_to_string(unsigned long request) {
        for (size_t i = 0; i < ELEMENTSOF(kvm_ioctl_names); i++)
                if (kvm_ioctl_names[i].request == request)
                        return kvm_ioctl_names[i].name;
        return NULL;
}

int kvm_msr_index_list(int kvm_fd, uint32_t **ret_indices, unsigned *ret_n) {
        struct kvm_msr_list probe = { .nmsrs = 0 };
        struct kvm_msr_list *list;
        uint32_t *indices;

        /* Asked for 0 entries, KVM says E2BIG and how many there are. */
        if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) == 0) {
                *ret_indices = NULL;
                *ret_n = 0;
                return 0;
        }
        if (errno != E2BIG)
                return -errno;
        list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
        if (!list)
                return -ENOMEM;
        list->nmsrs = probe.nmsrs;
        if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
                int r = -errno;
                free(list);
                return r;
        }
        indices = malloc((list->nmsrs > 0 ? list->nmsrs : 1) * sizeof(*indices));
        if (!indices) {
                free(list);
                return -ENOMEM;
        }
        memcpy(indices, list->indices, list->nmsrs * sizeof(*indices));
        *ret_indices = indices;
        *ret_n = list->nmsrs;
        free(list);
        return 0;
}
