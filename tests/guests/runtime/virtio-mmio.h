/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-mmio.h: just enough of a virtio driver for the test payloads.
 * Modern virtio-mmio (Version register 2) only, split virtqueues, one
 * request in flight at a time, completion by polling the used ring (no
 * interrupts).
 */
#pragma once

#include "runtime.h"

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */

/* Registers (virtio 1.x, 4.2.2) and device status bits (2.1). */
#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED 128
#define STATUS_DEVICE_NEEDS_RESET 64

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2

#define VIRTIO_F_VERSION_1 32

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2 /* the device writes this buffer */

struct virtio_mmio_device {
        uint64_t base, size;
        unsigned irq;
        volatile uint8_t *regs;
        uint32_t version, device_id, vendor_id;
};

/* One entry of "virtio_mmio.device=<size>@<base>:<irq>[:<id>]". */
struct virtio_mmio_location {
        uint64_t size, base;
        unsigned irq;
};

/* Parses the value of a virtio_mmio.device= token, as Linux does. */
bool virtio_mmio_parse_location(const char *value, size_t len, struct virtio_mmio_location *ret);

/* Looks at every virtio_mmio.device= entry on the command line, printing
 * one line per device, and returns the first modern one with device_id.
 * Returns 0, or -1 when there is none. */
int virtio_mmio_find(const char *cmdline, uint32_t device_id, struct virtio_mmio_device *ret);

/* Resets the device and negotiates features: accepts the offered subset of
 * wanted, fails (-1) unless all of required (a subset of wanted) are
 * offered and the device accepts FEATURES_OK. */
int virtio_mmio_negotiate(struct virtio_mmio_device *dev, uint64_t wanted, uint64_t required,
                          uint64_t *ret_offered, uint64_t *ret_accepted);

struct virtq_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};

#define VIRTQ_SIZE 16
struct virtq_avail {
        uint16_t flags;
        uint16_t idx;
        uint16_t ring[VIRTQ_SIZE];
        uint16_t used_event;
};
struct virtq_used_elem {
        uint32_t id;
        uint32_t len;
};
struct virtq_used {
        uint16_t flags;
        uint16_t idx;
        struct virtq_used_elem ring[VIRTQ_SIZE];
        uint16_t avail_event;
};

/* Everything a queue needs, in one page-aligned block. */
struct virtqueue {
        struct virtq_desc desc[VIRTQ_SIZE] __attribute__((aligned(16)));
        struct virtq_avail avail __attribute__((aligned(2)));
        struct virtq_used used __attribute__((aligned(4)));
        unsigned index;
        uint16_t size;
        uint16_t last_used;
} __attribute__((aligned(4096)));

/* Plain 32-bit register access at byte offset off. */
uint32_t virtio_mmio_read32(struct virtio_mmio_device *dev, unsigned off);
void virtio_mmio_write32(struct virtio_mmio_device *dev, unsigned off, uint32_t v);

/* Sets up queue index with at most VIRTQ_SIZE entries. Returns 0 or -1. */
int virtio_mmio_setup_queue(struct virtio_mmio_device *dev, struct virtqueue *vq, unsigned index);
void virtio_mmio_driver_ok(struct virtio_mmio_device *dev);
uint32_t virtio_mmio_status(struct virtio_mmio_device *dev);

struct virtq_buffer {
        void *addr;
        uint32_t len;
        bool device_writes;
};
/* Puts one chain on the queue, notifies, and polls for its completion.
 * Returns 0 with the device's written length, or -1 on timeout. */
int virtqueue_transfer(struct virtio_mmio_device *dev, struct virtqueue *vq, const struct virtq_buffer *bufs,
                       unsigned n, uint32_t *ret_len);

/* Device configuration space, byte offset off (read with the
 * ConfigGeneration retry loop for the 64-bit case). */
uint32_t virtio_mmio_config32(struct virtio_mmio_device *dev, unsigned off);
uint64_t virtio_mmio_config64(struct virtio_mmio_device *dev, unsigned off);
