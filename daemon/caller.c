/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* caller.c: see caller.h. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "bus-api.h"
#include "caller.h"
#include "util.h"

int caller_from_message(sd_bus_message *m, struct caller *ret, sd_bus_error *error) {
        sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        *ret = (struct caller) { .uid = (uid_t) -1 };
        /* The sender's effective uid as the bus knows it; never an argument. */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r < 0)
                return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED, "Cannot tell who is calling (%s).", strerror(-r));
        ret->uid = uid;
        ret->sender = sd_bus_message_get_sender(m);
        return 0;
}

/* Name, primary group and groups from the passwd entry: stable, unlike a
 * look at the caller's process, which may already be gone. A uid with no
 * passwd entry gets its own number as gid and no groups. */
int caller_load_account(struct caller *c, sd_bus_error *error) {
        struct passwd pw, *pwp = NULL;
        char buf[16384];
        int n = 64;

        if (c->have_account)
                return 0;
        if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
                c->user_name = strdup(pw.pw_name);
                c->gid = pw.pw_gid;
                for (;;) {
                        gid_t *g = realloc(c->gids, n * sizeof(gid_t));
                        int k = n;
                        if (!g)
                                return sd_bus_error_set_errno(error, ENOMEM);
                        c->gids = g;
                        if (getgrouplist(pw.pw_name, pw.pw_gid, c->gids, &k) >= 0) {
                                c->n_gids = k;
                                break;
                        }
                        if (k <= n || n > 65536)
                                return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Cannot list the groups of %s.", pw.pw_name);
                        n = k;
                }
        } else {
                c->gid = c->uid;
                c->gids = calloc(1, sizeof(gid_t));
                if (!c->gids)
                        return sd_bus_error_set_errno(error, ENOMEM);
                c->gids[0] = c->gid;
                c->n_gids = 1;
        }
        c->group_names = calloc(c->n_gids + 1, sizeof(char *));
        if (!c->group_names)
                return sd_bus_error_set_errno(error, ENOMEM);
        for (size_t i = 0; i < c->n_gids; i++) {
                struct group gr, *grp = NULL;
                if (getgrgid_r(c->gids[i], &gr, buf, sizeof(buf), &grp) == 0 && grp)
                        c->group_names[i] = strdup(gr.gr_name);
        }
        c->have_account = true;
        return 0;
}

void caller_done(struct caller *c) {
        for (size_t i = 0; c->group_names && i < c->n_gids; i++)
                free(c->group_names[i]);
        free(c->group_names);
        free(c->gids);
        free(c->user_name);
        *c = (struct caller) {};
}
