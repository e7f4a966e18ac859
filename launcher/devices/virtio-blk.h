/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-blk.h: a virtio block device (spec 5.2) over virtio-mmio, backed by
 * a file or block device the launcher received as an fd. One request queue,
 * processed synchronously in the vCPU thread that notified it.
 *
 * Requests: IN (read), OUT (write), FLUSH (fdatasync: a guest that asks for
 * a barrier gets one), GET_ID (the id string, up to 20 bytes). Read-only
 * disks offer VIRTIO_BLK_F_RO and answer writes with IOERR. Everything else
 * is UNSUPP.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "virtio-mmio.h"

#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk;

/* Creates the device and registers its VIRTIO_MMIO_REGION_SIZE (0x200) bytes
 * of MMIO at mmio_base; the guest learns of it from the kernel command line
 * `virtio_mmio.device=512@0x<mmio_base>:<irq>`.
 *
 * disk_fd stays owned by the caller, who keeps it open until
 * virtio_blk_free(); the capacity is its size (regular file: st_size, block
 * device: BLKGETSIZE64) in whole 512-byte sectors, read once here. id may be
 * NULL (empty id); longer than 20 bytes is -EINVAL. An fd that is neither a
 * regular file nor a block device is -EINVAL, one not open for writing while
 * !read_only is -EBADF. Else -ENOMEM, or io_register()'s -EEXIST/-ENOSPC;
 * nothing is registered on failure. */
int virtio_blk_create(struct io_map *io, struct device_host *host, uint64_t mmio_base, unsigned irq, int disk_fd,
                      bool read_only, const char *id, struct virtio_blk **ret);

/* Frees the device. The I/O map cannot unregister it, so call this only when no
 * vCPU runs any more. Accepts NULL, returns NULL. */
struct virtio_blk *virtio_blk_free(struct virtio_blk *b);
static inline void virtio_blk_freep(struct virtio_blk **b) {
        virtio_blk_free(*b);
}

/* Guest-visible state for snapshots: the transport's (the block device has
 * none of its own; the disk contents are the caller's business). */
void virtio_blk_save(struct virtio_blk *b, struct virtio_mmio_state *ret);
int virtio_blk_restore(struct virtio_blk *b, const struct virtio_mmio_state *s);

/* Capacity in 512-byte sectors. */
uint64_t virtio_blk_capacity(const struct virtio_blk *b);
