/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.c: see util.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"

int loop_write(int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= n;
        }
        return 0;
}

bool fd_is_anon_inode(int fd, const char *name) {
        char path[64], target[128];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
                return false;
        target[n] = 0;
        return strncmp(target, "anon_inode:", 11) == 0 && strcmp(target + 11, name) == 0;
}

bool fd_is_socket(int fd, int type, bool listening) {
        int v;
        socklen_t len = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != type)
                return false;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0)
                return false;
        return !!v == listening;
}

ssize_t read_up_to(int fd, void *buf, size_t size) {
        uint8_t *p = buf;
        size_t have = 0;

        while (have < size) {
                ssize_t n = read(fd, p + have, size - have);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                have += (size_t) n;
        }
        return (ssize_t) have;
}

int pread_full(int fd, void *buf, size_t len, uint64_t offset) {
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = pread(fd, p, len, (off_t) offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= n;
                offset += n;
        }
        return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t offset) {
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, (off_t) offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

usec_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int set_error_message(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                char *s = NULL;
                va_start(ap, fmt);
                if (vasprintf(&s, fmt, ap) < 0)
                        s = NULL;
                va_end(ap);
                *ret_error = s;
        }
        return -EINVAL;
}

int read_available(int fd, void *buf, size_t size, unsigned max_reads, void (*sink)(void *userdata, const void *data, size_t n),
                   void *userdata) {
        for (unsigned i = 0; i < max_reads; i++) {
                ssize_t n = read(fd, buf, size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 1;
                if (n <= 0)
                        return 0;
                sink(userdata, buf, (size_t) n);
        }
        return 1;
}

/* The length of the valid UTF-8 sequence at s (at most len bytes), 0 if
 * the byte at s does not start one. The ranges are those of RFC 3629's
 * grammar: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_sequence_length(const uint8_t *s, size_t len) {
        uint8_t lo = 0x80, hi = 0xbf;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                if (s[0] == 0xe0)
                        lo = 0xa0; /* shorter forms are overlong */
                else if (s[0] == 0xed)
                        hi = 0x9f; /* U+D800-U+DFFF are surrogates */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                if (s[0] == 0xf0)
                        lo = 0x90;
                else if (s[0] == 0xf4)
                        hi = 0x8f; /* past U+10FFFF */
        } else
                return 0;
        if (len < n || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return n;
}

/* Whether the run of carriage returns at p[i] only ends a line: it is
 * next to a newline ("\r\n" of a serial console, "\n\r", "\r\r\n"). One
 * inside a line would let what follows overwrite what the reader saw.
 * Sets *ret_end to where the run ends, so that a run is looked at once. */
static bool cr_run_ends_line(const uint8_t *p, size_t len, size_t i, size_t *ret_end) {
        size_t end = i;

        while (end < len && p[end] == '\r')
                end++;
        *ret_end = end;
        return (end < len && p[end] == '\n') || (i > 0 && p[i - 1] == '\n');
}

size_t text_escape(char *buf, size_t size, const char *s, size_t len, unsigned flags) {
        static const char hex[] = "0123456789abcdef";
        const uint8_t *p = (const uint8_t *) s;
        bool multiline = flags & TEXT_ESCAPE_MULTILINE, cr_keep = false;
        size_t out = 0, cr_end = 0;

        if (size == 0)
                return 0;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_sequence_length(p + i, len - i);
                char piece[16];
                size_t k = 0;

                if (multiline && p[i] == '\r' && i >= cr_end)
                        cr_keep = cr_run_ends_line(p, len, i, &cr_end);
                if (n == 1 && p[i] >= 0x20 && p[i] != 0x7f) {
                        piece[k++] = (char) p[i]; /* printable ASCII */
                } else if (n == 1 && multiline && (p[i] == '\n' || p[i] == '\t' || (p[i] == '\r' && cr_keep))) {
                        piece[k++] = (char) p[i];
                } else if (n == 1 && (p[i] == '\n' || p[i] == '\r' || p[i] == '\t')) {
                        piece[k++] = '\\';
                        piece[k++] = p[i] == '\n' ? 'n' : p[i] == '\r' ? 'r' : 't';
                } else if (n == 1 || n == 0 || (n == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f)) {
                        /* A control, a byte that is not UTF-8, or a C1
                         * control (U+0080-U+009F: 0xc2 0x80-0x9f): each
                         * byte as \xNN. */
                        if (n == 0)
                                n = 1;
                        for (size_t j = 0; j < n; j++) {
                                piece[k++] = '\\';
                                piece[k++] = 'x';
                                piece[k++] = hex[p[i + j] >> 4];
                                piece[k++] = hex[p[i + j] & 15];
                        }
                } else {
                        memcpy(piece, p + i, n); /* the rest of valid UTF-8 */
                        k = n;
                }
                if (out + k > size - 1)
                        break;
                memcpy(buf + out, piece, k);
                out += k;
                i += n;
        }
        buf[out] = 0;
        return out;
}

char *text_escape_new(const char *s, size_t len, unsigned flags) {
        char *buf;

        if (len > (SIZE_MAX - 1) / 4)
                return NULL;
        buf = malloc(TEXT_ESCAPE_SIZE(len));
        if (!buf)
                return NULL;
        text_escape(buf, TEXT_ESCAPE_SIZE(len), s, len, flags);
        return buf;
}
