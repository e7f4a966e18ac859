/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-pressure.c: memory pressure events: a FIFO as $MEMORY_PRESSURE_WATCH
 * (as tests drive pressure), each write one event; a socket the same, and
 * its end is no event; "/dev/null" switches watching off; a device or a
 * directory is refused with a reason; and the host's own PSI file takes
 * our trigger where it exists. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pressure.h"
#include "test.h"

static int events;

static void on_pressure(struct pressure *p, void *userdata) {
        events++;
}

/* Runs the loop until nothing is pending (a short wait for each event). */
static void settle(sd_event *e) {
        while (sd_event_run(e, 100 * 1000) > 0)
                ;
}

int main(void) {
        char dir[] = "/tmp/test-pressure.XXXXXX", fifo[128], sock[128];
        struct pressure *p = NULL;
        char *what = NULL;
        sd_event *e = NULL;
        int w;

        CHECK(mkdtemp(dir));
        CHECK_EQ(sd_event_new(&e), 0);

        /* A FIFO, through the environment as systemd sets it. */
        snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
        CHECK_EQ(mkfifo(fifo, 0600), 0);
        setenv("MEMORY_PRESSURE_WATCH", fifo, 1);
        CHECK_EQ(pressure_new(e, NULL, on_pressure, NULL, &p, &what), 0);
        CHECK(what && strstr(what, fifo));
        free(what);
        w = open(fifo, O_WRONLY | O_CLOEXEC);
        CHECK(w >= 0);
        settle(e);
        CHECK_EQ(events, 0);
        CHECK_EQ(write(w, "x", 1), 1);
        settle(e);
        CHECK_EQ(events, 1);
        CHECK_EQ(write(w, "yy", 2), 2);
        settle(e);
        CHECK_EQ(events, 2);
        /* The writer going is no event, and no busy loop. */
        close(w);
        settle(e);
        CHECK_EQ(events, 2);
        p = pressure_free(p);

        /* A socket that signals by becoming readable. */
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c;
                snprintf(sock, sizeof(sock), "%s/sock", dir);
                strcpy(sa.sun_path, sock);
                CHECK_EQ(bind(l, (struct sockaddr *) &sa, sizeof(sa)), 0);
                CHECK_EQ(listen(l, 1), 0);
                CHECK_EQ(pressure_new(e, sock, on_pressure, NULL, &p, &what), 0);
                free(what);
                c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                CHECK(c >= 0);
                CHECK_EQ(write(c, "p", 1), 1);
                settle(e);
                CHECK_EQ(events, 3);
                close(c);
                settle(e);
                CHECK_EQ(events, 3);
                close(l);
                p = pressure_free(p);
        }

        /* Switched off; refused. */
        CHECK_EQ(pressure_new(e, "/dev/null", on_pressure, NULL, &p, &what), -ENODATA);
        CHECK_EQ(pressure_new(e, "/dev/zero", on_pressure, NULL, &p, &what), -EINVAL);
        CHECK(what && strstr(what, "not a PSI file"));
        free(what);
        CHECK(pressure_new(e, dir, on_pressure, NULL, &p, &what) < 0); /* a directory */
        CHECK(what && strstr(what, "cannot open"));
        free(what);
        CHECK(pressure_new(e, "/nonexistent/pressure", on_pressure, NULL, &p, &what) < 0);
        CHECK(what && strstr(what, "cannot open"));
        free(what);

        /* The host's PSI, where it has one. */
        unsetenv("MEMORY_PRESSURE_WATCH");
        if (access("/proc/pressure/memory", W_OK) == 0) {
                int r = pressure_new(e, NULL, on_pressure, NULL, &p, &what);
                printf("/proc/pressure/memory: %s\n", r == 0 ? what : strerror(-r));
                CHECK_EQ(r, 0);
                free(what);
                p = pressure_free(p);
        } else
                printf("this host has no writable /proc/pressure/memory: the PSI case is not tried\n");

        unlink(fifo);
        unlink(sock);
        rmdir(dir);
        sd_event_unref(e);
        return TEST_RESULT();
}
