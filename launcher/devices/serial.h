/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serial.h: an 8250/16550A UART; see serial.c. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_RX_SIZE 256
#define SERIAL_TX_BUFFER 256

/* Guest-visible state, plain data, for snapshots. */
struct serial_state {
        uint8_t ier, lcr, mcr, lsr_errors, scr, fcr, dll, dlm;
        uint8_t thr_ipending;
        uint16_t rx_head, rx_count;
        uint8_t rx[SERIAL_RX_SIZE];
};

struct serial;

/* Claims 8 ports at port; output goes to out_fd (not owned). */
int serial_create(struct io_map *io, struct device_host *host, uint16_t port, unsigned irq, int out_fd, struct serial **ret);
struct serial *serial_free(struct serial *s);

/* Console input, from the I/O thread: how many bytes fit, and queue them
 * (at most that many). */
size_t serial_rx_space(struct serial *s);
void serial_receive(struct serial *s, const uint8_t *buf, size_t n);
/* Switches console output to out_fd (not owned); buffered output goes to
 * the new fd. Once this returns the old fd is no longer written to, so the
 * caller may close it. */
void serial_set_output(struct serial *s, int out_fd);
/* Writes out buffered guest output; the I/O thread calls it periodically. */
void serial_flush(struct serial *s);
/* Total bytes the guest has written to the console. */
uint64_t serial_tx_total(struct serial *s);
/* Bytes the console could not take (full or gone) and that were dropped. */
uint64_t serial_tx_dropped(struct serial *s);

void serial_save(struct serial *s, struct serial_state *ret);
int serial_restore(struct serial *s, const struct serial_state *state);
