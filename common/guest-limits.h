/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-limits.h: the limits guestd checks a guest's configuration against,
 * the launcher builds the machine within and guestctl describes, in one
 * place, so that a guest CreateGuest accepts can always start (issue 11)
 * and no two copies of a limit can disagree (issue 21). The launcher's
 * "setup" decoder (protocol-body.c) checks the same bounds again.
 *
 * The kernel command line: the launcher writes the user's command line,
 * then one "virtio_mmio.device=SIZE@BASE:IRQ" per disk, into one buffer of
 * GUEST_CMDLINE_SIZE bytes (NUL included) in guest memory. So the user's
 * part may be at most GUEST_CMDLINE_MAX(n_disks) bytes; launcher/test-cmdline
 * holds each appended argument to GUEST_DEVICE_ARG_MAX. (A bzImage
 * may allow less, its cmdline_size: the launcher says so at start.)
 *
 * Plain numbers where a help text spells the value out (STRINGIFY()).
 */
#pragma once

#include <stdint.h>

/* A guest's name: part of file names and object paths (daemon/config.c
 * says which characters). */
#define GUEST_NAME_MAX 64
/* RAM in MiB: an even number (it is mapped in 2 MiB pages), at most 1 TiB. */
#define GUEST_MEMORY_MIB_MIN 2
#define GUEST_MEMORY_MIB_MAX (UINT64_C(1) << 20)
#define GUEST_MEMORY_MIB_DEFAULT 64 /* guestctl create, the launcher standalone */
#define GUEST_VCPUS_MAX 64
#define GUEST_VCPUS_DEFAULT 1
#define GUEST_MAX_DISKS 8
/* A disk's ID: virtio-blk's ID string (VIRTIO_BLK_ID_BYTES). */
#define GUEST_DISK_ID_MAX 20

#define GUEST_CMDLINE_SIZE 4096
/* " virtio_mmio.device=512@0xd0000e00:14" is 38 bytes; room to spare. */
#define GUEST_DEVICE_ARG_MAX 48
#define GUEST_CMDLINE_MAX(n_disks) ((unsigned) (GUEST_CMDLINE_SIZE - 1 - (n_disks) * GUEST_DEVICE_ARG_MAX))

/* The tail of a guest's console guestd keeps (GetConsoleLog, guestctl log). */
#define GUEST_CONSOLE_LOG_KIB 64
/* The longest timeout a policy may set (timeouts.open_files and
 * timeouts.stop): guestctl waits that long for a Stop, and a little more. */
#define GUEST_TIMEOUT_MAX_S 3600
/* After "stop", how long guestd waits for the launcher to end before it
 * kills it. */
#define GUEST_STOP_GRACE_S 10
