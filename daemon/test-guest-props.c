/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-guest-props.c: every entry of the one property table
 * (common/guest-properties.h) has a value of the type it declares, the
 * names are unique, and a name not in it is refused; the vtable, the
 * signals and guestctl's keys all come from that table. */
#include <string.h>
#include <sys/socket.h>

#include "guest-props.h"
#include "test.h"

static struct guest *make(void) {
        struct guest_config c = {};
        struct guest *g = NULL;

        if (guest_config_parse("{\"kernel\": \"/k\", \"memory_mib\": 128, \"vcpus\": 2}", &c, NULL) < 0 || guest_new("web", 1000, &c, &g) < 0)
                abort();
        guest_config_done(&c);
        return g;
}

int main(void) {
        _cleanup_(guest_freep) struct guest *g = make();
        sd_bus *bus = NULL;
        int r;

        /* A bus on one end of a socket pair, whose handshake nobody
         * answers: open enough to build messages, never sent. */
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0 || sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, pair[0], pair[0]) < 0 ||
            sd_bus_start(bus) < 0)
                TEST_SKIP("cannot make a bus object to build messages on");
        {
                sd_bus_message *m = NULL;
                CHECK_EQ(sd_bus_message_new_signal(bus, &m, "/x", "org.guestd1.Test", "T"), 0);
                CHECK_EQ(guest_props_append(m, g, "Password", true), -ENOENT);
                CHECK(guest_property_find("Password") == NULL);
                CHECK(guest_property_find(NULL) == NULL);
                sd_bus_message_unref(m);
        }
        for (size_t i = 0; i < GUEST_PROPERTIES_MAX; i++) {
                const struct guest_property_info *p = &guest_properties[i];
                sd_bus_message *m = NULL;

                CHECK(guest_property_find(p->name) == p);
                for (size_t j = 0; j < i; j++) {
                        CHECK(strcmp(guest_properties[j].name, p->name) != 0);
                        CHECK(strcmp(guest_properties[j].json, p->json) != 0);
                }
                CHECK_EQ(sd_bus_message_new_signal(bus, &m, "/x", "org.guestd1.Test", "T"), 0);
                /* As a variant: the appender must write exactly the
                 * declared type, or sd-bus refuses it. */
                r = guest_props_append(m, g, p->name, true);
                if (r < 0)
                        fprintf(stderr, "%s: %s\n", p->name, strerror(-r));
                CHECK_EQ(r, 0);
                /* The variant is closed: all of the declared type was
                 * written, and nothing else. */
                CHECK(strcmp(sd_bus_message_get_signature(m, true), "v") == 0);
                sd_bus_message_unref(m);
        }
        sd_bus_unref(bus);
        safe_close(pair[1]);
        return TEST_RESULT();
}
