/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * boot.c: the two boot protocols; see boot.h for the layout.
 *
 * The kernel file is hostile input too (a user names it): every offset and
 * size read from it is checked against the file size and guest RAM before
 * anything is copied, and arithmetic is done so that it cannot overflow.
 */
#include <elf.h>
#include <string.h>
#include <sys/stat.h>

#include "boot.h"
#include "log.h"

/* ---- PVH start info (Xen's arch-x86/hvm/start_info.h, version 1) ---- */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
        uint32_t magic;
        uint32_t version;
        uint32_t flags;
        uint32_t nr_modules;
        uint64_t modlist_paddr;
        uint64_t cmdline_paddr;
        uint64_t rsdp_paddr;
        uint64_t memmap_paddr;
        uint32_t memmap_entries;
        uint32_t reserved;
} _packed_;

struct hvm_modlist_entry {
        uint64_t paddr, size, cmdline_paddr, reserved;
} _packed_;

struct hvm_memmap_table_entry {
        uint64_t addr, size;
        uint32_t type, reserved;
} _packed_;

/* ---- Linux boot protocol: offsets in struct boot_params / setup_header ---- */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_VID_MODE 0x1fa
#define BP_BOOT_FLAG 0x1fe
#define BP_JUMP 0x200
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01

#define E820_RAM 1
#define E820_RESERVED 2

static uint64_t le(const uint8_t *p, unsigned bytes) {
        uint64_t v = 0;
        for (unsigned i = 0; i < bytes; i++)
                v |= (uint64_t) p[i] << (8 * i);
        return v;
}
static void put_le(uint8_t *p, uint64_t v, unsigned bytes) {
        for (unsigned i = 0; i < bytes; i++)
                p[i] = v >> (8 * i);
}

unsigned boot_memory_map(const struct guest_memory *mem, struct boot_mem_range r[static BOOT_MAX_MEM_RANGES]) {
        unsigned n = 0;

        r[n++] = (struct boot_mem_range) { 0, BOOT_LOW_RAM_END, E820_RAM };
        r[n++] = (struct boot_mem_range) { BOOT_LOW_RAM_END, BOOT_KERNEL_MIN_ADDR - BOOT_LOW_RAM_END, E820_RESERVED };
        r[n++] = (struct boot_mem_range) { BOOT_KERNEL_MIN_ADDR, mem->low_size - BOOT_KERNEL_MIN_ADDR, E820_RAM };
        if (mem->size > mem->low_size)
                r[n++] = (struct boot_mem_range) { GUEST_HIGH_RAM_START, mem->size - mem->low_size, E820_RAM };
        return n;
}

static uint64_t file_size(int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        return st.st_size;
}

/* Reads file bytes [off, off + len) into guest memory at gpa. */
static int load_into_guest(struct guest_memory *mem, int fd, uint64_t off, uint64_t len, uint64_t gpa) {
        void *p = guest_memory_ptr(mem, gpa, len);
        if (!p)
                return -E2BIG;
        return pread_full(fd, p, len, off);
}

/* The GDT both protocols use; 64-bit descriptors for code, flat data, and a
 * TSS descriptor (VMX needs a usable TR; the guest loads its own later). */
static void write_gdt(struct guest_memory *mem) {
        uint64_t gdt[6] = {
                0,
                0x00cf9b000000ffffull, /* 0x08: code, 32-bit, 4 GiB */
                0x00af9b000000ffffull, /* 0x10: code, 64-bit */
                0x00cf93000000ffffull, /* 0x18: data, 4 GiB */
                0x00008b0000000067ull, /* 0x20: 32/64-bit busy TSS at 0 */
                0,
        };
        guest_memory_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
}

/* Identity map of the first 4 GiB with 2 MiB pages, for the 64-bit entry. */
static void write_identity_page_tables(struct guest_memory *mem) {
        uint64_t *pml4 = guest_memory_ptr(mem, BOOT_PML4_ADDR, 4096);
        uint64_t *pdpt = guest_memory_ptr(mem, BOOT_PDPT_ADDR, 4096);
        uint64_t *pd = guest_memory_ptr(mem, BOOT_PD_ADDR, 4 * 4096);

        memset(pml4, 0, 4096);
        memset(pdpt, 0, 4096);
        pml4[0] = BOOT_PDPT_ADDR | 0x3;
        for (unsigned i = 0; i < 4; i++)
                pdpt[i] = (BOOT_PD_ADDR + i * 4096) | 0x3;
        for (unsigned i = 0; i < 4 * 512; i++)
                pd[i] = ((uint64_t) i << 21) | 0x83; /* present, writable, 2 MiB */
}

/* Puts the initrd at the top of low RAM (below limit), page aligned and
 * above the kernel image. */
static int load_initrd(struct guest_memory *mem, int initrd_fd, uint64_t kernel_end, uint64_t limit, struct boot_entry *e) {
        uint64_t size, top, start;

        if (initrd_fd < 0)
                return 0;
        size = file_size(initrd_fd);
        if (size == 0)
                return log_error_errno(-EINVAL, "The initrd is empty or not a regular file");
        top = MIN(mem->low_size, limit);
        if (size > top || ((top - size) & ~UINT64_C(0xfff)) < ALIGN_UP(kernel_end, 4096))
                return log_error_errno(-E2BIG, "The initrd (%" PRIu64 " bytes) does not fit in guest RAM above the kernel; give the guest more memory", size);
        start = (top - size) & ~UINT64_C(0xfff);
        if (load_into_guest(mem, initrd_fd, 0, size, start) < 0)
                return log_error_errno(-EIO, "Failed to read the initrd");
        e->initrd_start = start;
        e->initrd_size = size;
        return 0;
}

static int write_cmdline(struct guest_memory *mem, const char *cmdline, uint64_t max) {
        size_t len = strlen(cmdline);
        if (len + 1 > max)
                return log_error_errno(-E2BIG, "The kernel command line is %zu bytes; this kernel takes at most %" PRIu64, len, max - 1);
        return guest_memory_write(mem, BOOT_CMDLINE_ADDR, cmdline, len + 1);
}

/* ---------------------------------------------------------------- PVH ELF */

/* Finds the PVH entry among the ELF notes in [off, off + len) of the file. */
static int pvh_find_entry(int fd, uint64_t off, uint64_t len, uint64_t *ret) {
        uint8_t buf[4096];

        if (len > sizeof(buf))
                len = sizeof(buf);
        if (pread_full(fd, buf, len, off) < 0)
                return -EIO;
        for (uint64_t p = 0; p + 12 <= len;) {
                uint32_t namesz = le(buf + p, 4), descsz = le(buf + p + 4, 4), type = le(buf + p + 8, 4);
                uint64_t name = p + 12, desc = name + ALIGN_UP((uint64_t) namesz, 4);
                uint64_t next = desc + ALIGN_UP((uint64_t) descsz, 4);
                if (namesz > len || descsz > len || next > len)
                        break;
                if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && memcmp(buf + name, "Xen", 4) == 0 &&
                    (descsz == 4 || descsz == 8)) {
                        *ret = le(buf + desc, descsz);
                        return 0;
                }
                p = next;
        }
        return -ENOENT;
}

/* The ELF header of either class, as far as the program header table:
 * where it is, how many entries of what size. */
static int pvh_read_elf_header(int fd, uint64_t fsize, const uint8_t ident[static EI_NIDENT], uint64_t *ret_phoff,
                               uint64_t *ret_phnum, uint64_t *ret_phentsize) {
        uint64_t phoff, phnum, phentsize;

        if (ident[EI_CLASS] == ELFCLASS64) {
                Elf64_Ehdr eh;
                if (fsize < sizeof(eh) || pread_full(fd, &eh, sizeof(eh), 0) < 0)
                        return log_error_errno(-ENOEXEC, "The kernel's ELF header is truncated");
                if (eh.e_machine != EM_X86_64)
                        return log_error_errno(-ENOEXEC, "The kernel is an ELF file for machine %u, not x86-64", eh.e_machine);
                phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
                if (phentsize != sizeof(Elf64_Phdr))
                        return log_error_errno(-ENOEXEC, "The kernel's ELF program headers have an unexpected size");
        } else if (ident[EI_CLASS] == ELFCLASS32) {
                Elf32_Ehdr eh32;
                if (fsize < sizeof(eh32) || pread_full(fd, &eh32, sizeof(eh32), 0) < 0)
                        return log_error_errno(-ENOEXEC, "The kernel's ELF header is truncated");
                if (eh32.e_machine != EM_386 && eh32.e_machine != EM_X86_64)
                        return log_error_errno(-ENOEXEC, "The kernel is an ELF file for machine %u, not x86", eh32.e_machine);
                phoff = eh32.e_phoff, phnum = eh32.e_phnum, phentsize = eh32.e_phentsize;
                if (phentsize != sizeof(Elf32_Phdr))
                        return log_error_errno(-ENOEXEC, "The kernel's ELF program headers have an unexpected size");
        } else
                return log_error_errno(-ENOEXEC, "The kernel has an unknown ELF class");
        if (phnum == 0 || phnum > 64 || phoff > fsize || phnum * phentsize > fsize - phoff)
                return log_error_errno(-ENOEXEC, "The kernel's ELF program header table is missing or lies outside the file");
        *ret_phoff = phoff;
        *ret_phnum = phnum;
        *ret_phentsize = phentsize;
        return 0;
}

/* One program header of either class, in the 64-bit layout. */
static int pvh_read_program_header(int fd, unsigned elf_class, uint64_t offset, Elf64_Phdr *ret) {
        Elf32_Phdr p32;

        if (elf_class == ELFCLASS64)
                return pread_full(fd, ret, sizeof(*ret), offset) < 0 ? -EIO : 0;
        if (pread_full(fd, &p32, sizeof(p32), offset) < 0)
                return -EIO;
        *ret = (Elf64_Phdr) { .p_type = p32.p_type, .p_offset = p32.p_offset, .p_paddr = p32.p_paddr,
                              .p_filesz = p32.p_filesz, .p_memsz = p32.p_memsz };
        return 0;
}

/* struct hvm_start_info, with the memory map and the initrd as its one
 * module, once the kernel, the initrd and the command line are in place. */
static void pvh_write_start_info(struct guest_memory *mem, const struct boot_entry *e) {
        struct boot_mem_range ranges[BOOT_MAX_MEM_RANGES];
        unsigned n = boot_memory_map(mem, ranges);
        struct hvm_memmap_table_entry *mm = guest_memory_ptr(mem, BOOT_MEMMAP_ADDR, n * sizeof(*mm));

        for (unsigned i = 0; i < n; i++)
                mm[i] = (struct hvm_memmap_table_entry) { ranges[i].addr, ranges[i].size, ranges[i].type, 0 };

        struct hvm_start_info si = {
                .magic = HVM_START_MAGIC,
                .version = 1,
                .cmdline_paddr = BOOT_CMDLINE_ADDR,
                .memmap_paddr = BOOT_MEMMAP_ADDR,
                .memmap_entries = n,
        };
        if (e->initrd_size > 0) {
                struct hvm_modlist_entry mod = { .paddr = e->initrd_start, .size = e->initrd_size };
                guest_memory_write(mem, BOOT_MODLIST_ADDR, &mod, sizeof(mod));
                si.nr_modules = 1;
                si.modlist_paddr = BOOT_MODLIST_ADDR;
        }
        guest_memory_write(mem, BOOT_START_INFO_ADDR, &si, sizeof(si));
}

static int boot_pvh(struct guest_memory *mem, int fd, uint64_t fsize, int initrd_fd, const char *cmdline, struct boot_entry *e) {
        uint8_t ident[EI_NIDENT];
        uint64_t entry = 0, lo = UINT64_MAX, hi = 0, phoff = 0, phnum = 0, phentsize = 0;
        bool have_entry = false;
        int r;

        if (pread_full(fd, ident, sizeof(ident), 0) < 0)
                return -EIO;
        if (ident[EI_DATA] != ELFDATA2LSB)
                return log_error_errno(-ENOEXEC, "The kernel is a big-endian ELF file; only x86 ELF kernels can be booted");
        r = pvh_read_elf_header(fd, fsize, ident, &phoff, &phnum, &phentsize);
        if (r < 0)
                return r;

        for (uint64_t i = 0; i < phnum; i++) {
                Elf64_Phdr ph;
                if (pvh_read_program_header(fd, ident[EI_CLASS], phoff + i * phentsize, &ph) < 0)
                        return -EIO;
                if (ph.p_type == PT_NOTE && !have_entry) {
                        if (ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
                                return log_error_errno(-ENOEXEC, "An ELF note segment lies outside the file");
                        have_entry = pvh_find_entry(fd, ph.p_offset, ph.p_filesz, &entry) == 0;
                }
                if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
                        continue;
                if (ph.p_filesz > ph.p_memsz || ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
                        return log_error_errno(-ENOEXEC, "An ELF load segment lies outside the file");
                if (ph.p_paddr < BOOT_KERNEL_MIN_ADDR || !guest_memory_ptr(mem, ph.p_paddr, ph.p_memsz))
                        return log_error_errno(-E2BIG, "The kernel wants to load at 0x%" PRIx64 "-0x%" PRIx64 ", outside the guest's %" PRIu64 " MiB of RAM above 1 MiB",
                                               (uint64_t) ph.p_paddr, (uint64_t) (ph.p_paddr + ph.p_memsz), mem->size / MiB);
                r = load_into_guest(mem, fd, ph.p_offset, ph.p_filesz, ph.p_paddr);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the kernel: %m");
                memset(guest_memory_ptr(mem, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz), 0, ph.p_memsz - ph.p_filesz);
                lo = MIN(lo, (uint64_t) ph.p_paddr);
                hi = MAX(hi, (uint64_t) (ph.p_paddr + ph.p_memsz));
        }
        if (!have_entry)
                return log_error_errno(-ENOEXEC, "The kernel is an ELF file without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
                                                 "build it with CONFIG_PVH, or boot its bzImage");
        if (hi == 0)
                return log_error_errno(-ENOEXEC, "The kernel ELF file has nothing to load");
        if (entry < lo || entry >= hi || entry >= UINT32_MAX)
                return log_error_errno(-ENOEXEC, "The PVH entry 0x%" PRIx64 " lies outside the loaded kernel", entry);

        r = load_initrd(mem, initrd_fd, hi, UINT32_MAX, e);
        if (r < 0)
                return r;
        r = write_cmdline(mem, cmdline, BOOT_CMDLINE_MAX);
        if (r < 0)
                return r;
        pvh_write_start_info(mem, e);

        e->mode = BOOT_MODE_PVH;
        e->protocol = "PVH ELF";
        e->entry = entry;
        e->arg = BOOT_START_INFO_ADDR;
        e->kernel_start = lo;
        e->kernel_end = hi;
        return 0;
}

/* ---------------------------------------------------------------- bzImage */

static int boot_bzimage(struct guest_memory *mem, int fd, uint64_t fsize, const uint8_t *hdr, int initrd_fd, const char *cmdline, struct boot_entry *e) {
        uint8_t *zp = guest_memory_ptr(mem, BOOT_ZERO_PAGE_ADDR, 4096);
        unsigned version = le(hdr + BP_VERSION, 2);
        uint64_t setup_sects = hdr[BP_SETUP_SECTS] ? hdr[BP_SETUP_SECTS] : 4;
        uint64_t kernel_off = (setup_sects + 1) * 512;
        uint64_t load = BOOT_KERNEL_MIN_ADDR, pref, init_size, kernel_size, cmdline_max;
        int r;

        if (version < 0x20c)
                return log_error_errno(-ENOEXEC, "The bzImage uses boot protocol %u.%02u; guestd needs 2.12 or later (a 64-bit kernel)", version >> 8, version & 0xff);
        if (!(le(hdr + BP_XLOADFLAGS, 2) & XLF_KERNEL_64))
                return log_error_errno(-ENOEXEC, "The bzImage has no 64-bit entry point (XLF_KERNEL_64); only 64-bit kernels are supported");
        if (!(hdr[BP_LOADFLAGS] & LOADED_HIGH))
                return log_error_errno(-ENOEXEC, "The bzImage must be loaded low (zImage); only bzImages are supported");
        if (kernel_off >= fsize)
                return log_error_errno(-ENOEXEC, "The bzImage's setup (%" PRIu64 " sectors) is larger than the file", setup_sects);

        kernel_size = fsize - kernel_off;
        pref = le(hdr + BP_PREF_ADDRESS, 8);
        init_size = le(hdr + BP_INIT_SIZE, 4);
        /* A relocatable kernel loaded at 1 MiB moves itself to pref_address
         * to decompress, and needs init_size bytes from there. */
        uint64_t need = MAX(load, pref);
        if (!range_within(need, MAX(init_size, kernel_size), mem->low_size))
                return log_error_errno(-E2BIG, "The kernel needs RAM up to %" PRIu64 " MiB to decompress; the guest has %" PRIu64 " MiB",
                                       (need + MAX(init_size, kernel_size) + MiB - 1) / MiB, mem->low_size / MiB);
        r = load_into_guest(mem, fd, kernel_off, kernel_size, load);
        if (r < 0)
                return log_error_errno(r, "Failed to read the kernel: %m");

        /* The zero page: the setup header as the file has it, then what a
         * boot loader must fill in. */
        memset(zp, 0, 4096);
        uint64_t hdr_end = MIN((uint64_t) 0x202 + hdr[BP_JUMP + 1], (uint64_t) 0x290);
        memcpy(zp + BP_SETUP_SECTS, hdr + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
        zp[BP_TYPE_OF_LOADER] = 0xff; /* "undefined" loader */
        put_le(zp + BP_VID_MODE, 0xffff, 2);
        put_le(zp + BP_CODE32_START, load, 4);

        cmdline_max = le(hdr + BP_CMDLINE_SIZE, 4) + 1;
        r = write_cmdline(mem, cmdline, MIN(cmdline_max, (uint64_t) BOOT_CMDLINE_MAX));
        if (r < 0)
                return r;
        put_le(zp + BP_CMD_LINE_PTR, BOOT_CMDLINE_ADDR, 4);
        put_le(zp + BP_EXT_CMD_LINE_PTR, 0, 4);

        r = load_initrd(mem, initrd_fd, load + MAX(init_size, kernel_size) + (pref > load ? pref - load : 0),
                        (uint64_t) le(hdr + BP_INITRD_ADDR_MAX, 4) + 1, e);
        if (r < 0)
                return r;
        put_le(zp + BP_RAMDISK_IMAGE, e->initrd_start, 4);
        put_le(zp + BP_RAMDISK_SIZE, e->initrd_size, 4);
        put_le(zp + BP_EXT_RAMDISK_IMAGE, e->initrd_start >> 32, 4);
        put_le(zp + BP_EXT_RAMDISK_SIZE, e->initrd_size >> 32, 4);

        struct boot_mem_range ranges[BOOT_MAX_MEM_RANGES];
        unsigned n = boot_memory_map(mem, ranges);
        for (unsigned i = 0; i < n; i++) {
                uint8_t *ent = zp + BP_E820_TABLE + 20 * i;
                put_le(ent, ranges[i].addr, 8);
                put_le(ent + 8, ranges[i].size, 8);
                put_le(ent + 16, ranges[i].type, 4);
        }
        zp[BP_E820_ENTRIES] = n;

        write_identity_page_tables(mem);

        e->mode = BOOT_MODE_LINUX64;
        e->protocol = "bzImage";
        e->entry = load + 0x200;
        e->arg = BOOT_ZERO_PAGE_ADDR;
        e->kernel_start = load;
        e->kernel_end = load + kernel_size;
        return 0;
}

/* boot_params.acpi_rsdp_addr (boot protocol 2.14, Linux 5.0): older
 * kernels ignore it and scan 0xe0000-0xfffff, where the RSDP lies too. */
#define BP_ACPI_RSDP_ADDR 0x070

int boot_set_acpi_rsdp(struct guest_memory *mem, const struct boot_entry *e, uint64_t rsdp) {
        if (e->mode == BOOT_MODE_PVH) {
                struct hvm_start_info *si = guest_memory_ptr(mem, BOOT_START_INFO_ADDR, sizeof(*si));
                if (!si)
                        return -EFAULT;
                si->rsdp_paddr = rsdp;
                return 0;
        }
        uint8_t *zp = guest_memory_ptr(mem, BOOT_ZERO_PAGE_ADDR, 4096);
        if (!zp)
                return -EFAULT;
        put_le(zp + BP_ACPI_RSDP_ADDR, rsdp, 8);
        return 0;
}

int boot_load(struct guest_memory *mem, int kernel_fd, int initrd_fd, const char *cmdline, struct boot_entry *ret) {
        uint8_t head[0x290] = {};
        uint64_t fsize = file_size(kernel_fd);
        struct boot_entry e = {};
        int r;

        if (fsize == 0)
                return log_error_errno(-ENOEXEC, "The kernel is empty or not a regular file");
        if (mem->low_size < 2 * MiB)
                return log_error_errno(-E2BIG, "The guest needs at least 2 MiB of RAM");
        r = pread_full(kernel_fd, head, MIN(fsize, (uint64_t) sizeof(head)), 0);
        if (r < 0)
                return log_error_errno(r, "Failed to read the kernel: %m");

        write_gdt(mem);
        if (fsize >= 4 && memcmp(head, ELFMAG, SELFMAG) == 0)
                r = boot_pvh(mem, kernel_fd, fsize, initrd_fd, cmdline, &e);
        else if (fsize >= sizeof(head) && memcmp(head + BP_HEADER, "HdrS", 4) == 0 && le(head + BP_BOOT_FLAG, 2) == 0xaa55)
                r = boot_bzimage(mem, kernel_fd, fsize, head, initrd_fd, cmdline, &e);
        else
                return log_error_errno(-ENOEXEC, "The kernel is neither a PVH ELF file nor a Linux bzImage");
        if (r < 0)
                return r;
        *ret = e;
        return 0;
}
