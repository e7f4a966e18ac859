/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vcpu.c: the vCPU loop.
 *
 * KVM runs the guest until it does something the kernel does not handle
 * itself: port I/O or MMIO to a device that lives here, a triple fault, or
 * an instruction the emulator cannot execute (on our development hosts,
 * where everything at CPL 0 is emulated, that includes INT3, XSAVE and a
 * few more). Each KVM_RUN returns with an exit reason in the shared
 * kvm_run page; we hand device accesses to the I/O space (io.h) and turn
 * everything else into a way the guest ended, with a one-line reason a
 * person can act on. HLT never comes here: with the in-kernel local APIC,
 * KVM waits for the next interrupt itself.
 *
 * To stop a vCPU from another thread we set kvm_run->immediate_exit and
 * send the thread SIGUSR1, whose empty handler only makes KVM_RUN return
 * EINTR; immediate_exit covers the window in which the signal arrives
 * before the thread has entered KVM_RUN.
 *
 * A vCPU knows nothing of the machine around it but its struct vcpu_host:
 * whether it may run (pausing is the machine's business) and how to end
 * the guest.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "log.h"
#include "memory.h"
#include "util.h"
#include "vcpu.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig) {
}

static void kick_handler_install(void) {
        struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART: KVM_RUN must return */
        sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

void vcpu_init(struct vcpu *v, struct vcpu_host *host, unsigned index) {
        *v = (struct vcpu) { .host = host, .index = index, .fd = -EBADF };
}

static void vcpu_end(struct vcpu *v, enum guest_exit e, const char *reason) {
        v->host->request_exit(v->host, e, reason);
}

static void segment_flat(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code64) {
        *s = (struct kvm_segment) {
                .base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
                .present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64, .g = 1,
        };
}

static int vcpu_set_boot_state(struct vcpu *v, const struct boot_entry *e) {
        struct kvm_sregs sregs;
        struct kvm_regs regs = { .rflags = 0x2, .rip = e->entry };
        struct kvm_segment data;

        if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
                return -errno;
        segment_flat(&data, BOOT_SEL_DATA, 0x3, false); /* read/write, accessed */
        sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
        sregs.tr = (struct kvm_segment) { .selector = BOOT_SEL_TSS, .limit = 0x67, .type = 0xb, .present = 1 };
        sregs.gdt.base = BOOT_GDT_ADDR;
        sregs.gdt.limit = 6 * 8 - 1;
        sregs.idt.base = 0;
        sregs.idt.limit = 0;

        switch (e->mode) {
        case BOOT_MODE_PVH:
                /* Flat 32-bit protected mode, paging off (PVH ABI). */
                segment_flat(&sregs.cs, BOOT_SEL_CODE32, 0xb, false);
                sregs.cr0 = 0x11; /* PE, ET */
                sregs.cr4 = 0;
                sregs.efer = 0;
                regs.rbx = e->arg;
                break;
        case BOOT_MODE_LINUX64:
                /* Long mode with the identity map boot.c wrote. */
                segment_flat(&sregs.cs, BOOT_SEL_CODE64, 0xb, true);
                sregs.cr0 = 0x80000033; /* PG, NE, ET, MP, PE */
                sregs.cr3 = BOOT_PML4_ADDR;
                sregs.cr4 = 0x20;       /* PAE */
                sregs.efer = 0x500;     /* LME, LMA */
                regs.rsi = e->arg;
                break;
        }
        if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
                return -errno;
        return 0;
}

/* Local APIC LINT0 receives the PIC (ExtINT) and LINT1 NMIs, as firmware
 * leaves them on a PC; a guest that uses the PIC relies on it. */
static int vcpu_set_lint(struct vcpu *v) {
        struct kvm_lapic_state lapic;
        uint32_t lvt0, lvt1;

        if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
                return -errno;
        memcpy(&lvt0, lapic.regs + 0x350, 4);
        memcpy(&lvt1, lapic.regs + 0x360, 4);
        lvt0 = (lvt0 & ~0x700u) | (7u << 8);
        lvt1 = (lvt1 & ~0x700u) | (4u << 8);
        memcpy(lapic.regs + 0x350, &lvt0, 4);
        memcpy(lapic.regs + 0x360, &lvt1, 4);
        if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
                return -errno;
        return 0;
}

int vcpu_setup(struct vcpu *v, int fd, size_t run_size, const struct boot_entry *entry) {
        struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
        void *run;
        int r;

        run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (run == MAP_FAILED)
                return log_error_errno(-errno, "Failed to map vCPU %u's kvm_run: %m", v->index);
        v->fd = fd;
        v->run = run;
        v->run_size = run_size;

        if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
                return log_error_errno(-errno, "Failed to set vCPU %u's FPU state: %m", v->index);
        r = vcpu_set_lint(v);
        if (r < 0)
                return log_error_errno(r, "Failed to set vCPU %u's local APIC: %m", v->index);
        if (entry) {
                r = vcpu_set_boot_state(v, entry);
                if (r < 0)
                        return log_error_errno(r, "Failed to set vCPU %u's registers: %m", v->index);
        }
        return 0;
}

/* The bytes of the instruction at the guest's RIP, for the reason line:
 * from KVM when it supplies them, else read through the guest's page
 * tables with KVM_TRANSLATE. */
static size_t vcpu_instruction_bytes(struct vcpu *v, uint8_t buf[static 15], uint64_t *ret_rip) {
        struct kvm_regs regs;
        struct kvm_sregs sregs;
        struct kvm_translation t;
        size_t n = 0;

        *ret_rip = 0;
        if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
                *ret_rip = regs.rip;
        if (v->run->emulation_failure.suberror == KVM_INTERNAL_ERROR_EMULATION &&
            v->run->emulation_failure.ndata >= 3 &&
            (v->run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
                n = MIN(v->run->emulation_failure.insn_size, (uint8_t) 15);
                memcpy(buf, v->run->emulation_failure.insn_bytes, n);
                return n;
        }
        if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
                return 0;
        t = (struct kvm_translation) { .linear_address = sregs.cs.base + regs.rip };
        if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
                return 0;
        for (; n < 15; n++) {
                const uint8_t *p = guest_memory_ptr(v->host->mem, t.physical_address + n, 1);
                if (!p)
                        break;
                buf[n] = *p;
        }
        return n;
}

static void vcpu_internal_error(struct vcpu *v) {
        char reason[256];
        uint8_t insn[15];
        uint64_t rip;
        size_t n = vcpu_instruction_bytes(v, insn, &rip);
        int len;

        if (v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
                len = snprintf(reason, sizeof(reason), "KVM internal error: emulation failure on vCPU %u at rip 0x%" PRIx64 ", instruction bytes:", v->index, rip);
                for (size_t i = 0; i < n && len < (int) sizeof(reason) - 4; i++)
                        len += snprintf(reason + len, sizeof(reason) - len, " %02x", insn[i]);
                if (n == 0)
                        snprintf(reason + len, sizeof(reason) - len, " unavailable");
        } else
                snprintf(reason, sizeof(reason), "KVM internal error: suberror %u on vCPU %u at rip 0x%" PRIx64,
                         v->run->internal.suberror, v->index, rip);
        vcpu_end(v, GUEST_EXIT_INTERNAL_ERROR, reason);
}

static void vcpu_handle_io(struct vcpu *v) {
        struct kvm_run *run = v->run;
        uint8_t *data = (uint8_t *) run + run->io.data_offset;
        bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

        /* data_offset and count come from the kernel, but a string
         * instruction could in theory claim more than the page holds. */
        if (run->io.data_offset >= v->run_size || (uint64_t) run->io.size * run->io.count > v->run_size - run->io.data_offset)
                return;
        for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
                io_dispatch(v->host->io, IO_PIO, run->io.port, data, run->io.size, is_write);
}

static void vcpu_handle_mmio(struct vcpu *v) {
        struct kvm_run *run = v->run;
        unsigned len = run->mmio.len;

        if (len == 0 || len > sizeof(run->mmio.data))
                return;
        io_dispatch(v->host->io, IO_MMIO, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

static void *vcpu_thread(void *userdata) {
        struct vcpu *v = userdata;
        char reason[160];
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, VCPU_KICK_SIGNAL);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);

        while (v->host->may_run(v->host)) {
                if (ioctl(v->fd, KVM_RUN, 0) < 0) {
                        if (errno == EINTR || errno == EAGAIN) {
                                v->run->immediate_exit = 0;
                                continue;
                        }
                        snprintf(reason, sizeof(reason), "launcher error: KVM_RUN failed on vCPU %u: %s", v->index, strerror(errno));
                        vcpu_end(v, GUEST_EXIT_LAUNCHER_ERROR, reason);
                        break;
                }
                switch (v->run->exit_reason) {
                case KVM_EXIT_IO:
                        vcpu_handle_io(v);
                        break;
                case KVM_EXIT_MMIO:
                        vcpu_handle_mmio(v);
                        break;
                case KVM_EXIT_HLT:
                        break; /* only without an in-kernel LAPIC; ours has one */
                case KVM_EXIT_SHUTDOWN:
                        snprintf(reason, sizeof(reason), "triple fault on vCPU %u (KVM_EXIT_SHUTDOWN)", v->index);
                        vcpu_end(v, GUEST_EXIT_SHUTDOWN, reason);
                        break;
                case KVM_EXIT_SYSTEM_EVENT:
                        if (v->run->system_event.type == KVM_SYSTEM_EVENT_RESET)
                                vcpu_end(v, GUEST_EXIT_RESET, "guest requested a reset");
                        else if (v->run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
                                vcpu_end(v, GUEST_EXIT_POWEROFF, "guest powered off");
                        else {
                                snprintf(reason, sizeof(reason), "KVM internal error: system event %u", v->run->system_event.type);
                                vcpu_end(v, GUEST_EXIT_INTERNAL_ERROR, reason);
                        }
                        break;
                case KVM_EXIT_INTERNAL_ERROR:
                        vcpu_internal_error(v);
                        break;
                case KVM_EXIT_FAIL_ENTRY:
                        snprintf(reason, sizeof(reason), "KVM internal error: VM entry failed on vCPU %u (hardware reason 0x%llx)",
                                 v->index, (unsigned long long) v->run->fail_entry.hardware_entry_failure_reason);
                        vcpu_end(v, GUEST_EXIT_INTERNAL_ERROR, reason);
                        break;
                case KVM_EXIT_INTR:
                        break;
                default:
                        snprintf(reason, sizeof(reason), "KVM internal error: unexpected exit reason %u on vCPU %u", v->run->exit_reason, v->index);
                        vcpu_end(v, GUEST_EXIT_INTERNAL_ERROR, reason);
                }
        }
        return NULL;
}

int vcpu_start(struct vcpu *v) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        sigset_t set, old;
        int r;

        pthread_once(&once, kick_handler_install);
        /* The thread starts with the kick signal blocked and unblocks it
         * itself, so no signal lands before it can handle one. */
        sigemptyset(&set);
        sigaddset(&set, VCPU_KICK_SIGNAL);
        pthread_sigmask(SIG_BLOCK, &set, &old);
        r = -pthread_create(&v->thread, NULL, vcpu_thread, v);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        v->started = true;
        return 0;
}

void vcpu_kick(struct vcpu *v) {
        if (!v->run)
                return;
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        if (v->started)
                pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v) {
        if (v->started)
                pthread_join(v->thread, NULL);
        v->started = false;
}

void vcpu_done(struct vcpu *v) {
        if (v->run)
                munmap(v->run, v->run_size);
        v->run = NULL;
}
