/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-bus-sender.c: which signals guestd lets on to its matches
 * (bus-sender.h): the bus driver's and sd-bus's own, and broadcasts;
 * never the driver's interface from anyone else, never a signal
 * addressed to guestd. */
#include "bus-sender.h"
#include "test.h"

int main(void) {
        /* The bus driver: NameOwnerChanged (a broadcast), NameAcquired
         * and NameLost (sent to guestd). */
        CHECK(bus_sender_signal_allowed("org.freedesktop.DBus", NULL, "org.freedesktop.DBus"));
        CHECK(bus_sender_signal_allowed("org.freedesktop.DBus", ":1.7", "org.freedesktop.DBus"));
        /* sd-bus's own Disconnected. */
        CHECK(bus_sender_signal_allowed("org.freedesktop.DBus.Local", NULL, "org.freedesktop.DBus.Local"));
        CHECK(bus_sender_signal_allowed(NULL, NULL, "org.freedesktop.DBus.Local"));
        /* logind's broadcast: on to the match, whose handler checks the
         * sender against login1's owner. */
        CHECK(bus_sender_signal_allowed(":1.3", NULL, "org.freedesktop.login1.Manager"));

        /* A user forging the driver: NameOwnerChanged for login1 or for
         * another user's name, broadcast or sent to guestd. */
        CHECK(!bus_sender_signal_allowed(":1.42", NULL, "org.freedesktop.DBus"));
        CHECK(!bus_sender_signal_allowed(":1.42", "org.guestd1", "org.freedesktop.DBus"));
        CHECK(!bus_sender_signal_allowed(":1.42", NULL, "org.freedesktop.DBus.Local"));
        /* A user sending logind's PrepareForShutdown to guestd. */
        CHECK(!bus_sender_signal_allowed(":1.42", "org.guestd1", "org.freedesktop.login1.Manager"));
        CHECK(!bus_sender_signal_allowed(":1.42", ":1.1", "org.freedesktop.login1.Manager"));
        /* Even logind's own unique name, when sent to guestd: logind
         * broadcasts, so this is not logind speaking as logind. */
        CHECK(!bus_sender_signal_allowed(":1.3", "org.guestd1", "org.freedesktop.login1.Manager"));
        /* No sender at all is nobody. */
        CHECK(!bus_sender_signal_allowed(NULL, NULL, "org.freedesktop.login1.Manager"));
        return TEST_RESULT();
}
