/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bzimage-probe: prints and checks what a Linux boot protocol loader handed
 * us in struct boot_params: the setup header fields a loader must keep or
 * set, the command line (cmd_line_ptr), the e820 memory map and the initrd
 * (ramdisk_image/ramdisk_size and their ext_ halves). The checks are the
 * ones pvh-probe makes (runtime/probe.c), with the same probe.* options.
 */
#include "boot-structs.h"
#include "probe.h"

static const uint8_t *bp;

static uint8_t u8(unsigned off) { return bp[off]; }
static uint16_t u16(unsigned off) { return (uint16_t) (bp[off] | bp[off + 1] << 8); }
static uint32_t u32(unsigned off) { return u16(off) | (uint32_t) u16(off + 2) << 16; }
static uint64_t u64(unsigned off) { return u32(off) | (uint64_t) u32(off + 4) << 32; }

int guest_main(void)
{
        probe_init();
        bp = (const uint8_t *) boot_structure_addr();
        if (boot_protocol() == BOOT_PROTOCOL_LINUX64)
                console_puts("bzimage: entered at the 64-bit entry (load address + 0x200, long mode)\n");
        else
                console_puts("bzimage: entered at the 32-bit entry (code32_start) from the real-mode setup stub\n");
        console_printf("bzimage: boot_params at 0x%lx\n", (uint64_t) bp);
        console_printf("bzimage: header 0x%08x version 0x%04x boot_flag 0x%04x setup_sects %u\n", u32(HDR_HEADER),
                       u16(HDR_VERSION), u16(HDR_BOOT_FLAG), u8(HDR_SETUP_SECTS));
        console_printf("bzimage: type_of_loader 0x%02x loadflags 0x%02x xloadflags 0x%04x code32_start 0x%x\n",
                       u8(HDR_TYPE_OF_LOADER), u8(HDR_LOADFLAGS), u16(HDR_XLOADFLAGS), u32(HDR_CODE32_START));
        console_printf("bzimage: cmd_line_ptr 0x%x ext_cmd_line_ptr 0x%x cmdline_size %u heap_end_ptr 0x%x\n",
                       u32(HDR_CMD_LINE_PTR), u32(BP_EXT_CMD_LINE_PTR), u32(HDR_CMDLINE_SIZE), u16(HDR_HEAP_END_PTR));
        console_printf("bzimage: ramdisk_image 0x%x ext 0x%x ramdisk_size %u ext %u initrd_addr_max 0x%x\n",
                       u32(HDR_RAMDISK_IMAGE), u32(BP_EXT_RAMDISK_IMAGE), u32(HDR_RAMDISK_SIZE), u32(BP_EXT_RAMDISK_SIZE),
                       u32(HDR_INITRD_ADDR_MAX));
        console_printf("bzimage: pref_address 0x%lx init_size 0x%x setup_data 0x%lx e820_entries %u\n",
                       u64(HDR_PREF_ADDRESS), u32(HDR_INIT_SIZE), u64(HDR_SETUP_DATA), u8(BP_E820_ENTRIES));

        /* The loader copies the setup header from the file into boot_params. */
        probe_check(u32(HDR_HEADER) == HDR_MAGIC, "hdr.header is \"HdrS\" (the loader copied the setup header)");
        probe_check(u16(HDR_BOOT_FLAG) == HDR_BOOT_FLAG_VALUE, "hdr.boot_flag is 0x%04x", HDR_BOOT_FLAG_VALUE);
        probe_check(u16(HDR_VERSION) == 0x020c, "hdr.version is our 0x020c");
        probe_check(u8(HDR_LOADFLAGS) & LOADFLAGS_LOADED_HIGH, "hdr.loadflags has LOADED_HIGH");
        probe_check(u32(HDR_CODE32_START) == 0x100000, "hdr.code32_start is 0x100000");
        /* ...and sets these. */
        probe_check(u8(HDR_TYPE_OF_LOADER) != 0, "hdr.type_of_loader is set (0x%02x)", u8(HDR_TYPE_OF_LOADER));
        probe_check(u32(HDR_CMD_LINE_PTR) != 0 || u32(BP_EXT_CMD_LINE_PTR) != 0, "hdr.cmd_line_ptr is set");
        probe_check(u8(BP_E820_ENTRIES) > 0 && u8(BP_E820_ENTRIES) <= BP_E820_MAX, "e820_entries is 1..%u", BP_E820_MAX);
        uint64_t rd = u32(HDR_RAMDISK_IMAGE) | (uint64_t) u32(BP_EXT_RAMDISK_IMAGE) << 32;
        uint64_t rd_size = u32(HDR_RAMDISK_SIZE) | (uint64_t) u32(BP_EXT_RAMDISK_SIZE) << 32;
        if (rd_size)
                probe_check(rd + rd_size <= (uint64_t) u32(HDR_INITRD_ADDR_MAX) + 1, "the ramdisk ends below initrd_addr_max");

        const struct boot_info *bi = boot_info();
        probe_cmdline(bi);
        probe_memory_map(bi);
        probe_modules(bi, image_start(), image_start() + u32(HDR_INIT_SIZE));
        probe_check(image_end() - image_start() <= u32(HDR_INIT_SIZE), "init_size covers the image");
        return probe_finish();
}
