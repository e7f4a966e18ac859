/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* access.c: see access.h. */
#include "access.h"
#include "polkit.h"

/* The one access rule: the owner, root, and a bus name that polkit has
 * just granted org.guestd1.manage (polkit.h: the grant is asked for by a
 * Manager call, which can wait for polkit; lookups cannot). */
bool access_allowed(const struct caller *c, const struct guest *g) {
        return c->uid == 0 || c->uid == g->owner || (g->manager && polkit_granted(g->manager, c->sender));
}
