/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-limits.h: the limits guestd checks a guest's configuration against and
 * the launcher builds the machine within, in one place, so that a guest
 * CreateGuest accepts can always start (issue 11).
 *
 * The kernel command line: the launcher writes the user's command line,
 * then one "virtio_mmio.device=SIZE@BASE:IRQ" per disk, into one buffer of
 * GUEST_CMDLINE_SIZE bytes (NUL included) in guest memory. So the user's
 * part may be at most GUEST_CMDLINE_MAX(n_disks) bytes; launcher/test-cmdline
 * holds each appended argument to GUEST_DEVICE_ARG_MAX. (A bzImage
 * may allow less, its cmdline_size: the launcher says so at start.)
 */
#pragma once

#define GUEST_CMDLINE_SIZE 4096
#define GUEST_MAX_DISKS 8
/* " virtio_mmio.device=512@0xd0000e00:14" is 38 bytes; room to spare. */
#define GUEST_DEVICE_ARG_MAX 48
#define GUEST_CMDLINE_MAX(n_disks) ((unsigned) (GUEST_CMDLINE_SIZE - 1 - (n_disks) * GUEST_DEVICE_ARG_MAX))
