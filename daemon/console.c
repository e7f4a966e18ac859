/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* console.c: see console.h. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "console.h"
#include "log.h"

/* Bytes waiting to be written to a non-blocking fd. */
struct outbuf {
        uint8_t *data;
        size_t len;
};

struct console_client {
        struct console_client *next;
        struct console *console;
        uid_t uid;
        bool writer; /* its input goes to the guest; others' is dropped */
        int fd;
        sd_event_source *source;
        struct outbuf out;
};

struct console {
        sd_event *event;
        char *guest_id;
        int guest_fd;
        sd_event_source *guest_source;
        struct outbuf guest_in; /* typed by clients, not yet taken by the guest */
        struct console_client *clients;
        struct console_ring ring;
};

void console_ring_append(struct console_ring *r, const void *buf, size_t len) {
        const uint8_t *p = buf;

        /* Only the tail can survive: skip what would be overwritten anyway. */
        if (len > CONSOLE_LOG_SIZE) {
                p += len - CONSOLE_LOG_SIZE;
                len = CONSOLE_LOG_SIZE;
        }
        for (size_t i = 0; i < len;) {
                size_t end = (r->start + r->len) % CONSOLE_LOG_SIZE;
                size_t chunk = MIN(len - i, CONSOLE_LOG_SIZE - end);

                memcpy(r->data + end, p + i, chunk);
                i += chunk;
                r->len += chunk;
                if (r->len > CONSOLE_LOG_SIZE) {
                        r->start = (r->start + (r->len - CONSOLE_LOG_SIZE)) % CONSOLE_LOG_SIZE;
                        r->len = CONSOLE_LOG_SIZE;
                }
        }
}

size_t console_ring_copy(const struct console_ring *r, uint8_t *out, size_t size) {
        size_t n = MIN(size, r->len), first = MIN(n, CONSOLE_LOG_SIZE - r->start);

        memcpy(out, r->data + r->start, first);
        memcpy(out + first, r->data, n - first);
        return n;
}

static void outbuf_done(struct outbuf *b) {
        free(b->data);
        *b = (struct outbuf) {};
}

/* Writes what it can of the buffer, then of buf, and keeps the rest;
 * -ENOBUFS if the rest would exceed max, -errno if the fd failed. */
static int outbuf_write(struct outbuf *b, int fd, const void *buf, size_t len, size_t max) {
        const uint8_t *p = buf;

        while (b->len > 0) {
                ssize_t n = write(fd, b->data, b->len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                memmove(b->data, b->data + n, b->len - n);
                b->len -= n;
        }
        while (b->len == 0 && len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                p += n;
                len -= n;
        }
        if (len > 0) {
                uint8_t *d;
                if (b->len + len > max)
                        return -ENOBUFS;
                d = realloc(b->data, b->len + len);
                if (!d)
                        return -ENOMEM;
                memcpy(d + b->len, p, len);
                b->data = d;
                b->len += len;
        }
        return 0;
}

static void client_free(struct console_client *cl) {
        sd_event_source_disable_unref(cl->source);
        safe_close(cl->fd);
        outbuf_done(&cl->out);
        free(cl);
}

static void console_drop_client(struct console *c, struct console_client *cl, const char *why) {
        for (struct console_client **p = &c->clients; *p; p = &(*p)->next)
                if (*p == cl) {
                        *p = cl->next;
                        break;
                }
        log_debug("Guest %s: console client dropped: %s", c->guest_id, why);
        client_free(cl);
}

static void console_update_guest_events(struct console *c) {
        if (c->guest_source)
                (void) sd_event_source_set_io_events(c->guest_source, EPOLLIN | (c->guest_in.len > 0 ? EPOLLOUT : 0));
}

static void console_send_to_guest(struct console *c, const void *buf, size_t len) {
        int r;

        if (c->guest_fd < 0)
                return;
        r = outbuf_write(&c->guest_in, c->guest_fd, buf, len, CONSOLE_INPUT_BUFFER_MAX);
        if (r == -ENOBUFS)
                /* The guest does not read its serial port: typing more
                 * cannot help, and must not grow the daemon. */
                log_debug("Guest %s: console input dropped, the guest is not reading", c->guest_id);
        console_update_guest_events(c);
}

static int client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct console_client *cl = userdata;
        struct console *c = cl->console;
        uint8_t buf[4096];
        int r;

        if (revents & EPOLLOUT) {
                r = outbuf_write(&cl->out, cl->fd, NULL, 0, CONSOLE_CLIENT_BUFFER_MAX);
                if (r < 0) {
                        console_drop_client(c, cl, "write failed");
                        return 0;
                }
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t n = read(cl->fd, buf, sizeof(buf));
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n <= 0) {
                        console_drop_client(c, cl, n == 0 ? "closed" : "read failed");
                        return 0;
                }
                if (cl->writer)
                        console_send_to_guest(c, buf, n);
        }
        (void) sd_event_source_set_io_events(cl->source, EPOLLIN | (cl->out.len > 0 ? EPOLLOUT : 0));
        return 0;
}

static void console_broadcast(struct console *c, const uint8_t *buf, size_t len) {
        struct console_client *cl = c->clients, *next;

        console_ring_append(&c->ring, buf, len);
        for (; cl; cl = next) {
                next = cl->next;
                if (outbuf_write(&cl->out, cl->fd, buf, len, CONSOLE_CLIENT_BUFFER_MAX) < 0) {
                        console_drop_client(c, cl, "too slow or gone");
                        continue;
                }
                (void) sd_event_source_set_io_events(cl->source, EPOLLIN | (cl->out.len > 0 ? EPOLLOUT : 0));
        }
}

static void console_close_guest(struct console *c) {
        c->guest_source = sd_event_source_disable_unref(c->guest_source);
        c->guest_fd = safe_close(c->guest_fd);
        outbuf_done(&c->guest_in);
}

static void console_sink(void *userdata, const void *data, size_t n) {
        console_broadcast(userdata, data, n);
}

/* Reads what is there; returns 0 at end of file, 1 if more may come. */
static int console_read_guest(struct console *c) {
        uint8_t buf[16384];

        return read_available(c->guest_fd, buf, sizeof(buf), 16, console_sink, c);
}

static int guest_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct console *c = userdata;

        if (revents & EPOLLOUT)
                (void) outbuf_write(&c->guest_in, c->guest_fd, NULL, 0, CONSOLE_INPUT_BUFFER_MAX);
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (console_read_guest(c) == 0) {
                        /* The launcher closed its end: clients see end of file. */
                        console_detach_guest(c);
                        return 0;
                }
        }
        console_update_guest_events(c);
        return 0;
}

int console_new(sd_event *event, const char *guest_id, struct console **ret) {
        struct console *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->guest_id = strdup(guest_id);
        c->guest_fd = -EBADF;
        if (!c->guest_id) {
                console_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

struct console *console_free(struct console *c) {
        if (!c)
                return NULL;
        console_close_guest(c);
        while (c->clients) {
                struct console_client *cl = c->clients;
                c->clients = cl->next;
                client_free(cl);
        }
        sd_event_unref(c->event);
        free(c->guest_id);
        free(c);
        return NULL;
}

int console_attach_guest(struct console *c, int fd) {
        int r;

        console_close_guest(c);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        c->guest_fd = fd;
        r = sd_event_add_io(c->event, &c->guest_source, fd, EPOLLIN, guest_io, c);
        if (r < 0) {
                c->guest_fd = safe_close(c->guest_fd);
                return r;
        }
        return 0;
}

void console_detach_guest(struct console *c) {
        if (!c)
                return;
        if (c->guest_fd >= 0)
                (void) console_read_guest(c);
        console_close_guest(c);
        while (c->clients) {
                struct console_client *cl = c->clients;
                c->clients = cl->next;
                /* Last try to hand over what is buffered; then end of file. */
                (void) outbuf_write(&cl->out, cl->fd, NULL, 0, CONSOLE_CLIENT_BUFFER_MAX);
                client_free(cl);
        }
}

enum console_mode console_mode_from_string(const char *s) {
        if (!s || !*s || strcmp(s, "write") == 0)
                return CONSOLE_WRITE;
        if (strcmp(s, "read-only") == 0)
                return CONSOLE_READ_ONLY;
        if (strcmp(s, "force") == 0)
                return CONSOLE_FORCE;
        return _CONSOLE_MODE_INVALID;
}

int console_open_client(struct console *c, uid_t uid, enum console_mode mode, int *ret_fd) {
        struct console_client *cl, *writer = NULL;
        int pair[2], r;

        for (cl = c->clients; cl; cl = cl->next)
                if (cl->writer)
                        writer = cl;
        if (mode == CONSOLE_WRITE && writer)
                return -EBUSY;
        /* Taking over frees a place. */
        if (console_n_clients(c) - (mode == CONSOLE_FORCE && writer ? 1 : 0) >= CONSOLE_CLIENTS_PER_GUEST)
                return -EUSERS;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        if (fcntl(pair[0], F_SETFL, O_NONBLOCK | O_RDWR) < 0) {
                r = -errno;
                goto fail;
        }
        cl = calloc(1, sizeof(*cl));
        if (!cl) {
                r = -ENOMEM;
                goto fail;
        }
        cl->console = c;
        cl->uid = uid;
        cl->writer = mode != CONSOLE_READ_ONLY;
        cl->fd = pair[0];
        r = sd_event_add_io(c->event, &cl->source, cl->fd, EPOLLIN, client_io, cl);
        if (r < 0) {
                free(cl);
                goto fail;
        }
        if (mode == CONSOLE_FORCE && writer) {
                static const char msg[] = "\r\n[guestd: another console session took over this guest's console]\r\n";
                (void) outbuf_write(&writer->out, writer->fd, msg, sizeof(msg) - 1, CONSOLE_CLIENT_BUFFER_MAX);
                console_drop_client(c, writer, "taken over (force)");
        }
        cl->next = c->clients;
        c->clients = cl;
        *ret_fd = pair[1];
        return 0;
fail:
        safe_close(pair[0]);
        safe_close(pair[1]);
        return r;
}

int console_get_log(struct console *c, uint8_t **ret, size_t *ret_len) {
        uint8_t *buf = malloc(MAX(c->ring.len, (size_t) 1));

        if (!buf)
                return -ENOMEM;
        *ret_len = console_ring_copy(&c->ring, buf, c->ring.len);
        *ret = buf;
        return 0;
}

size_t console_n_clients_of(struct console *c, uid_t uid) {
        size_t n = 0;

        for (struct console_client *cl = c ? c->clients : NULL; cl; cl = cl->next)
                n += cl->uid == uid;
        return n;
}

size_t console_n_clients(struct console *c) {
        size_t n = 0;

        for (struct console_client *cl = c ? c->clients : NULL; cl; cl = cl->next)
                n++;
        return n;
}
