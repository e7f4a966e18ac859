/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* acpi.c: see acpi.h. Table layouts: ACPI 6.3, chapter 5.2. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"

#define OEM_ID "GUESTD"
#define OEM_TABLE_ID "GUESTDVM"
#define CREATOR_ID "GSTD"

uint8_t acpi_checksum(const void *p, size_t len) {
        const uint8_t *b = p;
        uint8_t sum = 0;

        for (size_t i = 0; i < len; i++)
                sum = (uint8_t) (sum + b[i]);
        return (uint8_t) -sum;
}

static void le16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}
static void le32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static void le64(uint8_t *p, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* The common 36-byte header; the checksum is set by finish_table(). */
#define HEADER_SIZE 36
static void header(uint8_t *t, const char sig[4], uint32_t length, uint8_t revision) {
        memcpy(t, sig, 4);
        le32(t + 4, length);
        t[8] = revision;
        memcpy(t + 10, OEM_ID, 6);
        memcpy(t + 16, OEM_TABLE_ID, 8);
        le32(t + 24, 1);
        memcpy(t + 28, CREATOR_ID, 4);
        le32(t + 32, 1);
}
static void finish_table(uint8_t *t, uint32_t length) {
        t[9] = 0;
        t[9] = acpi_checksum(t, length);
}

/* A Generic Address Structure for one byte at an I/O port. */
static void gas_io8(uint8_t *p, uint16_t port) {
        p[0] = 1; /* system I/O */
        p[1] = 8; /* bit width */
        p[2] = 0; /* bit offset */
        p[3] = 1; /* byte access */
        le64(p + 4, port);
}

static int build_dsdt(const struct acpi_machine *m, uint8_t *t, size_t room, size_t *ret_len) {
        struct aml a;
        char name[8];
        int r;

        if (room < HEADER_SIZE)
                return -ENOSPC;
        aml_init(&a, t + HEADER_SIZE, room - HEADER_SIZE);
        aml_scope_begin(&a, "\\_SB_");

        /* COM1. */
        aml_device_begin(&a, "COM1");
        aml_name_begin(&a, "_HID");
        aml_eisa_id(&a, "PNP0501");
        aml_name_begin(&a, "_UID");
        aml_integer(&a, 0);
        aml_name_begin(&a, "_CRS");
        aml_resources_begin(&a);
        aml_resource_io(&a, m->com1_port, 8);
        aml_resource_irq(&a, m->com1_irq);
        aml_resources_end(&a);
        aml_end(&a);

        /* The PS/2 keyboard behind the i8042 (Ctrl-Alt-Del, CPU reset). */
        aml_device_begin(&a, "PS2K");
        aml_name_begin(&a, "_HID");
        aml_eisa_id(&a, "PNP0303");
        aml_name_begin(&a, "_CRS");
        aml_resources_begin(&a);
        aml_resource_io(&a, 0x60, 1);
        aml_resource_io(&a, 0x64, 1);
        aml_resource_irq(&a, 1);
        aml_resources_end(&a);
        aml_end(&a);

        /* Each virtio-mmio device: Linux's virtio_mmio binds LNRO0005. */
        for (unsigned i = 0; i < m->n_virtio; i++) {
                if (m->virtio_base[i] > UINT32_MAX)
                        return -EINVAL;
                snprintf(name, sizeof(name), "VR%02u", i);
                aml_device_begin(&a, name);
                aml_name_begin(&a, "_HID");
                aml_string(&a, "LNRO0005");
                aml_name_begin(&a, "_UID");
                aml_integer(&a, i);
                aml_name_begin(&a, "_CRS");
                aml_resources_begin(&a);
                aml_resource_memory32(&a, (uint32_t) m->virtio_base[i], m->virtio_size);
                aml_resource_interrupt(&a, m->virtio_irq[i], true, false);
                aml_resources_end(&a);
                aml_end(&a);
        }

        /* The power button, and the Generic Event Device whose one
         * interrupt is a press of it. */
        aml_device_begin(&a, "PWRB");
        aml_name_begin(&a, "_HID");
        aml_eisa_id(&a, "PNP0C0C");
        aml_name_begin(&a, "_UID");
        aml_integer(&a, 0);
        aml_end(&a);

        aml_device_begin(&a, "GED0");
        aml_name_begin(&a, "_HID");
        aml_string(&a, "ACPI0013");
        aml_name_begin(&a, "_UID");
        aml_integer(&a, 0);
        aml_name_begin(&a, "_CRS");
        aml_resources_begin(&a);
        aml_resource_interrupt(&a, ACPI_GED_GSI, true, false);
        aml_resources_end(&a);
        aml_method_begin(&a, "_EVT", 1, true);
        aml_notify(&a, "\\_SB_.PWRB", 0x80);
        aml_end(&a);
        aml_end(&a);

        aml_end(&a); /* \_SB */

        /* S5: the value the guest writes to SLP_TYP to power off. */
        aml_name_begin(&a, "\\_S5_");
        aml_package_begin(&a, 4);
        aml_integer(&a, ACPI_S5_SLP_TYP);
        aml_integer(&a, 0);
        aml_integer(&a, 0);
        aml_integer(&a, 0);
        aml_end(&a);

        r = aml_finish(&a);
        if (r < 0)
                return r;
        header(t, "DSDT", (uint32_t) (HEADER_SIZE + a.len), 2);
        finish_table(t, (uint32_t) (HEADER_SIZE + a.len));
        *ret_len = HEADER_SIZE + a.len;
        return 0;
}

#define FADT_SIZE 276
#define MADT_FIXED 44

int acpi_build(const struct acpi_machine *m, uint8_t *buf, size_t size, uint64_t base, uint64_t *ret_rsdp,
               struct acpi_layout *ret_layout) {
        struct acpi_layout l = {};
        size_t off = 0, dsdt_len = 0, madt_len;
        uint8_t *t;
        int r;

        if (m->n_vcpus == 0 || m->n_vcpus > 255 || m->n_virtio > ACPI_MAX_VIRTIO)
                return -EINVAL;
#define TAKE(field, len)                                                     \
        do {                                                                 \
                off = (off + 15) & ~(size_t) 15;                             \
                if ((len) > size || off > size - (len))                      \
                        return -ENOSPC;                                      \
                l.field = off;                                               \
                off += (len);                                                \
        } while (0)
        memset(buf, 0, size);
        TAKE(rsdp, 36);
        TAKE(xsdt, HEADER_SIZE + 2 * 8);
        TAKE(fadt, FADT_SIZE);
        madt_len = MADT_FIXED + 8 * m->n_vcpus + 12;
        TAKE(madt, madt_len);
        off = (off + 15) & ~(size_t) 15;
        if (off >= size)
                return -ENOSPC;
        l.dsdt = off;
        r = build_dsdt(m, buf + l.dsdt, size - l.dsdt, &dsdt_len);
        if (r < 0)
                return r;
        l.end = l.dsdt + dsdt_len;
#undef TAKE

        /* MADT: the local APICs and the IOAPIC. */
        t = buf + l.madt;
        header(t, "APIC", (uint32_t) madt_len, 5);
        le32(t + 36, ACPI_LAPIC_ADDR);
        le32(t + 40, 1); /* PCAT_COMPAT: there are 8259s too */
        for (unsigned i = 0; i < m->n_vcpus; i++) {
                uint8_t *e = t + MADT_FIXED + 8 * i;
                e[0] = 0; /* processor local APIC */
                e[1] = 8;
                e[2] = (uint8_t) i; /* ACPI processor UID */
                e[3] = (uint8_t) i; /* APIC id */
                le32(e + 4, 1);     /* enabled */
        }
        {
                uint8_t *e = t + MADT_FIXED + 8 * m->n_vcpus;
                e[0] = 1; /* IOAPIC */
                e[1] = 12;
                e[2] = (uint8_t) m->ioapic_id;
                le32(e + 4, ACPI_IOAPIC_ADDR);
                le32(e + 8, 0); /* GSI base */
        }
        finish_table(t, (uint32_t) madt_len);

        /* FADT: hardware-reduced. */
        t = buf + l.fadt;
        header(t, "FACP", FADT_SIZE, 6);
        le32(t + 40, (uint32_t) (base + l.dsdt));            /* DSDT */
        le16(t + 109, 0x0002 | 0x0004 | 0x0020);             /* IAPC_BOOT_ARCH: 8042; no VGA; no CMOS RTC */
        le32(t + 112, 1u << 20 | 1u << 4 | 1u << 5);         /* HW_REDUCED_ACPI; power and sleep buttons are devices */
        t[131] = 3;                                          /* FADT minor version: ACPI 6.3 */
        le64(t + 140, base + l.dsdt);                        /* X_DSDT */
        gas_io8(t + 244, ACPI_SLEEP_CONTROL_PORT);           /* SLEEP_CONTROL_REG */
        gas_io8(t + 256, ACPI_SLEEP_STATUS_PORT);            /* SLEEP_STATUS_REG */
        memcpy(t + 268, "GUESTD\0\0", 8);                    /* hypervisor vendor identity */
        finish_table(t, FADT_SIZE);

        /* XSDT: FADT and MADT. */
        t = buf + l.xsdt;
        header(t, "XSDT", HEADER_SIZE + 16, 1);
        le64(t + 36, base + l.fadt);
        le64(t + 44, base + l.madt);
        finish_table(t, HEADER_SIZE + 16);

        /* RSDP, revision 2: its first 20 bytes and all 36 have checksums. */
        t = buf + l.rsdp;
        memcpy(t, "RSD PTR ", 8);
        memcpy(t + 9, OEM_ID, 6);
        t[15] = 2;
        le32(t + 20, 36);
        le64(t + 24, base + l.xsdt);
        t[8] = acpi_checksum(t, 20);
        t[32] = acpi_checksum(t, 36);

        *ret_rsdp = base + l.rsdp;
        if (ret_layout)
                *ret_layout = l;
        return 0;
}
