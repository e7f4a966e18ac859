/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs-run.c: a guest's life from the command line: start, stop, pause,
 * unpause, suspend and resume. Each is one call on the guest's object;
 * stop, suspend and resume wait for their answer longer than the bus's
 * default 25 s, and suspend and resume draw their progress on a
 * terminal.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus.h"
#include "guest-limits.h"
#include "log.h"
#include "output.h"
#include "util.h"
#include "verbs.h"

int verb_start(int argc, char **argv) {
        return bus_guest_call(argv[1], "Start", "start the guest", "");
}

int verb_pause(int argc, char **argv) {
        return bus_guest_call(argv[1], "Pause", "pause the guest", "");
}

int verb_unpause(int argc, char **argv) {
        return bus_guest_call(argv[1], "Unpause", "unpause the guest", "");
}

/* ------------------------------------------------------------ stop */

/* Stop waits for the guest to shut down (up to the policy's
 * timeouts.stop, at most an hour) and the launcher to end: longer than
 * the bus's default 25 s. The answer says how it ended. */
#define STOP_CALL_USEC ((GUEST_TIMEOUT_MAX_S + 120ULL) * 1000000)

/* How it ended (the guest's state reason: a launcher's words), as text
 * or as JSON ({"name", "state_reason"}, status's key). */
static int stop_print(const char *name, const char *how) {
        _cleanup_(output_json_putp) struct json_object *o = NULL;
        _cleanup_free_ char *text = NULL;

        if (args.json) {
                o = json_object_new_object();
                if (!o)
                        return output_oom();
                json_object_object_add(o, "name", json_object_new_string(name));
                json_object_object_add(o, "state_reason", json_object_new_string(how));
                return output_json(o);
        }
        text = output_text(how, strlen(how), 0);
        if (!text)
                return output_oom();
        printf("%s: %s\n", name, text);
        return fflush(stdout) == 0 ? GUESTCTL_EXIT_OK : GUESTCTL_EXIT_FAIL;
}

int verb_stop(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *how = NULL;
        int r;

        r = bus_guest_open(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "Stop");
        if (r >= 0)
                r = sd_bus_message_append(call, "b", (int) args.force);
        if (r < 0)
                return output_oom();
        r = sd_bus_call(bus, call, STOP_CALL_USEC, &error, &reply);
        if (r < 0)
                return bus_guest_call_failed(argv[1], &error, r, "stop the guest");
        if (sd_bus_message_read(reply, "s", &how) < 0 || !how || !*how)
                how = "stopped";
        return stop_print(argv[1], how);
}

/* ------------------------------------------------------------ suspend, resume */

/* How long Suspend and Resume may take: writing a large guest's memory
 * to disk is bounded by the disk, not by the bus's default 25 s. */
#define LONG_CALL_USEC (30ULL * 60 * 1000000)

struct long_call {
        const char *name;
        const char *what;    /* "suspend the guest" */
        const char *drawing; /* "Suspending" */
        bool done;
        bool bar_shown;
        sd_bus_error error;
        int r;
};

static int long_call_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct long_call *c = userdata;

        c->done = true;
        if (sd_bus_message_is_method_error(m, NULL)) {
                c->r = -sd_bus_message_get_errno(m) ?: -EIO;
                (void) sd_bus_error_copy(&c->error, sd_bus_message_get_error(m));
        }
        return 0;
}

/* "Suspending web [##########..........]  50%  128/256 MiB" on stderr. */
static void progress_draw(struct long_call *c, uint64_t done, uint64_t total) {
        const unsigned width = 30;
        unsigned filled;
        char bar[64];

        if (total == 0)
                return;
        filled = (unsigned) (MIN(done, total) * width / total);
        for (unsigned i = 0; i < width; i++)
                bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r%s %s [%s] %3u%%  %" PRIu64 "/%" PRIu64 " MiB", c->drawing, c->name, bar,
                (unsigned) (MIN(done, total) * 100 / total), done / MiB, total / MiB);
        fflush(stderr);
        c->bar_shown = true;
}

/* PropertiesChanged on the guest: Progress moves the bar. */
static int long_call_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct long_call *c = userdata;
        const char *iface, *property;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, GUESTD_GUEST_IFACE) != 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                uint64_t done, total;
                r = sd_bus_message_read(m, "s", &property);
                if (r >= 0 && strcmp(property, "Progress") == 0) {
                        r = sd_bus_message_read(m, "v", "(tt)", &done, &total);
                        if (r >= 0)
                                progress_draw(c, done, total);
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return 0;
}

/* guestd sends PropertiesChanged only to subscribers, and only about
 * their own guests. No bar is no failure. */
static void long_call_watch(sd_bus *bus, const char *path, struct long_call *c, sd_bus_slot **ret_slot) {
        int r;

        r = sd_bus_match_signal(bus, ret_slot, GUESTD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                long_call_properties, c);
        if (r >= 0)
                r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "Subscribe", NULL, NULL, "");
        if (r < 0)
                log_debug_errno(r, "No progress bar (cannot watch the guest): %m");
}

/* Runs bus until c's answer came; an exit status. */
static int long_call_wait(sd_bus *bus, struct long_call *c) {
        int r = 0;

        while (!c->done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && !c->done)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        if (c->bar_shown)
                fputc('\n', stderr);
        if (!c->done) {
                log_error_errno(r, "Lost guestd while waiting for it to %s: %m", c->what);
                return GUESTCTL_EXIT_UNREACHABLE;
        }
        if (c->r < 0)
                return bus_guest_call_failed(c->name, &c->error, c->r, c->what);
        return GUESTCTL_EXIT_OK;
}

/* Calls method (Suspend or Resume) on the guest and waits for its answer,
 * drawing Progress as a bar where stderr is a terminal (never with
 * --json). */
static int guest_call_long(const char *name, const char *method, const char *what, const char *drawing) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *reply_slot = NULL, *match_slot = NULL;
        _cleanup_free_ char *path = NULL;
        struct long_call c = { .name = name, .what = what, .drawing = drawing, .error = SD_BUS_ERROR_NULL };
        int r;

        r = bus_guest_open(name, &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (!args.json && isatty(STDERR_FILENO))
                long_call_watch(bus, path, &c, &match_slot);
        r = sd_bus_message_new_method_call(bus, &call, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, method);
        if (r >= 0)
                r = sd_bus_call_async(bus, &reply_slot, call, long_call_reply, &c, LONG_CALL_USEC);
        if (r < 0) {
                log_error_errno(r, "Cannot ask guestd to %s: %m", what);
                return GUESTCTL_EXIT_UNREACHABLE;
        }
        r = long_call_wait(bus, &c);
        sd_bus_error_free(&c.error);
        return r;
}

int verb_suspend(int argc, char **argv) {
        return guest_call_long(argv[1], "Suspend", "suspend the guest", "Suspending");
}

int verb_resume(int argc, char **argv) {
        return guest_call_long(argv[1], "Resume", "resume the guest", "Resuming");
}
