/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-acpi.c: the launcher's ACPI tables for a 2-vCPU machine with two
 * virtio-mmio disks: every checksum, the pointers from RSDP to XSDT to
 * FADT, MADT and DSDT, the FADT's hardware-reduced flags and sleep
 * registers; then each table disassembled by Debian's iasl (acpica-tools,
 * `make deps` installs it), which must find no error or warning, and the
 * disassembly must name the devices (LNRO0005 with its window and
 * interrupt, COM1, the keyboard, the GED and its power button, \_S5).
 * And the AML emitter's encodings on their own.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "acpi.h"
#include "aml.h"
#include "power.h"
#include "test.h"

static uint32_t rd32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) {
        return rd32(p) | (uint64_t) rd32(p + 4) << 32;
}

static void test_aml(void) {
        uint8_t buf[256];
        struct aml a;

        /* Integers take their shortest form. */
        aml_init(&a, buf, sizeof(buf));
        aml_integer(&a, 0);
        aml_integer(&a, 1);
        aml_integer(&a, 0x80);
        aml_integer(&a, 0x1234);
        aml_integer(&a, 0x12345678);
        CHECK_EQ(aml_finish(&a), 0);
        static const uint8_t ints[] = { 0x00, 0x01, 0x0a, 0x80, 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12 };
        CHECK_EQ(a.len, sizeof(ints));
        CHECK(memcmp(buf, ints, sizeof(ints)) == 0);

        /* EisaId("PNP0C0C") is 0x0C0CD041 little-endian: 41 D0 0C 0C. */
        aml_init(&a, buf, sizeof(buf));
        aml_eisa_id(&a, "PNP0C0C");
        static const uint8_t eisa[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x0c };
        CHECK_EQ(a.len, sizeof(eisa));
        CHECK(memcmp(buf, eisa, sizeof(eisa)) == 0);

        /* Names: padded segments, dual names, the root. */
        aml_init(&a, buf, sizeof(buf));
        aml_name(&a, "\\_SB_.PWRB");
        static const uint8_t dual[] = { '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B' };
        CHECK_EQ(a.len, sizeof(dual));
        CHECK(memcmp(buf, dual, sizeof(dual)) == 0);
        aml_init(&a, buf, sizeof(buf));
        aml_name(&a, "_S5");
        CHECK(a.len == 4 && memcmp(buf, "_S5_", 4) == 0);
        aml_init(&a, buf, sizeof(buf));
        aml_name(&a, "lower");
        CHECK_EQ(aml_finish(&a), -EINVAL);
        aml_init(&a, buf, sizeof(buf));
        aml_name(&a, "1ABC");
        CHECK_EQ(aml_finish(&a), -EINVAL);

        /* A short and a long PkgLength. */
        aml_init(&a, buf, sizeof(buf));
        aml_package_begin(&a, 1);
        aml_integer(&a, 5);
        aml_end(&a);
        static const uint8_t pkg[] = { 0x12, 0x04, 0x01, 0x0a, 0x05 };
        CHECK_EQ(a.len, sizeof(pkg));
        CHECK(memcmp(buf, pkg, sizeof(pkg)) == 0);
        aml_init(&a, buf, sizeof(buf));
        aml_package_begin(&a, 30);
        for (int i = 0; i < 30; i++)
                aml_integer(&a, 0x1234);
        aml_end(&a);
        CHECK_EQ(aml_finish(&a), 0);
        /* body 1 + 90 bytes, PkgLength 2 bytes: 93 = 0x5d: lead 0x4d, then 0x05 */
        CHECK_EQ(a.len, 1 + 2 + 1 + 90);
        CHECK_EQ(buf[1], 0x4d);
        CHECK_EQ(buf[2], 0x05);

        /* Unbalanced, and out of room: the error sticks. */
        aml_init(&a, buf, sizeof(buf));
        aml_end(&a);
        CHECK_EQ(aml_finish(&a), -EINVAL);
        aml_init(&a, buf, sizeof(buf));
        aml_scope_begin(&a, "\\_SB_");
        CHECK_EQ(aml_finish(&a), -EINVAL);
        aml_init(&a, buf, 3);
        aml_string(&a, "LNRO0005");
        CHECK_EQ(aml_finish(&a), -ENOSPC);
        aml_init(&a, buf, sizeof(buf));
        aml_string(&a, "caf\xc3\xa9"); /* not ASCII */
        CHECK_EQ(aml_finish(&a), -EINVAL);
}

/* Runs iasl -d on path in dir; its output in out. Returns its status. */
static int iasl_disassemble(const char *dir, const char *file, char *out, size_t size) {
        char cmd[512];
        FILE *p;
        size_t n;

        snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d '%s' 2>&1", dir, file);
        p = popen(cmd, "r");
        if (!p)
                return -1;
        n = fread(out, 1, size - 1, p);
        out[n] = 0;
        return pclose(p);
}

static char *read_text(const char *path) {
        static char text[65536];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (n < 0)
                return NULL;
        text[n] = 0;
        return text;
}

static void test_tables(void) {
        static uint8_t buf[ACPI_TABLES_SIZE];
        struct acpi_machine m = {
                .n_vcpus = 2, .ioapic_id = 2, .com1_port = 0x3f8, .com1_irq = 4, .n_virtio = 2,
                .virtio_base = { 0xd0000000, 0xd0000200 }, .virtio_size = 0x200, .virtio_irq = { 5, 6 },
        };
        struct acpi_layout l;
        uint64_t rsdp = 0;
        const uint64_t base = ACPI_TABLES_ADDR;
        char dir[] = "/tmp/guestd-test-acpi.XXXXXX", out[16384], path[256];

        CHECK_EQ(acpi_build(&m, buf, sizeof(buf), base, &rsdp, &l), 0);
        CHECK_EQ(rsdp, base + l.rsdp);
        /* RSDP: both checksums, revision 2, the XSDT. */
        CHECK(memcmp(buf + l.rsdp, "RSD PTR ", 8) == 0);
        CHECK_EQ(acpi_checksum(buf + l.rsdp, 20), 0);
        CHECK_EQ(acpi_checksum(buf + l.rsdp, 36), 0);
        CHECK_EQ(buf[l.rsdp + 15], 2);
        CHECK_EQ(rd64(buf + l.rsdp + 24), base + l.xsdt);
        /* Every table sums to 0 over its length. */
        size_t tables[] = { l.xsdt, l.fadt, l.madt, l.dsdt };
        for (size_t i = 0; i < ELEMENTSOF(tables); i++)
                CHECK_EQ(acpi_checksum(buf + tables[i], rd32(buf + tables[i] + 4)), 0);
        CHECK_EQ(rd64(buf + l.xsdt + 36), base + l.fadt);
        CHECK_EQ(rd64(buf + l.xsdt + 44), base + l.madt);
        CHECK_EQ(rd64(buf + l.fadt + 140), base + l.dsdt);
        CHECK(rd32(buf + l.fadt + 112) & (1u << 20)); /* hardware-reduced */
        CHECK_EQ(buf[l.fadt + 109] & 0x02, 0x02);     /* an 8042: the keyboard */
        CHECK_EQ(buf[l.fadt + 244], 1);               /* sleep control: I/O space */
        CHECK_EQ(rd64(buf + l.fadt + 248), ACPI_SLEEP_CONTROL_PORT);
        CHECK(l.end <= sizeof(buf));
        /* Too small a buffer, too many devices. */
        CHECK_EQ(acpi_build(&m, buf, 200, base, &rsdp, NULL), -ENOSPC);
        m.n_virtio = ACPI_MAX_VIRTIO + 1;
        CHECK_EQ(acpi_build(&m, buf, sizeof(buf), base, &rsdp, NULL), -EINVAL);
        m.n_virtio = 2;
        CHECK_EQ(acpi_build(&m, buf, sizeof(buf), base, &rsdp, &l), 0);

        /* Debian's iasl disassembles each table without a complaint. */
        if (access("/usr/bin/iasl", X_OK) != 0) {
                fprintf(stderr, "iasl is missing: `make deps` installs acpica-tools, which this test needs\n");
                test_failures++;
                return;
        }
        CHECK(mkdtemp(dir));
        static const char *names[] = { "xsdt", "facp", "apic", "dsdt" };
        for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                int fd, status;
                snprintf(path, sizeof(path), "%s/%s.dat", dir, names[i]);
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                CHECK(fd >= 0);
                CHECK_EQ(write(fd, buf + tables[i], rd32(buf + tables[i] + 4)), (ssize_t) rd32(buf + tables[i] + 4));
                close(fd);
                snprintf(path, sizeof(path), "%s.dat", names[i]);
                status = iasl_disassemble(dir, path, out, sizeof(out));
                if (status != 0 || strstr(out, "Error") || strstr(out, "Warning")) {
                        fprintf(stderr, "iasl -d %s (status %d):\n%s\n", names[i], status, out);
                        test_failures++;
                }
        }
        snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
        const char *dsl = read_text(path);
        CHECK(dsl != NULL);
        if (dsl) {
                static const char *want[] = {
                        "\"LNRO0005\"", "0xD0000200,         // Address Base", "EisaId (\"PNP0501\")", "EisaId (\"PNP0303\")",
                        "EisaId (\"PNP0C0C\")", "\"ACPI0013\"", "Notify (\\_SB.PWRB, 0x80)", "Name (\\_S5, Package (0x04)",
                        "IO (Decode16,", "IRQNoFlags ()",
                };
                for (size_t i = 0; i < ELEMENTSOF(want); i++)
                        if (!strstr(dsl, want[i])) {
                                fprintf(stderr, "dsdt.dsl lacks %s:\n%s\n", want[i], dsl);
                                test_failures++;
                                break;
                        }
        }
        snprintf(path, sizeof(path), "rm -rf '%s'", dir);
        CHECK_EQ(system(path), 0);
}

struct fake_host {
        struct device_host host;
        int exits;
        enum guest_exit exit;
};
static void fake_exit(struct device_host *h, enum guest_exit e, const char *reason) {
        struct fake_host *f = (struct fake_host *) h;
        f->exits++;
        f->exit = e;
}

/* The FADT's sleep registers: only SLP_EN with \_S5's type powers off. */
static void test_sleep(void) {
        struct fake_host f = { .host = { .request_exit = fake_exit } };
        static struct io_map io;
        uint8_t v;

        CHECK_EQ(acpi_sleep_create(&io, &f.host), 0);
        v = ACPI_S5_SLP_TYP << 2; /* the type alone */
        io_dispatch(&io, IO_PIO, ACPI_SLEEP_CONTROL_PORT, &v, 1, true);
        CHECK_EQ(f.exits, 0);
        v = 3 << 2 | 0x20; /* a sleep state the DSDT does not offer */
        io_dispatch(&io, IO_PIO, ACPI_SLEEP_CONTROL_PORT, &v, 1, true);
        CHECK_EQ(f.exits, 0);
        v = 0x80; /* clearing WAK_STS */
        io_dispatch(&io, IO_PIO, ACPI_SLEEP_STATUS_PORT, &v, 1, true);
        CHECK_EQ(f.exits, 0);
        v = 0xff;
        io_dispatch(&io, IO_PIO, ACPI_SLEEP_STATUS_PORT, &v, 1, false);
        CHECK_EQ(v, 0);
        v = ACPI_S5_SLP_TYP << 2 | 0x20;
        io_dispatch(&io, IO_PIO, ACPI_SLEEP_CONTROL_PORT, &v, 1, true);
        CHECK_EQ(f.exits, 1);
        CHECK_EQ(f.exit, GUEST_EXIT_POWEROFF);
}

int main(void) {
        test_aml();
        test_sleep();
        test_tables();
        return TEST_RESULT();
}
