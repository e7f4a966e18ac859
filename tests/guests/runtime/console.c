/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * console.c: output on COM1, an 8250 UART at port 0x3f8, polled: wait for
 * the Line Status Register's "transmit holding register empty" bit, then
 * write the byte. No initialisation: the launcher's and QEMU's UARTs work
 * out of reset, and every port access is a VM exit we would rather not pay
 * for in the start-to-exit benchmark.
 *
 * The printf here knows only what the payloads use (see runtime.h).
 */
#include "runtime.h"

#define COM1_BASE 0x3f8
#define UART_THR 0 /* transmit holding register */
#define UART_LSR 5 /* line status register */
#define UART_LSR_THRE 0x20

void console_putc(char c)
{
        /* Bounded: a missing UART reads as 0xff, but be safe anyway. */
        for (unsigned i = 0; i < 100000; i++)
                if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
                        break;
        outb(COM1_BASE + UART_THR, (uint8_t) c);
}

void console_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                console_putc(s[i]);
}

void console_puts(const char *s)
{
        while (*s)
                console_putc(*s++);
}

/* Where formatted characters go: the console, or a buffer. */
struct sink {
        char *buf;
        size_t size, used; /* used counts every character, stored or not */
};

static void sink_put(struct sink *k, char c)
{
        if (!k->buf)
                console_putc(c);
        else if (k->used + 1 < k->size)
                k->buf[k->used] = c;
        k->used++;
}

static void sink_pad(struct sink *k, char c, int n)
{
        while (n-- > 0)
                sink_put(k, c);
}

static void format_number(struct sink *k, uint64_t v, unsigned base, bool upper, bool negative,
                          int width, bool zero_pad, bool left)
{
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[24];
        int n = 0;
        do {
                tmp[n++] = digits[v % base];
                v /= base;
        } while (v);
        int len = n + (negative ? 1 : 0);
        if (!left && !zero_pad)
                sink_pad(k, ' ', width - len);
        if (negative)
                sink_put(k, '-');
        if (!left && zero_pad)
                sink_pad(k, '0', width - len);
        while (n)
                sink_put(k, tmp[--n]);
        if (left)
                sink_pad(k, ' ', width - len);
}

static void format(struct sink *k, const char *fmt, va_list ap)
{
        for (; *fmt; fmt++) {
                if (*fmt != '%') {
                        sink_put(k, *fmt);
                        continue;
                }
                fmt++;
                bool zero_pad = false, left = false;
                for (;; fmt++) {
                        if (*fmt == '0')
                                zero_pad = true;
                        else if (*fmt == '-')
                                left = true;
                        else
                                break;
                }
                int width = 0, precision = -1;
                if (*fmt == '*') {
                        width = va_arg(ap, int);
                        fmt++;
                } else
                        while (*fmt >= '0' && *fmt <= '9')
                                width = width * 10 + (*fmt++ - '0');
                if (*fmt == '.') {
                        fmt++;
                        precision = 0;
                        if (*fmt == '*') {
                                precision = va_arg(ap, int);
                                fmt++;
                        } else
                                while (*fmt >= '0' && *fmt <= '9')
                                        precision = precision * 10 + (*fmt++ - '0');
                }
                int longs = 0;
                while (*fmt == 'l' || *fmt == 'z') {
                        longs += *fmt == 'z' ? 2 : 1;
                        fmt++;
                }
                switch (*fmt) {
                case 'd':
                case 'i': {
                        int64_t v = longs ? va_arg(ap, long) : va_arg(ap, int);
                        uint64_t magnitude = v < 0 ? -(uint64_t) v : (uint64_t) v;
                        format_number(k, magnitude, 10, false, v < 0, width, zero_pad, left);
                        break;
                }
                case 'u':
                case 'x':
                case 'X': {
                        uint64_t v = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
                        format_number(k, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, zero_pad, left);
                        break;
                }
                case 'p':
                        sink_put(k, '0');
                        sink_put(k, 'x');
                        format_number(k, (uint64_t) va_arg(ap, void *), 16, false, false, width, zero_pad, left);
                        break;
                case 'c':
                        sink_put(k, (char) va_arg(ap, int));
                        break;
                case 's': {
                        const char *s = va_arg(ap, const char *);
                        if (!s)
                                s = "(null)";
                        int len = 0;
                        while ((precision < 0 || len < precision) && s[len])
                                len++;
                        if (!left)
                                sink_pad(k, ' ', width - len);
                        for (int i = 0; i < len; i++)
                                sink_put(k, s[i]);
                        if (left)
                                sink_pad(k, ' ', width - len);
                        break;
                }
                case '%':
                        sink_put(k, '%');
                        break;
                case '\0':
                        return;
                default:
                        sink_put(k, '%');
                        sink_put(k, *fmt);
                }
        }
}

int console_vprintf(const char *fmt, va_list ap)
{
        struct sink k = { 0 };
        format(&k, fmt, ap);
        return (int) k.used;
}

int console_printf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = console_vprintf(fmt, ap);
        va_end(ap);
        return n;
}

int format_string_va(char *buf, size_t size, const char *fmt, va_list ap)
{
        struct sink k = { .buf = buf, .size = size };
        format(&k, fmt, ap);
        if (size)
                buf[MIN(k.used, size - 1)] = '\0';
        return (int) k.used;
}

int format_string(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = format_string_va(buf, size, fmt, ap);
        va_end(ap);
        return n;
}
