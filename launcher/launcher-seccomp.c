/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launcher-seccomp.c: guestd-launcher's seccomp allowlist, in one place.
 *
 * The filter goes on after the launcher has built the machine (guest
 * memory mapped, kernel loaded, vCPUs set up, their threads started and
 * parked) and before the first guest instruction runs. From then on the
 * launcher is a loop of KVM_RUN, device emulation on memory it already has
 * mapped, and messages on sockets it already holds: it opens nothing,
 * creates no process and no thread, maps nothing executable, and asks KVM
 * for nothing that would grow its share of the host (KVM_CREATE_VM,
 * KVM_CREATE_VCPU, KVM_SET_NR_MMU_PAGES, KVM_SET_USER_MEMORY_REGION, ...
 * are not in the ioctl list). Anything else raises SIGSYS before the call
 * is made; launcher/sandbox.c reports it to guestd and dies of it.
 *
 * One exception, under guestd only: KVM_SET_NR_MMU_PAGES, the cap on the
 * guest's shadow page tables, which guestd assigns and only the VM's
 * creator can set. That ioctl goes to guestd as a seccomp user
 * notification (SECCOMP_RET_USER_NOTIF; the listener fd goes to guestd,
 * and the launcher keeps no copy): guestd lets it through only up to the
 * cap it assigned, so a launcher taken over by its guest cannot raise its
 * own share of the host.
 *
 * Every entry says why the launcher still needs it. Adding one is a
 * security decision: say why in the entry and in the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "launcher-seccomp.h"
#include "util.h"

/* ioctl: only what running a guest takes, on fds we already have. */
static const unsigned long ioctl_requests[] = {
        KVM_RUN,       /* run a vCPU until it exits to us */
        KVM_IRQ_LINE,  /* the serial port's and virtio devices' interrupts */
        KVM_GET_REGS,  /* name the instruction at rip when emulation fails */
        KVM_GET_SREGS, /* ... and translate rip through the guest's paging */
        KVM_TRANSLATE, /* ... (KVM_EXIT_INTERNAL_ERROR report) */
        /* Suspend: read the vCPUs' and the VM's state (never set it: a
         * resume sets it before the sandbox is locked). */
        KVM_GET_MP_STATE, KVM_GET_XSAVE, KVM_GET_XCRS, KVM_GET_DEBUGREGS, KVM_GET_LAPIC, KVM_GET_VCPU_EVENTS,
        KVM_GET_MSRS, KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK,
        KVM_CHECK_EXTENSION, /* ... which of those this KVM has */
};
static const char *const ioctl_request_names[] = {
        "KVM_RUN", "KVM_IRQ_LINE", "KVM_GET_REGS", "KVM_GET_SREGS", "KVM_TRANSLATE",
        "KVM_GET_MP_STATE", "KVM_GET_XSAVE", "KVM_GET_XCRS", "KVM_GET_DEBUGREGS", "KVM_GET_LAPIC", "KVM_GET_VCPU_EVENTS",
        "KVM_GET_MSRS", "KVM_GET_IRQCHIP", "KVM_GET_PIT2", "KVM_GET_CLOCK", "KVM_CHECK_EXTENSION",
};
_Static_assert(ELEMENTSOF(ioctl_requests) == ELEMENTSOF(ioctl_request_names), "one name per request");

/* fcntl: flags of fds we hold, nothing that makes or locks. */
static const unsigned long fcntl_commands[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };
static const char *const fcntl_command_names[] = { "F_GETFL", "F_SETFL", "F_GETFD", "F_SETFD" };

/* dup3: only onto stdout and stderr. */
static const unsigned long stdio_fds[] = { STDOUT_FILENO, STDERR_FILENO };
static const char *const stdio_fd_names[] = { "stdout", "stderr" };

/* tgkill: only to our own threads, only these signals. */
static const unsigned long tgkill_signals[] = { SIGUSR1, SIGABRT };
static const char *const tgkill_signal_names[] = { "SIGUSR1", "SIGABRT" };

/* newfstatat: only as glibc's fstat(), on an fd. */
static const unsigned long fstatat_flags[] = { AT_EMPTY_PATH };
static const char *const fstatat_flag_names[] = { "AT_EMPTY_PATH" };

#define ANY -1
#define ONLY(n, list, names) .arg = (n), .values = (list), .value_names = (names), .n_values = ELEMENTSOF(list)

const struct launcher_seccomp_entry launcher_seccomp_allowlist[] = {
        /* Running the guest. */
        { "ioctl", "KVM requests on the VM and vCPU fds (see ioctl_requests)", ONLY(1, ioctl_requests, ioctl_request_names) },

        /* Devices and the console. */
        { "read", "console input from guestd's socket (or stdin standalone); eventfd wake-ups", .arg = ANY },
        { "write", "console output; eventfd wake-ups; one log line each on stderr", .arg = ANY },
        { "preadv", "virtio-blk reads into guest memory", .arg = ANY },
        { "pwritev", "virtio-blk writes from guest memory", .arg = ANY },
        { "fdatasync", "virtio-blk flush and an orderly stop: a guest that asked for a barrier gets one", .arg = ANY },
        { "pread64", "suspend: guest memory from its memfd", .arg = ANY },
        { "pwrite64", "suspend: the snapshot file", .arg = ANY },
        { "ftruncate", "suspend: the snapshot file, emptied first and sized last", .arg = ANY },
        { "lseek", "suspend: SEEK_DATA/SEEK_HOLE over the guest memory's memfd (only what the guest touched)", .arg = ANY },
        { "poll", "the I/O loop waits on the console, the control socket and its eventfd", .arg = ANY },
        { "ppoll", "poll() as some C libraries make it", .arg = ANY },

        /* guestd. */
        { "sendmsg", "launcher protocol messages to guestd", .arg = ANY },
        { "recvmsg", "launcher protocol messages from guestd, with a new console's fd on attach", .arg = ANY },
        { "accept4", "a restarted guestd reconnects on the listening socket it handed us", .arg = ANY },
        { "getsockopt", "SO_PEERCRED of that connection: only root may take the guest over", .arg = ANY },
        { "close", "the old console when guestd attaches a new one; a refused or broken connection", .arg = ANY },
        { "fcntl", "non-blocking mode and close-on-exec of fds already held", ONLY(1, fcntl_commands, fcntl_command_names) },
        { "dup3", "a reattached guestd's log pipe becomes stdout and stderr; onto those two only",
          ONLY(1, stdio_fds, stdio_fd_names) },

        /* Threads: started before the filter, only their coordination now. */
        { "futex", "mutexes and condition variables: pause, unpause, stop, exit", .arg = ANY },
        { "tgkill", "pthread_kill() of a vCPU thread out of KVM_RUN (SIGUSR1); abort()", ONLY(2, tgkill_signals, tgkill_signal_names),
          .own_process = true },
        { "rt_sigprocmask", "pthread signal masks around the kick signal", .arg = ANY },
        { "rt_sigreturn", "return from the kick signal's handler", .arg = ANY },
        { "restart_syscall", "the kernel resumes an interrupted wait", .arg = ANY },
        { "sched_yield", "the C library's lock back-off", .arg = ANY },
        { "exit", "a vCPU thread ends", .arg = ANY },
        { "exit_group", "the launcher ends", .arg = ANY },

        /* Memory for the launcher's own small allocations (protocol
         * messages), never executable. */
        { "brk", "malloc()", .arg = ANY },
        { "mmap", "malloc() of large blocks and thread arenas; never PROT_EXEC", .arg = 2, .no_exec = true },
        { "mprotect", "malloc() growing a thread arena; never PROT_EXEC", .arg = 2, .no_exec = true },
        { "mremap", "realloc() of large blocks", .arg = ANY },
        { "munmap", "free() of large blocks", .arg = ANY },
        { "madvise", "free() returning memory to the host", .arg = ANY },

        /* Small queries. */
        { "getpid", "our pid in the \"state\" message", .arg = ANY },
        { "gettid", "the C library's lock owner", .arg = ANY },
        { "clock_gettime", "timestamps (normally the vDSO, no system call)", .arg = ANY },
        { "clock_nanosleep", "short waits", .arg = ANY },
        { "nanosleep", "short waits", .arg = ANY },
        { "getrandom", "the C library's malloc hardening", .arg = ANY },
        { "getrusage", "--stats: the launcher's peak RSS", .arg = ANY },
        { "newfstatat", "fstat() of the guest memory's memfd: how much of it the guest touched",
          ONLY(3, fstatat_flags, fstatat_flag_names) },
        { "fstat", "fstat() in C libraries that make it directly", .arg = ANY },
};
const size_t launcher_seccomp_allowlist_size = ELEMENTSOF(launcher_seccomp_allowlist);

/* Argument arg equals value, all 64 bits of it (a request number with
 * garbage in its upper half is a different request: refused). */
static struct scmp_arg_cmp arg_equals(unsigned arg, uint64_t value) {
        return (struct scmp_arg_cmp) { .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0 };
}

static int add_entry(scmp_filter_ctx ctx, const struct launcher_seccomp_entry *e) {
        int nr = seccomp_syscall_resolve_name(e->syscall);
        struct scmp_arg_cmp cmp[2];
        unsigned n_cmp = 0;

        /* A name this architecture lacks (ppoll vs poll, fstat) is skipped:
         * nothing can call it. */
        if (nr == __NR_SCMP_ERROR)
                return 0;
        if (e->own_process)
                cmp[n_cmp++] = arg_equals(0, (uint64_t) getpid());
        if (e->no_exec)
                return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(e->arg, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (e->n_values == 0)
                return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n_cmp, cmp);
        for (size_t i = 0; i < e->n_values; i++) {
                int r;
                cmp[n_cmp] = arg_equals((unsigned) e->arg, e->values[i]);
                r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n_cmp + 1, cmp);
                if (r < 0)
                        return r;
        }
        return 0;
}

int launcher_seccomp_install(int *ret_listener) {
        scmp_filter_ctx ctx;
        int r;

        /* Everything not allowed below: SIGSYS, the call not made. */
        ctx = seccomp_init(SCMP_ACT_TRAP);
        if (!ctx)
                return -ENOMEM;
        /* All threads, also the vCPU threads already started; the load
         * fails rather than leave one unfiltered. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        /* no_new_privs is already set (guestd sets it before exec; the
         * launcher sets it again standalone); keep libseccomp from
         * depending on it silently. */
        if (r >= 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(launcher_seccomp_allowlist); i++)
                r = add_entry(ctx, &launcher_seccomp_allowlist[i]);
        if (r >= 0 && ret_listener) {
                struct scmp_arg_cmp cmp = arg_equals(1, KVM_SET_NR_MMU_PAGES);
                r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1, &cmp);
        }
        if (r >= 0)
                r = seccomp_load(ctx);
        if (r >= 0 && ret_listener) {
                r = seccomp_notify_fd(ctx);
                if (r >= 0) {
                        *ret_listener = r;
                        r = 0;
                } else if (r == 0)
                        r = -EBADF;
        }
        seccomp_release(ctx);
        return r < 0 ? r : 0;
}
