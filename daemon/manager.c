/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manager.c: see manager.h. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <systemd/sd-login.h>

#include "bus-sender.h"
#include "console.h"
#include "log.h"
#include "logind.h"
#include "manager.h"
#include "open-as-caller.h"
#include "signals.h"
#include "quota.h"
#include "snapshots.h"
#include "spawn.h"
#include "supervise.h"

/* ------------------------------------------------------------ callers */

int caller_from_message(sd_bus_message *m, struct caller *ret, sd_bus_error *error) {
        sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        *ret = (struct caller) { .uid = (uid_t) -1 };
        /* The sender's effective uid as the bus knows it; never an argument. */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED, "Cannot tell who is calling (%s).", strerror(-r));
        ret->uid = uid;
        ret->sender = sd_bus_message_get_sender(m);
        return 0;
}

/* Name, primary group and groups from the passwd entry: stable, unlike a
 * look at the caller's process, which may already be gone. A uid with no
 * passwd entry gets its own number as gid and no groups. */
int caller_load_account(struct caller *c, sd_bus_error *error) {
        struct passwd pw, *pwp = NULL;
        char buf[16384];
        int n = 64;

        if (c->have_account)
                return 0;
        if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
                c->user_name = strdup(pw.pw_name);
                c->gid = pw.pw_gid;
                for (;;) {
                        gid_t *g = realloc(c->gids, n * sizeof(gid_t));
                        int k = n;
                        if (!g)
                                return sd_bus_error_set_errno(error, ENOMEM);
                        c->gids = g;
                        if (getgrouplist(pw.pw_name, pw.pw_gid, c->gids, &k) >= 0) {
                                c->n_gids = k;
                                break;
                        }
                        if (k <= n || n > 65536)
                                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot list the groups of %s.", pw.pw_name);
                        n = k;
                }
        } else {
                c->gid = c->uid;
                c->gids = calloc(1, sizeof(gid_t));
                if (!c->gids)
                        return sd_bus_error_set_errno(error, ENOMEM);
                c->gids[0] = c->gid;
                c->n_gids = 1;
        }
        c->group_names = calloc(c->n_gids + 1, sizeof(char *));
        if (!c->group_names)
                return sd_bus_error_set_errno(error, ENOMEM);
        for (size_t i = 0; i < c->n_gids; i++) {
                struct group gr, *grp = NULL;
                if (getgrgid_r(c->gids[i], &gr, buf, sizeof(buf), &grp) == 0 && grp)
                        c->group_names[i] = strdup(gr.gr_name);
        }
        c->have_account = true;
        return 0;
}

void caller_done(struct caller *c) {
        for (size_t i = 0; c->group_names && i < c->n_gids; i++)
                free(c->group_names[i]);
        free(c->group_names);
        free(c->gids);
        free(c->user_name);
        *c = (struct caller) {};
}

/* The one access rule: the owner, root, and a bus name that polkit has
 * just granted org.guestd1.manage (polkit.h: the grant is asked for by a
 * Manager call, which can wait for polkit; lookups cannot). */
bool manager_may_access(const struct caller *c, const struct guest *g) {
        return c->uid == 0 || c->uid == g->owner || (g->manager && polkit_granted(g->manager, c->sender));
}

void manager_resolve_limits(struct manager *m, const struct caller *c, struct policy_limits *ret) {
        struct policy_identity who = {
                .uid = c->uid,
                .user_name = c->user_name,
                .gids = c->gids,
                .group_names = (const char *const *) c->group_names,
                .n_groups = c->n_gids,
        };

        policy_resolve(m->policy, &who, ret);
}

/* ------------------------------------------------------------ guests */

struct guest *manager_find_guest(struct manager *m, uid_t owner, const char *name) {
        for (size_t i = 0; i < m->n_guests; i++)
                if (m->guests[i]->owner == owner && strcmp(m->guests[i]->name, name) == 0)
                        return m->guests[i];
        return NULL;
}

struct guest *manager_find_guest_by_path(struct manager *m, const char *path) {
        for (size_t i = 0; i < m->n_guests; i++)
                if (strcmp(m->guests[i]->object_path, path) == 0)
                        return m->guests[i];
        return NULL;
}

int manager_add_guest(struct manager *m, struct guest *g) {
        struct guest **a;
        int r;

        if (!g->object_path && asprintf(&g->object_path, "%s/%s", GUESTD_GUEST_PREFIX, g->handle) < 0) {
                g->object_path = NULL;
                return -ENOMEM;
        }
        if (!g->console) {
                r = console_new(m->event, g->id, &g->console);
                if (r < 0)
                        return r;
        }
        a = realloc(m->guests, (m->n_guests + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        m->guests = a;
        m->guests[m->n_guests++] = g;
        g->manager = m;
        return 0;
}

void manager_remove_guest(struct manager *m, struct guest *g) {
        for (size_t i = 0; i < m->n_guests; i++)
                if (m->guests[i] == g) {
                        memmove(m->guests + i, m->guests + i + 1, (m->n_guests - i - 1) * sizeof(*m->guests));
                        m->n_guests--;
                        break;
                }
}

int manager_owner_quota(struct manager *m, const struct guest *g, struct caller *owner, struct policy_limits *ret_limits,
                        struct quota_usage *ret_usage, sd_bus_error *error) {
        int r;

        *owner = (struct caller) { .uid = g->owner };
        r = caller_load_account(owner, error);
        if (r < 0)
                return r;
        manager_resolve_limits(m, owner, ret_limits);
        quota_usage_compute(m->guests, m->n_guests, g->owner, ret_usage);
        return 0;
}

void manager_guest_changed(struct manager *m, struct guest *g) {
        /* Persist first: what the bus announces must survive a crash. */
        (void) guest_save(g, m->guests_dir_fd);
        pagetables_guest_changed(m, g);
        if (!m->bus)
                return;
        signals_guest_changed(m, g, (const char *const[]) { "State", "StateReason", "SnapshotSize", NULL });
        logind_guest_settled(m);
}

/* ------------------------------------------------------------ policy */

int manager_reload_policy(struct manager *m, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct policy *p = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        r = policy_load(m->policy_path, &p, &error);
        if (r == -ENOENT) {
                if (!m->policy) {
                        log_info("Policy %s does not exist; using the built-in defaults", m->policy_path);
                        return policy_new_default(&m->policy);
                }
                return log_error_errno(r, "Policy %s does not exist any more; keeping the policy in force", m->policy_path);
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = error ? strdup(error) : strdup(strerror(-r));
                if (error)
                        log_error("Refusing the policy: %s%s", error, m->policy ? " The old policy stays in force." : "");
                else
                        log_error_errno(r, "Cannot read policy %s: %m%s", m->policy_path, m->policy ? "; keeping the old one" : "");
                if (!m->policy) {
                        /* At start there is no old policy: the built-in one
                         * is the safe choice, the daemon still serves. */
                        log_warning("Using the built-in default policy until %s is fixed (SIGHUP re-reads it)", m->policy_path);
                        return policy_new_default(&m->policy);
                }
                return r;
        }
        policy_free(m->policy);
        m->policy = p;
        log_info("Policy %s loaded", m->policy_path);
        pagetables_policy_changed(m);
        return 0;
}

/* ------------------------------------------------------------ life cycle */

int manager_new(struct manager **ret) {
        struct manager *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->guests_dir_fd = m->snapshots_dir_fd = m->inhibit_fd = -EBADF;
        m->launcher_uid_first = GUESTD_LAUNCHER_UID_FIRST;
        m->launcher_uid_last = GUESTD_LAUNCHER_UID_LAST;
        *ret = m;
        return 0;
}

struct manager *manager_free(struct manager *m) {
        if (!m)
                return NULL;
        /* Launchers keep running: only our ends are closed. */
        for (size_t i = 0; i < m->n_guests; i++)
                guest_free(m->guests[i]);
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

int manager_startup(struct manager *m) {
        _cleanup_free_ char *guests_dir = NULL, *snapshots_dir = NULL;
        int r;

        r = check_launcher_uids(m);
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
                (void) supervise_reattach(m, m->guests[i]);
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
