/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * acpi.h: the ACPI tables that describe the launcher's machine to kernels
 * that find their devices through ACPI (issue 12: Debian's kernel has no
 * virtio_mmio.device= on its command line, only ACPI's LNRO0005).
 *
 * A hardware-reduced ACPI machine: RSDP, XSDT, FADT (no fixed hardware;
 * the sleep control and status registers at two I/O ports the launcher
 * handles; an i8042 present), MADT (a local APIC per vCPU, the IOAPIC),
 * DSDT (COM1, the PS/2 keyboard, each virtio-mmio device with its window
 * and interrupt, a Generic Event Device whose interrupt is the power
 * button, and \_S5 for power-off). Built from the same device list as the
 * command line and the MP table, into the reserved area below 1 MiB.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ACPI_TABLES_ADDR 0xe0000     /* RSDP first: also where a legacy scan finds it */
#define ACPI_TABLES_SIZE 0x10000
#define ACPI_MAX_VIRTIO 8
#define ACPI_SLEEP_CONTROL_PORT 0x600 /* FADT SLEEP_CONTROL_REG */
#define ACPI_SLEEP_STATUS_PORT 0x601  /* FADT SLEEP_STATUS_REG */
#define ACPI_S5_SLP_TYP 5             /* \_S5's value: SLP_TYPx for power-off */
#define ACPI_GED_GSI 16               /* the power button's interrupt (IOAPIC pin) */
#define ACPI_IOAPIC_ADDR 0xfec00000u
#define ACPI_LAPIC_ADDR 0xfee00000u

struct acpi_machine {
        unsigned n_vcpus;
        unsigned ioapic_id;
        uint16_t com1_port;
        unsigned com1_irq;
        unsigned n_virtio;
        uint64_t virtio_base[ACPI_MAX_VIRTIO];
        uint32_t virtio_size;
        unsigned virtio_irq[ACPI_MAX_VIRTIO];
};

/* Where each table landed in buf (offsets), for tests. */
struct acpi_layout {
        size_t rsdp, xsdt, fadt, madt, dsdt, end;
};

/* Writes the tables into buf (size bytes, to be placed at guest physical
 * address base) and returns the RSDP's guest physical address in
 * *ret_rsdp. -ENOSPC if they do not fit, -EINVAL for a machine they
 * cannot describe. */
int acpi_build(const struct acpi_machine *m, uint8_t *buf, size_t size, uint64_t base, uint64_t *ret_rsdp,
               struct acpi_layout *ret_layout);

/* The sum of bytes that makes a table's checksum right. */
uint8_t acpi_checksum(const void *p, size_t len);
