/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.h: the small helpers every guestd program uses: cleanup attributes
 * for owned pointers and fds, ownership hand-off, array sizes and checked
 * arithmetic. Modelled on the habits of systemd's basic/ helpers.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define _unused_ __attribute__((__unused__))
#define _noreturn_ __attribute__((__noreturn__))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _packed_ __attribute__((__packed__))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* A macro's value as a string literal: STRINGIFY(GUEST_VCPUS_MAX) is "64". */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define KiB (UINT64_C(1024))
#define MiB (UINT64_C(1024) * 1024)
#define GiB (UINT64_C(1024) * 1024 * 1024)

/* Hand ownership on: returns the value and clears the variable. */
#define TAKE_PTR(p)                               \
        ({                                        \
                __typeof__(p) _tp = (p);          \
                (p) = NULL;                       \
                _tp;                              \
        })
#define TAKE_FD(fd)                               \
        ({                                        \
                int _tf = (fd);                   \
                (fd) = -EBADF;                    \
                _tf;                              \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes an fd if it is one; keeps errno, returns -EBADF for assignment. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* True if [start, start + len) fits inside [0, limit) without overflow. */
static inline bool range_within(uint64_t start, uint64_t len, uint64_t limit) {
        return start <= limit && len <= limit - start;
}

/* For parsers that explain a refusal: sets *ret_error (if ret_error is
 * not NULL) to the formatted sentence, or NULL without memory, and returns
 * -EINVAL. */
int set_error_message(char **ret_error, const char *fmt, ...) _printf_(2, 3);

/* Reads what a non-blocking fd has, at most max_reads reads of up to size
 * bytes into buf, handing each to sink: a bound, so that one busy fd in an
 * event loop cannot starve the others. Returns 1 if more may come (the fd
 * would block, or the bound was reached), 0 at end of file or on an error. */
int read_available(int fd, void *buf, size_t size, unsigned max_reads, void (*sink)(void *userdata, const void *data, size_t n),
                   void *userdata);

/* Write all of buf, retrying on EINTR and short writes. */
int loop_write(int fd, const void *buf, size_t len);
/* Read from fd until end of file or size bytes, retrying on EINTR and
 * short reads; returns the count (a file of exactly size bytes and a
 * longer one read the same: ask for one byte more than you accept). */
ssize_t read_up_to(int fd, void *buf, size_t size);
/* Read exactly len bytes at offset (pread); -EIO on a short file. */
int pread_full(int fd, void *buf, size_t len, uint64_t offset);
/* Write all of len bytes at offset (pwrite), retrying on EINTR and short
 * writes. */
int pwrite_full(int fd, const void *buf, size_t len, uint64_t offset);
/* Whether fd is the kernel's anonymous inode called name (what
 * /proc/self/fd/N reads "anon_inode:NAME" for: "kvm-vm-stats",
 * "seccomp notify", ...): for fds another process handed us. */
bool fd_is_anon_inode(int fd, const char *name);
/* Whether fd is a socket of type (SOCK_STREAM, SOCK_SEQPACKET, ...) that
 * listens, or does not: for fds another process handed us. */
bool fd_is_socket(int fd, int type, bool listening);
/* Parse a decimal unsigned integer with range check; -EINVAL/-ERANGE. */
int safe_atou64(const char *s, uint64_t *ret);

/* Text from a less trusted side (a user's path, a guest's console, a
 * launcher's reason) made safe to show, one escaper for the whole tree:
 * what a terminal or a log reader would act on instead of showing becomes
 * a visible escape. C0 controls (\n, \r, \t as such, the others as
 * \xNN: ESC is \x1b), DEL, the C1 controls U+0080-U+009F (each byte as
 * \xNN) and every byte that is not part of valid UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included) are escaped; other
 * UTF-8 text, backslashes included, is kept as it is, so that the text
 * stays readable and escaping twice changes nothing. With
 * TEXT_ESCAPE_MULTILINE newlines, tabs and carriage returns next to a
 * newline (a serial console's "\r\n") are kept: text that is meant to be
 * lines (a carriage return inside a line is not: what follows it would
 * overwrite what came before). */
enum {
        TEXT_ESCAPE_MULTILINE = 1 << 0,
};
/* The most text_escape() writes for len bytes, with its NUL. */
#define TEXT_ESCAPE_SIZE(len) ((len) * 4 + 1)
/* Escapes len bytes of s into buf (size bytes, NUL-terminated if size >
 * 0), as much of it as fits: an escape is never cut. Returns the length
 * written, without the NUL. */
size_t text_escape(char *buf, size_t size, const char *s, size_t len, unsigned flags);
/* The same into a new string (NULL without memory). */
char *text_escape_new(const char *s, size_t len, unsigned flags);

typedef uint64_t usec_t;
/* CLOCK_MONOTONIC in microseconds. */
usec_t now_usec(void);
