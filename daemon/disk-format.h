/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk-format.h: what a disk file holds, told from its first sector.
 *
 * The launcher shows a guest a disk's bytes as they are (raw), its
 * capacity the file's size. A qcow2 file given as a disk would be shown
 * as its own header and clusters: a 1 GiB qcow2 of 196,624 bytes became
 * a 192 KiB disk of garbage (issue 22). So a disk whose first sector
 * carries the documented magic number of an image format is refused,
 * naming the format and how to convert it; anything else is raw.
 *
 * Only the magic numbers are read, at their fixed offsets in the first
 * DISK_FORMAT_HEADER_SIZE bytes: no size, offset or version field of a
 * header is believed or followed, so a header that lies can at worst
 * name the wrong format. Nothing here interprets an image either: this
 * is advice to the user, not a security boundary. A guest can write
 * such a magic number to its own raw disk, and then that disk is refused
 * at its next Start (its owner's guest, its owner's file: the sentence
 * says what was found).
 *
 * The read is done by the opener's child, as the caller
 * (open-as-caller.h), never in guestd's loop: a file on a FUSE mount
 * that does not answer reads would stall guestd.
 */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

enum disk_format {
        DISK_FORMAT_RAW,
        DISK_FORMAT_QCOW,  /* QEMU's first qcow, version 1 */
        DISK_FORMAT_QCOW2, /* qcow2, versions 2 and 3 */
        DISK_FORMAT_QED,
        DISK_FORMAT_VMDK,
        DISK_FORMAT_VDI,
        DISK_FORMAT_VHD,  /* a dynamic VHD (its footer's copy at the start) */
        DISK_FORMAT_VHDX,
        DISK_FORMAT_PARALLELS,
        DISK_FORMAT_BOCHS,
        _DISK_FORMAT_MAX,
};

/* The bytes a probe reads: the first sector, every magic number's place. */
#define DISK_FORMAT_HEADER_SIZE 512

const char *disk_format_to_string(enum disk_format f);
/* The format the first n bytes of a file say (n may be short: a file
 * shorter than a magic number does not have it). */
enum disk_format disk_format_from_header(const void *header, size_t n);
/* Reads the first sector of fd with pread() (its file offset stays where
 * it was) and tells its format; -errno if it cannot be read. */
int disk_format_probe(int fd, enum disk_format *ret);
/* The user's sentence for the disk at path found to be format f (not
 * raw): org.guestd1.Error.InvalidArgument, with how to convert it. */
int disk_format_error(sd_bus_error *error, const char *path, enum disk_format f);
