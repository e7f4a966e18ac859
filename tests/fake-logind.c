/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-logind: the part of systemd-logind guestd uses, on a test bus
 * (tests/test-daemon-shutdown.sh): org.freedesktop.login1.Manager's
 * Inhibit() and its PrepareForShutdown signal. No machine here runs
 * systemd as PID 1, so the tests stand in for it with this.
 *
 *   fake-logind ADDRESS
 *
 * Owns org.freedesktop.login1. Inhibit(what, who, why, mode) answers with
 * the write end of a pipe and keeps the read end: the inhibitor is held
 * until the caller closes its end, as with logind. Prints one line per
 * event on stdout: "ready", "inhibit WHAT WHO MODE", "released WHO" (the
 * holder closed its end). Reads commands on stdin: "shutdown" sends
 * PrepareForShutdown(true), "cancel" PrepareForShutdown(false); end of
 * stdin ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "fake-service.h"

#define MAX_INHIBITORS 16

static struct inhibitor {
        sd_event_source *source;
        char who[64];
} inhibitors[MAX_INHIBITORS];

static int on_released(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct inhibitor *i = userdata;

        printf("released %s\n", i->who);
        fflush(stdout);
        i->source = sd_event_source_disable_unref(i->source);
        close(fd);
        return 0;
}

static int method_inhibit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *what, *who, *why, *mode;
        struct inhibitor *slot = NULL;
        int p[2], r;

        r = sd_bus_message_read(m, "ssss", &what, &who, &why, &mode);
        if (r < 0)
                return r;
        if (strcmp(mode, "delay") != 0 && strcmp(mode, "block") != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "mode must be delay or block");
        for (size_t i = 0; i < MAX_INHIBITORS && !slot; i++)
                if (!inhibitors[i].source)
                        slot = &inhibitors[i];
        if (!slot)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many inhibitors");
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        snprintf(slot->who, sizeof(slot->who), "%s", who);
        /* EPOLLHUP on the read end: every write end is closed. */
        r = sd_event_add_io(sd_bus_get_event(sd_bus_message_get_bus(m)), &slot->source, p[0], 0, on_released, slot);
        if (r < 0) {
                close(p[0]);
                close(p[1]);
                return r;
        }
        printf("inhibit %s %s %s\n", what, who, mode);
        fflush(stdout);
        r = sd_bus_reply_method_return(m, "h", p[1]);
        close(p[1]);
        return r;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Inhibit", "ssss", "h", method_inhibit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("PrepareForShutdown", "b", 0),
        SD_BUS_VTABLE_END,
};

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        sd_bus *bus = userdata;
        char line[64];
        ssize_t n = read(fd, line, sizeof(line) - 1);

        if (n <= 0)
                return sd_event_exit(sd_event_source_get_event(s), 0);
        line[n] = 0;
        for (char *cmd = strtok(line, "\n"); cmd; cmd = strtok(NULL, "\n")) {
                int active = strcmp(cmd, "shutdown") == 0;
                if (!active && strcmp(cmd, "cancel") != 0) {
                        fprintf(stderr, "fake-logind: unknown command '%s'\n", cmd);
                        continue;
                }
                if (sd_bus_emit_signal(bus, "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForShutdown", "b",
                                       active) < 0)
                        fprintf(stderr, "fake-logind: cannot emit PrepareForShutdown\n");
        }
        return 0;
}

int main(int argc, char *argv[]) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: fake-logind ADDRESS\n");
                return 2;
        }
        if (fake_service_start("fake-logind", argv[1], "/org/freedesktop/login1", "org.freedesktop.login1.Manager", manager_vtable,
                               "org.freedesktop.login1", on_stdin, &event, &bus) != 0)
                return 1;
        r = sd_event_loop(event);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
