/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus.c: see bus.h. */
#include "bus-guest.h"
#include "bus-manager.h"
#include "bus-sender.h"
#include "bus.h"
#include "log.h"
#include "signals.h"

int bus_setup(struct manager *m) {
        int r;

        r = sd_bus_error_add_map(guestd_bus_error_map);
        if (r < 0)
                return log_error_errno(r, "Cannot register guestd's bus errors: %m");
        if (m->bus_address) {
                r = sd_bus_new(&m->bus);
                if (r >= 0)
                        r = sd_bus_set_address(m->bus, m->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(m->bus, true);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
        } else
                r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the %s bus: %m", m->bus_address ? m->bus_address : "system");

        /* Before any match: no signal reaches one unchecked. */
        r = bus_sender_install_filter(m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot check the senders of bus signals: %m");

        bus_guest_vtable_make();
        r = sd_bus_add_object_vtable(m->bus, NULL, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, bus_manager_vtable, m);
        if (r >= 0)
                r = sd_bus_add_object_manager(m->bus, NULL, GUESTD_OBJECT_PATH);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m->bus, NULL, GUESTD_GUEST_PREFIX, GUESTD_GUEST_IFACE, bus_guest_vtable, bus_guest_object_find, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, GUESTD_GUEST_PREFIX, bus_guest_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot export objects: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");

        r = signals_listen(m);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the guests' changes: %m");
        r = sd_bus_request_name(m->bus, GUESTD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot own the name %s (is another guestd running?): %m", GUESTD_BUS_NAME);
        return 0;
}
