/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * serial.c: the PC's COM1, an 8250-family UART with 16550A FIFOs, enough for
 * Linux's 8250 driver and for polled output from tiny payloads.
 *
 * Transmission is instantaneous: a byte written to THR goes to the console
 * buffer at once, so the transmitter is always empty (LSR THRE|TEMT) and a
 * THR-empty interrupt is pending right after every write. Linux's driver
 * relies on that interrupt to keep sending, so getting "thr_ipending" right
 * matters: it is set when THR empties or when the guest enables the THRI
 * interrupt, and cleared when the guest reads IIR while THRI is the
 * reported source or writes THR.
 *
 * Linux probes the UART with the loopback bit in MCR: in loopback, what the
 * guest transmits comes back as received data, and MSR's upper bits mirror
 * MCR's outputs. Without that it would not detect a UART at all.
 *
 * The interrupt line follows the IIR: high while an interrupt is pending,
 * low otherwise; the edge-triggered PIC/IOAPIC pin sees a rising edge for
 * each new cause.
 */
#include <pthread.h>
#include <string.h>

#include "io.h"
#include "serial.h"

enum {
        UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
        UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};
#define LCR_DLAB 0x80
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_MASK 0x0f
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct serial {
        pthread_mutex_t lock;
        struct device_host *host;
        unsigned irq;
        int irq_level;
        int out_fd;
        struct serial_state st;
        uint8_t tx[SERIAL_TX_BUFFER];
        size_t tx_len;
        uint64_t tx_total;
        uint64_t tx_dropped;
};

static uint8_t serial_iir(const struct serial *s) {
        uint8_t iir = IIR_NO_INT;

        if ((s->st.ier & IER_RDI) && s->st.rx_count > 0)
                iir = IIR_RDI;
        else if ((s->st.ier & IER_THRI) && s->st.thr_ipending)
                iir = IIR_THRI;
        if (s->st.fcr & FCR_ENABLE)
                iir |= IIR_FIFO_ENABLED;
        return iir;
}

static void serial_update_irq(struct serial *s) {
        int level = !(serial_iir(s) & IIR_NO_INT);
        if (level != s->irq_level) {
                s->irq_level = level;
                s->host->irq_line(s->host, s->irq, level);
        }
}

/* Output goes out as it comes. A console that went away, or one that is
 * full (a non-blocking socket whose reader is behind: guestd under a
 * flood), is not the guest's problem and must not stall it or us: what
 * cannot be written is dropped and counted. A blocking console (a
 * terminal, standalone) is written in full. */
static void serial_flush_locked(struct serial *s) {
        size_t done = 0;

        while (done < s->tx_len) {
                ssize_t n = write(s->out_fd, s->tx + done, s->tx_len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                done += (size_t) n;
        }
        s->tx_dropped += s->tx_len - done;
        s->tx_len = 0;
}

static void serial_rx_push(struct serial *s, uint8_t byte) {
        if (s->st.rx_count >= SERIAL_RX_SIZE)
                return; /* overrun: the byte is lost, as on hardware */
        s->st.rx[(s->st.rx_head + s->st.rx_count) % SERIAL_RX_SIZE] = byte;
        s->st.rx_count++;
}

static void serial_transmit(struct serial *s, uint8_t byte) {
        if (s->st.mcr & MCR_LOOP)
                serial_rx_push(s, byte);
        else {
                s->tx[s->tx_len++] = byte;
                s->tx_total++;
                if (byte == '\n' || s->tx_len == sizeof(s->tx))
                        serial_flush_locked(s);
        }
        s->st.thr_ipending = 1;
}

static uint8_t serial_msr(const struct serial *s) {
        uint8_t mcr = s->st.mcr;

        if (!(mcr & MCR_LOOP))
                return MSR_DCD | MSR_DSR | MSR_CTS; /* a console is always "connected" */
        return (mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0) |
               (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0);
}

static void serial_read(void *opaque, uint64_t offset, void *data, unsigned size) {
        struct serial *s = opaque;
        uint8_t v = 0xff;

        if (size != 1)
                return; /* the UART's registers are bytes: wider reads give all-ones */
        pthread_mutex_lock(&s->lock);
        switch (offset) {
        case UART_RBR_THR:
                if (s->st.lcr & LCR_DLAB)
                        v = s->st.dll;
                else if (s->st.rx_count > 0) {
                        v = s->st.rx[s->st.rx_head];
                        s->st.rx_head = (s->st.rx_head + 1) % SERIAL_RX_SIZE;
                        s->st.rx_count--;
                } else
                        v = 0;
                break;
        case UART_IER:
                v = s->st.lcr & LCR_DLAB ? s->st.dlm : s->st.ier;
                break;
        case UART_IIR_FCR:
                v = serial_iir(s);
                /* Reading IIR acknowledges a THR-empty interrupt. */
                if ((v & 0x0f) == IIR_THRI)
                        s->st.thr_ipending = 0;
                break;
        case UART_LCR:
                v = s->st.lcr;
                break;
        case UART_MCR:
                v = s->st.mcr;
                break;
        case UART_LSR:
                v = LSR_THRE | LSR_TEMT | (s->st.rx_count > 0 ? LSR_DR : 0) | s->st.lsr_errors;
                s->st.lsr_errors = 0;
                break;
        case UART_MSR:
                v = serial_msr(s);
                break;
        case UART_SCR:
                v = s->st.scr;
                break;
        }
        serial_update_irq(s);
        pthread_mutex_unlock(&s->lock);
        *(uint8_t *) data = v;
}

static void serial_write(void *opaque, uint64_t offset, const void *data, unsigned size) {
        struct serial *s = opaque;
        uint8_t v = *(const uint8_t *) data;

        if (size != 1)
                return;
        pthread_mutex_lock(&s->lock);
        switch (offset) {
        case UART_RBR_THR:
                if (s->st.lcr & LCR_DLAB)
                        s->st.dll = v;
                else
                        serial_transmit(s, v);
                break;
        case UART_IER:
                if (s->st.lcr & LCR_DLAB)
                        s->st.dlm = v;
                else {
                        uint8_t old = s->st.ier;
                        s->st.ier = v & IER_MASK;
                        /* Enabling THRI with an empty transmitter raises it. */
                        if ((s->st.ier & IER_THRI) && !(old & IER_THRI))
                                s->st.thr_ipending = 1;
                }
                break;
        case UART_IIR_FCR:
                if (v & FCR_CLEAR_RX)
                        s->st.rx_head = s->st.rx_count = 0;
                s->st.fcr = v & (FCR_ENABLE | 0xc0);
                break;
        case UART_LCR:
                s->st.lcr = v;
                break;
        case UART_MCR:
                s->st.mcr = v & MCR_MASK;
                break;
        case UART_SCR:
                s->st.scr = v;
                break;
        default: /* LSR and MSR are read-only */
                break;
        }
        serial_update_irq(s);
        pthread_mutex_unlock(&s->lock);
}

int serial_create(struct io_map *io, struct device_host *host, uint16_t port, unsigned irq, int out_fd, struct serial **ret) {
        struct serial *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->lock, NULL);
        s->host = host;
        s->irq = irq;
        s->out_fd = out_fd;
        s->st.dll = 0x0c; /* 9600 baud, as after a BIOS */
        r = io_register(io, &(struct io_device) {
                .name = "serial", .space = IO_PIO, .base = port, .len = 8,
                .opaque = s, .read = serial_read, .write = serial_write,
        });
        if (r < 0) {
                serial_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct serial *serial_free(struct serial *s) {
        if (!s)
                return NULL;
        serial_flush(s);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

size_t serial_rx_space(struct serial *s) {
        size_t n;
        pthread_mutex_lock(&s->lock);
        n = SERIAL_RX_SIZE - s->st.rx_count;
        pthread_mutex_unlock(&s->lock);
        return n;
}

void serial_receive(struct serial *s, const uint8_t *buf, size_t n) {
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < n; i++)
                serial_rx_push(s, buf[i]);
        serial_update_irq(s);
        pthread_mutex_unlock(&s->lock);
}

void serial_set_output(struct serial *s, int out_fd) {
        pthread_mutex_lock(&s->lock);
        s->out_fd = out_fd;
        pthread_mutex_unlock(&s->lock);
}

void serial_flush(struct serial *s) {
        pthread_mutex_lock(&s->lock);
        serial_flush_locked(s);
        pthread_mutex_unlock(&s->lock);
}

uint64_t serial_tx_total(struct serial *s) {
        uint64_t n;
        pthread_mutex_lock(&s->lock);
        n = s->tx_total;
        pthread_mutex_unlock(&s->lock);
        return n;
}

uint64_t serial_tx_dropped(struct serial *s) {
        uint64_t n;
        pthread_mutex_lock(&s->lock);
        n = s->tx_dropped;
        pthread_mutex_unlock(&s->lock);
        return n;
}

void serial_save(struct serial *s, struct serial_state *ret) {
        pthread_mutex_lock(&s->lock);
        *ret = s->st;
        pthread_mutex_unlock(&s->lock);
}

int serial_restore(struct serial *s, const struct serial_state *state) {
        if (state->rx_head >= SERIAL_RX_SIZE || state->rx_count > SERIAL_RX_SIZE)
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        s->st = *state;
        s->st.ier &= IER_MASK;
        s->st.mcr &= MCR_MASK;
        serial_update_irq(s);
        pthread_mutex_unlock(&s->lock);
        return 0;
}
