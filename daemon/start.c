/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* start.c: see start.h. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cgroup.h"
#include "console.h"
#include "kvm.h"
#include "launcher-events.h"
#include "log.h"
#include "machined.h"
#include "open-as-caller.h"
#include "pagetables.h"
#include "pending.h"
#include "protocol-body.h"
#include "snapshots.h"
#include "spawn.h"
#include "start.h"

static void start_job_free(struct start_job *job) {
        struct guest *g;

        if (!job)
                return;
        g = job->guest;
        g->start_pid = 0;
        opener_cancel(job->opener);
        machined_request_cancel(job->machined);
        /* A launcher that got no "setup": nothing of the guest ran in it.
         * Killed, and reaped once it has ended, never waited for; its
         * scope, if machined made one, empties and goes with it. */
        if (job->pidfd >= 0)
                spawn_kill_unstarted(g->manager->event, TAKE_FD(job->pidfd));
        if (job->listen_fd >= 0 || job->pid > 0)
                unlink_launcher_socket(g->manager, g);
        safe_close(job->snapshot_fd);
        safe_close(job->kvm_fd);
        safe_close(job->listen_fd);
        safe_close(job->control_fd);
        safe_close(job->console_fd);
        safe_close(job->launcher_console_fd);
        safe_close(job->log_fd);
        for (size_t i = 0; i < job->n_files; i++)
                safe_close(job->file_fds[i]);
        free(job->prev_reason);
        free(job);
}

static void start_job_freep(struct start_job **job) {
        start_job_free(*job);
}

/* A Start's job, owned here from start_request() until its launcher has
 * "setup" or the Start fails; freeing it closes every fd it holds and
 * kills a launcher that got no "setup". */
static int start_job_new(struct guest *g, struct start_job **ret) {
        struct start_job *job = calloc(1, sizeof(*job));

        if (!job)
                return -ENOMEM;
        job->guest = g;
        job->snapshot_fd = job->pidfd = job->kvm_fd = job->listen_fd = -EBADF;
        job->control_fd = job->console_fd = job->launcher_console_fd = job->log_fd = -EBADF;
        job->prev_state = g->state;
        job->prev_reason = g->state_reason ? strdup(g->state_reason) : NULL;
        if (g->state_reason && !job->prev_reason) {
                free(job);
                return -ENOMEM;
        }
        *ret = job;
        return 0;
}

/* Steps 2-5 of a Start, once the files are open (job->file_fds): KVM,
 * sockets, the launcher. What is made is kept in the job, which closes
 * it, and kills the launcher, if the Start fails. */
static int start_spawn(struct manager *m, struct guest *g, sd_bus_error *error) {
        struct start_job *job = g->start;
        const struct guest_config *c = &g->config;
        _cleanup_close_ int launcher_control_fd = -EBADF, launcher_log_fd = -EBADF;
        struct kvm_probe_info probe;
        const char *message = NULL;
        int pair[2], r;

        /* 2. KVM, for exactly the vCPUs the quota was charged for. */
        r = kvm_open(&job->kvm_fd, &message);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_KVM_UNAVAILABLE, "KVM is not available on this host: %s",
                                         message ? message : strerror(-r));
        r = kvm_probe(job->kvm_fd, &probe, &message);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_KVM_UNAVAILABLE, "KVM on this host cannot run guests: %s",
                                         message ? message : strerror(-r));
        if (probe.max_vcpus > 0 && c->vcpus > (unsigned) probe.max_vcpus)
                return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT, "Guest '%s' has %u vCPUs; KVM on this host allows %d.",
                                         g->name, c->vcpus, probe.max_vcpus);
        /* KVM binds a VM to the address space of the process that made it:
         * VM and vCPU ioctls from any other process fail with EIO, so a VM
         * made here could not be run by the launcher. It gets /dev/kvm
         * instead, creates the VM and exactly c->vcpus vCPUs before any
         * guest code runs, and closes /dev/kvm (protocol.h, "setup").
         * The count is checked here against KVM's limit so that the user
         * hears it from Start, not from a crashed launcher. */

        /* 3.-4. Console, control and the listening socket for reconnects. */
        r = launcher_uid_pick(m, &job->launcher_uid);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED,
                                         "All %u launcher uids (%u-%u) are in use (by guests, or by processes no guest accounts for: "
                                         "guestd's log names them); stop a guest first.",
                                         (unsigned) (m->launcher_uid_last - m->launcher_uid_first + 1), (unsigned) m->launcher_uid_first,
                                         (unsigned) m->launcher_uid_last);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make socket pairs: %m");
        job->console_fd = pair[0];
        job->launcher_console_fd = pair[1];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make socket pairs: %m");
        job->control_fd = pair[0];
        launcher_control_fd = pair[1];
        r = launcher_listen_socket(m, g);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot make the launcher's socket in %s: %s.", m->launchers_dir,
                                         strerror(-r));
        job->listen_fd = r;

        /* 5. The launcher. It waits for "setup" before it makes the VM or
         * maps the guest's RAM. */
        if (pipe2(pair, O_CLOEXEC | O_NONBLOCK) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot make a pipe: %m");
        job->log_fd = pair[0];
        launcher_log_fd = pair[1];
        r = spawn_launcher(m, g, job->launcher_uid, launcher_file_size_limit(c, job->file_fds + job->n_files - c->n_disks),
                           launcher_control_fd, launcher_log_fd, &job->pid, &job->pidfd, error);
        if (r < 0)
                return r;
        /* Its uid is taken while it waits (spawn.h, launcher_uid_pick). */
        g->start_pid = job->pid;
        g->launcher_uid = job->launcher_uid;
        return 0;
}

/* Step 6, once the launcher is in its cgroup or scope: "setup" with the
 * fds in the protocol's order; from then on the launcher is the guest's
 * (g->conn), and the job gives up what it held. cgroup: where the
 * launcher runs (taken), NULL if not in one of its own. */
static int start_setup(struct manager *m, struct guest *g, char *cgroup, sd_bus_error *error) {
        _cleanup_free_ char *cgroup_owned = cgroup;
        struct start_job *job = g->start;
        const struct guest_config *c = &g->config;
        char fallback[GUEST_MAX_DISKS][GUEST_DISK_ID_MAX + 1];
        struct protocol_setup_body setup = {
                .guest = g->name,
                .memory_mib = c->memory_mib,
                .vcpus = c->vcpus,
                .cmdline = c->cmdline,
                .initrd = !g->resuming && c->initrd != NULL,
                .resume = g->resuming,
                .acpi = c->acpi,
                .cmdline_devices = c->cmdline_devices,
                .test_violation = m->test_violation,
                .n_disks = c->n_disks,
        };
        struct json_object *body;
        int fds[PROTOCOL_MAX_FDS];
        size_t n_fds = 0;
        int r;

        /* A disk without an ID of its own goes by its file's name, cut to
         * virtio-blk's ID length. */
        for (size_t i = 0; i < c->n_disks; i++) {
                const char *base = strrchr(c->disks[i].path, '/');
                setup.disks[i] = (struct protocol_setup_disk) { c->disks[i].read_only, c->disks[i].id };
                if (!*c->disks[i].id) {
                        snprintf(fallback[i], sizeof(fallback[i]), "%s", base ? base + 1 : c->disks[i].path);
                        setup.disks[i].id = fallback[i];
                }
        }
        body = protocol_setup_encode(&setup);
        if (!body)
                return sd_bus_error_set_errno(error, ENOMEM);

        fds[n_fds++] = job->kvm_fd;
        for (size_t i = 0; i < job->n_files; i++)
                fds[n_fds++] = job->file_fds[i];
        fds[n_fds++] = job->launcher_console_fd;
        fds[n_fds++] = job->listen_fd;
        r = protocol_send(job->control_fd, PROTOCOL_SETUP, body, fds, n_fds);
        json_object_put(body);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot hand the machine to the launcher: %s.", strerror(-r));

        /* The launcher has its copies now (the job closes ours). guestd
         * keeps the console, the control socket, the log and the pidfd;
         * the socket file stays, for a restarted guestd. */
        job->listen_fd = safe_close(job->listen_fd);
        r = console_attach_guest(g->console, TAKE_FD(job->console_fd));
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot follow the console: %m", g->id);
        r = launcher_log_attach(&g->conn.launcher_log, m->event, TAKE_FD(job->log_fd));
        if (r < 0)
                log_warning_errno(r, "Guest %s: cannot follow the launcher's log: %m", g->id);
        g->conn.pidfd = TAKE_FD(job->pidfd);
        g->conn.control_fd = TAKE_FD(job->control_fd);
        free(g->conn.cgroup);
        g->conn.cgroup = TAKE_PTR(cgroup_owned);
        g->launcher_pid = job->pid;
        g->launcher_uid = job->launcher_uid;
        job->pid = 0;
        r = launcher_events_watch(g);
        if (r < 0) {
                /* Cannot follow it: it must not run unsupervised. */
                log_error_errno(r, "Guest %s: cannot watch the launcher: %m", g->id);
                launcher_conn_kill(&g->conn);
        }

        /* Its record now names the launcher, for a restarted daemon. */
        guest_changed(g);
        return 0;
}

/* A Start that does not get as far as a running launcher leaves the
 * guest as it was: its state and reason come back, the call gets the
 * error, a launcher that got no "setup" is killed. */
void start_failed(struct guest *g, const char *error_name, const char *message) {
        struct start_job *job = g->start;
        bool resume = g->resuming;

        g->start = NULL;
        g->resuming = false;
        (void) guest_transition(g, job->prev_state, job->prev_reason ? job->prev_reason : "");
        pending_answer(g, resume ? GUEST_VERB_RESUME : GUEST_VERB_START, error_name, message);
        start_job_free(job);
}

/* systemd-machined's answer (machined.h): the launcher is in its
 * machine's scope (r 1), machined is not on the bus (0: guestd's own
 * cgroup, as before), or the Start fails (<0). Then "setup". */
static void on_registered(struct guest *g, int r, const sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error launch_error = SD_BUS_ERROR_NULL;
        struct manager *m = g->manager;
        struct start_job *job = g->start;
        bool in_scope = r > 0;
        char *cgroup = NULL;
        int found;

        job->machined = NULL;
        if (r < 0) {
                start_failed(g, error && error->name ? error->name : GUESTD_ERROR_FAILED,
                             error && error->message ? error->message : "systemd-machined could not make the guest a machine.");
                return;
        }
        if (!in_scope && m->systemd_service) {
                /* guestd's own cgroups would keep systemd from starting
                 * guestd again while this guest runs (cgroup.h). */
                log_error("Guest %s: systemd-machined is not on the bus; guestd runs as a systemd service, where each launcher needs a "
                          "scope of its own from machined (install systemd-container)", g->id);
                start_failed(g, GUESTD_ERROR_FAILED,
                             "systemd-machined is not on the system bus: where guestd runs as a systemd service, each guest needs a scope "
                             "of its own from machined (the host's admin installs systemd-container). The guest was not started.");
                return;
        }
        if (!in_scope && pagetables_own_cgroups(m)) {
                /* Its own cgroup before it makes the VM (it waits for
                 * "setup"), so that every page table KVM builds for it is
                 * counted there. */
                int k = cgroups_guest_attach(m->cgroups, g->handle, job->pid, launcher_memory_max(&g->config),
                                             launcher_tasks_max(&g->config));
                if (k < 0)
                        log_warning_errno(k, "Guest %s: cannot move the launcher into its cgroup: %m", g->id);
        }
        found = launcher_cgroup_find(job->pid, &cgroup);
        if (found < 0)
                log_warning_errno(found, "Guest %s: cannot tell launcher %d's cgroup: %m", g->id, (int) job->pid);
        if (in_scope && found <= 0) {
                /* machined said yes, yet the launcher is not in a scope of
                 * its own: nothing would bound it there. */
                _cleanup_free_ char *message = NULL;
                log_error("Guest %s: systemd-machined made launcher %d a machine, but it is not in a scope of its own", g->id, (int) job->pid);
                if (asprintf(&message, "Guest '%s' was made a machine, but its launcher is not in the machine's scope; it was not started.",
                             g->name) < 0)
                        message = NULL;
                start_failed(g, GUESTD_ERROR_FAILED, message ? message : "The launcher is not in its machine's scope.");
                return;
        }
        if (cgroup)
                log_debug("Guest %s: launcher %d runs in cgroup %s", g->id, (int) job->pid, cgroup);
        r = start_setup(m, g, cgroup, &launch_error);
        if (r < 0) {
                start_failed(g, launch_error.name ? launch_error.name : GUESTD_ERROR_FAILED,
                             launch_error.message ? launch_error.message : "The launcher could not be started.");
                return;
        }
        /* From here on the launcher's messages and its end answer it. */
        g->start = NULL;
        start_job_free(job);
}

static void on_files_opened(int r, const sd_bus_error *error, int *fds, size_t n, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error launch_error = SD_BUS_ERROR_NULL;
        struct guest *g = userdata;
        struct manager *m = g->manager;
        struct start_job *job = g->start;

        job->opener = NULL;
        if (r < 0) {
                start_failed(g, error && error->name ? error->name : GUESTD_ERROR_FAILED,
                             error && error->message ? error->message : "Opening the guest's files failed.");
                return;
        }
        if (job->snapshot_fd >= 0)
                job->file_fds[job->n_files++] = TAKE_FD(job->snapshot_fd);
        for (size_t i = 0; i < n; i++) {
                if (job->n_files < ELEMENTSOF(job->file_fds))
                        job->file_fds[job->n_files++] = fds[i];
                else
                        safe_close(fds[i]);
        }
        r = start_spawn(m, g, &launch_error);
        if (r < 0) {
                start_failed(g, launch_error.name ? launch_error.name : GUESTD_ERROR_FAILED,
                             launch_error.message ? launch_error.message : "The launcher could not be started.");
                return;
        }
        /* Its scope from systemd-machined, where machined runs, or guestd's
         * own cgroup; either way before "setup", answered in the loop. */
        r = machined_register(m, g, job->pid, launcher_memory_max(&g->config), launcher_tasks_max(&g->config), on_registered,
                              &job->machined);
        if (r < 0) {
                _cleanup_free_ char *message = NULL;
                log_error_errno(r, "Guest %s: cannot ask systemd-machined for a machine: %m", g->id);
                if (asprintf(&message, "Cannot ask systemd-machined to make guest '%s' a machine: %s.", g->name, strerror(-r)) < 0)
                        message = NULL;
                start_failed(g, GUESTD_ERROR_FAILED, message ? message : "Cannot ask systemd-machined.");
        }
}

int start_request(struct manager *m, struct guest *g, const struct caller *caller, bool resume, sd_bus_message *call,
                    sd_bus_error *error) {
        const struct guest_config *c = &g->config;
        struct file_request req[2 + GUEST_MAX_DISKS];
        _cleanup_(start_job_freep) struct start_job *job = NULL;
        size_t n_req;
        int r;

        r = opener_pool_room(m->event, &m->openers, caller->uid, "starts", error);
        if (r < 0)
                return r;
        r = start_job_new(g, &job);
        if (r < 0)
                return sd_bus_error_set_errno(error, -r);

        /* 1. The guest's files, with the rights of whoever named them
         * (files_uid: the caller passed here), in a child
         * (open-as-caller.h), answered in the event loop; for a resume the
         * disks only, and the snapshot (guestd's own file, checked before
         * any launcher sees it) in the kernel's place. */
        if (resume) {
                _cleanup_free_ char *why = NULL;
                r = snapshots_open(m->snapshots_dir_fd, g, &job->snapshot_fd, &why);
                if (r < 0)
                        return sd_bus_error_setf(error, GUESTD_ERROR_BAD_SNAPSHOT,
                                                 "Guest '%s' cannot be resumed: %s. It stays suspended and its snapshot is kept.", g->name,
                                                 why ? why : strerror(-r));
        }
        n_req = opener_guest_requests(c, !resume, req);
        r = opener_start(m->openers, caller, req, n_req, (uint64_t) m->policy->timeout_open_files_s * 1000000ULL, on_files_opened, g,
                         &job->opener, error);
        if (r < 0)
                return r;

        /* The state change that charges the quota, in the same callback as
         * the check: no other request can come in between. */
        g->start = TAKE_PTR(job);
        g->resuming = resume;
        (void) guest_transition(g, GUEST_STARTING, "");
        pending_add(g, call, resume ? GUEST_VERB_RESUME : GUEST_VERB_START);
        return 0;
}

void start_cancel(struct guest *g, sd_bus_message *call) {
        _cleanup_free_ char *message = NULL;

        /* Its files are still being opened, or its launcher waits for its
         * scope: nothing of the guest runs yet. */
        if (asprintf(&message, "Guest '%s' was stopped before it started (%s).", g->name,
                     g->start->opener ? "its files were still being opened" : "systemd-machined was still making its scope") < 0)
                message = NULL;
        start_failed(g, GUESTD_ERROR_FAILED, message ? message : "The guest was stopped before it started.");
        if (call)
                (void) sd_bus_reply_method_return(call, "s", "stopped before it started");
}

void start_abandon(struct guest *g) {
        start_job_free(g->start);
        g->start = NULL;
}
