/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-manager.h: org.guestd1.Manager on /org/guestd1: creating, removing,
 * finding and listing guests, quotas, the policy, subscriptions, the
 * page-table budget.
 */
#pragma once

#include <systemd/sd-bus.h>

/* userdata: struct manager. */
extern const sd_bus_vtable bus_manager_vtable[];
