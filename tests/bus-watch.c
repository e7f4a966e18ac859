/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-watch: listens on a bus and prints every signal that reaches it, for
 * the confidentiality tests (tests/test-daemon-confidentiality.sh): what a
 * user who only listens can learn.
 *
 *   bus-watch ADDRESS SECONDS [--subscribe] [--match RULE]...
 *     --subscribe   call org.guestd1.Manager.Subscribe() first
 *     --match RULE  add a match rule (repeatable; "eavesdrop='true'" ones
 *                   too: the bus may refuse or ignore them)
 *
 * Prints "READY" once the matches are in place (and the subscription
 * made), then every signal received, whole (sd_bus_message_dump), until
 * SECONDS have passed or SIGTERM; of the bus's own signals only a
 * well-known name's change of owner, as "NAME N owner 'OLD' -> 'NEW'". A
 * refused match or subscription is printed as "REFUSED <rule>: <error>"
 * and the watch goes on. Exit status
 * 0, or 2 for a usage or connection error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-api.h"

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (sd_bus_message_is_signal(m, NULL, NULL) &&
            strcmp(sd_bus_message_get_sender(m) ?: "", "org.freedesktop.DBus") != 0) {
                printf("SIGNAL sender=%s path=%s member=%s destination=%s\n", sd_bus_message_get_sender(m) ?: "-",
                       sd_bus_message_get_path(m) ?: "-", sd_bus_message_get_member(m) ?: "-",
                       sd_bus_message_get_destination(m) ?: "(broadcast)");
                (void) sd_bus_message_dump(m, stdout, 0);
                fflush(stdout);
        } else if (sd_bus_message_is_signal(m, "org.freedesktop.DBus", "NameOwnerChanged")) {
                /* The bus's own signals are left out, but for a well-known
                 * name's owner: the test's barrier (guestd leaving the bus
                 * comes after everything it sent). */
                const char *name, *old_owner, *new_owner;

                if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && name[0] != ':') {
                        printf("NAME %s owner '%s' -> '%s'\n", name, old_owner, new_owner);
                        fflush(stdout);
                }
        }
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "subscribe", no_argument, NULL, 's' },
                { "match", required_argument, NULL, 'm' },
                {},
        };
        sd_bus *bus = NULL;
        sd_event *event = NULL;
        bool subscribe = false;
        const char *matches[32];
        size_t n_matches = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c == 's')
                        subscribe = true;
                else if (c == 'm' && n_matches < 32)
                        matches[n_matches++] = optarg;
                else
                        return 2;
        }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: bus-watch ADDRESS SECONDS [--subscribe] [--match RULE]...\n");
                return 2;
        }
        if (sd_event_default(&event) < 0 || sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[optind]) < 0 ||
            sd_bus_set_bus_client(bus, true) < 0 || sd_bus_start(bus) < 0 || sd_bus_attach_event(bus, event, 0) < 0) {
                fprintf(stderr, "bus-watch: cannot connect to %s\n", argv[optind]);
                return 2;
        }
        r = sd_bus_add_filter(bus, NULL, on_message, NULL);
        if (r < 0)
                return 2;
        for (size_t i = 0; i < n_matches; i++) {
                r = sd_bus_add_match(bus, NULL, matches[i], NULL, NULL);
                if (r < 0)
                        printf("REFUSED %s: %s\n", matches[i], strerror(-r));
        }
        if (subscribe) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "Subscribe", &error, NULL, "");
                if (r < 0)
                        printf("REFUSED Subscribe: %s\n", error.name ? error.name : strerror(-r));
                sd_bus_error_free(&error);
        }
        printf("READY\n");
        fflush(stdout);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, (uint64_t) atoi(argv[optind + 1]) * 1000000, 0, on_timeout,
                                          NULL);
        r = sd_event_loop(event);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 2 : 0;
}
