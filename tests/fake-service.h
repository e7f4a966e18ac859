/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-service.h: what the tests' stand-ins for system services
 * (tests/fake-logind.c, tests/fake-polkit.c, tests/fake-machined.c)
 * share: a client of the test bus that serves one object under the
 * service's well-known name, reads its commands on stdin (the handler gets
 * the bus as its userdata; fake_service_read_lines() splits them into
 * lines), and says "ready" on stdout once the name is its.
 */
#pragma once

#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

/* Returns 0, or 1 after saying why on stderr (PROG: the program's name). */
static inline int fake_service_start(const char *prog, const char *address, const char *path, const char *interface,
                                     const sd_bus_vtable *vtable, const char *name, sd_event_io_handler_t on_stdin,
                                     sd_event **ret_event, sd_bus **ret_bus) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        int r;

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, path, interface, vtable, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_request_name(bus, name, 0);
        if (r >= 0)
                r = sd_event_add_io(event, NULL, STDIN_FILENO, EPOLLIN, on_stdin, bus);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", prog, strerror(-r));
                sd_bus_flush_close_unref(bus);
                sd_event_unref(event);
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        *ret_event = event;
        *ret_bus = bus;
        return 0;
}

/* For an on_stdin handler: hands each whole, non-empty line that has
 * arrived to command; a line longer than the buffer is dropped. End of
 * file ends the event loop. One buffer: a process has one stdin. */
static inline int fake_service_read_lines(sd_event_source *s, int fd, void (*command)(char *line)) {
        static char buf[1024];
        static size_t len;
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        char *line, *nl;

        if (n <= 0)
                return sd_event_exit(sd_event_source_get_event(s), 0);
        len += n;
        buf[len] = 0;
        line = buf;
        while ((nl = strchr(line, '\n'))) {
                *nl = 0;
                if (*line)
                        command(line);
                line = nl + 1;
        }
        len = strlen(line);
        memmove(buf, line, len + 1);
        if (len == sizeof(buf) - 1)
                len = 0;
        return 0;
}
