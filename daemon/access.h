/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * access.h: who may see and act on a guest, decided here and nowhere
 * else: its owner and uid 0 may, and a bus name polkit has granted
 * org.guestd1.manage a moment ago (polkit.h), nobody else. A guest
 * someone may not access does not exist for them: lookups answer
 * NoSuchGuest, listings and signals leave it out, so guest names do not
 * leak between users.
 */
#pragma once

#include <stdbool.h>

#include "caller.h"
#include "guest.h"
#include "manager.h"

bool access_allowed(const struct caller *c, const struct guest *g);
