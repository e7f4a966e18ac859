/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * startlat: guestd start benchmarks, as an ordinary D-Bus client.
 *
 * latency: for each run, a fresh guest is created (so its console log is
 * empty), then the clock starts, Start is called, and GetConsoleLog is
 * polled until it returns a first byte: the time from the Start call to
 * the moment any client could see the guest's first console output. The
 * poll costs one bus round trip (tens of microseconds) of resolution. The
 * guest (a payload that prints and powers off) is then waited for and
 * removed. p50 and p99 over --runs.
 *
 * throughput: --clients processes, each with its own bus connection and
 * its own guest, start the guest, wait until it has stopped by itself, and
 * start it again, for --seconds. Counted: Start calls that succeeded;
 * reported per second of wall time over all clients.
 *
 * Output is key=value on one line, for bench/bench-daemon.sh.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#include "bus-api.h"

static const char *arg_bus, *arg_kernel, *arg_mode = "latency";
static unsigned arg_runs = 100, arg_clients = 4, arg_seconds = 10, arg_memory = 16;

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static sd_bus *connect_bus(void) {
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, arg_bus);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "startlat: cannot connect to %s: %s\n", arg_bus, strerror(-r));
                exit(1);
        }
        return bus;
}

static int call(sd_bus *bus, const char *path, const char *iface, const char *method, sd_bus_message **reply,
                const char *types, ...) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_call_methodv(bus, GUESTD_BUS_NAME, path, iface, method, &error, reply, types, ap);
        va_end(ap);
        if (r < 0)
                fprintf(stderr, "startlat: %s: %s\n", method, error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        return r;
}

/* Creates guest NAME (replacing a leftover of the same name). */
static int guest_create(sd_bus *bus, const char *name, char **ret_path) {
        char config[1024];
        sd_bus_message *reply = NULL;
        const char *path;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "RemoveGuest", &error, NULL, "s", name);
        sd_bus_error_free(&error);
        snprintf(config, sizeof(config), "{\"kernel\": \"%s\", \"memory_mib\": %u, \"vcpus\": 1}", arg_kernel, arg_memory);
        r = call(bus, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "CreateGuest", &reply, "ss", name, config);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                *ret_path = strdup(path);
        sd_bus_message_unref(reply);
        return r;
}

static int guest_state(sd_bus *bus, const char *path, char **ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_string(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "State", &error, ret);
        sd_bus_error_free(&error);
        return r;
}

/* Waits until the guest is out of the active states (it powers off by itself). */
static int guest_wait_stopped(sd_bus *bus, const char *path, double timeout_ms) {
        double end = now_ms() + timeout_ms;
        while (now_ms() < end) {
                char *s = NULL;
                int r = guest_state(bus, path, &s);
                if (r < 0)
                        return r;
                bool done = strcmp(s, "stopped") == 0 || strcmp(s, "crashed") == 0 || strcmp(s, "defined") == 0;
                free(s);
                if (done)
                        return 0;
                usleep(1000);
        }
        fprintf(stderr, "startlat: guest %s did not stop in time\n", path);
        return -ETIMEDOUT;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static int mode_latency(void) {
        sd_bus *bus = connect_bus();
        double *lat = calloc(arg_runs, sizeof(double));
        unsigned failures = 0, n = 0;

        for (unsigned i = 0; i < arg_runs; i++) {
                char name[64], *path = NULL;
                snprintf(name, sizeof(name), "startlat-%u", i);
                if (guest_create(bus, name, &path) < 0) {
                        failures++;
                        continue;
                }
                double t0 = now_ms(), t1 = 0;
                if (call(bus, path, GUESTD_GUEST_IFACE, "Start", NULL, "") < 0) {
                        failures++;
                        goto next;
                }
                for (;;) {
                        sd_bus_message *reply = NULL;
                        const void *data;
                        size_t size = 0;
                        if (call(bus, path, GUESTD_GUEST_IFACE, "GetConsoleLog", &reply, "") < 0)
                                break;
                        if (sd_bus_message_read_array(reply, 'y', &data, &size) < 0)
                                size = 0;
                        sd_bus_message_unref(reply);
                        if (size > 0) {
                                t1 = now_ms();
                                break;
                        }
                        if (now_ms() - t0 > 10000)
                                break;
                }
                if (t1 > 0)
                        lat[n++] = t1 - t0;
                else
                        failures++;
                guest_wait_stopped(bus, path, 10000);
        next:
                call(bus, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "RemoveGuest", NULL, "s", name);
                free(path);
        }
        if (n == 0) {
                printf("runs=0 failures=%u\n", failures);
                return 1;
        }
        qsort(lat, n, sizeof(double), cmp_double);
        /* Nearest-rank percentiles. */
        size_t i50 = (n * 50 + 99) / 100, i99 = (n * 99 + 99) / 100;
        printf("runs=%u failures=%u min_ms=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n, failures, lat[0],
               lat[i50 ? i50 - 1 : 0], lat[i99 ? i99 - 1 : 0], lat[n - 1]);
        sd_bus_flush_close_unref(bus);
        return failures ? 1 : 0;
}

static void throughput_client(unsigned id, double end, int out_fd) {
        sd_bus *bus = connect_bus();
        char name[64], *path = NULL;
        unsigned starts = 0, failures = 0;

        snprintf(name, sizeof(name), "startrate-%u", id);
        if (guest_create(bus, name, &path) < 0)
                _exit(1);
        while (now_ms() < end) {
                if (call(bus, path, GUESTD_GUEST_IFACE, "Start", NULL, "") < 0) {
                        failures++;
                        usleep(10000);
                        continue;
                }
                starts++;
                if (guest_wait_stopped(bus, path, 10000) < 0)
                        failures++;
        }
        guest_wait_stopped(bus, path, 10000);
        call(bus, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "RemoveGuest", NULL, "s", name);
        dprintf(out_fd, "%u %u\n", starts, failures);
        _exit(0);
}

static int mode_throughput(void) {
        int p[2];
        if (pipe(p) < 0)
                return 1;
        double t0 = now_ms(), end = t0 + arg_seconds * 1e3;
        for (unsigned i = 0; i < arg_clients; i++)
                if (fork() == 0) {
                        close(p[0]);
                        throughput_client(i, end, p[1]);
                }
        close(p[1]);
        while (wait(NULL) > 0)
                ;
        double t1 = now_ms();
        FILE *f = fdopen(p[0], "r");
        unsigned starts = 0, failures = 0, s, fl, clients = 0;
        while (fscanf(f, "%u %u", &s, &fl) == 2) {
                starts += s;
                failures += fl;
                clients++;
        }
        /* The clients' clocks end at `end`; the tail (last guest stopping,
         * removal) is not counted as start time. */
        double seconds = (MIN(t1, end) - t0) / 1e3;
        printf("clients=%u starts=%u failures=%u seconds=%.1f starts_per_s=%.1f\n", clients, starts, failures, seconds,
               starts / seconds);
        return clients == arg_clients ? 0 : 1;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "bus", required_argument, NULL, 'b' },     { "kernel", required_argument, NULL, 'k' },
                { "mode", required_argument, NULL, 'm' },    { "runs", required_argument, NULL, 'n' },
                { "clients", required_argument, NULL, 'c' }, { "seconds", required_argument, NULL, 's' },
                { "memory", required_argument, NULL, 'M' },  {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'b': arg_bus = optarg; break;
                case 'k': arg_kernel = optarg; break;
                case 'm': arg_mode = optarg; break;
                case 'n': arg_runs = atoi(optarg); break;
                case 'c': arg_clients = atoi(optarg); break;
                case 's': arg_seconds = atoi(optarg); break;
                case 'M': arg_memory = atoi(optarg); break;
                default: return 2;
                }
        }
        if (!arg_bus || !arg_kernel || arg_runs == 0 || arg_clients == 0) {
                fprintf(stderr, "usage: startlat --bus ADDRESS --kernel ABS-PATH [--mode latency|throughput] [--runs N] "
                                "[--clients N] [--seconds N] [--memory MiB]\n");
                return 2;
        }
        if (strcmp(arg_mode, "latency") == 0)
                return mode_latency();
        if (strcmp(arg_mode, "throughput") == 0)
                return mode_throughput();
        fprintf(stderr, "startlat: unknown mode %s\n", arg_mode);
        return 2;
}
