/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-machined: the part of systemd-machined (and of systemd behind it)
 * guestd uses, on a test bus (tests/test-daemon-machined.sh):
 * org.freedesktop.machine1.Manager's CreateMachine(). No machine here runs
 * systemd as PID 1, so the tests stand in for both with this.
 *
 *   fake-machined ADDRESS SLICE
 *
 * Owns org.freedesktop.machine1. SLICE is a cgroup v2 directory standing
 * in for machine.slice (made if missing, with the memory and pids
 * controllers handed down to it and by it, as systemd does). For each
 * CreateMachine(name, id, service, class, leader, root_directory,
 * scope_properties) it does what machined has systemd do for a transient
 * scope: makes SLICE/machine-<name, unit-escaped>.scope, writes
 * memory.max and pids.max from the properties MemoryMax and TasksMax,
 * moves the leader there, and only then answers with the machine's object
 * path. A name whose scope still holds a process is refused with
 * MachineExists; an empty scope left from before is used again (systemd
 * would have collected it; the test removes them at its end).
 *
 * Prints one line per event on stdout: "ready"; "create name=N id=HEX
 * service=S class=C leader=PID root=DIR KEY=VALUE..." for each call, the
 * scope properties in the order sent; then "registered N CGROUP-DIR",
 * "refused N ERROR" or "held N". Reads commands on stdin, each answered
 * with a line of its own: "refuse ERROR-NAME [COUNT]" refuses the next
 * COUNT calls (default 1) with that error ("refuse ERROR-NAME COUNT");
 * "hold" keeps every call from now on unanswered ("hold"), "release"
 * answers them as above and holds no more ("release N"). End of stdin
 * ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "fake-service.h"

#define MAX_MACHINES 64
#define MAX_HELD 32

static const char *slice;

/* A call as it came, kept until it is answered. */
struct create_call {
        sd_bus_message *message;
        char name[128];
        uint32_t leader;
        uint64_t memory_max, tasks_max;
        int have_memory_max, have_tasks_max;
};

static struct machine {
        char name[128];
        char scope[1024];
} machines[MAX_MACHINES];
static size_t n_machines;

static struct create_call held[MAX_HELD];
static size_t n_held;
static int holding;
static char refuse_error[128];
static unsigned refuse_count;

static int write_file(const char *dir, const char *name, const char *text) {
        char path[1100];
        int fd, r = 0;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                r = -errno;
        close(fd);
        return r;
}

/* Whether the cgroup dir still holds a process (cgroup.events). */
static int populated(const char *dir) {
        char path[1100], buf[256];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/cgroup.events", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        return strstr(buf, "populated 1") != NULL;
}

/* systemd's unit name escaping, for the characters a machine name has:
 * letters, digits, ':', '_' and '.' stay (a leading '.' does not), any
 * other byte becomes \xNN ('-' is the unit name's own separator). */
static void unit_escape(const char *name, char *out, size_t size) {
        size_t k = 0;

        for (const char *p = name; *p && k + 5 < size; p++) {
                unsigned char c = (unsigned char) *p;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
                    (c == '.' && p != name))
                        out[k++] = (char) c;
                else
                        k += (size_t) snprintf(out + k, size - k, "\\x%02x", c);
        }
        out[k] = 0;
}

/* sd-bus's object path label escaping: letters and digits stay, any
 * other byte becomes _NN. */
static void label_escape(const char *name, char *out, size_t size) {
        size_t k = 0;

        for (const char *p = name; *p && k + 4 < size; p++) {
                unsigned char c = (unsigned char) *p;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                        out[k++] = (char) c;
                else
                        k += (size_t) snprintf(out + k, size - k, "_%02x", c);
        }
        out[k] = 0;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fflush(stdout);
}

/* A D-Bus error name: two or more dot-separated words. */
static int error_name_ok(const char *s) {
        return strchr(s, '.') && s[0] != '.' && s[strlen(s) - 1] != '.' && !strstr(s, "..") &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.") == strlen(s);
}

/* Answers one call as machined would once systemd started its scope. */
static void answer(struct create_call *c) {
        struct machine *m = NULL;
        char escaped[512], path[700], text[32];
        int r;

        if (refuse_count > 0) {
                refuse_count--;
                say("refused %s %s\n", c->name, refuse_error);
                (void) sd_bus_reply_method_errorf(c->message, refuse_error, "fake-machined refuses machine '%s' (test)", c->name);
                goto done;
        }
        for (size_t i = 0; i < n_machines && !m; i++)
                if (strcmp(machines[i].name, c->name) == 0)
                        m = &machines[i];
        if (m && populated(m->scope)) {
                say("refused %s org.freedesktop.machine1.MachineExists\n", c->name);
                (void) sd_bus_reply_method_errorf(c->message, "org.freedesktop.machine1.MachineExists", "Machine '%s' already exists",
                                                  c->name);
                goto done;
        }
        if (!m) {
                if (n_machines >= MAX_MACHINES) {
                        (void) sd_bus_reply_method_errorf(c->message, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many machines");
                        goto done;
                }
                m = &machines[n_machines++];
                snprintf(m->name, sizeof(m->name), "%s", c->name);
                unit_escape(c->name, escaped, sizeof(escaped));
                snprintf(m->scope, sizeof(m->scope), "%s/machine-%s.scope", slice, escaped);
        }
        r = mkdir(m->scope, 0755) < 0 && errno != EEXIST ? -errno : 0;
        if (r >= 0 && c->have_memory_max) {
                if (c->memory_max == UINT64_MAX)
                        snprintf(text, sizeof(text), "max");
                else
                        snprintf(text, sizeof(text), "%" PRIu64, c->memory_max);
                r = write_file(m->scope, "memory.max", text);
        }
        if (r >= 0 && c->have_tasks_max) {
                if (c->tasks_max == UINT64_MAX)
                        snprintf(text, sizeof(text), "max");
                else
                        snprintf(text, sizeof(text), "%" PRIu64, c->tasks_max);
                r = write_file(m->scope, "pids.max", text);
        }
        if (r >= 0) {
                snprintf(text, sizeof(text), "%" PRIu32, c->leader);
                r = write_file(m->scope, "cgroup.procs", text);
        }
        if (r < 0) {
                say("refused %s " SD_BUS_ERROR_FAILED "\n", c->name);
                (void) sd_bus_reply_method_errorf(c->message, SD_BUS_ERROR_FAILED, "Cannot start the scope of '%s': %s", c->name,
                                                  strerror(-r));
                goto done;
        }
        say("registered %s %s\n", c->name, m->scope);
        label_escape(c->name, escaped, sizeof(escaped));
        snprintf(path, sizeof(path), "/org/freedesktop/machine1/machine/%s", escaped);
        (void) sd_bus_reply_method_return(c->message, "o", path);
done:
        c->message = sd_bus_message_unref(c->message);
}

static int method_create_machine(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct create_call c = {};
        const char *name, *service, *class, *root, *key, *contents;
        const void *id;
        size_t id_size;
        char type;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r >= 0)
                r = sd_bus_message_read_array(m, 'y', &id, &id_size);
        if (r >= 0)
                r = sd_bus_message_read(m, "ssus", &service, &class, &c.leader, &root);
        if (r < 0)
                return r;
        snprintf(c.name, sizeof(c.name), "%s", name);
        printf("create name=%s id=", name);
        for (size_t i = 0; i < id_size; i++)
                printf("%02x", ((const unsigned char *) id)[i]);
        printf(" service=%s class=%s leader=%" PRIu32 " root=%s", service, class, c.leader, root);
        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r > 0) {
                r = sd_bus_message_enter_container(m, 'r', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, &type, &contents);
                if (r >= 0 && contents && strcmp(contents, "t") == 0) {
                        uint64_t v;
                        r = sd_bus_message_read(m, "v", "t", &v);
                        printf(" %s=%" PRIu64, key, v);
                        if (strcmp(key, "MemoryMax") == 0)
                                c.memory_max = v, c.have_memory_max = 1;
                        else if (strcmp(key, "TasksMax") == 0)
                                c.tasks_max = v, c.have_tasks_max = 1;
                } else if (r >= 0 && contents && strcmp(contents, "s") == 0) {
                        const char *v;
                        r = sd_bus_message_read(m, "v", "s", &v);
                        printf(" %s=%s", key, v);
                } else if (r >= 0 && contents && strcmp(contents, "b") == 0) {
                        int v;
                        r = sd_bus_message_read(m, "v", "b", &v);
                        printf(" %s=%s", key, v ? "yes" : "no");
                } else if (r >= 0) {
                        printf(" %s=(%s)", key, contents ? contents : "?");
                        r = sd_bus_message_skip(m, "v");
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        printf("\n");
        fflush(stdout);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        c.message = sd_bus_message_ref(m);
        if (holding) {
                if (n_held >= MAX_HELD) {
                        sd_bus_message_unref(c.message);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many held calls");
                }
                held[n_held++] = c;
                say("held %s\n", c.name);
                return 1;
        }
        answer(&c);
        return 1;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CreateMachine", "sayssusa(sv)", "o", method_create_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static void command(char *cmd) {
        char error[128];
        unsigned count = 1;

        if (strcmp(cmd, "hold") == 0) {
                holding = 1;
                say("hold\n");
                return;
        }
        if (strcmp(cmd, "release") == 0) {
                size_t n = n_held;
                holding = 0;
                for (size_t i = 0; i < n_held; i++)
                        answer(&held[i]);
                n_held = 0;
                say("release %zu\n", n);
                return;
        }
        if (sscanf(cmd, "refuse %127s %u", error, &count) >= 1 && error_name_ok(error)) {
                snprintf(refuse_error, sizeof(refuse_error), "%s", error);
                refuse_count = count;
                say("refuse %s %u\n", refuse_error, count);
                return;
        }
        fprintf(stderr, "fake-machined: unknown command '%s'\n", cmd);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return fake_service_read_lines(s, fd, command);
}

/* The slice, with memory and pids handed to it by its parent and on to
 * its scopes, as systemd sets up machine.slice. */
static int setup_slice(const char *dir) {
        char parent[512], *slash;
        int r;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf(parent, sizeof(parent), "%s", dir);
        slash = strrchr(parent, '/');
        if (!slash || slash == parent)
                return -EINVAL;
        *slash = 0;
        r = write_file(parent, "cgroup.subtree_control", "+memory +pids");
        if (r >= 0)
                r = write_file(dir, "cgroup.subtree_control", "+memory +pids");
        return r;
}

int main(int argc, char *argv[]) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: fake-machined ADDRESS SLICE-CGROUP-DIR\n");
                return 2;
        }
        slice = argv[2];
        r = setup_slice(slice);
        if (r < 0) {
                fprintf(stderr, "fake-machined: cannot set up %s (its controllers, or its parent's): %s\n", slice, strerror(-r));
                return 1;
        }
        if (fake_service_start("fake-machined", argv[1], "/org/freedesktop/machine1", "org.freedesktop.machine1.Manager", manager_vtable,
                               "org.freedesktop.machine1", on_stdin, &event, &bus) != 0)
                return 1;
        r = sd_event_loop(event);
        for (size_t i = 0; i < n_held; i++)
                sd_bus_message_unref(held[i].message);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
