/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-boot.c: both boot protocols on made-up kernels, good and hostile. */
#include <elf.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "log.h"
#include "test.h"

static int memfd_with(const void *data, size_t len) {
        int fd = memfd_create("kernel", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, len) < 0)
                abort();
        return fd;
}

/* A 64-bit ELF with one load segment at paddr and a PVH note. */
struct tiny_elf {
        Elf64_Ehdr eh;
        Elf64_Phdr ph[2];
        struct {
                uint32_t namesz, descsz, type;
                char name[4];
                uint32_t desc;
        } note;
        uint8_t code[16];
};

static void make_elf(struct tiny_elf *e, uint64_t paddr, uint64_t memsz) {
        memset(e, 0, sizeof(*e));
        memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
        e->eh.e_ident[EI_CLASS] = ELFCLASS64;
        e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
        e->eh.e_machine = EM_X86_64;
        e->eh.e_phoff = offsetof(struct tiny_elf, ph);
        e->eh.e_phentsize = sizeof(Elf64_Phdr);
        e->eh.e_phnum = 2;
        e->ph[0] = (Elf64_Phdr) { .p_type = PT_LOAD, .p_offset = offsetof(struct tiny_elf, code), .p_paddr = paddr,
                                  .p_filesz = sizeof(e->code), .p_memsz = memsz };
        e->ph[1] = (Elf64_Phdr) { .p_type = PT_NOTE, .p_offset = offsetof(struct tiny_elf, note), .p_filesz = sizeof(e->note) };
        e->note.namesz = 4;
        e->note.descsz = 4;
        e->note.type = 18;
        memcpy(e->note.name, "Xen", 4);
        e->note.desc = paddr;
        memset(e->code, 0x90, sizeof(e->code));
}

static int load(struct guest_memory *m, const void *kernel, size_t len, int initrd_fd, const char *cmdline, struct boot_entry *e) {
        int fd = memfd_with(kernel, len), r;
        r = boot_load(m, fd, initrd_fd, cmdline, e);
        close(fd);
        return r;
}

static void test_pvh(struct guest_memory *m) {
        struct tiny_elf elf;
        struct boot_entry e;
        uint8_t initrd[5000];
        int ifd;

        memset(initrd, 0xab, sizeof(initrd));
        ifd = memfd_with(initrd, sizeof(initrd));
        make_elf(&elf, 0x100000, 0x2000);
        CHECK_EQ(load(m, &elf, sizeof(elf), ifd, "console=ttyS0", &e), 0);
        CHECK_EQ(e.mode, BOOT_MODE_PVH);
        CHECK_EQ(e.entry, 0x100000);
        CHECK_EQ(e.arg, BOOT_START_INFO_ADDR);
        CHECK_EQ(e.kernel_end, 0x102000);
        CHECK_EQ(e.initrd_size, sizeof(initrd));
        CHECK(e.initrd_start % 4096 == 0 && e.initrd_start + e.initrd_size <= m->size);
        CHECK(memcmp(guest_memory_ptr(m, e.initrd_start, sizeof(initrd)), initrd, sizeof(initrd)) == 0);
        CHECK(strcmp(guest_memory_ptr(m, BOOT_CMDLINE_ADDR, 14), "console=ttyS0") == 0);
        const uint32_t *si = guest_memory_ptr(m, BOOT_START_INFO_ADDR, 56);
        CHECK_EQ(si[0], 0x336ec578);
        CHECK_EQ(si[1], 1);
        CHECK_EQ(si[3], 1); /* nr_modules */
        CHECK_EQ(si[12], 3); /* memmap_entries: low RAM, reserved, RAM from 1 MiB */
        /* No RSDP unless asked; then hvm_start_info.rsdp_paddr (offset 32). */
        CHECK_EQ(*(const uint64_t *) guest_memory_ptr(m, BOOT_START_INFO_ADDR + 32, 8), 0);
        CHECK_EQ(boot_set_acpi_rsdp(m, &e, 0xe0000), 0);
        CHECK_EQ(*(const uint64_t *) guest_memory_ptr(m, BOOT_START_INFO_ADDR + 32, 8), 0xe0000);
        /* bss is zeroed */
        CHECK(*(uint8_t *) guest_memory_ptr(m, 0x101000, 1) == 0);

        /* Hostile ELFs. */
        make_elf(&elf, 0x100000, 0x2000);
        elf.note.type = 17;
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x100000, 0x2000);
        elf.note.desc = 0x500000; /* entry outside the image */
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x1000, 0x2000); /* below 1 MiB: over our boot structures */
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -E2BIG);
        make_elf(&elf, 0x100000, UINT64_MAX - 0x1000); /* memsz overflows */
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -E2BIG);
        make_elf(&elf, 0xfffffffffffff000ull, 0x2000);
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -E2BIG);
        make_elf(&elf, 0x100000, 0x2000);
        elf.ph[0].p_offset = 1ull << 40; /* data outside the file */
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x100000, 0x2000);
        elf.ph[0].p_filesz = 0x3000; /* filesz > memsz */
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x100000, 0x2000);
        elf.eh.e_phnum = 60000;
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x100000, 0x2000);
        elf.note.namesz = 0xffffffff; /* note running off the segment */
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x100000, 0x2000);
        elf.eh.e_machine = EM_AARCH64;
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, "", &e), -ENOEXEC);
        make_elf(&elf, 0x100000, 0x2000);
        CHECK_EQ(load(m, &elf, 40, -EBADF, "", &e), -ENOEXEC); /* truncated header */

        /* Too long a command line. */
        char longline[BOOT_CMDLINE_MAX + 10];
        memset(longline, 'x', sizeof(longline) - 1);
        longline[sizeof(longline) - 1] = 0;
        make_elf(&elf, 0x100000, 0x2000);
        CHECK_EQ(load(m, &elf, sizeof(elf), -EBADF, longline, &e), -E2BIG);
        close(ifd);
}

static void test_bzimage(struct guest_memory *m) {
        static uint8_t image[0x1000 + 0x2000];
        struct boot_entry e;
        uint8_t *h = image;

        memset(image, 0, sizeof(image));
        h[0x1f1] = 7; /* setup sectors: the kernel starts at 0x1000 */
        h[0x1fe] = 0x55, h[0x1ff] = 0xaa;
        h[0x200] = 0xeb, h[0x201] = 0x66;
        memcpy(h + 0x202, "HdrS", 4);
        h[0x206] = 0x0f, h[0x207] = 0x02; /* 2.15 */
        h[0x211] = 0x01;                 /* LOADED_HIGH */
        h[0x236] = 0x01;                 /* XLF_KERNEL_64 */
        h[0x238] = 0xff, h[0x239] = 0x07; /* cmdline_size 2047 */
        h[0x22c] = 0xff, h[0x22d] = 0xff, h[0x22e] = 0xff, h[0x22f] = 0x7f;
        h[0x25a] = 0x10;                 /* pref_address 0x100000 */
        h[0x261] = 0x40;                 /* init_size 0x4000 */
        memset(image + 0x1000, 0xf4, 0x2000);

        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "root=/dev/vda", &e), 0);
        CHECK_EQ(e.mode, BOOT_MODE_LINUX64);
        CHECK_EQ(e.entry, 0x100200);
        CHECK_EQ(e.arg, BOOT_ZERO_PAGE_ADDR);
        const uint8_t *zp = guest_memory_ptr(m, BOOT_ZERO_PAGE_ADDR, 4096);
        CHECK_EQ(zp[0x210], 0xff);           /* type_of_loader */
        CHECK_EQ(zp[0x1e8], 3);              /* e820 entries */
        CHECK_EQ(*(const uint32_t *) (zp + 0x228), BOOT_CMDLINE_ADDR);
        CHECK(memcmp(zp + 0x202, "HdrS", 4) == 0);
        /* boot_params.acpi_rsdp_addr (0x070): 0 unless asked. */
        CHECK_EQ(*(const uint64_t *) (zp + 0x070), 0);
        CHECK_EQ(boot_set_acpi_rsdp(m, &e, 0xe0000), 0);
        CHECK_EQ(*(const uint64_t *) (zp + 0x070), 0xe0000);
        CHECK_EQ(*(uint8_t *) guest_memory_ptr(m, 0x100000, 1), 0xf4);
        /* The identity map covers 4 GiB. */
        CHECK_EQ(*(uint64_t *) guest_memory_ptr(m, BOOT_PD_ADDR + 8 * 2047, 8), (2047ull << 21) | 0x83);

        h[0x206] = 0x0b; /* 2.11: no 64-bit entry field */
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "", &e), -ENOEXEC);
        h[0x206] = 0x0f;
        h[0x236] = 0;
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "", &e), -ENOEXEC);
        h[0x236] = 1;
        h[0x1f1] = 200; /* setup larger than the file */
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "", &e), -ENOEXEC);
        h[0x1f1] = 7;
        h[0x263] = 0x40; /* init_size 1 GiB: more than the guest has */
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "", &e), -E2BIG);
        h[0x263] = 0;
        h[0x25f] = 0xff; /* pref_address far away */
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "", &e), -E2BIG);
        h[0x25f] = 0;
        h[0x238] = 10, h[0x239] = 0; /* cmdline_size 10 */
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "this line is longer than ten", &e), -E2BIG);
        memcpy(h + 0x202, "HdrX", 4);
        CHECK_EQ(load(m, image, sizeof(image), -EBADF, "", &e), -ENOEXEC);
}

int main(void) {
        struct guest_memory m;

        log_set_max_level(LOG_LEVEL_ERROR);
        CHECK_EQ(guest_memory_create(&m, 32 * MiB), 0);
        test_pvh(&m);
        test_bzimage(&m);
        guest_memory_destroy(&m);
        return TEST_RESULT();
}
