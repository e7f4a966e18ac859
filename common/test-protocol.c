/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-protocol.c: the launcher protocol's checks, over real socketpairs:
 * what a well-formed message looks like after the trip, and that every
 * kind of malformed packet is refused with its fds closed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fdpass.h"
#include "protocol-body.h"
#include "protocol.h"
#include "test.h"

static void make_pair(int sv[2]) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                TEST_SKIP("socketpair(SOCK_SEQPACKET) failed");
}

static bool fd_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

/* Sends a raw packet with n_fds copies of fd, bypassing protocol_send's
 * own checks, as a hostile or buggy peer would. */
static void send_raw(int sock, const void *buf, size_t len, int fd, size_t n_fds) {
        int fds[PROTOCOL_MAX_FDS];

        CHECK(n_fds <= PROTOCOL_MAX_FDS);
        for (size_t i = 0; i < n_fds && i < PROTOCOL_MAX_FDS; i++)
                fds[i] = fd;
        CHECK_EQ(fdpass_send(sock, buf, len, fds, n_fds, 0), (ssize_t) len);
}

/* The lowest fd number the next open would get: received fds that were
 * closed leave it unchanged. */
static int next_fd(void) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        close(fd);
        return fd;
}

/* Sends raw text with n_fds fds of /dev/null and checks that the receiver
 * refuses it with -EBADMSG and leaves no fd open. */
static void check_rejected(const char *what, const char *text, size_t len, size_t n_fds, enum protocol_direction dir) {
        struct protocol_message m;
        int sv[2], null_fd, before, r;

        make_pair(sv);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        send_raw(sv[0], text, len, null_fd, n_fds);
        close(null_fd);
        before = next_fd();
        r = protocol_recv(sv[1], dir, &m);
        if (r != -EBADMSG)
                fprintf(stderr, "%s: got %d\n", what, r);
        CHECK_EQ(r, -EBADMSG);
        CHECK_EQ(next_fd(), before);
        if (r == 0)
                protocol_message_done(&m);
        close(sv[0]);
        close(sv[1]);
}

static void test_round_trip(void) {
        struct protocol_message m;
        int sv[2], fds[6];
        const char *s;
        uint64_t u;
        bool b;

        make_pair(sv);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);

        struct json_object *body = json_object_new_object();
        json_object_object_add(body, "guest", json_object_new_string("web"));
        json_object_object_add(body, "vcpus", json_object_new_int(1));
        json_object_object_add(body, "initrd", json_object_new_boolean(true));
        json_object_object_add(body, "big", json_object_new_uint64(UINT64_MAX));
        json_object_object_add(body, "neg", json_object_new_int(-1));
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SETUP, body, fds, 5), 0);
        /* The body is not consumed, and now names its type. */
        CHECK(json_object_object_get_ex(body, "type", NULL));
        json_object_put(body);

        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_SETUP);
        CHECK_EQ(m.n_fds, 5);
        for (size_t i = 0; i < 5; i++) {
                CHECK(m.fds[i] >= 0);
                CHECK(fcntl(m.fds[i], F_GETFD) & FD_CLOEXEC);
        }
        CHECK_EQ(m.fds[5], -EBADF);
        CHECK_EQ(protocol_get_string(m.body, "guest", &s), 0);
        CHECK(strcmp(s, "web") == 0);
        CHECK_EQ(protocol_get_uint(m.body, "vcpus", 64, &u), 0);
        CHECK_EQ(u, 1);
        CHECK_EQ(protocol_get_uint(m.body, "big", UINT64_MAX, &u), 0);
        CHECK(u == UINT64_MAX);
        CHECK_EQ(protocol_get_bool(m.body, "initrd", &b), 0);
        CHECK(b);

        /* Getters check the type and the range. */
        CHECK_EQ(protocol_get_uint(m.body, "vcpus", 0, &u), -EBADMSG);
        CHECK_EQ(protocol_get_uint(m.body, "neg", 100, &u), -EBADMSG);
        CHECK_EQ(protocol_get_uint(m.body, "guest", 100, &u), -EBADMSG);
        CHECK_EQ(protocol_get_uint(m.body, "missing", 100, &u), -EBADMSG);
        CHECK_EQ(protocol_get_string(m.body, "vcpus", &s), -EBADMSG);
        CHECK_EQ(protocol_get_bool(m.body, "vcpus", &b), -EBADMSG);
        CHECK_EQ(protocol_get_bool(m.body, "missing", &b), -EBADMSG);

        /* A handler takes an fd by clearing it; done closes the rest. */
        int taken = TAKE_FD(m.fds[0]);
        int other = m.fds[1];
        protocol_message_done(&m);
        CHECK(m.body == NULL);
        CHECK(fd_open(taken));
        CHECK(!fd_open(other));
        close(taken);

        /* attach brings the new console and the new log pipe. */
        {
                int two[2] = { fds[0], fds[1] };
                CHECK_EQ(protocol_send(sv[0], PROTOCOL_ATTACH, NULL, two, 2), 0);
                CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
                CHECK_EQ(m.type, PROTOCOL_ATTACH);
                CHECK_EQ(m.n_fds, 2);
                protocol_message_done(&m);
        }

        /* No body: an empty one is sent. */
        CHECK_EQ(protocol_send(sv[1], PROTOCOL_STATE, NULL, NULL, 0), 0);
        CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_STATE);
        CHECK_EQ(m.n_fds, 0);
        protocol_message_done(&m);

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
        close(sv[0]);
        close(sv[1]);
}

static void test_send_checks(void) {
        int sv[2], fd = 0;

        make_pair(sv);
        /* Wrong fd counts and a non-object body are refused before sending. */
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_ATTACH, NULL, NULL, 0), -EINVAL);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_PAUSE, NULL, &fd, 1), -EINVAL);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SETUP, NULL, &fd, 1), -EINVAL);
        CHECK_EQ(protocol_send(sv[0], (enum protocol_type) 99, NULL, NULL, 0), -EINVAL);
        struct json_object *array = json_object_new_array();
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_PAUSE, array, NULL, 0), -EINVAL);
        json_object_put(array);

        /* Too big to send. */
        struct json_object *body = json_object_new_object();
        char *big = malloc(PROTOCOL_MAX_MESSAGE + 1);
        memset(big, 'x', PROTOCOL_MAX_MESSAGE);
        big[PROTOCOL_MAX_MESSAGE] = 0;
        json_object_object_add(body, "message", json_object_new_string(big));
        CHECK_EQ(protocol_send(sv[1], PROTOCOL_ERROR, body, NULL, 0), -E2BIG);
        json_object_put(body);
        free(big);

        /* A peer that went away: an error, not SIGPIPE. */
        close(sv[1]);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_PAUSE, NULL, NULL, 0), -EPIPE);
        close(sv[0]);
}

static void test_rejections(void) {
        static const char pause[] = "{\"type\":\"pause\"}";
        char *big;

        check_rejected("wrong direction", "{\"type\":\"state\",\"state\":\"running\"}", 34, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("wrong direction 2", pause, strlen(pause), 0, PROTOCOL_TO_DAEMON);
        check_rejected("unknown type", "{\"type\":\"reboot\"}", 17, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("type not a string", "{\"type\":3}", 10, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("no type", "{}", 2, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("not JSON", "hello", 5, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("not JSON with fds", "hello", 5, 3, PROTOCOL_TO_LAUNCHER);
        check_rejected("JSON array", "[\"pause\"]", 9, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("JSON number", "42", 2, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("trailing garbage", "{\"type\":\"pause\"}x", 17, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("two objects", "{\"type\":\"pause\"}{}", 18, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("embedded NUL", "{\"type\":\"pause\"}\0", 17, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("truncated JSON", "{\"type\":\"pau", 12, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("pause with an fd", pause, strlen(pause), 1, PROTOCOL_TO_LAUNCHER);
        check_rejected("attach without fd", "{\"type\":\"attach\"}", 17, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("attach with 1 fd", "{\"type\":\"attach\"}", 17, 1, PROTOCOL_TO_LAUNCHER);
        check_rejected("attach with 3 fds", "{\"type\":\"attach\"}", 17, 3, PROTOCOL_TO_LAUNCHER);
        check_rejected("setup with 3 fds", "{\"type\":\"setup\"}", 16, 3, PROTOCOL_TO_LAUNCHER);
        check_rejected("exited with an fd", "{\"type\":\"exited\"}", 17, 1, PROTOCOL_TO_DAEMON);

        /* Oversized: a valid object one byte over the limit, with fds. */
        big = malloc(PROTOCOL_MAX_MESSAGE + 2);
        memset(big, ' ', PROTOCOL_MAX_MESSAGE + 1);
        memcpy(big, pause, strlen(pause));
        check_rejected("oversized", big, PROTOCOL_MAX_MESSAGE + 1, 2, PROTOCOL_TO_LAUNCHER);
        /* Far over it: the kernel truncates (MSG_TRUNC). */
        free(big);
        big = malloc(2 * PROTOCOL_MAX_MESSAGE);
        memset(big, ' ', 2 * PROTOCOL_MAX_MESSAGE);
        memcpy(big, pause, strlen(pause));
        check_rejected("far oversized", big, 2 * PROTOCOL_MAX_MESSAGE, 1, PROTOCOL_TO_LAUNCHER);
        free(big);

        /* Exactly at the limit is fine. */
        struct protocol_message m;
        int sv[2];
        big = malloc(PROTOCOL_MAX_MESSAGE);
        memset(big, ' ', PROTOCOL_MAX_MESSAGE);
        big[0] = '{';
        memcpy(big + 1, "\"type\":\"pause\"", 14);
        big[PROTOCOL_MAX_MESSAGE - 1] = '}';
        make_pair(sv);
        send_raw(sv[0], big, PROTOCOL_MAX_MESSAGE, -1, 0);
        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_PAUSE);
        protocol_message_done(&m);
        free(big);
        close(sv[0]);
        close(sv[1]);
}

/* More fds than PROTOCOL_MAX_FDS: the kernel cuts the control data
 * (MSG_CTRUNC) and the fds that did arrive must be closed. */
static void test_too_many_fds(void) {
        union {
                struct cmsghdr header;
                uint8_t buf[CMSG_SPACE(sizeof(int) * (PROTOCOL_MAX_FDS + 8))];
        } control;
        struct protocol_message m;
        static const char text[] = "{\"type\":\"setup\"}";
        struct iovec iov = { .iov_base = (void *) text, .iov_len = strlen(text) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
        int sv[2], null_fd, before;

        make_pair(sv);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        memset(&control, 0, sizeof(control));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (PROTOCOL_MAX_FDS + 8));
        for (size_t i = 0; i < PROTOCOL_MAX_FDS + 8; i++)
                memcpy(CMSG_DATA(c) + i * sizeof(int), &null_fd, sizeof(int));
        if (sendmsg(sv[0], &mh, 0) < 0) {
                /* SCM_MAX_FD (253) is far above; should not happen. */
                CHECK(false);
        }
        close(null_fd);
        before = next_fd();
        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), -EBADMSG);
        CHECK_EQ(next_fd(), before);
        close(sv[0]);
        close(sv[1]);
}

static void test_eof(void) {
        struct protocol_message m;
        int sv[2];

        make_pair(sv);
        close(sv[0]);
        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), -ECONNRESET);
        close(sv[1]);
}

/* The launcher sends its last messages and exits while a message of
 * guestd's waits unread in its socket: AF_UNIX then reports ECONNRESET to
 * guestd once, ahead of those last messages. They must still be read
 * (found by the hostile-guest tests: a guest that triple-faults at once
 * after the cap guestd sends on "running" looked like a launcher that hung
 * up without "exited"). */
static void test_last_words(void) {
        struct protocol_message m;
        struct json_object *body = json_object_new_object();
        int sv[2];

        make_pair(sv);
        json_object_object_add(body, "pages", json_object_new_int(64));
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_MMU_PAGES, body, NULL, 0), 0); /* never read */
        json_object_put(body);
        body = json_object_new_object();
        json_object_object_add(body, "exit", json_object_new_int(4));
        CHECK_EQ(protocol_send(sv[1], PROTOCOL_EXITED, body, NULL, 0), 0);
        json_object_put(body);
        close(sv[1]);
        CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_EXITED);
        protocol_message_done(&m);
        CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), -ECONNRESET);
        close(sv[0]);
}

static void test_type_strings(void) {
        for (int t = 0; t < _PROTOCOL_TYPE_MAX; t++) {
                const char *s = protocol_type_to_string(t);
                CHECK(s != NULL);
                CHECK_EQ(protocol_type_from_string(s), t);
        }
        CHECK(protocol_type_to_string(_PROTOCOL_TYPE_MAX) == NULL);
        CHECK(protocol_type_to_string(_PROTOCOL_TYPE_INVALID) == NULL);
        CHECK_EQ(protocol_type_from_string("nonsense"), _PROTOCOL_TYPE_INVALID);
        CHECK_EQ(protocol_type_from_string(NULL), _PROTOCOL_TYPE_INVALID);
        CHECK_EQ(protocol_type_from_string(""), _PROTOCOL_TYPE_INVALID);
}

/* Parses text as a message body (what protocol_recv() hands over). */
static struct json_object *body_of(const char *text) {
        struct json_object *o = json_tokener_parse(text);
        CHECK(o != NULL);
        return o;
}

/* Each typed body goes through its encoder and decoder unchanged, over a
 * real socket; each decoder refuses what is malformed. */
static void test_bodies(void) {
        int sv[2];
        struct protocol_message m;

        make_pair(sv);
        {
                struct json_object *o = protocol_state_encode(&(struct protocol_state_body) { true, 4242 });
                struct protocol_state_body b;
                CHECK_EQ(protocol_send(sv[1], PROTOCOL_STATE, o, NULL, 0), 0);
                json_object_put(o);
                CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
                CHECK_EQ(protocol_state_decode(m.body, &b), 0);
                CHECK(b.paused && b.pid == 4242);
                protocol_message_done(&m);
        }
        {
                struct json_object *o = protocol_exited_encode(&(struct protocol_exited_body) { 4, "triple fault", "at rip 0x10" });
                struct protocol_exited_body b;
                CHECK_EQ(protocol_send(sv[1], PROTOCOL_EXITED, o, NULL, 0), 0);
                json_object_put(o);
                CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
                CHECK_EQ(protocol_exited_decode(m.body, &b), 0);
                CHECK(b.exit == 4 && b.exit_name && strcmp(b.exit_name, "triple fault") == 0 && b.reason &&
                      strcmp(b.reason, "at rip 0x10") == 0);
                protocol_message_done(&m);
        }
        {
                struct json_object *o = protocol_shutdown_asked_encode(&(struct protocol_shutdown_asked_body) { false, "ctrl-alt-del", "paused" });
                struct protocol_shutdown_asked_body b;
                CHECK_EQ(protocol_send(sv[1], PROTOCOL_SHUTDOWN_ASKED, o, NULL, 0), 0);
                json_object_put(o);
                CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
                CHECK_EQ(protocol_shutdown_asked_decode(m.body, &b), 0);
                CHECK(!b.asked && b.how && strcmp(b.how, "ctrl-alt-del") == 0 && b.why && strcmp(b.why, "paused") == 0);
                protocol_message_done(&m);
        }
        {
                struct json_object *o = protocol_poweroff_signal_encode(&(struct protocol_poweroff_signal_body) { 4242, 0 });
                struct protocol_poweroff_signal_body b;
                CHECK_EQ(protocol_send(sv[1], PROTOCOL_POWEROFF_SIGNAL, o, NULL, 0), 0);
                json_object_put(o);
                CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
                CHECK_EQ(protocol_poweroff_signal_decode(m.body, &b), 0);
                CHECK(b.pid == 4242 && b.uid == 0);
                protocol_message_done(&m);
        }
        {
                struct json_object *o = protocol_mmu_pages_encode(&(struct protocol_mmu_pages_body) { 81 });
                struct protocol_mmu_pages_body b;
                CHECK_EQ(protocol_send(sv[0], PROTOCOL_MMU_PAGES, o, NULL, 0), 0);
                json_object_put(o);
                CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
                CHECK_EQ(protocol_mmu_pages_decode(m.body, &b), 0);
                CHECK_EQ(b.pages, 81);
                protocol_message_done(&m);
        }
        close(sv[0]);
        close(sv[1]);

        /* The rest without a socket: encode, decode. */
        {
                struct json_object *o = protocol_error_encode(&(struct protocol_error_body) { "the guest is already paused" });
                struct protocol_error_body b;
                CHECK_EQ(protocol_error_decode(o, &b), 0);
                CHECK(strcmp(b.message, "the guest is already paused") == 0);
                json_object_put(o);
                o = protocol_progress_encode(&(struct protocol_progress_body) { 1 << 20, 16 << 20 });
                struct protocol_progress_body p;
                CHECK_EQ(protocol_progress_decode(o, &p), 0);
                CHECK(p.done == 1 << 20 && p.total == 16 << 20);
                json_object_put(o);
                o = protocol_mmu_pages_set_encode(&(struct protocol_mmu_pages_set_body) { 64, EPERM });
                struct protocol_mmu_pages_set_body s;
                CHECK_EQ(protocol_mmu_pages_set_decode(o, &s), 0);
                CHECK(s.pages == 64 && s.error == EPERM);
                json_object_put(o);
        }
        /* What the launcher's SIGSYS handler writes by hand. */
        {
                struct json_object *o = body_of("{\"type\":\"violation\",\"syscall\":16,\"arg1\":44609}");
                struct protocol_violation_body v;
                CHECK_EQ(protocol_violation_decode(o, &v), 0);
                CHECK(v.syscall == 16 && v.arg1 == 44609);
                json_object_put(o);
        }
        /* Malformed bodies. */
        const char *bad_state[] = { "{}", "{\"state\":\"asleep\"}", "{\"state\":7}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_state); i++) {
                struct json_object *o = body_of(bad_state[i]);
                struct protocol_state_body b;
                CHECK_EQ(protocol_state_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
        const char *bad_exited[] = { "{}", "{\"exit\":256}", "{\"exit\":-1}", "{\"exit\":3,\"reason\":5}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_exited); i++) {
                struct json_object *o = body_of(bad_exited[i]);
                struct protocol_exited_body b;
                CHECK_EQ(protocol_exited_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
        const char *bad_progress[] = { "{\"done\":5,\"total\":4}", "{\"done\":1}", "{\"done\":\"1\",\"total\":2}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_progress); i++) {
                struct json_object *o = body_of(bad_progress[i]);
                struct protocol_progress_body b;
                CHECK_EQ(protocol_progress_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
        const char *bad_set[] = { "{\"pages\":64}", "{\"pages\":64,\"error\":4096}", "{\"pages\":4294967296,\"error\":0}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_set); i++) {
                struct json_object *o = body_of(bad_set[i]);
                struct protocol_mmu_pages_set_body b;
                CHECK_EQ(protocol_mmu_pages_set_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
        const char *bad_asked[] = { "{}", "{\"asked\":1}", "{\"asked\":true,\"why\":[]}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_asked); i++) {
                struct json_object *o = body_of(bad_asked[i]);
                struct protocol_shutdown_asked_body b;
                CHECK_EQ(protocol_shutdown_asked_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
        const char *bad_poweroff[] = { "{}", "{\"pid\":1}", "{\"pid\":-1,\"uid\":0}", "{\"pid\":1,\"uid\":4294967296}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_poweroff); i++) {
                struct json_object *o = body_of(bad_poweroff[i]);
                struct protocol_poweroff_signal_body b;
                CHECK_EQ(protocol_poweroff_signal_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
        /* A launcher's texts (issue 20: a taken-over launcher): longer
         * than PROTOCOL_TEXT_MAX, invalid UTF-8, a control character (a
         * forged log line, a terminal escape), a NUL: each is malformed,
         * in every message that carries one. */
        {
                char long_text[PROTOCOL_TEXT_MAX + 2];
                memset(long_text, 'x', sizeof(long_text) - 1);
                long_text[sizeof(long_text) - 1] = 0;
                const char *bad_texts[] = { long_text, "bad \xff utf-8", "over\xc0\xaflong", "two\n<0>guestd: forged", "esc \x1b[2J",
                                            "c1 \xc2\x9b", "del \x7f" };
                for (size_t i = 0; i < ELEMENTSOF(bad_texts); i++) {
                        struct json_object *o;
                        struct protocol_error_body e;
                        struct protocol_exited_body x;
                        struct protocol_shutdown_asked_body a;

                        o = protocol_error_encode(&(struct protocol_error_body) { bad_texts[i] });
                        CHECK_EQ(protocol_error_decode(o, &e), -EBADMSG);
                        json_object_put(o);
                        o = protocol_exited_encode(&(struct protocol_exited_body) { 4, "triple fault", bad_texts[i] });
                        CHECK_EQ(protocol_exited_decode(o, &x), -EBADMSG);
                        json_object_put(o);
                        o = protocol_exited_encode(&(struct protocol_exited_body) { 4, bad_texts[i], NULL });
                        CHECK_EQ(protocol_exited_decode(o, &x), -EBADMSG);
                        json_object_put(o);
                        o = protocol_shutdown_asked_encode(&(struct protocol_shutdown_asked_body) { false, "acpi", bad_texts[i] });
                        CHECK_EQ(protocol_shutdown_asked_decode(o, &a), -EBADMSG);
                        json_object_put(o);
                }
                /* The longest text allowed, and UTF-8 that is text. */
                long_text[PROTOCOL_TEXT_MAX] = 0;
                const char *good_texts[] = { long_text, "caf\xc3\xa9 \xe2\x80\x94 back\\slash" };
                for (size_t i = 0; i < ELEMENTSOF(good_texts); i++) {
                        struct json_object *o = protocol_error_encode(&(struct protocol_error_body) { good_texts[i] });
                        struct protocol_error_body e;
                        CHECK_EQ(protocol_error_decode(o, &e), 0);
                        json_object_put(o);
                }
                struct json_object *o = body_of("{\"message\":\"a\\u0000b\"}");
                struct protocol_error_body e;
                CHECK_EQ(protocol_error_decode(o, &e), -EBADMSG);
                json_object_put(o);
        }
        const char *bad_violation[] = { "{\"syscall\":16}", "{\"syscall\":4294967296,\"arg1\":0}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_violation); i++) {
                struct json_object *o = body_of(bad_violation[i]);
                struct protocol_violation_body b;
                CHECK_EQ(protocol_violation_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
}

/* The suspend's handshake (protocol.h, "suspend"): the file goes with
 * "snapshot" only, never with "suspend"; each message only in its
 * direction; "suspend_failed" carries a launcher's text, checked as such. */
static void test_suspend_messages(void) {
        struct protocol_message m;
        int sv[2], fd;

        check_rejected("suspend with an fd", "{\"type\":\"suspend\"}", 18, 1, PROTOCOL_TO_LAUNCHER);
        check_rejected("snapshot without its fd", "{\"type\":\"snapshot\"}", 19, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("snapshot with 2 fds", "{\"type\":\"snapshot\"}", 19, 2, PROTOCOL_TO_LAUNCHER);
        check_rejected("snapshot from a launcher", "{\"type\":\"snapshot\"}", 19, 1, PROTOCOL_TO_DAEMON);
        check_rejected("suspend_ready to a launcher", "{\"type\":\"suspend_ready\"}", 24, 0, PROTOCOL_TO_LAUNCHER);
        check_rejected("suspend_ready with an fd", "{\"type\":\"suspend_ready\"}", 24, 1, PROTOCOL_TO_DAEMON);
        check_rejected("suspend_failed with an fd", "{\"type\":\"suspend_failed\",\"message\":\"x\"}", 39, 1,
                       PROTOCOL_TO_DAEMON);
        check_rejected("suspend_abort from a launcher", "{\"type\":\"suspend_abort\"}", 24, 0, PROTOCOL_TO_DAEMON);

        make_pair(sv);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SUSPEND, NULL, NULL, 0), 0);
        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_SUSPEND);
        protocol_message_done(&m);
        CHECK_EQ(protocol_send(sv[1], PROTOCOL_SUSPEND_READY, NULL, NULL, 0), 0);
        CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_SUSPEND_READY);
        protocol_message_done(&m);
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SUSPEND, NULL, &fd, 1), -EINVAL);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SNAPSHOT, NULL, NULL, 0), -EINVAL);
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SNAPSHOT, NULL, &fd, 1), 0);
        close(fd);
        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
        CHECK(m.type == PROTOCOL_SNAPSHOT && m.n_fds == 1 && fd_open(m.fds[0]));
        protocol_message_done(&m);
        {
                struct json_object *o = protocol_suspend_failed_encode(
                        &(struct protocol_suspend_failed_body) { "writing the snapshot failed: File too large" });
                struct protocol_suspend_failed_body b;
                CHECK_EQ(protocol_send(sv[1], PROTOCOL_SUSPEND_FAILED, o, NULL, 0), 0);
                json_object_put(o);
                CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_DAEMON, &m), 0);
                CHECK_EQ(m.type, PROTOCOL_SUSPEND_FAILED);
                CHECK_EQ(protocol_suspend_failed_decode(m.body, &b), 0);
                CHECK(strcmp(b.message, "writing the snapshot failed: File too large") == 0);
                protocol_message_done(&m);
        }
        CHECK_EQ(protocol_send(sv[0], PROTOCOL_SUSPEND_ABORT, NULL, NULL, 0), 0);
        CHECK_EQ(protocol_recv(sv[1], PROTOCOL_TO_LAUNCHER, &m), 0);
        CHECK_EQ(m.type, PROTOCOL_SUSPEND_ABORT);
        protocol_message_done(&m);
        close(sv[0]);
        close(sv[1]);

        const char *bad_failed[] = { "{}", "{\"message\":3}", "{\"message\":\"two\nlines\"}", "{\"message\":\"\\u001b[2J\"}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_failed); i++) {
                struct json_object *o = body_of(bad_failed[i]);
                struct protocol_suspend_failed_body b;
                CHECK_EQ(protocol_suspend_failed_decode(o, &b), -EBADMSG);
                json_object_put(o);
        }
}

/* ---------------------------------------------------------------- setup */

/* The smallest setup guestd or tests/launcher-harness sends. */
static struct json_object *setup_base(void) {
        return body_of("{\"type\":\"setup\",\"guest\":\"g\",\"memory_mib\":16,\"vcpus\":1,\"cmdline\":\"\","
                       "\"initrd\":false,\"disks\":[]}");
}

/* Sets key to the JSON text value (NULL: removes it). */
static void setup_set(struct json_object *o, const char *key, const char *value) {
        if (!value)
                json_object_object_del(o, key);
        else if (strcmp(value, "null") == 0)
                json_object_object_add(o, key, NULL); /* json-c's null */
        else
                json_object_object_add(o, key, body_of(value));
}

/* n disks, each {"read_only": false, "id": "dN"}. */
static void setup_set_disks(struct json_object *o, size_t n) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                char text[64];
                snprintf(text, sizeof(text), "{\"read_only\":%s,\"id\":\"d%zu\"}", i % 2 ? "true" : "false", i);
                json_object_array_add(a, body_of(text));
        }
        json_object_object_add(o, "disks", a);
}

/* Decodes o with the fds it asks for (as far as it is well-formed) plus
 * extra_fds; on a refusal checks that the sentence names want. Puts o. */
static int setup_decode_expect(struct json_object *o, int extra_fds, const char *want) {
        struct json_object *v, *disks;
        struct protocol_setup_body b;
        size_t n_fds = 4;
        char *why = (char *) "unset";
        int r;

        if (json_object_object_get_ex(o, "initrd", &v) && json_object_get_boolean(v))
                n_fds++;
        if (json_object_object_get_ex(o, "disks", &disks) && json_object_is_type(disks, json_type_array))
                n_fds += json_object_array_length(disks);
        r = protocol_setup_decode(o, n_fds + extra_fds, &b, &why);
        if (r == 0)
                CHECK(why == NULL);
        else if (!why || !want || !strstr(why, want)) {
                fprintf(stderr, "setup refused with \"%s\", wanted \"%s\"\n", why, want);
                CHECK(false);
        }
        free(why);
        json_object_put(o);
        return r;
}

/* One field of the smallest setup set to value: 0 or -EBADMSG naming want. */
static int setup_field(const char *key, const char *value, const char *want) {
        struct json_object *o = setup_base();
        setup_set(o, key, value);
        return setup_decode_expect(o, 0, want);
}

/* A string of n bytes of c, as JSON. */
static char *json_string_of(size_t n, char c) {
        char *s = malloc(n + 3);
        CHECK(s != NULL);
        s[0] = '"';
        memset(s + 1, c, n);
        s[n + 1] = '"';
        s[n + 2] = 0;
        return s;
}

/* One field of the smallest setup set to a value (NULL: left out), and
 * what the refusal names (NULL: accepted). */
static const struct setup_field_case {
        const char *key, *value, *want;
} setup_field_cases[] = {
        { "guest", "\"\"", "'guest'" },
        { "guest", "\"a\\nb\"", "'guest'" },
        { "guest", "\"a\\u0000b\"", "'guest'" },
        { "guest", "7", "'guest'" },
        { "guest", NULL, "'guest'" },
        /* memory_mib: even, GUEST_MEMORY_MIB_MIN to GUEST_MEMORY_MIB_MAX (2^20). */
        { "memory_mib", "2", NULL },
        { "memory_mib", "1048576", NULL },
        { "memory_mib", "1048578", "'memory_mib'" },
        { "memory_mib", "0", "'memory_mib'" },
        { "memory_mib", "3", "'memory_mib'" },
        { "memory_mib", "-2", "'memory_mib'" },
        { "memory_mib", "16.0", "'memory_mib'" },
        { "memory_mib", "\"16\"", "'memory_mib'" },
        { "memory_mib", "18446744073709551615", "'memory_mib'" },
        { "memory_mib", NULL, "'memory_mib'" },
        /* vcpus: 1 to GUEST_VCPUS_MAX. */
        { "vcpus", STRINGIFY(GUEST_VCPUS_MAX), NULL },
        { "vcpus", "65", "'vcpus'" },
        { "vcpus", "0", "'vcpus'" },
        { "vcpus", "true", "'vcpus'" },
        { "vcpus", NULL, "'vcpus'" },
        { "cmdline", "[]", "'cmdline'" },
        { "cmdline", NULL, "'cmdline'" },
        /* The booleans: initrd required, the others optional. */
        { "initrd", "true", NULL },
        { "initrd", "0", "'initrd'" },
        { "initrd", NULL, "'initrd'" },
        { "resume", "false", NULL },
        { "resume", "1", "'resume'" },
        { "acpi", "\"yes\"", "'acpi'" },
        { "cmdline_devices", "null", "'cmdline_devices'" },
        { "test_violation", "\"reboot\"", "'test_violation'" },
        { "test_violation", "false", "'test_violation'" },
        /* disks: each {read_only, id}, the id at most GUEST_DISK_ID_MAX bytes. */
        { "disks", "[{\"read_only\":false,\"id\":\"12345678901234567890\"}]", NULL },
        { "disks", "[{\"read_only\":false,\"id\":\"123456789012345678901\"}]", "disk 0" },
        { "disks", "[{\"read_only\":false}]", "disk 0" },
        { "disks", "[{\"id\":\"x\"}]", "disk 0" },
        { "disks", "[{\"read_only\":\"no\",\"id\":\"x\"}]", "disk 0" },
        { "disks", "[{\"read_only\":false,\"id\":\"x\"},[]]", "disk 1" },
        { "disks", "[{\"read_only\":false,\"id\":\"x\",\"path\":\"/etc\"}]", "'path' in a disk" },
        { "disks", "{}", "'disks'" },
        { "disks", NULL, "'disks'" },
        /* Unknown keys, shown escaped. */
        { "kernel", "\"/boot/vmlinuz\"", "unknown key 'kernel' in setup" },
        { "a\nb", "1", "unknown key 'a\\nb'" },
};

/* The setup body through its encoder and decoder over a real socket with
 * its fds, and what guestd sends today. */
static void test_setup_round_trip(void) {
        struct protocol_setup_body in = {
                .guest = "web-1", .memory_mib = 2048, .vcpus = 4, .cmdline = "console=ttyS0 quiet", .initrd = true,
                .acpi = true, .cmdline_devices = true, .test_violation = "open", .n_disks = 2,
                .disks = { { false, "root" }, { true, "" } },
        }, out;
        struct protocol_message m;
        int sv[2], null_fd, fds[16];
        char *why = NULL;

        make_pair(sv);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        CHECK_EQ(protocol_setup_n_fds(&in), 7);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = null_fd;
        {
                struct json_object *o = protocol_setup_encode(&in);
                CHECK(o != NULL);
                CHECK_EQ(protocol_send(sv[1], PROTOCOL_SETUP, o, fds, protocol_setup_n_fds(&in)), 0);
                json_object_put(o);
        }
        CHECK_EQ(protocol_recv(sv[0], PROTOCOL_TO_LAUNCHER, &m), 0);
        CHECK_EQ(protocol_setup_decode(m.body, m.n_fds, &out, &why), 0);
        CHECK(why == NULL);
        CHECK(strcmp(out.guest, "web-1") == 0 && out.memory_mib == 2048 && out.vcpus == 4 &&
              strcmp(out.cmdline, "console=ttyS0 quiet") == 0);
        CHECK(out.initrd && !out.resume && out.acpi && out.cmdline_devices && strcmp(out.test_violation, "open") == 0);
        CHECK(out.n_disks == 2 && !out.disks[0].read_only && strcmp(out.disks[0].id, "root") == 0 && out.disks[1].read_only &&
              strcmp(out.disks[1].id, "") == 0);
        CHECK_EQ(protocol_setup_decode(m.body, m.n_fds - 1, &out, &why), -EBADMSG);
        CHECK(why && strstr(why, "want 7"));
        free(why);
        CHECK_EQ(protocol_setup_decode(m.body, m.n_fds + 1, &out, NULL), -EBADMSG);
        protocol_message_done(&m);

        /* Resuming, no test violation, no disks: the optional fields as
         * absent and as false read the same. */
        in = (struct protocol_setup_body) { .guest = "g", .memory_mib = 2, .vcpus = 1, .cmdline = "", .resume = true };
        {
                struct json_object *o = protocol_setup_encode(&in);
                CHECK(o != NULL);
                CHECK_EQ(protocol_setup_decode(o, 4, &out, NULL), 0);
                CHECK(out.resume && !out.initrd && !out.acpi && !out.cmdline_devices && !out.test_violation && out.n_disks == 0);
                json_object_put(o);
        }
        in.n_disks = GUEST_MAX_DISKS + 1;
        CHECK(protocol_setup_encode(&in) == NULL);
        CHECK_EQ(setup_decode_expect(setup_base(), 0, NULL), 0);

        /* What guestd's start_setup() builds by hand today. */
        CHECK_EQ(setup_decode_expect(body_of("{\"type\":\"setup\",\"guest\":\"a.b_c-9\",\"memory_mib\":64,\"vcpus\":2,"
                                             "\"cmdline\":\"console=ttyS0\",\"acpi\":true,\"cmdline_devices\":false,"
                                             "\"initrd\":false,\"resume\":true,\"test_violation\":\"socket\","
                                             "\"disks\":[{\"read_only\":true,\"id\":\"a-name-of-20-bytes..\"}]}"),
                                     0, NULL),
                 0);
        close(null_fd);
        close(sv[0]);
        close(sv[1]);
}

/* A refusal with a sentence for every bound and every malformed field. */
static void test_setup_bounds(void) {
        struct protocol_setup_body out;

        /* Each field at its bounds, and malformed (the table). */
        for (size_t i = 0; i < ELEMENTSOF(setup_field_cases); i++) {
                const struct setup_field_case *t = &setup_field_cases[i];
                if (setup_field(t->key, t->value, t->want) != (t->want ? -EBADMSG : 0)) {
                        fprintf(stderr, "setup with %s = %s: wrong verdict\n", t->key, t->value ? t->value : "(none)");
                        CHECK(false);
                }
        }

        /* guest: at most GUEST_NAME_MAX bytes. */
        {
                _cleanup_free_ char *longest = json_string_of(GUEST_NAME_MAX, 'n'), *too_long = json_string_of(GUEST_NAME_MAX + 1, 'n');
                CHECK_EQ(setup_field("guest", longest, NULL), 0);
                CHECK_EQ(setup_field("guest", too_long, "'guest'"), -EBADMSG);
        }

        /* cmdline: GUEST_CMDLINE_MAX of the disks the launcher puts on it. */
        {
                _cleanup_free_ char *all = json_string_of(GUEST_CMDLINE_MAX(0), 'c');
                _cleanup_free_ char *over = json_string_of(GUEST_CMDLINE_MAX(0) + 1, 'c');
                _cleanup_free_ char *all8 = json_string_of(GUEST_CMDLINE_MAX(GUEST_MAX_DISKS), 'c');
                _cleanup_free_ char *over8 = json_string_of(GUEST_CMDLINE_MAX(GUEST_MAX_DISKS) + 1, 'c');
                struct json_object *o;

                CHECK_EQ(setup_field("cmdline", all, NULL), 0);
                CHECK_EQ(setup_field("cmdline", over, "'cmdline'"), -EBADMSG);
                /* Without ACPI the disks go on the command line. */
                o = setup_base(), setup_set_disks(o, GUEST_MAX_DISKS), setup_set(o, "cmdline", all8);
                CHECK_EQ(setup_decode_expect(o, 0, NULL), 0);
                o = setup_base(), setup_set_disks(o, GUEST_MAX_DISKS), setup_set(o, "cmdline", over8);
                CHECK_EQ(setup_decode_expect(o, 0, "at most 3711 bytes (8 disks on it)"), -EBADMSG);
                /* With ACPI, only with cmdline_devices. */
                o = setup_base(), setup_set_disks(o, GUEST_MAX_DISKS), setup_set(o, "cmdline", all), setup_set(o, "acpi", "true");
                CHECK_EQ(setup_decode_expect(o, 0, NULL), 0);
                o = setup_base(), setup_set_disks(o, GUEST_MAX_DISKS), setup_set(o, "cmdline", over8), setup_set(o, "acpi", "true"),
                setup_set(o, "cmdline_devices", "true");
                CHECK_EQ(setup_decode_expect(o, 0, "'cmdline'"), -EBADMSG);
        }

        /* resume takes no initrd. */
        {
                struct json_object *o = setup_base();
                setup_set(o, "initrd", "true"), setup_set(o, "resume", "true");
                CHECK_EQ(setup_decode_expect(o, 0, "no initrd"), -EBADMSG);
        }

        /* test_violation: every known one. */
        for (size_t i = 0; protocol_test_violations[i]; i++) {
                char text[64];
                snprintf(text, sizeof(text), "\"%s\"", protocol_test_violations[i]);
                CHECK_EQ(setup_field("test_violation", text, NULL), 0);
        }

        /* disks: at most GUEST_MAX_DISKS. */
        {
                struct json_object *o = setup_base();
                setup_set_disks(o, GUEST_MAX_DISKS);
                CHECK_EQ(setup_decode_expect(o, 0, NULL), 0);
                o = setup_base();
                setup_set_disks(o, GUEST_MAX_DISKS + 1);
                CHECK_EQ(setup_decode_expect(o, 0, "at most 8"), -EBADMSG);
        }

        /* Unknown keys (shown escaped), and the fds. */
        CHECK_EQ(setup_decode_expect(setup_base(), -1, "3 fds for no initrd and 0 disks: want 4"), -EBADMSG);
        CHECK_EQ(setup_decode_expect(setup_base(), 1, "want 4"), -EBADMSG);
        {
                struct json_object *a = json_object_new_array();
                CHECK_EQ(protocol_setup_decode(a, 4, &out, NULL), -EBADMSG);
                json_object_put(a);
        }
}

int main(void) {
        test_setup_round_trip();
        test_setup_bounds();
        test_type_strings();
        test_suspend_messages();
        test_bodies();
        test_round_trip();
        test_send_checks();
        test_rejections();
        test_too_many_fds();
        test_eof();
        test_last_words();
        return TEST_RESULT();
}
