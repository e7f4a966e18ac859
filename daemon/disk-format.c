/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk-format.c: see disk-format.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bus-api.h"
#include "disk-format.h"
#include "util.h"

static const char *const disk_format_names[_DISK_FORMAT_MAX] = {
        [DISK_FORMAT_RAW] = "raw",
        [DISK_FORMAT_QCOW] = "qcow (version 1)",
        [DISK_FORMAT_QCOW2] = "qcow2",
        [DISK_FORMAT_QED] = "QED",
        [DISK_FORMAT_VMDK] = "VMDK",
        [DISK_FORMAT_VDI] = "VDI (VirtualBox)",
        [DISK_FORMAT_VHD] = "VHD (dynamic)",
        [DISK_FORMAT_VHDX] = "VHDX",
        [DISK_FORMAT_PARALLELS] = "Parallels",
        [DISK_FORMAT_BOCHS] = "Bochs",
};

const char *disk_format_to_string(enum disk_format f) {
        return f >= 0 && f < _DISK_FORMAT_MAX ? disk_format_names[f] : NULL;
}

/* Each format's magic number where its specification puts it; the first
 * row that matches wins (qcow's version 1 before qcow2's any version).
 * Left out on purpose: LUKS ("LUKS\xba\xbe"), which a guest writes to its
 * own raw disk when it encrypts it, and formats known only by a trailer
 * at the end of the file (DMG's "koly", a fixed VHD's footer: the data
 * before a fixed VHD's footer is raw). */
static const struct {
        enum disk_format format;
        size_t offset;
        const char *magic;
        size_t len;
} disk_magics[] = {
        /* QEMU docs/interop/qcow2.txt: "QFI\xfb", then the version, big-endian. */
        { DISK_FORMAT_QCOW, 0, "QFI\xfb\0\0\0\1", 8 },
        { DISK_FORMAT_QCOW2, 0, "QFI\xfb", 4 },
        /* QEMU docs/interop/qed_spec.txt: 0x00444551, little-endian. */
        { DISK_FORMAT_QED, 0, "QED\0", 4 },
        /* VMware's Virtual Disk Format 1.1: a hosted sparse extent
         * ("KDMV"), an ESX sparse extent ("COWD"), a descriptor file. */
        { DISK_FORMAT_VMDK, 0, "KDMV", 4 },
        { DISK_FORMAT_VMDK, 0, "COWD", 4 },
        { DISK_FORMAT_VMDK, 0, "# Disk DescriptorFile", 21 },
        /* VirtualBox: the signature 0xbeda107f, little-endian, at 0x40
         * (after the 64-byte text "<<< Oracle VM VirtualBox Disk Image >>>"). */
        { DISK_FORMAT_VDI, 0x40, "\x7f\x10\xda\xbe", 4 },
        /* Microsoft's VHD specification: the footer's cookie, copied to
         * the start of a dynamic or differencing disk. */
        { DISK_FORMAT_VHD, 0, "conectix", 8 },
        /* MS-VHDX 2.2.1: the file type identifier's signature. */
        { DISK_FORMAT_VHDX, 0, "vhdxfile", 8 },
        /* Parallels' image format (QEMU docs/interop/parallels.txt). */
        { DISK_FORMAT_PARALLELS, 0, "WithoutFreeSpace", 16 },
        { DISK_FORMAT_PARALLELS, 0, "WithouFreSpacExt", 16 },
        /* Bochs' growing and redolog images. */
        { DISK_FORMAT_BOCHS, 0, "Bochs Virtual HD Image", 22 },
};

enum disk_format disk_format_from_header(const void *header, size_t n) {
        const unsigned char *bytes = header;

        for (size_t i = 0; i < ELEMENTSOF(disk_magics); i++) {
                size_t offset = disk_magics[i].offset, len = disk_magics[i].len;

                if (offset + len <= MIN(n, (size_t) DISK_FORMAT_HEADER_SIZE) &&
                    memcmp(bytes + offset, disk_magics[i].magic, len) == 0)
                        return disk_magics[i].format;
        }
        return DISK_FORMAT_RAW;
}

int disk_format_probe(int fd, enum disk_format *ret) {
        unsigned char header[DISK_FORMAT_HEADER_SIZE];
        size_t n = 0;

        /* pread(), not read(): the launcher gets this same open file, and
         * its offset must stay where it is. A short read is the end of
         * the file (a file shorter than a sector); keep reading only after
         * an interrupted or partial one. */
        while (n < sizeof(header)) {
                ssize_t k = pread(fd, header + n, sizeof(header) - n, (off_t) n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret = disk_format_from_header(header, n);
        return 0;
}

int disk_format_error(sd_bus_error *error, const char *path, enum disk_format f) {
        return sd_bus_error_setf(error, GUESTD_ERROR_INVALID_ARGUMENT,
                                 "The disk %s is a %s image; guestd gives a guest raw disks only, and the guest would see the image's own "
                                 "bytes. Convert it with \"qemu-img convert -O raw %s %s.raw\" and name the .raw file instead.",
                                 path, disk_format_to_string(f) ?: "disk", path, path);
}
