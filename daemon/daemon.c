/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.c: see daemon.h. */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <systemd/sd-login.h>

#include "bus-sender.h"
#include "bus.h"
#include "daemon.h"
#include "log.h"
#include "logind.h"
#include "machined.h"
#include "open-as-caller.h"
#include "pagetables.h"
#include "polkit.h"
#include "reattach.h"
#include "signals.h"
#include "snapshots.h"
#include "spawn.h"
#include "start.h"
#include "verbs.h"

/* The first listener of every guest's changes: the record is saved
 * before anyone hears of them. */
static void on_guest_changed(struct guest *g, enum guest_state from, void *userdata) {
        struct manager *m = userdata;

        (void) guest_save(g, m->guests_dir_fd);
}

struct manager *daemon_free(struct manager *m) {
        if (!m)
                return NULL;
        /* Launchers keep running: only our ends are closed. */
        for (size_t i = 0; i < m->n_guests; i++) {
                start_abandon(m->guests[i]);
                guest_free(m->guests[i]);
        }
        free(m->guests);
        opener_pool_free(m->openers);
        signals_done(m);
        polkit_done(m);
        machined_done(m);
        pagetables_done(m);
        policy_free(m->policy);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        safe_close(m->guests_dir_fd);
        safe_close(m->snapshots_dir_fd);
        safe_close(m->inhibit_fd);
        sd_bus_slot_unref(m->inhibit_slot);
        bus_owner_free(m->logind);
        free(m->bus_address);
        free(m->state_dir);
        free(m->runtime_dir);
        free(m->launchers_dir);
        free(m->sandbox_dir);
        free(m->test_violation);
        free(m->policy_path);
        free(m->launcher_path);
        free(m);
        return NULL;
}

static int mkdir_mode(const char *path, mode_t mode) {
        struct stat st;

        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot create %s: %m", path);
        if (stat(path, &st) < 0)
                return log_error_errno(-errno, "Cannot stat %s: %m", path);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(-ENOTDIR, "%s is not a directory", path);
        if (st.st_uid != geteuid())
                return log_error_errno(-EPERM, "%s is not owned by us (uid %u), refusing it", path, (unsigned) st.st_uid);
        if ((st.st_mode & 07777) != mode && chmod(path, mode) < 0)
                return log_error_errno(-errno, "Cannot chmod %s: %m", path);
        return 0;
}

static int load_guests(struct manager *m) {
        DIR *d;
        struct dirent *de;
        int fd;

        fd = fcntl(m->guests_dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                struct guest *g = NULL;
                size_t n = strlen(de->d_name);

                if (de->d_name[0] == '.') {
                        /* Leftover temporary file of an interrupted write:
                         * the record it was replacing is intact. */
                        if (n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0)
                                (void) unlinkat(m->guests_dir_fd, de->d_name, 0);
                        continue;
                }
                if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
                        continue;
                if (guest_load(m->guests_dir_fd, de->d_name, &g) < 0)
                        continue;
                (void) guest_save(g, m->guests_dir_fd); /* a handle made now is kept */
                if (manager_add_guest(m, g) < 0) {
                        guest_free(g);
                        closedir(d);
                        return -ENOMEM;
                }
        }
        closedir(d);
        log_info("Loaded %zu guest record(s)", m->n_guests);
        return 0;
}

/* A launcher uid that is also an account's would let the launcher and
 * that account's processes signal and ptrace each other: refuse to start. */
/* No account may own a launcher uid. One pass over the accounts NSS can
 * enumerate (getpwent: /etc/passwd, systemd's dynamic users, ...), and a
 * lookup of the range's two ends for sources that do not enumerate (sssd
 * by default): not a lookup per uid. Through nss-systemd each lookup is a
 * varlink call to PID 1 and to machined, and a thousand of them kept a
 * restarted guestd.service from starting within a minute (the nested VM
 * booted with systemd, machined running). */
static int check_launcher_uids(struct manager *m) {
        uint64_t ends[2] = { m->launcher_uid_first, m->launcher_uid_last };
        struct passwd *pw;
        int r = 0;

        setpwent();
        while ((pw = getpwent()))
                if (pw->pw_uid >= m->launcher_uid_first && pw->pw_uid <= m->launcher_uid_last) {
                        r = log_error_errno(-EEXIST,
                                            "Launcher uid %u belongs to the account '%s'; give guestd a range of unused uids "
                                            "(--launcher-uids=FIRST-LAST)",
                                            (unsigned) pw->pw_uid, pw->pw_name);
                        break;
                }
        endpwent();
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(ends); i++) {
                pw = getpwuid((uid_t) ends[i]);
                if (pw)
                        return log_error_errno(-EEXIST,
                                               "Launcher uid %" PRIu64 " belongs to the account '%s'; give guestd a range of unused uids "
                                               "(--launcher-uids=FIRST-LAST)",
                                               ends[i], pw->pw_name);
        }
        return 0;
}

/* Started by systemd ($INVOCATION_ID) and in a service unit's cgroup:
 * guestd.service, or an admin's own unit. */
static bool running_as_systemd_service(void) {
        _cleanup_free_ char *unit = NULL;
        size_t n;

        if (!getenv("INVOCATION_ID") || sd_pid_get_unit(0, &unit) < 0)
                return false;
        n = strlen(unit);
        return n > 8 && strcmp(unit + n - 8, ".service") == 0;
}

int daemon_startup(struct manager *m) {
        _cleanup_free_ char *guests_dir = NULL, *snapshots_dir = NULL;
        int r;

        r = check_launcher_uids(m);
        if (r < 0)
                return r;
        /* The listeners to every guest's changes: the record's save here,
         * then each part as it is set up (pagetables, bus, logind). */
        r = guest_listeners_add(&m->listeners, on_guest_changed, m);
        if (r < 0)
                return r;
        /* A restarted guestd should not hand out the uids its predecessor
         * has just used, in the same order (see pick_launcher_uid()). */
        if (getrandom(&m->launcher_uid_cursor, sizeof(m->launcher_uid_cursor), GRND_NONBLOCK) != sizeof(m->launcher_uid_cursor))
                m->launcher_uid_cursor = (uint64_t) getpid();
        m->systemd_service = running_as_systemd_service();

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot make the event loop: %m");

        if (asprintf(&guests_dir, "%s/guests", m->state_dir) < 0 || asprintf(&snapshots_dir, "%s/snapshots", m->state_dir) < 0 || asprintf(&m->launchers_dir, "%s/launchers", m->runtime_dir) < 0 ||
            asprintf(&m->sandbox_dir, "%s/sandbox", m->runtime_dir) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");
        r = mkdir_mode(m->state_dir, 0700);
        if (r >= 0)
                r = mkdir_mode(guests_dir, 0700);
        if (r >= 0)
                r = mkdir_mode(snapshots_dir, 0700);
        if (r >= 0)
                r = mkdir_mode(m->runtime_dir, 0755);
        if (r >= 0)
                r = mkdir_mode(m->launchers_dir, 0700);
        if (r >= 0)
                r = mkdir_mode(m->sandbox_dir, 0700);
        if (r < 0)
                return r;
        m->guests_dir_fd = open(guests_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->guests_dir_fd < 0)
                return log_error_errno(-errno, "Cannot open %s: %m", guests_dir);
        m->snapshots_dir_fd = open(snapshots_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (m->snapshots_dir_fd < 0)
                return log_error_errno(-errno, "Cannot open %s: %m", snapshots_dir);

        r = manager_reload_policy(m, NULL);
        if (r < 0 && !m->policy)
                return r;
        r = pagetables_setup(m);
        if (r < 0)
                return r;
        r = load_guests(m);
        if (r < 0)
                return log_error_errno(r, "Cannot load guest records: %m");

        /* Launchers first, bus second: by the time anyone can ask, every
         * guest's state is what its launcher says. */
        for (size_t i = 0; i < m->n_guests; i++)
                (void) reattach_guest(m, m->guests[i]);
        /* A launcher whose record did not load runs on unaccounted: say
         * so, loudly, once; its uid is never handed out meanwhile. */
        (void) launcher_uids_report_unaccounted(m);
        for (size_t i = 0; i < m->n_guests; i++)
                pagetables_guest_changed(m, m->guests[i]);
        /* Now that each guest's state is settled: snapshot files no guest
         * needs (a suspend or a resume that ended while guestd was down). */
        snapshots_clean(m->snapshots_dir_fd, m->guests, m->n_guests);

        r = bus_setup(m);
        if (r < 0)
                return r;
        r = polkit_setup(m);
        if (r < 0)
                return r;
        r = machined_setup(m);
        if (r < 0)
                return r;
        return logind_setup(m);
}
