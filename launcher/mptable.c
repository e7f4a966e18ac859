/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mptable.c: how a guest without ACPI learns that there are several CPUs.
 *
 * Linux looks for the MP floating pointer ("_MP_") in the last KiB of base
 * memory, among other places; we put it and the configuration table at
 * 0x9fc00, which the memory map marks reserved. The table lists one
 * processor entry per vCPU (APIC ID = vCPU index, as kmod/ puts in CPUID),
 * the ISA bus, the IOAPIC, and ISA IRQs 0-15 wired to the IOAPIC pins of
 * the same number: that is how KVM's default GSI routing connects its
 * in-kernel PIC and IOAPIC, so the PIT (IRQ 0), the UART (IRQ 4) and our
 * virtio-mmio devices arrive where the table says they do.
 */
#include <string.h>

#include "boot.h"
#include "mptable.h"
#include "util.h"

#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
#define MP_LAPIC_ADDR 0xfee00000u
#define MP_IOAPIC_ADDR 0xfec00000u

struct mpf_intel {
        char signature[4];
        uint32_t physptr;
        uint8_t length, specification, checksum, feature1, feature2, feature3, feature4, feature5;
} _packed_;

struct mpc_table {
        char signature[4];
        uint16_t length;
        uint8_t spec, checksum;
        char oem[8], productid[12];
        uint32_t oemptr;
        uint16_t oemsize, oemcount;
        uint32_t lapic;
        uint32_t reserved;
} _packed_;

struct mpc_cpu {
        uint8_t type, apicid, apicver, cpuflag;
        uint32_t cpufeature, featureflag, reserved[2];
} _packed_;

struct mpc_bus {
        uint8_t type, busid;
        char bustype[6];
} _packed_;

struct mpc_ioapic {
        uint8_t type, apicid, apicver, flags;
        uint32_t apicaddr;
} _packed_;

struct mpc_intsrc {
        uint8_t type, irqtype;
        uint16_t irqflag;
        uint8_t srcbus, srcbusirq, dstapic, dstirq;
} _packed_;

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

static uint8_t checksum(const void *p, size_t len) {
        uint8_t sum = 0;
        for (size_t i = 0; i < len; i++)
                sum += ((const uint8_t *) p)[i];
        return (uint8_t) -sum;
}

int mptable_write(struct guest_memory *mem, unsigned n_vcpus) {
        size_t size = sizeof(struct mpf_intel) + sizeof(struct mpc_table) + n_vcpus * sizeof(struct mpc_cpu) +
                      sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) + 18 * sizeof(struct mpc_intsrc);
        uint8_t *base = guest_memory_ptr(mem, BOOT_MPTABLE_ADDR, size);
        uint8_t ioapic_id = n_vcpus;
        unsigned count = 0;

        if (!base || size > BOOT_KERNEL_MIN_ADDR - BOOT_MPTABLE_ADDR || n_vcpus > 254)
                return -E2BIG;
        memset(base, 0, size);

        struct mpf_intel *mpf = (struct mpf_intel *) base;
        struct mpc_table *mpc = (struct mpc_table *) (mpf + 1);
        uint8_t *p = (uint8_t *) (mpc + 1);

        for (unsigned i = 0; i < n_vcpus; i++, count++) {
                struct mpc_cpu *c = (struct mpc_cpu *) p;
                *c = (struct mpc_cpu) {
                        .type = MP_PROCESSOR, .apicid = i, .apicver = MP_APIC_VERSION,
                        .cpuflag = 1 | (i == 0 ? 2 : 0), /* enabled, BSP */
                        .cpufeature = 0x600, .featureflag = 0x201, /* FPU, APIC */
                };
                p += sizeof(*c);
        }
        struct mpc_bus *bus = (struct mpc_bus *) p;
        *bus = (struct mpc_bus) { .type = MP_BUS, .busid = 0 };
        memcpy(bus->bustype, "ISA   ", 6);
        p += sizeof(*bus), count++;

        struct mpc_ioapic *io = (struct mpc_ioapic *) p;
        *io = (struct mpc_ioapic) { .type = MP_IOAPIC, .apicid = ioapic_id, .apicver = MP_IOAPIC_VERSION, .flags = 1, .apicaddr = MP_IOAPIC_ADDR };
        p += sizeof(*io), count++;

        for (unsigned irq = 0; irq < 16; irq++, count++) {
                struct mpc_intsrc *s = (struct mpc_intsrc *) p;
                *s = (struct mpc_intsrc) { .type = MP_INTSRC, .irqtype = MP_INT, .srcbus = 0, .srcbusirq = irq, .dstapic = ioapic_id, .dstirq = irq };
                p += sizeof(*s);
        }
        /* LINT0 takes the PIC's ExtINT, LINT1 NMI, on every local APIC. */
        struct mpc_intsrc *l = (struct mpc_intsrc *) p;
        l[0] = (struct mpc_intsrc) { .type = MP_LINTSRC, .irqtype = MP_EXTINT, .srcbus = 0, .dstapic = 0xff, .dstirq = 0 };
        l[1] = (struct mpc_intsrc) { .type = MP_LINTSRC, .irqtype = MP_NMI, .srcbus = 0, .dstapic = 0xff, .dstirq = 1 };
        p += 2 * sizeof(*l), count += 2;

        memcpy(mpc->signature, "PCMP", 4);
        mpc->length = p - (uint8_t *) mpc;
        mpc->spec = 4;
        memcpy(mpc->oem, "GUESTD  ", 8);
        memcpy(mpc->productid, "LAUNCHER    ", 12);
        mpc->oemcount = count;
        mpc->lapic = MP_LAPIC_ADDR;
        mpc->checksum = checksum(mpc, mpc->length);

        memcpy(mpf->signature, "_MP_", 4);
        mpf->physptr = BOOT_MPTABLE_ADDR + sizeof(*mpf);
        mpf->length = 1; /* in 16-byte units */
        mpf->specification = 4;
        mpf->checksum = checksum(mpf, sizeof(*mpf));
        return 0;
}
