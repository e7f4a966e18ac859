/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trap.c: exceptions and user mode.
 *
 * Why user mode at all: on our development hosts guest kernel mode (CPL 0)
 * runs under KVM's instruction emulator while user mode (CPL 3) runs
 * natively with shadow paging (shared/HOST-KVM.md). Loops over megabytes,
 * and anything meant to make KVM build shadow page tables, must run at
 * CPL 3. user_call() gets there with IRETQ and comes back through an
 * exception: I/O and SYSCALL are no use at CPL 3 on that host, but HLT at
 * CPL 3 reliably raises #GP, whose handler (CPL 0, on the TSS's RSP0 stack)
 * unwinds to user_call()'s caller.
 *
 * An exception in kernel mode is a bug in the payload: print everything we
 * know and power off with GUEST_EXIT_EXCEPTION rather than triple fault.
 */
#include "runtime.h"

struct trap_frame {
        uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
        uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
        uint64_t vector, error_code;
        uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct idt_gate {
        uint16_t offset_low;
        uint16_t selector;
        uint8_t ist;
        uint8_t type_attributes;
        uint16_t offset_middle;
        uint32_t offset_high;
        uint32_t reserved;
} __attribute__((packed));

struct tss64 {
        uint32_t reserved0;
        uint64_t rsp[3];
        uint64_t reserved1;
        uint64_t ist[7];
        uint64_t reserved2;
        uint16_t reserved3;
        uint16_t iomap_base;
} __attribute__((packed));

struct descriptor_pointer {
        uint16_t limit;
        uint64_t base;
} __attribute__((packed));

extern const uint64_t trap_stubs[32];
extern uint64_t gdt_tss[2];
uint64_t user_enter(uint64_t (*fn)(void *arg), void *arg, uint64_t user_rsp);
_Noreturn void user_leave(uint64_t result);

static struct idt_gate idt[32] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
/* In .noinit (trap-entry.S): stacks need no zeroing at start-up. */
extern uint8_t trap_stack_top[], user_stack_top[];
static bool user_faulted;

static const char *const exception_names[32] = {
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
        "#BR bound range", "#UD invalid opcode", "#NM device not available",
        "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
        "#NP segment not present", "#SS stack fault", "#GP general protection",
        "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
        "#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

void trap_init(void)
{
        for (unsigned v = 0; v < ARRAY_SIZE(idt); v++) {
                uint64_t handler = trap_stubs[v];
                idt[v] = (struct idt_gate) {
                        .offset_low = handler & 0xffff,
                        .selector = SEL_CODE64,
                        .type_attributes = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
                        .offset_middle = (handler >> 16) & 0xffff,
                        .offset_high = handler >> 32,
                };
        }
        struct descriptor_pointer idtr = { sizeof(idt) - 1, (uint64_t) idt };
        __asm__ volatile("lidt %0" : : "m"(idtr));

        /* RSP0 is where the CPU switches stacks for an exception from user
         * mode. No I/O permission bitmap: port I/O at CPL 3 faults. */
        tss.rsp[0] = (uint64_t) trap_stack_top;
        tss.iomap_base = sizeof(tss);
        uint64_t base = (uint64_t) &tss, limit = sizeof(tss) - 1;
        gdt_tss[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) /* present, 64-bit TSS */
                | ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
        gdt_tss[1] = base >> 32;
        __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

static uint64_t read_cr2(void)
{
        uint64_t v;
        __asm__ volatile("mov %%cr2, %0" : "=r"(v));
        return v;
}

static void trap_print(const struct trap_frame *f)
{
        console_printf("exception %lu (%s) at rip 0x%lx, error code 0x%lx, cs 0x%lx, rsp 0x%lx, rflags 0x%lx",
                       f->vector, f->vector < ARRAY_SIZE(exception_names) && exception_names[f->vector] ? exception_names[f->vector] : "reserved",
                       f->rip, f->error_code, f->cs, f->rsp, f->rflags);
        if (f->vector == 14)
                console_printf(", cr2 0x%lx", read_cr2());
        console_puts("\n");
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
        if ((f->cs & 3) == 3) {
                /* HLT at CPL 3 is how user code says it is done. */
                if (f->vector == 13 && f->error_code == 0 && *(const uint8_t *) f->rip == 0xf4)
                        user_leave(f->rax);
                console_puts("user mode: ");
                trap_print(f);
                user_faulted = true;
                user_leave(0);
        }
        console_puts("kernel mode: ");
        trap_print(f);
        console_puts("PROBE FAIL: unexpected CPU exception in kernel mode\n");
        guest_poweroff(GUEST_EXIT_EXCEPTION);
}

int user_call(uint64_t (*fn)(void *arg), void *arg, uint64_t *ret_result)
{
        user_faulted = false;
        uint64_t r = user_enter(fn, arg, (uint64_t) user_stack_top);
        if (user_faulted)
                return -1;
        if (ret_result)
                *ret_result = r;
        return 0;
}
