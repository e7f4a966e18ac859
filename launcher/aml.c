/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aml.c: see aml.h. */
#include <errno.h>
#include <string.h>

#include "aml.h"

/* Opcodes (ACPI 6.5, 20.3). */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f
#define AML_EXT 0x5b
#define AML_DEVICE 0x82 /* after AML_EXT */
#define AML_ROOT '\\'
#define AML_NOTIFY 0x86
#define AML_RETURN 0xa4
#define AML_ONES 0xff

static void fail(struct aml *a, int error) {
        if (!a->error)
                a->error = error;
}

static void put(struct aml *a, const void *p, size_t n) {
        if (a->error)
                return;
        if (n > a->size - a->len) {
                fail(a, -ENOSPC);
                return;
        }
        memcpy(a->buf + a->len, p, n);
        a->len += n;
}

static void put8(struct aml *a, uint8_t v) {
        put(a, &v, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned bytes) {
        for (unsigned i = 0; i < bytes; i++)
                put8(a, (uint8_t) (v >> (8 * i)));
}

void aml_init(struct aml *a, uint8_t *buf, size_t size) {
        *a = (struct aml) { .buf = buf, .size = size };
}

int aml_finish(struct aml *a) {
        if (a->depth != 0)
                fail(a, -EINVAL);
        return a->error;
}

/* One name segment from s (up to 4 of [A-Z0-9_], the first not a digit),
 * padded with '_'. Returns the characters used, 0 for a bad segment. */
static size_t name_seg(const char *s, char seg[4]) {
        size_t n = 0;

        while (s[n] && s[n] != '.' && n < 5)
                n++;
        if (n == 0 || n > 4 || (s[0] >= '0' && s[0] <= '9'))
                return 0;
        for (size_t i = 0; i < 4; i++) {
                char c = i < n ? s[i] : '_';
                if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        return 0;
                seg[i] = c;
        }
        return n;
}

void aml_name(struct aml *a, const char *name) {
        char segs[8][4];
        size_t n = 0;
        const char *p = name;
        bool root = false;

        if (*p == '\\') {
                root = true;
                p++;
        }
        while (*p) {
                size_t used;
                if (n == 8 || !(used = name_seg(p, segs[n]))) {
                        fail(a, -EINVAL);
                        return;
                }
                n++;
                p += used;
                if (*p == '.')
                        p++;
        }
        if (n == 0) {
                fail(a, -EINVAL);
                return;
        }
        if (root)
                put8(a, AML_ROOT);
        if (n == 2)
                put8(a, AML_DUAL_NAME);
        else if (n > 2) {
                put8(a, AML_MULTI_NAME);
                put8(a, (uint8_t) n);
        }
        for (size_t i = 0; i < n; i++)
                put(a, segs[i], 4);
}

void aml_name_begin(struct aml *a, const char *name) {
        put8(a, AML_NAME);
        aml_name(a, name);
}

void aml_integer(struct aml *a, uint64_t v) {
        if (v == 0)
                put8(a, AML_ZERO);
        else if (v == 1)
                put8(a, AML_ONE);
        else if (v <= UINT8_MAX) {
                put8(a, AML_BYTE);
                put_le(a, v, 1);
        } else if (v <= UINT16_MAX) {
                put8(a, AML_WORD);
                put_le(a, v, 2);
        } else if (v <= UINT32_MAX) {
                put8(a, AML_DWORD);
                put_le(a, v, 4);
        } else {
                put8(a, AML_QWORD);
                put_le(a, v, 8);
        }
}

void aml_string(struct aml *a, const char *s) {
        /* AML strings are ASCII, 0x01-0x7f. */
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c > 0x7f) {
                        fail(a, -EINVAL);
                        return;
                }
        put8(a, AML_STRING);
        put(a, s, strlen(s) + 1);
}

/* "PNP0C0C": three letters of 5 bits each and four hex digits, as one
 * big-endian 32-bit number stored as a DWordConst. */
void aml_eisa_id(struct aml *a, const char *id) {
        uint32_t v = 0;

        if (strlen(id) != 7) {
                fail(a, -EINVAL);
                return;
        }
        for (unsigned i = 0; i < 3; i++) {
                if (id[i] < 'A' || id[i] > 'Z') {
                        fail(a, -EINVAL);
                        return;
                }
                v = v << 5 | (uint32_t) (id[i] - '@');
        }
        for (unsigned i = 3; i < 7; i++) {
                char c = id[i];
                unsigned d = c >= '0' && c <= '9' ? (unsigned) (c - '0') : c >= 'A' && c <= 'F' ? (unsigned) (c - 'A' + 10) : 16;
                if (d > 15) {
                        fail(a, -EINVAL);
                        return;
                }
                v = v << 4 | d;
        }
        /* Bit 31 stays 0: the letters take bits 30-16, the digits 15-0. */
        put8(a, AML_DWORD);
        put8(a, (uint8_t) (v >> 24));
        put8(a, (uint8_t) (v >> 16));
        put8(a, (uint8_t) (v >> 8));
        put8(a, (uint8_t) v);
}

/* Opens an object whose PkgLength follows: room for the longest
 * encoding (4 bytes) is kept and the object moved down in aml_end(). */
static void open_pkg(struct aml *a) {
        if (a->error)
                return;
        if (a->depth == AML_MAX_DEPTH) {
                fail(a, -EINVAL);
                return;
        }
        a->open[a->depth++] = a->len;
        put_le(a, 0, 4);
}

/* The position the innermost open object recorded; false (and the
 * error set) when nothing is open or an error came before. */
static bool pop_open(struct aml *a, size_t *ret) {
        if (a->error)
                return false;
        if (a->depth == 0) {
                fail(a, -EINVAL);
                return false;
        }
        *ret = a->open[--a->depth];
        return true;
}

void aml_end(struct aml *a) {
        size_t start, body, total, n;
        uint8_t enc[4];

        if (!pop_open(a, &start))
                return;
        body = a->len - start - 4;
        /* PkgLength counts itself: 1 byte up to 63, else 2-4 bytes, the
         * lead byte's top bits saying how many follow. */
        if (body + 1 <= 63) {
                n = 1;
                enc[0] = (uint8_t) (body + 1);
        } else {
                n = body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
                total = body + n;
                if (total > 0xfffffff) {
                        fail(a, -ENOSPC);
                        return;
                }
                enc[0] = (uint8_t) ((n - 1) << 6 | (total & 0x0f));
                for (size_t i = 1; i < n; i++)
                        enc[i] = (uint8_t) (total >> (4 + 8 * (i - 1)));
        }
        memcpy(a->buf + start, enc, n);
        memmove(a->buf + start + n, a->buf + start + 4, body);
        a->len -= 4 - n;
}

void aml_scope_begin(struct aml *a, const char *name) {
        put8(a, AML_SCOPE);
        open_pkg(a);
        aml_name(a, name);
}

void aml_device_begin(struct aml *a, const char *name) {
        put8(a, AML_EXT);
        put8(a, AML_DEVICE);
        open_pkg(a);
        aml_name(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned n_args, bool serialized) {
        if (n_args > 7)
                fail(a, -EINVAL);
        put8(a, AML_METHOD);
        open_pkg(a);
        aml_name(a, name);
        put8(a, (uint8_t) (n_args | (serialized ? 0x08 : 0)));
}

void aml_package_begin(struct aml *a, unsigned n_elements) {
        if (n_elements > 255)
                fail(a, -EINVAL);
        put8(a, AML_PACKAGE);
        open_pkg(a);
        put8(a, (uint8_t) n_elements);
}

void aml_notify(struct aml *a, const char *object, uint64_t value) {
        put8(a, AML_NOTIFY);
        aml_name(a, object);
        aml_integer(a, value);
}

void aml_return_integer(struct aml *a, uint64_t v) {
        put8(a, AML_RETURN);
        aml_integer(a, v);
}

/* ------------------------------------------------------------ resources */

/* The template's bytes start after the BufferSize, whose encoding depends
 * on the length: the descriptors are written first and the size put in
 * front of them in aml_resources_end(). */
void aml_resources_begin(struct aml *a) {
        put8(a, AML_BUFFER);
        open_pkg(a);
        if (a->error || a->depth == AML_MAX_DEPTH) {
                fail(a, -EINVAL);
                return;
        }
        a->open[a->depth++] = a->len; /* where the descriptors begin */
}

void aml_resource_io(struct aml *a, uint16_t port, uint8_t length) {
        put8(a, 0x47); /* small item, I/O port, 7 bytes */
        put8(a, 0x01); /* 16-bit decode */
        put_le(a, port, 2);
        put_le(a, port, 2);
        put8(a, 1);
        put8(a, length);
}

void aml_resource_irq(struct aml *a, unsigned irq) {
        if (irq > 15)
                fail(a, -EINVAL);
        put8(a, 0x22); /* small item, IRQ, 2 bytes: edge, active high */
        put_le(a, 1u << irq, 2);
}

void aml_resource_memory32(struct aml *a, uint32_t base, uint32_t length) {
        put8(a, 0x86); /* large item, 32-bit fixed memory range */
        put_le(a, 9, 2);
        put8(a, 0x01); /* read-write */
        put_le(a, base, 4);
        put_le(a, length, 4);
}

void aml_resource_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low) {
        put8(a, 0x89); /* large item, extended interrupt */
        put_le(a, 6, 2);
        put8(a, (uint8_t) (0x01 | (edge ? 0x02 : 0) | (active_low ? 0x04 : 0))); /* consumer, exclusive */
        put8(a, 1);
        put_le(a, gsi, 4);
}

void aml_resources_end(struct aml *a) {
        size_t start, n;
        uint8_t size_enc[9];
        struct aml tmp;

        put8(a, 0x79); /* end tag */
        put8(a, 0x00); /* checksum 0: "treat as valid" */
        if (!pop_open(a, &start))
                return;
        n = a->len - start;
        /* BufferSize, then the bytes: make room in front of them. */
        aml_init(&tmp, size_enc, sizeof(size_enc));
        aml_integer(&tmp, n);
        if (tmp.len > a->size - a->len) {
                fail(a, -ENOSPC);
                return;
        }
        memmove(a->buf + start + tmp.len, a->buf + start, n);
        memcpy(a->buf + start, size_enc, tmp.len);
        a->len += tmp.len;
        aml_end(a); /* the Buffer's PkgLength */
}
