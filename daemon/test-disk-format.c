/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-disk-format.c: each image format is told by its magic number at its
 * place, and nothing else is: a raw disk (zeros, an ext2 file system, a
 * LUKS header a guest wrote), a file shorter than a magic number, a magic
 * one byte off its place. A header whose sizes lie changes nothing (they
 * are never read). The probe reads through the fd with pread(), leaving
 * the file's offset where it was. The sentence names the file, the
 * format and the conversion.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus-api.h"
#include "disk-format.h"
#include "test.h"

static enum disk_format with_magic(size_t offset, const char *magic, size_t len, size_t n) {
        unsigned char header[DISK_FORMAT_HEADER_SIZE] = {};

        memcpy(header + offset, magic, len);
        return disk_format_from_header(header, n);
}

static void test_magics(void) {
        static const struct {
                size_t offset;
                const char *magic;
                size_t len;
                enum disk_format want;
        } cases[] = {
                { 0, "QFI\xfb\0\0\0\3", 8, DISK_FORMAT_QCOW2 },
                { 0, "QFI\xfb\0\0\0\2", 8, DISK_FORMAT_QCOW2 },
                { 0, "QFI\xfb\0\0\0\1", 8, DISK_FORMAT_QCOW },
                { 0, "QED\0", 4, DISK_FORMAT_QED },
                { 0, "KDMV", 4, DISK_FORMAT_VMDK },
                { 0, "COWD", 4, DISK_FORMAT_VMDK },
                { 0, "# Disk DescriptorFile\nversion=1\n", 32, DISK_FORMAT_VMDK },
                { 0x40, "\x7f\x10\xda\xbe", 4, DISK_FORMAT_VDI },
                { 0, "conectix", 8, DISK_FORMAT_VHD },
                { 0, "vhdxfile", 8, DISK_FORMAT_VHDX },
                { 0, "WithoutFreeSpace", 16, DISK_FORMAT_PARALLELS },
                { 0, "WithouFreSpacExt", 16, DISK_FORMAT_PARALLELS },
                { 0, "Bochs Virtual HD Image", 22, DISK_FORMAT_BOCHS },
                /* Raw: what a guest writes to its own disk. */
                { 0, "LUKS\xba\xbe\0\2", 8, DISK_FORMAT_RAW },
                { 0, "\xeb\x63\x90", 3, DISK_FORMAT_RAW }, /* a boot sector */
                /* A magic one byte off its place is no magic. */
                { 1, "QFI\xfb", 4, DISK_FORMAT_RAW },
                { 0x41, "\x7f\x10\xda\xbe", 4, DISK_FORMAT_RAW },
                { 0, "\x7f\x10\xda\xbe", 4, DISK_FORMAT_RAW },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                enum disk_format got = with_magic(cases[i].offset, cases[i].magic, cases[i].len, DISK_FORMAT_HEADER_SIZE);
                if (got != cases[i].want)
                        fprintf(stderr, "case %zu: got %s, wanted %s\n", i, disk_format_to_string(got),
                                disk_format_to_string(cases[i].want));
                CHECK_EQ(got, cases[i].want);
        }
        CHECK_EQ(disk_format_from_header((unsigned char[DISK_FORMAT_HEADER_SIZE]) {}, DISK_FORMAT_HEADER_SIZE), DISK_FORMAT_RAW);
}

/* A file shorter than a magic number does not have it: only the n bytes
 * given are looked at, never past them. */
static void test_short(void) {
        CHECK_EQ(disk_format_from_header("", 0), DISK_FORMAT_RAW);
        CHECK_EQ(disk_format_from_header(NULL, 0), DISK_FORMAT_RAW);
        CHECK_EQ(with_magic(0, "QFI\xfb", 4, 3), DISK_FORMAT_RAW);
        CHECK_EQ(with_magic(0, "QFI\xfb", 4, 4), DISK_FORMAT_QCOW2); /* no version to read: qcow2 */
        CHECK_EQ(with_magic(0, "QFI\xfb\0\0\0\1", 8, 7), DISK_FORMAT_QCOW2);
        CHECK_EQ(with_magic(0x40, "\x7f\x10\xda\xbe", 4, 0x43), DISK_FORMAT_RAW);
        CHECK_EQ(with_magic(0x40, "\x7f\x10\xda\xbe", 4, 0x44), DISK_FORMAT_VDI);
        /* More than a sector said: still only the sector is looked at. */
        CHECK_EQ(with_magic(0, "vhdxfile", 8, SIZE_MAX), DISK_FORMAT_VHDX);
}

static void test_names(void) {
        for (int f = 0; f < _DISK_FORMAT_MAX; f++)
                CHECK(disk_format_to_string(f) != NULL);
        CHECK(disk_format_to_string(_DISK_FORMAT_MAX) == NULL);
        CHECK(disk_format_to_string(-1) == NULL);
        CHECK(strcmp(disk_format_to_string(DISK_FORMAT_QCOW2), "qcow2") == 0);
}

static int memfd_with(const void *data, size_t len) {
        int fd = memfd_create("disk", MFD_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (len && write(fd, data, len) != (ssize_t) len) {
                close(fd);
                return -EIO;
        }
        return fd;
}

/* qcow2's header as qemu-img writes it, its sizes lying: a 2^63-byte disk,
 * a cluster size of 2^63, a backing file name past the end of the file. */
static void test_probe(void) {
        unsigned char qcow2[104] = "QFI\xfb\0\0\0\3";
        enum disk_format f = _DISK_FORMAT_MAX;
        unsigned char big[4096] = {};
        int fd;

        memset(qcow2 + 8, 0xff, 8);    /* backing_file_offset */
        memset(qcow2 + 16, 0xff, 4);   /* backing_file_size */
        qcow2[20] = 63;                /* cluster_bits */
        memset(qcow2 + 24, 0x7f, 8);   /* size */
        fd = memfd_with(qcow2, sizeof(qcow2));
        CHECK(fd >= 0);
        CHECK(lseek(fd, 17, SEEK_SET) == 17);
        CHECK_EQ(disk_format_probe(fd, &f), 0);
        CHECK_EQ(f, DISK_FORMAT_QCOW2);
        CHECK_EQ(lseek(fd, 0, SEEK_CUR), 17); /* the launcher's offset, untouched */
        close(fd);

        /* An empty file, and a raw one bigger than a sector. */
        fd = memfd_with(NULL, 0);
        CHECK(fd >= 0);
        CHECK_EQ(disk_format_probe(fd, &f), 0);
        CHECK_EQ(f, DISK_FORMAT_RAW);
        close(fd);
        memcpy(big + DISK_FORMAT_HEADER_SIZE, "QFI\xfb", 4); /* past the first sector: not looked at */
        fd = memfd_with(big, sizeof(big));
        CHECK(fd >= 0);
        CHECK_EQ(disk_format_probe(fd, &f), 0);
        CHECK_EQ(f, DISK_FORMAT_RAW);
        close(fd);

        /* What cannot be read says why. */
        CHECK_EQ(disk_format_probe(-1, &f), -EBADF);
}

static void test_error(void) {
        sd_bus_error error = SD_BUS_ERROR_NULL;

        CHECK(disk_format_error(&error, "/home/a/web.qcow2", DISK_FORMAT_QCOW2) < 0);
        CHECK(sd_bus_error_has_name(&error, GUESTD_ERROR_INVALID_ARGUMENT));
        CHECK(error.message && strstr(error.message, "The disk /home/a/web.qcow2 is a qcow2 image"));
        CHECK(error.message && strstr(error.message, "qemu-img convert -O raw /home/a/web.qcow2 /home/a/web.qcow2.raw"));
        sd_bus_error_free(&error);
}

int main(void) {
        test_magics();
        test_short();
        test_names();
        test_probe();
        test_error();
        return TEST_RESULT();
}
