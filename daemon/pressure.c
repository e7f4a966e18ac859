/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pressure.c: see pressure.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "pressure.h"
#include "util.h"

struct pressure {
        int fd;
        bool psi; /* POLLPRI on a PSI file; else POLLIN on a FIFO or socket */
        sd_event_source *source;
        pressure_handler_t handler;
        void *userdata;
};

/* RFC 4648 base64, as systemd writes $MEMORY_PRESSURE_WRITE. */
static int base64_decode(const char *in, char **ret, size_t *ret_len) {
        size_t n = strlen(in), len = 0;
        uint32_t acc = 0;
        int bits = 0;
        char *out = malloc(n / 4 * 3 + 4);

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = in[i];
                int v;
                if (c >= 'A' && c <= 'Z')
                        v = c - 'A';
                else if (c >= 'a' && c <= 'z')
                        v = c - 'a' + 26;
                else if (c >= '0' && c <= '9')
                        v = c - '0' + 52;
                else if (c == '+')
                        v = 62;
                else if (c == '/')
                        v = 63;
                else if (c == '=')
                        break;
                else {
                        free(out);
                        return -EINVAL;
                }
                acc = acc << 6 | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[len++] = (char) (acc >> bits & 0xff);
                }
        }
        out[len] = 0;
        *ret = out;
        *ret_len = len;
        return 0;
}

static int on_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct pressure *p = userdata;
        bool data = false, ended = false;

        if (p->psi) {
                if (revents & EPOLLPRI)
                        p->handler(p, p->userdata);
                return 0;
        }
        /* A FIFO or socket: what arrived is the signal; end-of-file (a
         * socket whose other end went) means no more will come. */
        for (;;) {
                char buf[256];
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n > 0)
                        data = true;
                else {
                        ended = n == 0 || (errno != EAGAIN && errno != EINTR);
                        break;
                }
        }
        if (data)
                p->handler(p, p->userdata);
        if (ended) {
                log_warning("The memory pressure source has ended; no more pressure events");
                p->source = sd_event_source_disable_unref(p->source);
        }
        return 0;
}

int pressure_new(sd_event *event, const char *watch, pressure_handler_t handler, void *userdata, struct pressure **ret,
                 char **ret_what) {
        _cleanup_free_ char *trigger = NULL;
        const char *path = watch ? watch : getenv("MEMORY_PRESSURE_WATCH");
        struct pressure *p;
        size_t trigger_len = 0;
        struct stat st;
        int r;

        *ret_what = NULL;
        if (!path || !*path)
                path = "/proc/pressure/memory";
        if (strcmp(path, "/dev/null") == 0)
                return -ENODATA;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->fd = -EBADF;
        p->handler = handler;
        p->userdata = userdata;
        if (stat(path, &st) >= 0 && S_ISSOCK(st.st_mode)) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                if (strlen(path) >= sizeof(sa.sun_path)) {
                        pressure_free(p);
                        return -ENAMETOOLONG;
                }
                strcpy(sa.sun_path, path);
                p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (p->fd >= 0 && connect(p->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        p->fd = safe_close(p->fd);
        } else
                /* O_RDWR on a FIFO: never blocks, and never sees end-of-file
                 * when a writer goes (we are a writer too). */
                p->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (p->fd < 0 || fstat(p->fd, &st) < 0) {
                r = -errno;
                if (asprintf(ret_what, "cannot open %s: %s", path, strerror(-r)) < 0)
                        *ret_what = NULL;
                pressure_free(p);
                return r;
        }
        p->psi = S_ISREG(st.st_mode);
        if (p->psi) {
                const char *env = watch ? NULL : getenv("MEMORY_PRESSURE_WRITE");
                if (env && *env) {
                        r = base64_decode(env, &trigger, &trigger_len);
                        if (r < 0) {
                                if (asprintf(ret_what, "$MEMORY_PRESSURE_WRITE is not base64") < 0)
                                        *ret_what = NULL;
                                pressure_free(p);
                                return r;
                        }
                } else {
                        trigger = strdup(PRESSURE_TRIGGER_DEFAULT);
                        if (!trigger) {
                                pressure_free(p);
                                return -ENOMEM;
                        }
                        trigger_len = strlen(trigger) + 1; /* PSI wants the NUL */
                }
                if (write(p->fd, trigger, trigger_len) < 0) {
                        r = -errno;
                        if (asprintf(ret_what, "cannot set the trigger \"%s\" on %s: %s", trigger, path, strerror(-r)) < 0)
                                *ret_what = NULL;
                        pressure_free(p);
                        return r;
                }
        } else if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)) {
                if (asprintf(ret_what, "%s is not a PSI file, a FIFO or a socket", path) < 0)
                        *ret_what = NULL;
                pressure_free(p);
                return -EINVAL;
        }
        r = sd_event_add_io(event, &p->source, p->fd, p->psi ? EPOLLPRI : EPOLLIN, on_event, p);
        if (r < 0) {
                pressure_free(p);
                return r;
        }
        if (asprintf(ret_what, "%s (%s)", path, p->psi ? (trigger ? trigger : "") : "readable means pressure") < 0)
                *ret_what = NULL;
        *ret = p;
        return 0;
}

struct pressure *pressure_free(struct pressure *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->source);
        safe_close(p->fd);
        free(p);
        return NULL;
}
