/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pagetables.c: see pagetables.h. */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "budget.h"
#include "cgroup.h"
#include "guest.h"
#include "kvm-mmu.h"
#include "kvm-stats.h"
#include "log.h"
#include "manager.h"
#include "pagetables.h"
#include "protocol-body.h"
#include "pressure.h"
#include "protocol.h"
#include "quota.h"


const char *pagetables_pressure_to_string(enum pagetables_pressure p) {
        static const char *const table[_PAGETABLES_PRESSURE_MAX] = {
                [PAGETABLES_UNWATCHED] = "unwatched",
                [PAGETABLES_CALM] = "calm",
                [PAGETABLES_PRESSURE] = "pressure",
                [PAGETABLES_RECOVERING] = "recovering",
        };
        return (unsigned) p < _PAGETABLES_PRESSURE_MAX ? table[p] : NULL;
}

static bool in_budget_state(enum guest_state s) {
        return guest_state_is_active(s);
}

/* The launcher takes "mmu_pages" while the guest runs or is paused. */
static bool can_apply(const struct guest *g) {
        return (g->state == GUEST_RUNNING || g->state == GUEST_PAUSED) && g->conn.control_fd >= 0;
}

uint64_t pagetables_host_in_use(void) {
        uint64_t bytes;
        return meminfo_sec_page_tables("/proc/meminfo", &bytes) < 0 ? PAGETABLES_UNKNOWN : bytes;
}

uint64_t pagetables_guest_in_use(struct manager *m, const struct guest *g) {
        uint64_t bytes;
        if (!g->launcher_pid || cgroup_page_tables(CGROUP_ROOT, g->conn.cgroup, &bytes) < 0)
                return PAGETABLES_UNKNOWN;
        return bytes;
}

uint64_t pagetables_budget_bytes(const struct manager *m) {
        const struct pagetables_state *pt = &m->pt;

        if (pt->override_mib)
                return pt->override_mib * MiB;
        if (pt->override_percent)
                return pt->host_ram_bytes / 100 * pt->override_percent;
        return policy_page_table_budget_bytes(m->policy, pt->host_ram_bytes);
}

static void budget_describe(const struct manager *m, char *buf, size_t size) {
        const struct pagetables_state *pt = &m->pt;
        const char *source = pt->override_mib || pt->override_percent ? "set at run time" : "policy";
        unsigned percent = pt->override_mib ? 0 : pt->override_percent ? pt->override_percent
                           : m->policy->page_table_budget_mib ? 0 : m->policy->page_table_budget_percent;

        if (percent)
                snprintf(buf, size, "%.1f MiB (%u %% of %.0f MiB of RAM, %s)", (double) pagetables_budget_bytes(m) / MiB, percent,
                         (double) pt->host_ram_bytes / MiB, source);
        else
                snprintf(buf, size, "%.1f MiB (%s)", (double) pagetables_budget_bytes(m) / MiB, source);
}

/* The window timer runs while a guest is in the budget or pressure is
 * being handled. */
static void tick_start(struct manager *m) {
        uint64_t now;

        if (!m->pt.tick || sd_event_now(m->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        int enabled = SD_EVENT_OFF;
        (void) sd_event_source_get_enabled(m->pt.tick, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        (void) sd_event_source_set_time(m->pt.tick, now + PAGETABLES_TICK_USEC);
        (void) sd_event_source_set_enabled(m->pt.tick, SD_EVENT_ONESHOT);
}

/* ------------------------------------------------------------ applying caps */

/* Sends g its cap if it differs from what the launcher last set; one
 * request at a time (the answer sends the next). */
static void apply(struct manager *m, struct guest *g) {
        struct json_object *body;
        int r;

        if (!g->pt.in_budget || !can_apply(g) || g->pt.sent || g->pt.cap == g->pt.cap_applied)
                return;
        if (g->pt.listener_fd < 0) {
                /* Without guestd's listener the launcher's ioctl would fail
                 * (ENOSYS): its filter has no supervisor. A guestd restarted
                 * has lost it; the cap set before stays in force. */
                if (!g->pt.no_listener_logged)
                        log_info("Guest %s: cannot change its page-table cap (%" PRIu64 " pages in force) until it is started again: "
                                 "the launcher's supervisor went with the previous guestd",
                                 g->id, g->pt.cap_applied);
                g->pt.no_listener_logged = true;
                return;
        }
        body = protocol_mmu_pages_encode(&(struct protocol_mmu_pages_body) { g->pt.cap });
        if (!body)
                return;
        g->pt.bytes_before = pagetables_guest_in_use(m, g);
        g->pt.host_before = g->pt.bytes_before == PAGETABLES_UNKNOWN ? pagetables_host_in_use() : PAGETABLES_UNKNOWN;
        g->pt.cap_sent = g->pt.cap;
        r = protocol_send(g->conn.control_fd, PROTOCOL_MMU_PAGES, body, NULL, 0);
        json_object_put(body);
        if (r < 0) {
                log_warning_errno(r, "Guest %s: cannot send the launcher its page-table cap: %m", g->id);
                return;
        }
        g->pt.sent = true;
}

static void apply_all(struct manager *m) {
        for (size_t i = 0; i < m->n_guests; i++)
                apply(m, m->guests[i]);
}

/* The guests in the budget, as budget.h wants them. Caller frees. */
static size_t collect(struct manager *m, struct guest ***ret_guests, struct budget_guest **ret_bg) {
        struct guest **gs = calloc(m->n_guests ? m->n_guests : 1, sizeof(*gs));
        struct budget_guest *bg = calloc(m->n_guests ? m->n_guests : 1, sizeof(*bg));
        size_t n = 0;

        if (!gs || !bg) {
                free(gs);
                free(bg);
                *ret_guests = NULL;
                *ret_bg = NULL;
                return 0;
        }
        for (size_t i = 0; i < m->n_guests; i++) {
                struct guest *g = m->guests[i];
                if (!g->pt.in_budget)
                        continue;
                gs[n] = g;
                bg[n] = (struct budget_guest) {
                        .weight = g->pt.weight,
                        .ceiling = budget_kvm_default_pages(g->config.memory_mib * MiB),
                        .share = g->pt.share,
                        .cap = g->pt.cap,
                };
                n++;
        }
        *ret_guests = gs;
        *ret_bg = bg;
        return n;
}

static void store(struct guest **gs, const struct budget_guest *bg, size_t n, const char *why) {
        for (size_t i = 0; i < n; i++) {
                if (gs[i]->pt.cap != bg[i].cap)
                        gs[i]->pt.why = why;
                gs[i]->pt.share = bg[i].share;
                gs[i]->pt.cap = bg[i].cap;
        }
}

/* Shares from the budget and weights. While calm a cap is the guest's
 * ceiling (budget.h: the budget is what pressure leaves them); under
 * pressure, and while the caps grow back, a guest that just came gets its
 * share and the others keep theirs. */
static void rebalance(struct manager *m, const char *why) {
        _cleanup_free_ struct guest **gs = NULL;
        _cleanup_free_ struct budget_guest *bg = NULL;
        size_t n = collect(m, &gs, &bg);
        bool holding = m->pt.state == PAGETABLES_PRESSURE || m->pt.state == PAGETABLES_RECOVERING;

        if (!gs)
                return;
        budget_share(pagetables_budget_bytes(m) / BUDGET_PAGE_SIZE, bg, n);
        for (size_t i = 0; i < n; i++)
                if (!holding)
                        bg[i].cap = bg[i].ceiling;
                else if (bg[i].cap == 0)
                        bg[i].cap = bg[i].share;
                else
                        bg[i].cap = MIN(bg[i].cap, bg[i].ceiling);
        store(gs, bg, n, why);
        apply_all(m);
}

/* The owner's page_table_weight. */
static uint64_t owner_weight(struct manager *m, const struct guest *g) {
        _cleanup_(caller_done) struct caller owner = { .uid = g->owner };
        struct policy_limits limits;

        if (caller_load_account(&owner, NULL) < 0)
                return 1;
        manager_resolve_limits(m, &owner, &limits);
        return limits.value[POLICY_PAGE_TABLE_WEIGHT];
}

void pagetables_guest_changed(struct manager *m, struct guest *g) {
        bool in = in_budget_state(g->state);

        if (in != g->pt.in_budget) {
                g->pt.in_budget = in;
                g->pt.cap = g->pt.share = 0;
                if (in)
                        g->pt.weight = owner_weight(m, g);
                rebalance(m, in ? "started" : "a guest ended");
                tick_start(m);
                return;
        }
        apply(m, g); /* now running: it takes the cap */
}

static void on_guest_changed(struct guest *g, enum guest_state from, void *userdata) {
        pagetables_guest_changed(userdata, g);
}

void pagetables_policy_changed(struct manager *m) {
        if (!m->pt.host_ram_bytes)
                return; /* not set up yet */
        /* root's run-time budget lasts until the policy is reloaded: the
         * file is then the admin's word again. */
        if (m->pt.override_mib || m->pt.override_percent) {
                log_info("The page-table budget set at run time gives way to the reloaded policy's");
                m->pt.override_mib = 0;
                m->pt.override_percent = 0;
        }
        for (size_t i = 0; i < m->n_guests; i++)
                if (m->guests[i]->pt.in_budget)
                        m->guests[i]->pt.weight = owner_weight(m, m->guests[i]);
        rebalance(m, "the policy changed");
}

int pagetables_set_budget(struct manager *m, const char *spec, char **ret_error) {
        uint64_t mib = 0;
        unsigned percent = 0;
        char text[160];
        int r;

        if (*spec) {
                r = policy_parse_budget_spec(spec, &mib, &percent);
                if (r < 0)
                        return set_error_message(ret_error,
                                                 "The budget must be MiB (an integer from 1), \"N%%\" of the host's RAM (N from 1 to "
                                                 "100), or \"\" for the policy's; not \"%s\".",
                                                 spec);
        }
        m->pt.override_mib = mib;
        m->pt.override_percent = percent;
        budget_describe(m, text, sizeof(text));
        log_info("Page-table budget: %s", text);
        rebalance(m, "root set the budget");
        return 0;
}

/* ------------------------------------------------------------ pressure */

static void on_pressure(struct pressure *p, void *userdata) {
        struct manager *m = userdata;
        _cleanup_free_ struct guest **gs = NULL;
        _cleanup_free_ struct budget_guest *bg = NULL;
        usec_t now = now_usec();
        uint64_t cut;
        size_t n;

        m->pt.last_pressure = now;
        m->pt.pressure_events++;
        if (m->pt.state == PAGETABLES_PRESSURE && now - m->pt.last_cut < PAGETABLES_TICK_USEC)
                return; /* rate limit: one cut per window */
        if (m->pt.state != PAGETABLES_PRESSURE)
                log_info("Memory pressure%s", m->pt.mmu.cap_effective ? "" : ": nothing to do, page-table caps free nothing on this host");
        m->pt.state = PAGETABLES_PRESSURE;
        tick_start(m);
        if (!m->pt.mmu.cap_effective)
                return;
        m->pt.last_cut = now;
        n = collect(m, &gs, &bg);
        if (!gs || n == 0)
                return;
        cut = budget_cut(bg, n);
        store(gs, bg, n, "memory pressure");
        m->pt.cuts++;
        log_info("Memory pressure: cut the page-table caps of %zu guests by %" PRIu64 " pages (%" PRIu64 " KiB) in all", n, cut,
                 cut * BUDGET_PAGE_SIZE / KiB);
        apply_all(m);
}

/* Every window: statistics, and the way back after pressure. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        usec_t now = now_usec();
        bool any = false;

        for (size_t i = 0; i < m->n_guests; i++) {
                struct guest *g = m->guests[i];
                uint64_t recycled;

                any = any || g->pt.in_budget;
                if (!g->pt.stats_ok || kvm_stats_get(&g->pt.stats, "mmu_recycled", &recycled) < 0)
                        continue;
                if (g->pt.sampled && now > g->pt.sampled && recycled >= g->pt.recycled_prev)
                        g->pt.recycled_rate = (double) (recycled - g->pt.recycled_prev) * 1e6 / (double) (now - g->pt.sampled);
                g->pt.recycled_prev = recycled;
                g->pt.sampled = now;
        }

        if (m->pt.state == PAGETABLES_PRESSURE && now - m->pt.last_pressure >= (m->pt.calm_usec ?: PAGETABLES_CALM_USEC)) {
                m->pt.state = PAGETABLES_RECOVERING;
                log_info("Memory pressure is over: %s", m->pt.mmu.cap_effective ? "growing the page-table caps back" : "calm");
                if (!m->pt.mmu.cap_effective)
                        m->pt.state = PAGETABLES_CALM;
        }
        if (m->pt.state == PAGETABLES_RECOVERING) {
                _cleanup_free_ struct guest **gs = NULL;
                _cleanup_free_ struct budget_guest *bg = NULL;
                size_t n = collect(m, &gs, &bg);
                bool all_back = true;

                if (gs) {
                        (void) budget_grow(bg, n);
                        store(gs, bg, n, "calm: growing back");
                        apply_all(m);
                }
                for (size_t i = 0; gs && i < n; i++)
                        all_back = all_back && bg[i].cap >= bg[i].ceiling;
                /* Calm as soon as the last step reached the ceilings: the
                 * state says what the caps are. */
                if (all_back) {
                        m->pt.state = PAGETABLES_CALM;
                        log_info("Page-table caps are back at their ceilings (KVM's default for each guest)");
                }
        }
        if (any || m->pt.state == PAGETABLES_PRESSURE || m->pt.state == PAGETABLES_RECOVERING) {
                (void) sd_event_source_set_time(s, usec + PAGETABLES_TICK_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        } /* else idle: nothing to sample until a guest starts */
        return 0;
}

/* ------------------------------------------------------------ the launcher's side */

static void listener_close(struct guest *g) {
        g->pt.listener_source = sd_event_source_disable_unref(g->pt.listener_source);
        g->pt.listener_fd = safe_close(g->pt.listener_fd);
}

/* The launcher asks KVM_SET_NR_MMU_PAGES: through up to the cap guestd
 * assigned, EPERM above it. Nothing else reaches this listener (the
 * filter sends only that ioctl), but it is checked anyway. */
static int on_listener(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct guest *g = userdata;
        struct seccomp_notif *req = NULL;
        struct seccomp_notif_resp *resp = NULL;

        if (revents & (EPOLLHUP | EPOLLERR)) {
                /* The launcher is gone: its filter with it. */
                listener_close(g);
                return 0;
        }
        if (seccomp_notify_alloc(&req, &resp) < 0)
                return 0;
        if (seccomp_notify_receive(fd, req) < 0) {
                /* The caller died meanwhile (ENOENT), or a signal. */
                seccomp_notify_free(req, resp);
                return 0;
        }
        resp->id = req->id;
        if (req->data.nr == SCMP_SYS(ioctl) && req->data.args[1] == KVM_SET_NR_MMU_PAGES && req->data.args[2] <= g->pt.cap &&
            req->data.args[2] >= BUDGET_FLOOR_PAGES) {
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                resp->error = 0;
        } else {
                if (g->pt.sent && req->data.args[2] == g->pt.cap_sent)
                        log_info("Guest %s: the cap of %" PRIu64 " pages sent to the launcher was lowered to %" PRIu64 " meanwhile",
                                 g->id, g->pt.cap_sent, g->pt.cap);
                else
                        log_warning("Guest %s: refused the launcher's KVM_SET_NR_MMU_PAGES %" PRIu64 ": its cap is %" PRIu64 " pages",
                                    g->id, (uint64_t) req->data.args[2], g->pt.cap);
                resp->error = -EPERM;
        }
        if (seccomp_notify_respond(fd, resp) < 0)
                log_debug("Guest %s: the launcher's request went before the verdict", g->id);
        seccomp_notify_free(req, resp);
        return 0;
}

int pagetables_on_supervise(struct guest *g, struct protocol_message *msg) {
        int r;

        if (g->pt.listener_fd >= 0 || !fd_is_anon_inode(msg->fds[0], "seccomp notify") || !kvm_stats_fd_is_vm(msg->fds[1]))
                return -EBADMSG;
        g->pt.listener_fd = TAKE_FD(msg->fds[0]);
        g->pt.stats_fd = TAKE_FD(msg->fds[1]);
        r = sd_event_add_io(g->manager->event, &g->pt.listener_source, g->pt.listener_fd, EPOLLIN, on_listener, g);
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot follow the page-table listener: %m", g->id);
        r = kvm_stats_open(g->pt.stats_fd, &g->pt.stats);
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot read its VM's statistics: %m", g->id);
        g->pt.stats_ok = r >= 0;
        apply(g->manager, g);
        return 0;
}

static void log_change(struct manager *m, struct guest *g, uint64_t from, uint64_t to) {
        uint64_t after = pagetables_guest_in_use(m, g);
        const char *why = g->pt.why ? g->pt.why : "started";

        if (g->pt.bytes_before != PAGETABLES_UNKNOWN && after != PAGETABLES_UNKNOWN) {
                int64_t freed = (int64_t) g->pt.bytes_before - (int64_t) after;
                log_info("Guest %s: page-table cap %" PRIu64 " -> %" PRIu64 " pages (%s); its page tables %" PRIu64 " -> %" PRIu64
                         " KiB, %s %" PRIu64 " KiB",
                         g->id, from, to, why, g->pt.bytes_before / KiB, after / KiB, freed >= 0 ? "freed" : "grew by",
                         (uint64_t) (freed >= 0 ? freed : -freed) / KiB);
                return;
        }
        after = pagetables_host_in_use();
        if (g->pt.host_before != PAGETABLES_UNKNOWN && after != PAGETABLES_UNKNOWN)
                log_info("Guest %s: page-table cap %" PRIu64 " -> %" PRIu64 " pages (%s); the host's KVM page tables (SecPageTables; "
                         "no cgroup for the guest's own) %" PRIu64 " -> %" PRIu64 " KiB",
                         g->id, from, to, why, g->pt.host_before / KiB, after / KiB);
        else
                log_info("Guest %s: page-table cap %" PRIu64 " -> %" PRIu64 " pages (%s); what it freed is not measured here", g->id,
                         from, to, why);
}

int pagetables_on_cap_set(struct guest *g, struct protocol_message *msg) {
        struct manager *m = g->manager;
        struct protocol_mmu_pages_set_body b;
        uint64_t pages;
        int error;

        if (protocol_mmu_pages_set_decode(msg->body, &b) < 0)
                return -EBADMSG;
        pages = b.pages;
        error = b.error;
        if (!g->pt.sent || pages != g->pt.cap_sent)
                return -EBADMSG; /* an answer to nothing we asked */
        g->pt.sent = false;
        if (error == 0) {
                uint64_t from = g->pt.cap_applied;
                g->pt.cap_applied = pages;
                log_change(m, g, from, pages);
        } else if (error != EPERM || g->pt.cap >= pages)
                /* EPERM with a lower cap now: lowered meanwhile, sent next. */
                log_warning("Guest %s: the launcher could not set the page-table cap to %" PRIu64 ": %s", g->id, pages,
                            strerror((int) error));
        if (error == 0 || (error == EPERM && g->pt.cap < pages))
                apply(m, g);
        return 0;
}

void pagetables_guest_detach(struct guest *g) {
        listener_close(g);
        if (g->pt.stats_ok)
                kvm_stats_close(&g->pt.stats);
        g->pt.stats_ok = false;
        g->pt.stats_fd = safe_close(g->pt.stats_fd);
        g->pt.cap_applied = g->pt.cap_sent = 0;
        g->pt.sent = g->pt.no_listener_logged = false;
        g->pt.recycled_prev = g->pt.sampled = 0;
        g->pt.recycled_rate = 0;
        /* guestd's own cgroup for it, where it had one, goes; never the
         * scope of a machine (g->conn.cgroup then), which is systemd's
         * and removed by systemd once empty. */
        (void) cgroups_guest_remove(g->manager->cgroups, g->handle);
        g->conn.cgroup = (free(g->conn.cgroup), NULL);
}

/* ------------------------------------------------------------ setup */

struct cgroups *pagetables_own_cgroups(struct manager *m) {
        _cleanup_free_ char *why = NULL;

        if (m->cgroups_tried)
                return m->cgroups;
        m->cgroups_tried = true;
        cgroups_setup(CGROUP_ROOT, &m->cgroups, &why);
        if (m->cgroups)
                log_info("guestd's own cgroups for launchers are under %s, bounding memory%s", cgroups_base(m->cgroups),
                         cgroups_have_pids(m->cgroups) ? " and tasks" : " (not tasks: no pids controller; RLIMIT_NPROC does)");
        else
                log_info("guestd has no cgroups of its own for launchers (%s): their page tables are not measured, and their rlimits "
                         "alone bound them", why);
        return m->cgroups;
}

int pagetables_setup(struct manager *m) {
        struct pagetables_state *pt = &m->pt;
        _cleanup_free_ char *what = NULL;
        char text[160];
        long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
        int r;

        r = guest_listeners_add(&m->listeners, on_guest_changed, m);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the guests' changes: %m");
        m->on_policy_changed = pagetables_policy_changed;
        pt->host_ram_bytes = pages > 0 && page_size > 0 ? (uint64_t) pages * (uint64_t) page_size : 0;
        /* What the bus and guestctl say of KVM's MMU is what this finds:
         * "none" without /dev/kvm or a KVM module, "unknown" where a
         * parameter cannot be read; pt->mmu.why says which, below. */
        (void) kvm_mmu_probe(NULL, &pt->mmu);
        budget_describe(m, text, sizeof(text));
        log_info("Page-table budget: %s; the caps %s: %s", text, pt->mmu.cap_effective ? "take effect" : "have no effect",
                 pt->mmu.why);

        /* guestd's own cgroups are made at the first Start that needs
         * them (cgroup.h), or now where a predecessor made them: the
         * launchers found again may be in them. */
        if (cgroups_layout_exists(CGROUP_ROOT))
                (void) pagetables_own_cgroups(m);

        r = sd_event_add_time_relative(m->event, &pt->tick, CLOCK_MONOTONIC, PAGETABLES_TICK_USEC, 0, on_tick, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the page-table timer: %m");
        (void) sd_event_source_set_enabled(pt->tick, SD_EVENT_OFF);

        r = pressure_new(m->event, NULL, on_pressure, m, &pt->pressure, &what);
        if (r == -ENODATA)
                log_info("Memory pressure is not watched ($MEMORY_PRESSURE_WATCH=/dev/null)");
        else if (r < 0)
                log_warning_errno(r, "Cannot watch memory pressure (%s): %m; page-table caps will only follow the shares", what ? what : "?");
        else {
                pt->state = PAGETABLES_CALM;
                log_info("Watching memory pressure: %s", what);
        }
        return 0;
}

void pagetables_done(struct manager *m) {
        m->pt.tick = sd_event_source_disable_unref(m->pt.tick);
        m->pt.pressure = pressure_free(m->pt.pressure);
        m->cgroups = cgroups_free(m->cgroups);
}
