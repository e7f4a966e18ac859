/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-launcher-seccomp.c: the launcher's allowlist, read and enforced.
 *
 * The table: every entry names a system call this architecture knows, and
 * nothing that would let a launcher out (open, exec, new processes or
 * sockets, ptrace, mount, KVM requests that create or grow) is in it;
 * getppid, which the SIGSYS handler uses to die, is not.
 *
 * The filter: in a child process, with the filter loaded and SIGSYS at its
 * default action, each allowed call works and each forbidden one kills
 * the child with SIGSYS before it happens; under guestd's supervision,
 * KVM_SET_NR_MMU_PAGES waits for the listener's verdict instead.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher-seccomp.h"
#include "test.h"

static const struct launcher_seccomp_entry *find(const char *name) {
        for (size_t i = 0; i < launcher_seccomp_allowlist_size; i++)
                if (strcmp(launcher_seccomp_allowlist[i].syscall, name) == 0)
                        return &launcher_seccomp_allowlist[i];
        return NULL;
}

static void test_table(void) {
        static const char *const forbidden[] = {
                "open", "openat", "openat2", "creat", "execve", "execveat", "fork", "vfork", "clone", "clone3",
                "socket", "socketpair", "connect", "bind", "listen", "ptrace", "process_vm_readv", "process_vm_writev",
                "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "kill", "tkill", "rt_sigaction",
                "prctl", "seccomp", "bpf", "perf_event_open", "memfd_create", "userfaultfd", "io_uring_setup",
                "setuid", "setresuid", "capset", "getppid", "dup", "dup2", "pidfd_open", "pidfd_getfd",
                "kexec_load", "init_module", "finit_module", "keyctl", "add_key", "mprotect_pkey", "pkey_mprotect",
                /* guestd lowers only the soft RLIMIT_FSIZE while a snapshot
                 * is written (daemon/launcher-fsize.h): the launcher must
                 * not raise it back itself. */
                "setrlimit", "prlimit64",
        };
        static const unsigned long forbidden_ioctls[] = {
                KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_SET_NR_MMU_PAGES, KVM_SET_USER_MEMORY_REGION, KVM_CREATE_DEVICE,
                KVM_GET_STATS_FD, KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD, KVM_SET_CPUID2, KVM_ENABLE_CAP,
        };
        const struct launcher_seccomp_entry *ioctl_entry;

        CHECK(launcher_seccomp_allowlist_size > 10);
        for (size_t i = 0; i < launcher_seccomp_allowlist_size; i++) {
                const struct launcher_seccomp_entry *e = &launcher_seccomp_allowlist[i];
                if (seccomp_syscall_resolve_name(e->syscall) == __NR_SCMP_ERROR) {
                        fprintf(stderr, "allowlist entry '%s' is not a system call here\n", e->syscall);
                        test_failures++;
                }
                CHECK(e->why && strlen(e->why) > 5);
                CHECK(e->n_values == 0 || (e->values && e->value_names && e->arg >= 0 && e->arg < 6));
                for (size_t j = 0; j < i; j++)
                        CHECK(strcmp(e->syscall, launcher_seccomp_allowlist[j].syscall) != 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++)
                if (find(forbidden[i])) {
                        fprintf(stderr, "'%s' must not be on the launcher's allowlist\n", forbidden[i]);
                        test_failures++;
                }
        ioctl_entry = find("ioctl");
        CHECK(ioctl_entry && ioctl_entry->arg == 1 && ioctl_entry->n_values > 0);
        if (ioctl_entry)
                for (size_t i = 0; i < ioctl_entry->n_values; i++)
                        for (size_t j = 0; j < ELEMENTSOF(forbidden_ioctls); j++)
                                CHECK(ioctl_entry->values[i] != forbidden_ioctls[j]);
}

/* Runs fn in a child under the filter; returns its wait status. */
static int run_filtered(void (*fn)(void)) {
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || launcher_seccomp_install(NULL) < 0)
                        _exit(100);
                fn();
                _exit(0);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

static bool killed_by_sigsys(int status) {
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

/* Allowed: must all work, the child exits 0. */
static void allowed_calls(void) {
        int fl;
        void *p;

        /* Only fds inherited from before the filter (it allows making no
         * new ones) and anonymous memory. */
        if (write(STDERR_FILENO, "", 0) < 0)
                _exit(1);
        fl = fcntl(STDERR_FILENO, F_GETFL);
        if (fl < 0 || fcntl(STDERR_FILENO, F_SETFL, fl) < 0)
                _exit(2);
        p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(3);
        memset(p, 'x', 1 << 20);
        if (mprotect(p, 4096, PROT_READ) < 0 || munmap(p, 1 << 20) < 0)
                _exit(4);
        free(malloc(1 << 22)); /* mmap/munmap through malloc */
        /* An allowed ioctl on a bad fd fails normally instead of killing. */
        if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
                _exit(5);
        if (getpid() <= 0 || syscall(SYS_gettid) <= 0)
                _exit(6);
        /* dup3 onto stderr is allowed (a new log pipe). */
        if (dup3(STDERR_FILENO, STDERR_FILENO, 0) != -1 || errno != EINVAL)
                _exit(7);
}

static void call_open(void) { (void) open("/etc/hostname", O_RDONLY | O_CLOEXEC); }
static void call_socket(void) { (void) socket(AF_UNIX, SOCK_STREAM, 0); }
static void call_create_vcpu(void) { (void) ioctl(-1, KVM_CREATE_VCPU, 0); }
static void call_create_vm(void) { (void) ioctl(-1, KVM_CREATE_VM, 0); }
static void call_set_nr_mmu_pages(void) { (void) ioctl(-1, KVM_SET_NR_MMU_PAGES, 1UL << 20); }
static void call_set_memory_region(void) { (void) ioctl(-1, KVM_SET_USER_MEMORY_REGION, NULL); }
static void call_ioctl_high_bits(void) { (void) ioctl(-1, KVM_RUN | (1UL << 32), 0); }
static void call_mmap_exec(void) { (void) mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }
static void call_mprotect_exec(void) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void) mprotect(p, 4096, PROT_READ | PROT_EXEC);
}
static void call_fcntl_dupfd(void) { (void) fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10); }
static void call_tgkill_sigkill(void) { (void) syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGKILL); }
static void call_tgkill_other(void) { (void) syscall(SYS_tgkill, 1, 1, SIGUSR1); }
static void call_getppid(void) { (void) syscall(SYS_getppid); }
static void call_dup3_elsewhere(void) { (void) dup3(STDERR_FILENO, 7, 0); }
static void call_execve(void) {
        char *argv[] = { (char *) "/bin/true", NULL };
        (void) execve(argv[0], argv, argv + 1);
}
static void call_clone(void) { (void) syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
static void call_rt_sigaction(void) {
        struct sigaction sa = { .sa_handler = SIG_IGN };
        (void) sigaction(SIGSYS, &sa, NULL);
}
static void call_newfstatat_path(void) {
        struct stat st;
        (void) fstatat(AT_FDCWD, "/etc/passwd", &st, 0);
}

/* Under guestd: KVM_SET_NR_MMU_PAGES goes to the listener, which the
 * child hands to us (as the launcher hands it to guestd). We refuse 4096
 * pages with EPERM and let 64 through (on /dev/null that is ENOTTY, from
 * the call itself); every other forbidden call still kills. */
static void test_supervised(void) {
        int pair[2], status;
        pid_t pid;

        CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
        pid = fork();
        if (pid == 0) {
                int listener = -1, dev = open("/dev/null", O_RDONLY | O_CLOEXEC), e1, e2;
                char control[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'l';
                struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

                if (dev < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || launcher_seccomp_install(&listener) < 0 || listener < 0)
                        _exit(100);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &listener, sizeof(int));
                if (sendmsg(pair[1], &mh, 0) != 1)
                        _exit(101);
                close(listener); /* the launcher keeps no copy */
                e1 = ioctl(dev, KVM_SET_NR_MMU_PAGES, 4096UL) < 0 ? errno : 0;
                e2 = ioctl(dev, KVM_SET_NR_MMU_PAGES, 64UL) < 0 ? errno : 0;
                if (e1 != EPERM)
                        _exit(102);
                if (e2 != ENOTTY)
                        _exit(103);
                call_create_vcpu(); /* still forbidden: SIGSYS */
                _exit(104);
        }
        CHECK(pid > 0);
        {
                char control[CMSG_SPACE(sizeof(int))], byte;
                struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
                struct seccomp_notif *req = NULL;
                struct seccomp_notif_resp *resp = NULL;
                int listener = -1;

                CHECK_EQ(recvmsg(pair[0], &mh, MSG_CMSG_CLOEXEC), 1);
                if (CMSG_FIRSTHDR(&mh))
                        memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
                CHECK(listener >= 0);
                CHECK_EQ(seccomp_notify_alloc(&req, &resp), 0);
                for (int i = 0; listener >= 0 && i < 2; i++) {
                        memset(req, 0, sizeof(*req));
                        CHECK_EQ(seccomp_notify_receive(listener, req), 0);
                        CHECK_EQ(req->data.nr, SCMP_SYS(ioctl));
                        CHECK_EQ(req->data.args[1], KVM_SET_NR_MMU_PAGES);
                        CHECK_EQ(req->pid, pid);
                        memset(resp, 0, sizeof(*resp));
                        resp->id = req->id;
                        if (req->data.args[2] > 64)
                                resp->error = -EPERM;
                        else
                                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                        CHECK_EQ(seccomp_notify_respond(listener, resp), 0);
                }
                seccomp_notify_free(req, resp);
                if (listener >= 0)
                        close(listener);
        }
        CHECK_EQ(waitpid(pid, &status, 0), pid);
        CHECK(killed_by_sigsys(status));
        if (!killed_by_sigsys(status))
                fprintf(stderr, "supervised child: status %#x\n", status);
        close(pair[0]);
        close(pair[1]);
}

int main(void) {
        static const struct {
                const char *name;
                void (*fn)(void);
        } forbidden[] = {
                { "open", call_open }, { "socket", call_socket }, { "KVM_CREATE_VCPU", call_create_vcpu },
                { "KVM_CREATE_VM", call_create_vm }, { "KVM_SET_NR_MMU_PAGES", call_set_nr_mmu_pages },
                { "KVM_SET_USER_MEMORY_REGION", call_set_memory_region }, { "ioctl with high bits", call_ioctl_high_bits },
                { "mmap PROT_EXEC", call_mmap_exec }, { "mprotect PROT_EXEC", call_mprotect_exec },
                { "fcntl F_DUPFD", call_fcntl_dupfd }, { "tgkill SIGKILL", call_tgkill_sigkill },
                { "tgkill another process", call_tgkill_other }, { "getppid", call_getppid },
                { "dup3 onto another fd", call_dup3_elsewhere }, { "execve", call_execve },
                { "clone", call_clone }, { "rt_sigaction", call_rt_sigaction }, { "fstatat of a path", call_newfstatat_path },
        };
        int status;

        test_table();

        status = run_filtered(allowed_calls);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                fprintf(stderr, "allowed calls: wait status %#x (exit %d, signal %d)\n", status, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
                test_failures++;
        }
        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                status = run_filtered(forbidden[i].fn);
                if (!killed_by_sigsys(status)) {
                        fprintf(stderr, "forbidden %s: not killed by SIGSYS (wait status %#x)\n", forbidden[i].name, status);
                        test_failures++;
                }
        }
        test_supervised();
        return TEST_RESULT();
}
