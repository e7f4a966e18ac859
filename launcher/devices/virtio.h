/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio.h: the numbers of the virtio 1.x specification that more than one
 * of our virtio files needs: device status bits (spec 2.1), the transport
 * and ring feature bits (spec 6), device types (spec 5) and the interrupt
 * reasons of the MMIO transport (spec 4.2.2). Device-specific numbers live
 * beside their device (virtio-blk.c).
 */
#pragma once

/* Device status (spec 2.1). The driver sets bits in this order; clearing
 * them all (writing 0) resets the device. DEVICE_NEEDS_RESET is the one bit
 * the device sets: "I hit an error I cannot recover from, reset me". */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u
#define VIRTIO_STATUS_ALL                                                                             \
        (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |                 \
         VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)

/* Feature bit numbers (spec 6). Bits 0..23 belong to the device type. */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

#define VIRTIO_FEATURE(bit) (UINT64_C(1) << (bit))

/* Device types (spec 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2

/* InterruptStatus bits of virtio-mmio (spec 4.2.2). */
#define VIRTIO_MMIO_INT_VRING 1u  /* used buffers on some queue */
#define VIRTIO_MMIO_INT_CONFIG 2u /* configuration (or DEVICE_NEEDS_RESET) changed */
