/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory.h: guest RAM. All of it lives in one memfd (so that a snapshot can
 * write it out and a restore can map it back lazily) mapped once into the
 * launcher. Guest-physical layout, as on a PC:
 *
 *   [0, low_size)                 RAM (low_size = min(size, 3 GiB))
 *   [3 GiB, 4 GiB)                hole for MMIO: virtio-mmio, IOAPIC, LAPIC
 *   [4 GiB, 4 GiB + high_size)    the rest of RAM, if any
 *
 * Every address a guest hands us goes through guest_memory_ptr(), which
 * returns NULL unless the whole range is RAM: the guest is hostile, and this
 * is the one place where its addresses become host pointers.
 */
#pragma once

#include <stdint.h>

#define GUEST_MMIO_HOLE_START (UINT64_C(3) << 30)
#define GUEST_HIGH_RAM_START (UINT64_C(4) << 30)

struct guest_memory {
        int fd;            /* memfd holding all guest RAM, -EBADF if none */
        uint8_t *host;     /* mapping of the whole memfd */
        uint64_t size;     /* total RAM in bytes */
        uint64_t low_size; /* RAM below the hole */
};

/* Creates the memfd of size bytes (multiple of 2 MiB) and maps it. */
int guest_memory_create(struct guest_memory *m, uint64_t size);
/* Resume: maps size bytes of RAM privately from fd at offset (a
 * snapshot's RAM image, page-aligned). Pages are read from the file when
 * the guest first touches them, so this costs the same for any size; what
 * the guest writes stays in this process (copy on write), the file never
 * changes. There is no memfd then (fd -EBADF): a later snapshot reads RAM
 * through the mapping (snapshot_write_memory_mapped()). */
int guest_memory_map_snapshot(struct guest_memory *m, int fd, uint64_t offset, uint64_t size);
/* Unmaps and closes; safe on a zeroed or half-made struct. */
void guest_memory_destroy(struct guest_memory *m);

/* How much of the memfd holds pages, in KiB: the guest RAM the guest (or
 * the loader) has touched. 0 if unknown. */
uint64_t guest_memory_allocated_kib(const struct guest_memory *m);

/* Host pointer for [gpa, gpa + len) if all of it is guest RAM, else NULL.
 * len 0 is allowed and checks only that gpa is inside (or at the end of) a
 * RAM region. Never overflows. */
void *guest_memory_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len);

/* Copy helpers built on guest_memory_ptr(): -EFAULT if out of RAM. */
int guest_memory_read(const struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len);
int guest_memory_write(const struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len);
