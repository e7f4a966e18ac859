/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestd: the privileged daemon that lets ordinary users run guests on
 * KVM inside a quota (DESIGN.md). This file is the program: options,
 * signals and the one event loop; the work is in manager.c (state),
 * bus.c (the D-Bus API), supervise.c (launchers), quota.c and policy.c.
 *
 * SIGTERM and SIGINT end the daemon but not the guests: launchers run on
 * and are found again at the next start. SIGHUP re-reads the policy.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "journal.h"
#include "kvm-access.h"
#include "kvm.h"
#include "log.h"
#include "daemon.h"
#include "manager.h"
#include "verbs.h"
#include "protocol.h"
#include "version.h"

#define DEFAULT_STATE_DIR "/var/lib/guestd"
#define DEFAULT_RUNTIME_DIR "/run/guestd"
#define DEFAULT_POLICY "/etc/guestd/policy.json"
#define DEFAULT_LAUNCHER "/usr/libexec/guestd/guestd-launcher"

static void help(void) {
        printf("Usage: guestd [OPTIONS]\n"
               "Run guests for ordinary users on KVM, inside a quota, over D-Bus (org.guestd1).\n\n"
               "  --bus=ADDRESS          connect to this bus instead of the system bus\n"
               "  --state-dir=DIR        guest records (default " DEFAULT_STATE_DIR ")\n"
               "  --runtime-dir=DIR      launcher sockets (default " DEFAULT_RUNTIME_DIR ")\n"
               "  --policy=FILE          quota policy (default " DEFAULT_POLICY ";\n"
               "                         built-in defaults if it does not exist)\n"
               "  --launcher=PATH        guestd-launcher (default: next to guestd, else\n"
               "                         " DEFAULT_LAUNCHER ")\n"
               "  --launcher-uids=FIRST-LAST  unused uids for launchers, one per running guest\n"
               "                         (default %u-%u)\n"
               "  --pressure-calm=SECONDS  after memory pressure, how long without it before\n"
               "                         page-table caps grow back (1-3600, default 4)\n"
               "                         Memory pressure: $MEMORY_PRESSURE_WATCH (systemd's\n"
               "                         protocol: a PSI file, FIFO or socket; /dev/null: off),\n"
               "                         else /proc/pressure/memory\n"
               "  --polkit-timeout=SECONDS  how long polkit may take to answer whether a caller\n"
               "                         may do something (1-3600, default 25); then Timeout\n"
               "  --machined-timeout=SECONDS  how long systemd-machined may take to make a\n"
               "                         starting guest's launcher a machine (1-3600,\n"
               "                         default 25); then that Start fails with Timeout\n"
               "  --test-sandbox-violation=CALL  tests only: every launcher attempts this\n"
               "                         forbidden call once sandboxed (and dies of it)\n"
               "  -v, --verbose          log more\n"
               "  -h, --help             show this help\n"
               "  --version              print the version and exit\n\n"
               "Signals: SIGTERM/SIGINT exit (guests keep running), SIGHUP reloads the policy.\n",
               (unsigned) GUESTD_LAUNCHER_UID_FIRST, (unsigned) GUESTD_LAUNCHER_UID_LAST);
}

/* The launcher built beside this guestd (a build tree, or one prefix). */
static char *default_launcher(void) {
        char self[PATH_MAX], *slash, *path = NULL;
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n > 0) {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        if (asprintf(&path, "%s/guestd-launcher", self) >= 0 && access(path, X_OK) == 0)
                                return path;
                        free(path);
                        path = NULL;
                        /* PREFIX/sbin/guestd -> PREFIX/libexec/guestd/guestd-launcher */
                        if (asprintf(&path, "%s/../libexec/guestd/guestd-launcher", self) >= 0 && access(path, X_OK) == 0)
                                return path;
                        free(path);
                }
        }
        return strdup(DEFAULT_LAUNCHER);
}

static int parse_uid_range(const char *s, uid_t *ret_first, uid_t *ret_last) {
        _cleanup_free_ char *copy = strdup(s);
        uint64_t a, b;
        char *dash;

        if (!copy)
                return -ENOMEM;
        dash = strchr(copy, '-');
        if (!dash)
                return -EINVAL;
        *dash = 0;
        if (safe_atou64(copy, &a) < 0 || safe_atou64(dash + 1, &b) < 0 || a == 0 || a > b || b >= UINT32_MAX - 1 ||
            b - a >= GUESTD_LAUNCHER_UIDS_MAX)
                return -EINVAL;
        *ret_first = (uid_t) a;
        *ret_last = (uid_t) b;
        return 0;
}

static int parse_args(int argc, char **argv, struct manager *m) {
        enum { ARG_BUS = 0x100, ARG_STATE_DIR, ARG_RUNTIME_DIR, ARG_POLICY, ARG_LAUNCHER, ARG_LAUNCHER_UIDS, ARG_TEST_VIOLATION,
               ARG_PRESSURE_CALM, ARG_POLKIT_TIMEOUT, ARG_MACHINED_TIMEOUT, ARG_VERSION };
        static const struct option options[] = {
                { "bus", required_argument, NULL, ARG_BUS },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "policy", required_argument, NULL, ARG_POLICY },
                { "launcher", required_argument, NULL, ARG_LAUNCHER },
                { "launcher-uids", required_argument, NULL, ARG_LAUNCHER_UIDS },
                { "test-sandbox-violation", required_argument, NULL, ARG_TEST_VIOLATION },
                { "pressure-calm", required_argument, NULL, ARG_PRESSURE_CALM },
                { "polkit-timeout", required_argument, NULL, ARG_POLKIT_TIMEOUT },
                { "machined-timeout", required_argument, NULL, ARG_MACHINED_TIMEOUT },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        char **target;
        int c;

        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                target = NULL;
                switch (c) {
                case ARG_BUS: target = &m->bus_address; break;
                case ARG_STATE_DIR: target = &m->state_dir; break;
                case ARG_RUNTIME_DIR: target = &m->runtime_dir; break;
                case ARG_POLICY: target = &m->policy_path; break;
                case ARG_LAUNCHER: target = &m->launcher_path; break;
                case ARG_LAUNCHER_UIDS:
                        if (parse_uid_range(optarg, &m->launcher_uid_first, &m->launcher_uid_last) < 0)
                                return log_error_errno(-EINVAL, "--launcher-uids: expected FIRST-LAST with 0 < FIRST <= LAST and at most %d uids, got '%s'",
                                                       GUESTD_LAUNCHER_UIDS_MAX, optarg);
                        break;
                case ARG_TEST_VIOLATION:
                        if (!protocol_test_violation_known(optarg))
                                return log_error_errno(-EINVAL, "--test-sandbox-violation: unknown call '%s'", optarg);
                        target = &m->test_violation;
                        log_warning("TEST MODE: every launcher will attempt '%s' once sandboxed and die of it", optarg);
                        break;
                case ARG_PRESSURE_CALM: {
                        uint64_t sec;
                        if (safe_atou64(optarg, &sec) < 0 || sec < 1 || sec > 3600)
                                return log_error_errno(-EINVAL, "--pressure-calm: expected seconds from 1 to 3600, got '%s'", optarg);
                        m->pt.calm_usec = sec * 1000000ULL;
                        break;
                }
                case ARG_POLKIT_TIMEOUT: {
                        uint64_t sec;
                        if (safe_atou64(optarg, &sec) < 0 || sec < 1 || sec > 3600)
                                return log_error_errno(-EINVAL, "--polkit-timeout: expected seconds from 1 to 3600, got '%s'", optarg);
                        m->polkit.timeout_usec = sec * 1000000ULL;
                        break;
                }
                case ARG_MACHINED_TIMEOUT: {
                        uint64_t sec;
                        if (safe_atou64(optarg, &sec) < 0 || sec < 1 || sec > 3600)
                                return log_error_errno(-EINVAL, "--machined-timeout: expected seconds from 1 to 3600, got '%s'", optarg);
                        m->machined.timeout_usec = sec * 1000000ULL;
                        break;
                }
                case 'v': log_set_max_level(LOG_LEVEL_DEBUG); break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("guestd %s\n", GUESTD_VERSION); return 0;
                default: return -EINVAL;
                }
                if (target) {
                        free(*target);
                        *target = strdup(optarg);
                        if (!*target)
                                return -ENOMEM;
                }
        }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'", argv[optind]);
        if ((!m->state_dir && !(m->state_dir = strdup(DEFAULT_STATE_DIR))) ||
            (!m->runtime_dir && !(m->runtime_dir = strdup(DEFAULT_RUNTIME_DIR))) ||
            (!m->policy_path && !(m->policy_path = strdup(DEFAULT_POLICY))) ||
            (!m->launcher_path && !(m->launcher_path = default_launcher())))
                return -ENOMEM;
        if (m->launcher_path[0] != '/')
                return log_error_errno(-EINVAL, "--launcher needs an absolute path");
        return 1;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;

        log_info("Received SIG%s, exiting; guests keep running", sigabbrev_np(si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

/* SIGHUP (systemctl reload): systemd hears RELOADING=1 first and READY=1
 * once the policy is read again (or refused, the old one kept), so that
 * `systemctl reload` returns when the reload is done; MONOTONIC_USEC ties
 * the two together (sd_notify(3)). */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading the policy",
                          (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000ULL);
        (void) manager_reload_policy(userdata, NULL);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving guests");
        return 0;
}

/* Whether users can reach KVM around guestd (kmod/kvm-access.h). guestd
 * does not change the device: the lockdown rule is the admin's choice. */
static void report_kvm_access(void) {
        _cleanup_free_ char *text = NULL;
        struct kvm_access a;
        int r;

        r = kvm_access_check_path(KVM_DEVICE_PATH, &a);
        if (r == -ENOENT) {
                log_info("%s does not exist (yet): nobody can open it", KVM_DEVICE_PATH);
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot tell who can open %s: %m", KVM_DEVICE_PATH);
                return;
        }
        text = kvm_access_describe(&a);
        if (kvm_access_open_to_users(&a))
                log_warning("%s: %s. They can run VMs without guestd and outside every quota; to keep KVM to guestd, install "
                            "kmod/72-guestd-kvm-lockdown.rules (make install KVM_LOCKDOWN=1; README: \"/dev/kvm\").",
                            KVM_DEVICE_PATH, text ? text : "users besides root can open it");
        else
                log_info("%s: %s: users reach KVM only through guestd", KVM_DEVICE_PATH, text ? text : "only root can open it");
}

int main(int argc, char **argv) {
        _cleanup_(daemon_freep) struct manager *m = NULL;
        sigset_t mask;
        int r;

        log_set_program("guestd");
        (void) journal_setup();
        /* Records, sockets and temporary files are root's alone. */
        umask(0077);
        r = manager_new(&m);
        if (r < 0)
                return EXIT_FAILURE;
        r = parse_args(argc, argv, m);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (geteuid() != 0)
                log_warning("Not running as root: creating VMs and switching to launcher uids will fail");

        /* Every guest costs guestd about ten fds (its console, control
         * socket, pidfd, log pipe, seccomp listener, VM statistics) and every
         * console client one; the soft limit (1024 by default) would cap a
         * host at about a hundred guests. The hard limit is the admin's. */
        {
                struct rlimit nofile;
                if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                        rlim_t was = nofile.rlim_cur;
                        nofile.rlim_cur = nofile.rlim_max;
                        if (setrlimit(RLIMIT_NOFILE, &nofile) == 0)
                                log_debug("Open files: soft limit raised from %llu to %llu", (unsigned long long) was,
                                          (unsigned long long) nofile.rlim_cur);
                }
        }
        /* A console client or launcher that goes away must not kill us. */
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* sd-event's child sources (open-as-caller.c) want SIGCHLD blocked:
         * children are reaped through their pidfds, never by a handler. */
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        m->request = verb_request;
        r = daemon_startup(m);
        if (r < 0)
                return EXIT_FAILURE;
        if (sd_event_add_signal(m->event, NULL, SIGTERM, on_exit_signal, m) < 0 ||
            sd_event_add_signal(m->event, NULL, SIGINT, on_exit_signal, m) < 0 ||
            sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m) < 0) {
                log_error("Cannot watch signals");
                return EXIT_FAILURE;
        }
        report_kvm_access();
        log_info("Ready on the %s bus as %s; %zu guest(s); launcher %s, uids %u-%u", m->bus_address ? "given" : "system",
                 GUESTD_BUS_NAME, m->n_guests, m->launcher_path, (unsigned) m->launcher_uid_first, (unsigned) m->launcher_uid_last);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving guests");

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
        /* 0: a signal asked us to exit. Anything else is sd-bus's exit on
         * losing the bus: a failure, which systemd's Restart=on-failure
         * answers with a new guestd (the guests keep running). */
        if (r != 0) {
                log_error("Lost the connection to the bus; exiting (guests keep running)");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
