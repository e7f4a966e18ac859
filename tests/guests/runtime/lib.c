/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib.c: the few libc functions the payloads (and the compiler, for
 * structure copies and zeroing) need. Byte loops: they are short-lived in
 * every payload, and the compiler's idea of a faster memcpy could call
 * memcpy again.
 */
#include "runtime.h"

void *memcpy(void *dst, const void *src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;
        while (n--)
                *d++ = *s++;
        return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;
        if (d < s)
                return memcpy(dst, src, n);
        while (n--)
                d[n] = s[n];
        return dst;
}

void *memset(void *dst, int c, size_t n)
{
        uint8_t *d = dst;
        while (n--)
                *d++ = (uint8_t) c;
        return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const uint8_t *x = a, *y = b;
        for (; n; n--, x++, y++)
                if (*x != *y)
                        return *x < *y ? -1 : 1;
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
        for (; n; n--, a++, b++) {
                if (*a != *b)
                        return (uint8_t) *a < (uint8_t) *b ? -1 : 1;
                if (!*a)
                        return 0;
        }
        return 0;
}

static int digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'Z')
                return c - 'A' + 10;
        return 99;
}

size_t parse_uint(const char *s, size_t len, unsigned base, uint64_t *ret)
{
        size_t i = 0;
        if (base == 0) {
                if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                        base = 16, i = 2;
                else if (len >= 2 && s[0] == '0')
                        base = 8, i = 1;
                else
                        base = 10;
        } else if (base == 16 && len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                i = 2;
        size_t first = i;
        uint64_t v = 0;
        for (; i < len; i++) {
                int d = digit_value(s[i]);
                if (d >= (int) base)
                        break;
                if (v > (UINT64_MAX - (uint64_t) d) / base)
                        return 0;
                v = v * base + (uint64_t) d;
        }
        if (i == first)
                return 0;
        *ret = v;
        return i;
}

size_t parse_size(const char *s, size_t len, uint64_t *ret)
{
        uint64_t v;
        size_t n = parse_uint(s, len, 0, &v);
        if (n == 0)
                return 0;
        unsigned shift = 0;
        if (n < len) {
                switch (s[n]) {
                case 'E': case 'e': shift = 60; break;
                case 'P': case 'p': shift = 50; break;
                case 'T': case 't': shift = 40; break;
                case 'G': case 'g': shift = 30; break;
                case 'M': case 'm': shift = 20; break;
                case 'K': case 'k': shift = 10; break;
                }
                if (shift) {
                        if (v > (UINT64_MAX >> shift))
                                return 0;
                        n++;
                }
        }
        *ret = v << shift;
        return n;
}
