/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sandbox.c: see sandbox.h. */
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "launcher-seccomp.h"
#include "log.h"
#include "protocol.h"
#include "sandbox.h"

static int report_fd = -1; /* read by the signal handler: atomics only */

void sandbox_set_report_fd(int fd) {
        __atomic_store_n(&report_fd, fd, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------ at start */

static int check_no_capabilities(void) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &header, data) < 0)
                return log_error_errno(-errno, "Cannot read our capabilities: %m");
        for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
                if (data[i].effective || data[i].permitted || data[i].inheritable)
                        return log_error_errno(-EPERM, "Started with capabilities (set %u: eff %#x perm %#x inh %#x); refusing to run", i,
                                               data[i].effective, data[i].permitted, data[i].inheritable);
        /* The bounding and ambient sets, up to the highest capability this
         * kernel knows (PR_CAPBSET_READ answers EINVAL past it). */
        for (int cap = 0; cap < 64; cap++) {
                int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
                if (r < 0)
                        break;
                if (r > 0)
                        return log_error_errno(-EPERM, "Capability %d is in our bounding set; refusing to run", cap);
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
                        return log_error_errno(-EPERM, "Capability %d is in our ambient set; refusing to run", cap);
        }
        return 0;
}

int sandbox_check_start(bool under_guestd) {
        uid_t ruid, euid, suid;
        gid_t rgid, egid, sgid;

        /* Not dumpable: no core file, and /proc/<pid> of the launcher
         * belongs to root, so the guest's owner cannot read guest memory
         * through it even with the launcher's uid. Exec made us dumpable
         * again; this comes before anything else. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(-errno, "Cannot make the launcher non-dumpable: %m");
        if (!under_guestd)
                return 0;

        /* guestd did all of this before exec; a launcher that finds it
         * otherwise was started wrongly and must not run a guest. */
        if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
                return log_error_errno(-errno, "Cannot read our uids: %m");
        if (ruid == 0 || euid == 0 || suid == 0 || rgid == 0 || egid == 0 || sgid == 0)
                return log_error_errno(-EPERM, "Started as uid %u gid %u under guestd; refusing to run as root", (unsigned) euid,
                                       (unsigned) egid);
        if (getgroups(0, NULL) != 0)
                return log_error_errno(-EPERM, "Started with supplementary groups; refusing to run");
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return log_error_errno(-EPERM, "Started without no_new_privs; refusing to run");
        return check_no_capabilities();
}

/* ------------------------------------------------------------ violations */

/* Decimal, without the C library's printf (not async-signal-safe). */
static char *put_u64(char *p, uint64_t v) {
        char tmp[20];
        int n = 0;

        do
                tmp[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        while (n > 0)
                *p++ = tmp[--n];
        return p;
}

static char *put_str(char *p, const char *s) {
        while (*s)
                *p++ = *s++;
        return p;
}

/* The kernel refused a system call and raised SIGSYS in this thread (the
 * call was not made). Say which, then die of SIGSYS: the signal is
 * blocked while its handler runs, and a second refused call while it is
 * blocked is forced on us with the default action, which kills the whole
 * process; a handler cannot stop that. Only async-signal-safe calls, and
 * only ones the filter allows, until that second call. */
static void sigsys_handler(int sig, siginfo_t *si, void *context) {
        ucontext_t *uc = context;
        uint64_t nr = (uint64_t) si->si_syscall, arg1 = (uint64_t) uc->uc_mcontext.gregs[REG_RSI];
        char message[128], line[160], *p;
        int fd = __atomic_load_n(&report_fd, __ATOMIC_SEQ_CST);

        p = put_str(message, "{\"type\":\"violation\",\"syscall\":");
        p = put_u64(p, nr);
        p = put_str(p, ",\"arg1\":");
        p = put_u64(p, arg1);
        p = put_str(p, "}");
        if (fd >= 0) {
                struct iovec iov = { .iov_base = message, .iov_len = (size_t) (p - message) };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                (void) syscall(SYS_sendmsg, fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        p = put_str(line, "guestd-launcher: sandbox violation: system call ");
        p = put_u64(p, nr);
        p = put_str(p, " (second argument ");
        p = put_u64(p, arg1);
        p = put_str(p, ") refused; the launcher dies of SIGSYS\n");
        (void) syscall(SYS_write, STDERR_FILENO, line, (size_t) (p - line));

        /* getppid is not on the allowlist (test-launcher-seccomp checks). */
        (void) syscall(SYS_getppid);
        /* Not reached unless the allowlist changed under us. */
        (void) syscall(SYS_exit_group, 128 + SIGSYS);
}

/* Library state that is made on first use, by calls the filter refuses,
 * is made now, while they are still allowed. Nothing after the lock may
 * depend on a refused call: each entry here is one that once did.
 *
 * json-c seeds its key hash on the first key it hashes: getrandom(
 * GRND_NONBLOCK), and while the kernel's entropy pool is not ready (a
 * machine just booted, no RDRAND) it falls back to stat() and open() of
 * /dev/urandom. The launcher's first key under guestd comes from the
 * setup message, before the lock; standalone it came with the first
 * protocol message built after it, and the launcher died of SIGSYS.
 *
 * What needs no warming: glibc's stdio allocates its buffers with malloc
 * and asks fstat() on an fd (both allowed); strerror() in the C locale
 * (the launcher never calls setlocale) reads no catalogue; clock_gettime
 * falls back to its system call (allowed) where the vDSO cannot serve it;
 * a vCPU thread's malloc arena is mmap and mprotect without PROT_EXEC. */
static int sandbox_warm_up(void) {
        struct json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "seed", NULL) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        json_object_put(o);
        return 0;
}

int sandbox_lock(int *ret_listener) {
        struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };
        int r;

        r = sandbox_warm_up();
        if (r < 0)
                return log_error_errno(r, "Cannot prepare the libraries for the sandbox: %m");

        /* SIGSYS stays blocked inside its handler (no SA_NODEFER): that is
         * what makes the second refused call fatal. */
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0)
                return log_error_errno(-errno, "Cannot install the SIGSYS handler: %m");
        r = launcher_seccomp_install(ret_listener);
        if (r < 0)
                return log_error_errno(r, "Cannot install the seccomp filter: %m");
        log_debug("Sandbox locked: seccomp allowlist of %zu entries on every thread", launcher_seccomp_allowlist_size);
        return 0;
}

/* ------------------------------------------------------------ tests */

int sandbox_test_violation(const char *what, int vm_fd) {
        struct kvm_userspace_memory_region region = { .slot = 7, .guest_phys_addr = 1ULL << 40, .memory_size = 1 << 20 };
        char *argv[] = { (char *) "/bin/sh", NULL };

        if (!protocol_test_violation_known(what))
                return -EINVAL;
        log_info("Test: attempting the forbidden '%s' after sandboxing", what);
        if (strcmp(what, "ioctl-create-vm") == 0)
                (void) ioctl(vm_fd, KVM_CREATE_VM, 0);
        else if (strcmp(what, "ioctl-create-vcpu") == 0)
                (void) ioctl(vm_fd, KVM_CREATE_VCPU, 63UL);
        else if (strcmp(what, "ioctl-set-nr-mmu-pages") == 0) {
                /* Under guestd the call goes to guestd, which refuses a cap
                 * above what it assigned: EPERM, and the guest goes on. */
                if (ioctl(vm_fd, KVM_SET_NR_MMU_PAGES, 1UL << 20) < 0 && errno == EPERM) {
                        log_info("Test: KVM_SET_NR_MMU_PAGES 1048576 refused by guestd: %s", strerror(errno));
                        return 0;
                }
        }
        else if (strcmp(what, "ioctl-set-memory-region") == 0)
                (void) ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
        else if (strcmp(what, "open") == 0)
                (void) open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        else if (strcmp(what, "socket") == 0)
                (void) socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        else if (strcmp(what, "execve") == 0)
                (void) execve(argv[0], argv, argv + 1);
        else if (strcmp(what, "fork") == 0)
                (void) syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        else if (strcmp(what, "mmap-exec") == 0)
                (void) mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        else if (strcmp(what, "ptrace") == 0)
                (void) syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
        /* Still here: the filter let it through. */
        return log_error_errno(-ENOTRECOVERABLE, "Test: the forbidden '%s' was not stopped by the sandbox", what);
}
