/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pending.c: see pending.h. */
#include "log.h"
#include "pending.h"

void pending_add(struct guest *g, sd_bus_message *call, enum guest_verb verb) {
        struct pending_call *p, **tail;

        if (!call)
                return;
        p = calloc(1, sizeof(*p));
        if (!p) {
                (void) sd_bus_reply_method_errorf(call, GUESTD_ERROR_FAILED, "Out of memory.");
                return;
        }
        p->call = sd_bus_message_ref(call);
        p->verb = verb;
        p->uid = (uid_t) -1;
        {
                sd_bus_creds *creds = NULL;
                if (sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds) >= 0)
                        (void) sd_bus_creds_get_euid(creds, &p->uid);
                sd_bus_creds_unref(creds);
        }
        for (tail = &g->pending; *tail; tail = &(*tail)->next)
                ;
        *tail = p;
}

int pending_check(struct manager *m, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(caller_done) struct caller caller = {};
        unsigned n = 0;
        int r;

        r = caller_from_message(call, &caller, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_guests; i++)
                for (struct pending_call *p = m->guests[i]->pending; p; p = p->next)
                        n += p->uid == caller.uid;
        if (n >= PENDING_PER_USER)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "You have %u calls waiting for guests to start, stop, pause or suspend, the most guestd "
                                         "keeps for one user (%d); wait for them.",
                                         n, PENDING_PER_USER);
        return 0;
}

/* Answers every pending call for verb: success if error_name is NULL. */
void pending_answer(struct guest *g, enum guest_verb verb, const char *error_name, const char *message) {
        struct pending_call **p = &g->pending;

        while (*p) {
                struct pending_call *c = *p;
                if (c->verb != verb) {
                        p = &c->next;
                        continue;
                }
                *p = c->next;
                if (error_name)
                        (void) sd_bus_reply_method_errorf(c->call, error_name, "%s", message);
                else if (verb == GUEST_VERB_STOP)
                        /* Stop says how the guest ended: its state's reason. */
                        (void) sd_bus_reply_method_return(c->call, "s", g->state_reason ? g->state_reason : "");
                else
                        (void) sd_bus_reply_method_return(c->call, NULL);
                sd_bus_message_unref(c->call);
                free(c);
        }
}
