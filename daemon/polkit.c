/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* polkit.c: see polkit.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "polkit.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorization's flags: polkit may ask the user (an agent prompts). */
#define POLKIT_FLAG_ALLOW_USER_INTERACTION UINT32_C(1)
/* An answer nobody read (the object went away before the call ran again)
 * is dropped after this long. */
#define POLKIT_ANSWER_KEEP_USEC (UINT64_C(30) * 1000000)

/* One call waiting for polkit, or answered and about to run again. Each
 * call asks at most two actions (CreateGuest for another user: manage and
 * use). */
struct polkit_query {
        struct manager *manager;
        sd_bus_message *call; /* a reference: the call runs again with it */
        uid_t uid;
        sd_bus_slot *slot;    /* the CheckAuthorization in flight */
        const char *asking;   /* its action, a POLKIT_ACTION_* */
        struct {
                const char *action;
                int answer;
        } answers[2];
        size_t n_answers;
        sd_bus_error error;   /* set: the question ended with this (Timeout, Failed) */
        usec_t answered_at;
        bool read;            /* the handler read the answer: freed after this dispatch */
};

struct polkit_grant {
        struct manager *manager;
        char *sender;
        uid_t uid;
        usec_t until;
        sd_bus_track *track; /* forgets the grant when the name leaves the bus */
};

/* ------------------------------------------------------------ presence */

/* The rule in force, logged at start and whenever polkit comes or goes,
 * so that nobody is surprised by who may do what. */
static void note_presence(struct manager *m, bool present, const char *backend) {
        if (m->polkit.present == (int) present)
                return;
        m->polkit.present = present;
        if (present)
                log_info("polkit%s%s%s answers on the bus: it decides who may manage every user's guests (" POLKIT_ACTION_MANAGE
                         ") and who may create and run guests (" POLKIT_ACTION_USE "); root may do both",
                         backend ? " (" : "", backend ?: "", backend ? ")" : "");
        else
                log_info("polkit is not on the bus: root is the only admin (" POLKIT_ACTION_MANAGE "), and everyone may create and run "
                         "guests within the quota (" POLKIT_ACTION_USE ")");
}

static bool error_is_absent(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

static int on_probe_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct manager *m = userdata;
        const char *backend = NULL;

        m->polkit.probe_slot = sd_bus_slot_unref(m->polkit.probe_slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                if (error_is_absent(e))
                        note_presence(m, false, NULL);
                else
                        log_warning("polkit did not answer guestd's first question (%s); each call that needs it will ask again",
                                    e->message ?: e->name);
                return 0;
        }
        (void) sd_bus_message_read(reply, "v", "s", &backend);
        note_presence(m, true, backend);
        return 0;
}

int polkit_setup(struct manager *m) {
        int r;

        m->polkit.present = -1;
        if (m->polkit.timeout_usec == 0)
                m->polkit.timeout_usec = POLKIT_TIMEOUT_USEC_DEFAULT;
        /* Asking for a property starts a bus-activated polkitd, as any
         * question would. */
        r = sd_bus_call_method_async(m->bus, &m->polkit.probe_slot, POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Properties", "Get",
                                     on_probe_reply, m, "ss", POLKIT_IFACE, "BackendName");
        if (r < 0)
                log_warning_errno(r, "Cannot ask whether polkit is on the bus: %m");
        return 0;
}

/* ------------------------------------------------------------ grants */

static void grant_free(struct polkit_grant *g) {
        if (!g)
                return;
        sd_bus_track_unref(g->track);
        free(g->sender);
        free(g);
}

static ssize_t grant_find(struct manager *m, const char *sender) {
        for (size_t i = 0; i < m->polkit.n_grants; i++)
                if (strcmp(m->polkit.grants[i]->sender, sender) == 0)
                        return (ssize_t) i;
        return -1;
}

static void grant_remove(struct manager *m, size_t i) {
        grant_free(m->polkit.grants[i]);
        m->polkit.grants[i] = m->polkit.grants[--m->polkit.n_grants];
}

static int on_grant_gone(sd_bus_track *track, void *userdata) {
        struct polkit_grant *g = userdata;
        ssize_t i = grant_find(g->manager, g->sender);

        if (i >= 0)
                grant_remove(g->manager, (size_t) i);
        return 0;
}

static void grant_add(struct manager *m, const char *sender, uid_t uid) {
        struct polkit_grant *g, **a;
        ssize_t i = grant_find(m, sender), oldest = -1;
        size_t same_uid = 0;
        int r;

        if (i >= 0) {
                m->polkit.grants[i]->until = now_usec() + POLKIT_GRANT_USEC;
                return;
        }
        for (size_t k = 0; k < m->polkit.n_grants; k++)
                if (m->polkit.grants[k]->uid == uid) {
                        same_uid++;
                        if (oldest < 0 || m->polkit.grants[k]->until < m->polkit.grants[oldest]->until)
                                oldest = (ssize_t) k;
                }
        if (same_uid >= POLKIT_GRANTS_PER_USER && oldest >= 0)
                grant_remove(m, (size_t) oldest);
        g = calloc(1, sizeof(*g));
        if (!g)
                return;
        *g = (struct polkit_grant) { .manager = m, .uid = uid, .until = now_usec() + POLKIT_GRANT_USEC, .sender = strdup(sender) };
        r = g->sender ? sd_bus_track_new(m->bus, &g->track, on_grant_gone, g) : -ENOMEM;
        if (r >= 0)
                r = sd_bus_track_add_name(g->track, sender);
        a = r >= 0 ? realloc(m->polkit.grants, (m->polkit.n_grants + 1) * sizeof(*a)) : NULL;
        if (!a) {
                /* Not remembered: the object paths stay hidden, nothing
                 * more is allowed than before. */
                log_debug("Cannot remember polkit's grant for %s", sender);
                grant_free(g);
                return;
        }
        m->polkit.grants = a;
        m->polkit.grants[m->polkit.n_grants++] = g;
}

bool polkit_granted(struct manager *m, const char *sender) {
        ssize_t i;

        if (!sender)
                return false;
        i = grant_find(m, sender);
        if (i < 0)
                return false;
        if (m->polkit.grants[i]->until <= now_usec()) {
                grant_remove(m, (size_t) i);
                return false;
        }
        return true;
}

/* ------------------------------------------------------------ queries */

static void query_free(struct polkit_query *q) {
        if (!q)
                return;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->call);
        sd_bus_error_free(&q->error);
        free(q);
}

static void query_remove(struct manager *m, size_t i) {
        query_free(m->polkit.queries[i]);
        m->polkit.queries[i] = m->polkit.queries[--m->polkit.n_queries];
}

/* Frees the questions whose answer was read, and answers nobody read
 * within POLKIT_ANSWER_KEEP_USEC. */
static void sweep(struct manager *m) {
        usec_t now = now_usec();

        for (size_t i = m->polkit.n_queries; i > 0; i--) {
                struct polkit_query *q = m->polkit.queries[i - 1];
                if (q->slot)
                        continue;
                if (q->read || (q->answered_at > 0 && now - q->answered_at > POLKIT_ANSWER_KEEP_USEC))
                        query_remove(m, i - 1);
        }
}

/* A defer source: runs after the handler that read an answer returned,
 * so that a second polkit_check() in that same run finds the query. */
static int on_sweep(sd_event_source *s, void *userdata) {
        sweep(userdata);
        return 0;
}

static void mark_read(struct polkit_query *q) {
        struct manager *m = q->manager;

        q->read = true;
        if (!m->polkit.sweep && sd_event_add_defer(m->event, &m->polkit.sweep, on_sweep, m) < 0)
                return; /* swept at the next check, or after POLKIT_ANSWER_KEEP_USEC */
        (void) sd_event_source_set_enabled(m->polkit.sweep, SD_EVENT_ONESHOT);
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct polkit_query *q = userdata;
        struct manager *m = q->manager;
        const char *action = q->asking;
        int answer = POLKIT_DENIED, authorized = 0, challenge = 0, r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->asking = NULL;
        q->answered_at = now_usec();
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                if (error_is_absent(e))
                        answer = POLKIT_ABSENT;
                else if (sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT))
                        sd_bus_error_setf(&q->error, GUESTD_ERROR_TIMEOUT,
                                          "polkit did not answer within %" PRIu64 " s whether you may do this (%s); try again later.",
                                          m->polkit.timeout_usec / 1000000, action);
                else
                        sd_bus_error_setf(&q->error, GUESTD_ERROR_FAILED, "polkit could not tell whether you may do this (%s): %s", action,
                                          e->message ?: e->name);
        } else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0)
                        sd_bus_error_setf(&q->error, GUESTD_ERROR_FAILED, "polkit's answer about %s is malformed.", action);
                else
                        answer = authorized ? POLKIT_ALLOWED : POLKIT_DENIED;
        }
        if (!sd_bus_error_is_set(&q->error)) {
                note_presence(m, answer != POLKIT_ABSENT, NULL);
                q->answers[q->n_answers].action = action;
                q->answers[q->n_answers].answer = answer;
                q->n_answers++;
                if (strcmp(action, POLKIT_ACTION_MANAGE) == 0 && answer != POLKIT_ABSENT) {
                        ssize_t i = grant_find(m, sd_bus_message_get_sender(q->call));
                        if (answer == POLKIT_ALLOWED)
                                grant_add(m, sd_bus_message_get_sender(q->call), q->uid);
                        else if (i >= 0)
                                grant_remove(m, (size_t) i);
                }
        } else
                log_warning("uid %u: %s", (unsigned) q->uid, q->error.message);
        log_debug("polkit: uid %u, %s: %s", (unsigned) q->uid, action,
                  sd_bus_error_is_set(&q->error) ? q->error.name
                  : answer == POLKIT_ALLOWED    ? "yes"
                  : answer == POLKIT_ABSENT     ? "no polkit"
                  : challenge                   ? "challenge (not authorized)"
                                                : "no");

        /* The call runs again from the start, now with the answer. */
        r = sd_bus_enqueue_for_read(m->bus, q->call);
        if (r < 0) {
                log_warning_errno(r, "Cannot run uid %u's call again after polkit answered: %m", (unsigned) q->uid);
                (void) sd_bus_reply_method_errorf(q->call, GUESTD_ERROR_FAILED, "guestd could not go on after polkit answered: %s.",
                                                  strerror(-r));
                q->read = true;
                sweep(m);
        }
        return 0;
}

static struct polkit_query *query_find(struct manager *m, sd_bus_message *call) {
        for (size_t i = 0; i < m->polkit.n_queries; i++)
                if (m->polkit.queries[i]->call == call)
                        return m->polkit.queries[i];
        return NULL;
}

static int ask(struct manager *m, struct polkit_query *q, const char *action, bool may_interact, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *question = NULL;
        const char *sender = sd_bus_message_get_sender(q->call);
        uint32_t flags = 0;
        int r;

        if (!sender)
                return sd_bus_error_setf(error, GUESTD_ERROR_ACCESS_DENIED, "Calls without a bus name cannot be authorized.");
        if (may_interact && sd_bus_message_get_allow_interactive_authorization(q->call) > 0)
                flags |= POLKIT_FLAG_ALLOW_USER_INTERACTION;
        /* CheckAuthorization(subject, action_id, details, flags,
         * cancellation_id); the subject is the caller's bus name, which
         * polkit resolves to its process and uid itself. */
        r = sd_bus_message_new_method_call(m->bus, &question, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(question, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0, flags, "");
        if (r >= 0)
                r = sd_bus_call_async(m->bus, &q->slot, question, on_check_reply, q, m->polkit.timeout_usec);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot ask polkit whether you may do this (%s): %m", action);
        q->asking = action;
        q->read = false;
        return POLKIT_ASKING;
}

int polkit_check(struct manager *m, sd_bus_message *call, uid_t uid, const char *action, bool may_interact, sd_bus_error *error) {
        struct polkit_query *q, **a;
        size_t same_uid = 0;
        int r;

        if (uid == 0)
                return POLKIT_ALLOWED;
        q = query_find(m, call);
        if (q) {
                if (sd_bus_error_is_set(&q->error)) {
                        mark_read(q);
                        return sd_bus_error_copy(error, &q->error);
                }
                for (size_t i = 0; i < q->n_answers; i++)
                        if (strcmp(q->answers[i].action, action) == 0) {
                                mark_read(q);
                                return q->answers[i].answer;
                        }
                if (q->slot)
                        return POLKIT_ASKING;
                if (q->n_answers >= ELEMENTSOF(q->answers))
                        return sd_bus_error_setf(error, GUESTD_ERROR_FAILED, "Too many polkit questions for one call.");
                return ask(m, q, action, may_interact, error);
        }

        sweep(m);
        for (size_t i = 0; i < m->polkit.n_queries; i++)
                same_uid += m->polkit.queries[i]->uid == uid;
        if (same_uid >= POLKIT_QUERIES_PER_USER)
                return sd_bus_error_setf(error, GUESTD_ERROR_LIMIT,
                                         "You have %zu calls waiting for polkit, the most guestd allows one user (%d); wait for their answers.",
                                         same_uid, POLKIT_QUERIES_PER_USER);
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (struct polkit_query) { .manager = m, .call = sd_bus_message_ref(call), .uid = uid, .error = SD_BUS_ERROR_NULL };
        a = realloc(m->polkit.queries, (m->polkit.n_queries + 1) * sizeof(*a));
        if (!a) {
                query_free(q);
                return -ENOMEM;
        }
        m->polkit.queries = a;
        m->polkit.queries[m->polkit.n_queries++] = q;
        r = ask(m, q, action, may_interact, error);
        if (r < 0)
                query_remove(m, m->polkit.n_queries - 1);
        return r;
}

void polkit_done(struct manager *m) {
        while (m->polkit.n_queries > 0)
                query_remove(m, m->polkit.n_queries - 1);
        free(m->polkit.queries);
        m->polkit.queries = NULL;
        while (m->polkit.n_grants > 0)
                grant_remove(m, m->polkit.n_grants - 1);
        free(m->polkit.grants);
        m->polkit.grants = NULL;
        m->polkit.sweep = sd_event_source_disable_unref(m->polkit.sweep);
        m->polkit.probe_slot = sd_bus_slot_unref(m->polkit.probe_slot);
}
