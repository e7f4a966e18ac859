/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-call: a D-Bus client for the hostile-user tests. Like `busctl call`,
 * but it says which error came back (busctl prints only the message), can
 * attach fds the signature does not ask for, and can repeat a call many
 * times on one connection.
 *
 *   bus-call ADDRESS PATH INTERFACE METHOD [SIGNATURE [ARG...]] [options]
 *     --fd=KIND      attach an extra fd: dir, pipe, socket, devnull (repeatable)
 *     --repeat=N     make the call N times, waiting for each reply
 *     --pipeline     with --repeat: send all N calls first, then collect
 *                    the replies (calls the daemon keeps waiting pile up)
 *     --expect=NAME  exit 0 only if every call failed with error NAME (or
 *                    with one of NAME|NAME|...)
 *
 * SIGNATURE holds basic types only (y b n q i u x t d s o g). String
 * arguments may carry \xNN escapes for control characters. Output: one
 * line per distinct outcome, "OK" or "ERROR <name>: <message>", with a
 * count. Exit status: 0 if every call succeeded (or, with --expect, failed
 * with that error), 1 otherwise, 2 for a usage or connection error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bus-api.h"

#define MAX_FDS 8

static char *unescape(const char *s) {
        char *out = malloc(strlen(s) + 1), *p = out;

        if (!out)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
                        char hex[3] = { s[2], s[3], 0 };
                        *p++ = (char) strtoul(hex, NULL, 16);
                        s += 4;
                } else
                        *p++ = *s++;
        }
        *p = 0;
        return out;
}

static int append_arg(sd_bus_message *m, char type, const char *text) {
        char *end = NULL;
        errno = 0;
        switch (type) {
        case 'y': return sd_bus_message_append_basic(m, type, &(uint8_t) { (uint8_t) strtoul(text, &end, 0) });
        case 'b': return sd_bus_message_append_basic(m, type, &(int) { strcmp(text, "true") == 0 || strcmp(text, "1") == 0 });
        case 'n': return sd_bus_message_append_basic(m, type, &(int16_t) { (int16_t) strtol(text, &end, 0) });
        case 'q': return sd_bus_message_append_basic(m, type, &(uint16_t) { (uint16_t) strtoul(text, &end, 0) });
        case 'i': return sd_bus_message_append_basic(m, type, &(int32_t) { (int32_t) strtol(text, &end, 0) });
        case 'u': return sd_bus_message_append_basic(m, type, &(uint32_t) { (uint32_t) strtoul(text, &end, 0) });
        case 'x': return sd_bus_message_append_basic(m, type, &(int64_t) { strtoll(text, &end, 0) });
        case 't': return sd_bus_message_append_basic(m, type, &(uint64_t) { strtoull(text, &end, 0) });
        case 'd': return sd_bus_message_append_basic(m, type, &(double) { strtod(text, &end) });
        case 's':
        case 'o':
        case 'g': {
                char *v = unescape(text);
                int r = v ? sd_bus_message_append_basic(m, type, v) : -ENOMEM;
                free(v);
                return r;
        }
        default: return -EINVAL;
        }
}

static bool error_expected(const sd_bus_error *e, const char *expect) {
        size_t len = e->name ? strlen(e->name) : 0;

        for (const char *p = expect; p && *p;) {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t) (bar - p) : strlen(p);
                if (len == n && strncmp(e->name, p, n) == 0)
                        return true;
                p = bar ? bar + 1 : NULL;
        }
        return false;
}

struct outcome {
        const char *expect;
        unsigned long replies, ok, expected, other;
        char last_other[512];
};

static void count_outcome(struct outcome *o, int r, const sd_bus_error *error) {
        if (r >= 0)
                o->ok++;
        else if (o->expect && error_expected(error, o->expect))
                o->expected++;
        else {
                o->other++;
                snprintf(o->last_other, sizeof(o->last_other), "ERROR %s: %s", error->name ? error->name : "(none)",
                         error->message ? error->message : strerror(-r));
        }
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct outcome *o = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        o->replies++;
        count_outcome(o, e ? -EIO : 0, e);
        return 0;
}

static int open_kind(const char *kind) {
        int p[2];
        if (strcmp(kind, "dir") == 0)
                return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (strcmp(kind, "devnull") == 0)
                return open("/dev/null", O_RDWR | O_CLOEXEC);
        if (strcmp(kind, "pipe") == 0)
                return pipe2(p, O_CLOEXEC) < 0 ? -1 : p[0];
        if (strcmp(kind, "socket") == 0)
                return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0 ? -1 : p[0];
        return -1;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "fd", required_argument, NULL, 'f' },
                { "repeat", required_argument, NULL, 'r' },
                { "expect", required_argument, NULL, 'e' },
                { "pipeline", no_argument, NULL, 'p' },
                {},
        };
        const char *expect = NULL, *signature = "";
        unsigned long repeat = 1, ok = 0, expected = 0, other = 0;
        bool pipeline = false;
        struct outcome pipe_outcome = {};
        int fds[MAX_FDS], n_fds = 0, c, r;
        char last_other[512] = "";
        sd_bus *bus = NULL;

        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (n_fds == MAX_FDS || (fds[n_fds] = open_kind(optarg)) < 0) {
                                fprintf(stderr, "bus-call: bad --fd=%s\n", optarg);
                                return 2;
                        }
                        n_fds++;
                        break;
                case 'r': repeat = strtoul(optarg, NULL, 10); break;
                case 'e': expect = optarg; break;
                case 'p': pipeline = true; break;
                default: return 2;
                }
        if (argc - optind < 4) {
                fprintf(stderr, "usage: bus-call [--fd=KIND]... [--repeat=N] [--expect=ERROR] ADDRESS PATH INTERFACE METHOD [SIGNATURE [ARG...]]\n");
                return 2;
        }
        const char *address = argv[optind], *path = argv[optind + 1], *iface = argv[optind + 2], *method = argv[optind + 3];
        if (argc - optind > 4)
                signature = argv[optind + 4];
        char **args = argv + optind + 5;
        int n_args = argc - optind - 5;
        if (n_args < 0)
                n_args = 0;
        if ((int) strlen(signature) != n_args) {
                fprintf(stderr, "bus-call: signature '%s' wants %zu arguments, got %d\n", signature, strlen(signature), n_args);
                return 2;
        }

        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, address)) < 0 || (r = sd_bus_set_bus_client(bus, 1)) < 0 ||
            (r = sd_bus_negotiate_fds(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0) {
                fprintf(stderr, "bus-call: cannot connect to %s: %s\n", address, strerror(-r));
                return 2;
        }
        for (unsigned long i = 0; i < repeat; i++) {
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;

                r = sd_bus_message_new_method_call(bus, &m, GUESTD_BUS_NAME, path, iface, method);
                for (int a = 0; r >= 0 && a < n_args; a++)
                        r = append_arg(m, signature[a], args[a]);
                /* Extra fds ride along in the message whatever its
                 * signature says (its unix_fds header counts them). */
                for (int k = 0; r >= 0 && k < n_fds; k++) {
                        r = sd_bus_message_append_basic(m, 'h', &fds[k]);
                }
                if (r < 0) {
                        fprintf(stderr, "bus-call: cannot build the message: %s\n", strerror(-r));
                        return 2;
                }
                if (pipeline) {
                        r = sd_bus_call_async(bus, NULL, m, on_reply, &pipe_outcome, 120 * 1000000ULL);
                        sd_bus_message_unref(m);
                        if (r < 0) {
                                fprintf(stderr, "bus-call: cannot send call %lu: %s\n", i, strerror(-r));
                                return 2;
                        }
                        continue;
                }
                r = sd_bus_call(bus, m, 10 * 1000000ULL, &error, &reply);
                if (r >= 0)
                        ok++;
                else if (expect && error_expected(&error, expect))
                        expected++;
                else {
                        other++;
                        snprintf(last_other, sizeof(last_other), "ERROR %s: %s", error.name ? error.name : "(none)",
                                 error.message ? error.message : strerror(-r));
                }
                if (repeat == 1) {
                        if (r >= 0)
                                printf("OK %s\n", sd_bus_message_get_signature(reply, true));
                        else
                                printf("ERROR %s: %s\n", error.name ? error.name : "(none)", error.message ? error.message : strerror(-r));
                }
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
                sd_bus_message_unref(m);
        }
        if (pipeline) {
                pipe_outcome.expect = expect;
                while (pipe_outcome.replies < repeat) {
                        r = sd_bus_process(bus, NULL);
                        if (r < 0) {
                                fprintf(stderr, "bus-call: connection failed: %s\n", strerror(-r));
                                return 2;
                        }
                        if (r == 0 && sd_bus_wait(bus, 130 * 1000000ULL) <= 0)
                                break;
                }
                ok = pipe_outcome.ok;
                expected = pipe_outcome.expected;
                other = pipe_outcome.other + (repeat - pipe_outcome.replies);
                memcpy(last_other, pipe_outcome.last_other, sizeof(last_other));
        }
        if (repeat > 1) {
                printf("calls=%lu ok=%lu expected=%lu other=%lu\n", repeat, ok, expected, other);
                if (other)
                        printf("last unexpected: %s\n", last_other);
        }
        sd_bus_flush_close_unref(bus);
        if (expect)
                return expected == repeat ? 0 : 1;
        return ok == repeat ? 0 : 1;
}
