/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-polkit: the part of polkitd guestd uses, on a test bus
 * (tests/test-daemon-polkit.sh): org.freedesktop.PolicyKit1.Authority's
 * CheckAuthorization() and its BackendName property. It answers from
 * rules it is given instead of polkit's actions and JavaScript rules, so
 * the tests can say who is an admin.
 *
 *   fake-polkit ADDRESS
 *
 * Owns org.freedesktop.PolicyKit1. CheckAuthorization(subject, action,
 * details, flags, cancellation_id) takes a "system-bus-name" subject only,
 * asks the bus for that name's uid and answers by the rule for (uid,
 * action): "yes" (authorized), "no", "challenge" (not authorized, an
 * agent could ask) or "never" (no answer at all: the caller's timeout
 * ends it). Without a rule: "no". Prints one line per event on stdout:
 * "ready", "check UID ACTION FLAGS ANSWER". Reads commands on stdin:
 * "rule UID ACTION ANSWER" (UID "*": anyone) sets a rule, "clear" drops
 * them all; end of stdin ends it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "fake-service.h"

#define MAX_RULES 32
#define MAX_UNANSWERED 256

static struct rule {
        char uid[16];
        char action[64];
        char answer[16];
} rules[MAX_RULES];
static size_t n_rules;

/* Calls answered "never": kept, so that no reply goes out when they are freed. */
static sd_bus_message *unanswered[MAX_UNANSWERED];
static size_t n_unanswered;

static const char *answer_for(unsigned uid, const char *action) {
        char u[16];

        snprintf(u, sizeof(u), "%u", uid);
        for (size_t i = n_rules; i > 0; i--) /* the latest rule wins */
                if ((strcmp(rules[i - 1].uid, u) == 0 || strcmp(rules[i - 1].uid, "*") == 0) && strcmp(rules[i - 1].action, action) == 0)
                        return rules[i - 1].answer;
        return "no";
}

static int method_check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        const char *kind, *key, *name = NULL, *action, *answer;
        uint32_t flags;
        uint32_t uid;
        int r;

        r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_read(m, "s", &kind);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0) {
                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && strcmp(key, "name") == 0)
                        r = sd_bus_message_read(m, "v", "s", &name);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_read(m, "s", &action);
        if (r >= 0)
                r = sd_bus_message_skip(m, "a{ss}");
        if (r >= 0)
                r = sd_bus_message_read(m, "u", &flags);
        if (r < 0)
                return r;
        if (strcmp(kind, "system-bus-name") != 0 || !name)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "fake-polkit knows system-bus-name subjects only");
        /* As polkitd does: the bus daemon says whose the name is. */
        r = sd_bus_call_method(sd_bus_message_get_bus(m), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionUnixUser", NULL, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &uid);
        sd_bus_message_unref(reply);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "no uid for %s: %s", name, strerror(-r));
        answer = answer_for(uid, action);
        printf("check %u %s %u %s\n", (unsigned) uid, action, (unsigned) flags, answer);
        fflush(stdout);
        if (strcmp(answer, "never") == 0) {
                if (n_unanswered < MAX_UNANSWERED)
                        unanswered[n_unanswered++] = sd_bus_message_ref(m);
                return 1;
        }
        return sd_bus_reply_method_return(m, "(bba{ss})", strcmp(answer, "yes") == 0, strcmp(answer, "challenge") == 0, 0);
}

static int property_backend(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", "fake-polkit");
}

static const sd_bus_vtable authority_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", method_check_authorization, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("BackendName", "s", property_backend, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

static void command(char *cmd) {
        char uid[16], action[64], answer[16];

        if (strcmp(cmd, "clear") == 0) {
                n_rules = 0;
                return;
        }
        if (sscanf(cmd, "rule %15s %63s %15s", uid, action, answer) != 3 ||
            (strcmp(answer, "yes") != 0 && strcmp(answer, "no") != 0 && strcmp(answer, "challenge") != 0 && strcmp(answer, "never") != 0)) {
                fprintf(stderr, "fake-polkit: unknown command '%s'\n", cmd);
                return;
        }
        if (n_rules >= MAX_RULES) {
                fprintf(stderr, "fake-polkit: too many rules\n");
                return;
        }
        snprintf(rules[n_rules].uid, sizeof(rules[n_rules].uid), "%s", uid);
        snprintf(rules[n_rules].action, sizeof(rules[n_rules].action), "%s", action);
        snprintf(rules[n_rules].answer, sizeof(rules[n_rules].answer), "%s", answer);
        n_rules++;
        printf("rule %s %s %s\n", uid, action, answer);
        fflush(stdout);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return fake_service_read_lines(s, fd, command);
}

int main(int argc, char *argv[]) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: fake-polkit ADDRESS\n");
                return 2;
        }
        if (fake_service_start("fake-polkit", argv[1], "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority",
                               authority_vtable, "org.freedesktop.PolicyKit1", on_stdin, &event, &bus) != 0)
                return 1;
        r = sd_event_loop(event);
        for (size_t i = 0; i < n_unanswered; i++)
                sd_bus_message_unref(unanswered[i]);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
