/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-serial.c: the UART as Linux's 8250 driver drives it: the loopback
 * probe, FIFO detection, THR-empty and receive interrupts with the right
 * edges, divisor latch, and console input/output.
 */
#include <fcntl.h>
#include <string.h>

#include "serial.h"
#include "test.h"

struct fake_host {
        struct device_host host;
        int level, rising_edges;
};

static void fake_irq(struct device_host *h, unsigned irq, int level) {
        struct fake_host *f = (struct fake_host *) h;
        if (level && !f->level)
                f->rising_edges++;
        f->level = level;
}
static void fake_exit(struct device_host *h, enum guest_exit e, const char *reason) {
}

static struct io_map io;
static uint8_t in(unsigned reg) {
        uint8_t v;
        io_dispatch(&io, IO_PIO, 0x3f8 + reg, &v, 1, false);
        return v;
}
static void out(unsigned reg, uint8_t v) {
        io_dispatch(&io, IO_PIO, 0x3f8 + reg, &v, 1, true);
}

int main(void) {
        struct fake_host f = { .host = { .irq_line = fake_irq, .request_exit = fake_exit } };
        struct serial *s;
        struct serial_state st;
        int pipefd[2];
        char buf[64];

        CHECK_EQ(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK), 0);
        CHECK_EQ(serial_create(&io, &f.host, 0x3f8, 4, pipefd[1], &s), 0);
        CHECK_EQ(serial_create(&io, &f.host, 0x3f8, 4, pipefd[1], &(struct serial *) { NULL }), -EEXIST);

        /* Scratch register and divisor latch. */
        out(7, 0xa5);
        CHECK_EQ(in(7), 0xa5);
        out(3, 0x80);
        out(0, 0x01);
        out(1, 0x00);
        CHECK_EQ(in(0), 0x01);
        out(3, 0x03); /* 8N1, DLAB off */
        CHECK_EQ(in(3), 0x03);

        /* Linux's loopback probe: MCR = LOOP | OUT2 | RTS gives MSR 0x90. */
        out(4, 0x10 | 0x0a);
        CHECK_EQ(in(6) & 0xf0, 0x90);
        out(0, 'L'); /* looped back as received data */
        CHECK(in(5) & 0x01);
        CHECK_EQ(in(0), 'L');
        CHECK(!(in(5) & 0x01));
        out(4, 0x0b); /* DTR | RTS | OUT2 */
        CHECK_EQ(in(6), 0xb0);

        /* FIFO: IIR reports 16550A FIFOs once enabled. */
        out(2, 0x07);
        CHECK_EQ(in(2) & 0xc0, 0xc0);

        /* THR empty interrupt: enabling THRI raises the line (an edge);
         * reading IIR that reports it lowers it; writing THR raises it again. */
        int edges = f.rising_edges;
        out(1, 0x02);
        CHECK_EQ(f.level, 1);
        CHECK_EQ(f.rising_edges, edges + 1);
        CHECK_EQ(in(2) & 0x0f, 0x02);
        CHECK_EQ(f.level, 0);
        CHECK_EQ(in(2) & 0x0f, 0x01); /* no interrupt pending now */
        out(0, 'h');
        out(0, 'i');
        out(0, '\n');
        CHECK_EQ(f.level, 1);
        CHECK_EQ(f.rising_edges, edges + 2);
        CHECK_EQ(read(pipefd[0], buf, sizeof(buf)), 3);
        CHECK(memcmp(buf, "hi\n", 3) == 0);
        /* Output without a newline waits for serial_flush(). */
        out(0, '>');
        CHECK_EQ(read(pipefd[0], buf, sizeof(buf)), -1);
        serial_flush(s);
        CHECK_EQ(read(pipefd[0], buf, sizeof(buf)), 1);
        CHECK_EQ(serial_tx_total(s), 4);

        /* Receive: data-ready and the RDI interrupt, which outranks THRI. */
        out(1, 0x01);
        CHECK_EQ(f.level, 0);
        CHECK_EQ(serial_rx_space(s), SERIAL_RX_SIZE);
        serial_receive(s, (const uint8_t *) "ok", 2);
        CHECK_EQ(f.level, 1);
        CHECK_EQ(in(2) & 0x0f, 0x04);
        CHECK_EQ(in(0), 'o');
        CHECK_EQ(in(0), 'k');
        CHECK_EQ(f.level, 0);
        CHECK_EQ(in(0), 0); /* empty: reads 0 */
        /* Overrun: only SERIAL_RX_SIZE bytes are kept. */
        for (int i = 0; i < SERIAL_RX_SIZE + 10; i++)
                serial_receive(s, (const uint8_t *) "x", 1);
        CHECK_EQ(serial_rx_space(s), 0);
        out(2, 0x03); /* FCR: clear the receive FIFO */
        CHECK_EQ(serial_rx_space(s), SERIAL_RX_SIZE);

        /* Wider accesses: all-ones, and writes ignored. */
        uint32_t wide = 0;
        io_dispatch(&io, IO_PIO, 0x3f8, &wide, 4, false);
        CHECK_EQ(wide, 0xffffffffu);
        wide = 'W';
        io_dispatch(&io, IO_PIO, 0x3f8, &wide, 4, true);
        CHECK_EQ(serial_tx_total(s), 4);

        /* Save and restore. */
        serial_receive(s, (const uint8_t *) "z", 1);
        serial_save(s, &st);
        CHECK_EQ(st.rx_count, 1);
        CHECK_EQ(in(0), 'z');
        CHECK_EQ(serial_restore(s, &st), 0);
        CHECK_EQ(in(0), 'z');
        st.rx_count = SERIAL_RX_SIZE + 1;
        CHECK_EQ(serial_restore(s, &st), -EINVAL);
        st.rx_count = 0;
        st.rx_head = SERIAL_RX_SIZE;
        CHECK_EQ(serial_restore(s, &st), -EINVAL);

        serial_free(s);
        close(pipefd[0]);
        close(pipefd[1]);
        return TEST_RESULT();
}
