/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * caller.h: the account behind a bus caller: its uid as the bus knows it
 * (never an argument), and, when asked for, its name and groups from the
 * passwd and group databases (stable, unlike a look at the caller's
 * process, which may already be gone).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* The account behind a bus caller. */
struct caller {
        uid_t uid;
        const char *sender; /* its unique bus name (not owned; NULL: not known) */
        /* Filled by caller_load_account(): */
        bool have_account;
        char *user_name; /* NULL: no passwd entry */
        gid_t gid;
        gid_t *gids; /* supplementary, the primary one included */
        char **group_names; /* group_names[i] for gids[i]; entries may be NULL */
        size_t n_gids;
};

int caller_from_message(sd_bus_message *m, struct caller *ret, sd_bus_error *error);
int caller_load_account(struct caller *c, sd_bus_error *error);
void caller_done(struct caller *c);
