/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * boot-info.c: the start of the C world (runtime_start) and the one place
 * that reads the loader's boot structure, whichever protocol brought us
 * here, into struct boot_info. Parsing happens on first use, so a payload
 * that does not ask (hello) does not pay for it under the emulator.
 *
 * The command line is copied out: memtouch reuses RAM the loader's
 * structures may have lived in.
 */
#include "boot-structs.h"
#include "runtime.h"

extern char __image_start[], __image_end[];

static enum boot_protocol protocol;
static uint64_t structure_addr;
static bool parsed;
static struct boot_info info;

_Noreturn void runtime_start(uint32_t boot_protocol, uint32_t structure);
_Noreturn void runtime_start(uint32_t boot_protocol, uint32_t structure)
{
        protocol = boot_protocol;
        structure_addr = structure;
        guest_poweroff((uint32_t) guest_main());
}

enum boot_protocol boot_protocol(void)
{
        return protocol;
}

uint64_t boot_structure_addr(void)
{
        return structure_addr;
}

uint64_t image_start(void)
{
        return (uint64_t) __image_start;
}

uint64_t image_end(void)
{
        return (uint64_t) __image_end;
}

const char *boot_memory_type_to_string(uint32_t type)
{
        static const char *const names[] = {
                [1] = "RAM", [2] = "reserved", [3] = "ACPI", [4] = "ACPI NVS", [5] = "unusable",
                [7] = "persistent",
        };
        if (type < ARRAY_SIZE(names) && names[type])
                return names[type];
        return "other";
}

static void copy_cmdline(uint64_t addr)
{
        if (!addr)
                return;
        const char *s = (const char *) addr;
        size_t i;
        for (i = 0; i + 1 < sizeof(info.cmdline) && s[i]; i++)
                info.cmdline[i] = s[i];
        info.cmdline[i] = '\0';
        info.cmdline_truncated = s[i] != '\0';
}

static void add_range(uint64_t addr, uint64_t size, uint32_t type)
{
        if (info.nr_ranges < BOOT_MAX_RANGES)
                info.ranges[info.nr_ranges++] = (struct boot_range) { addr, size, type };
}

static void add_module(uint64_t addr, uint64_t size)
{
        if (info.nr_modules < BOOT_MAX_MODULES)
                info.modules[info.nr_modules++] = (struct boot_module) { addr, size };
}

static void parse_pvh(const struct hvm_start_info *si)
{
        if (si->magic != HVM_START_MAGIC)
                return; /* pvh-probe reports it; nothing here is trustworthy */
        copy_cmdline(si->cmdline_paddr);
        const struct hvm_modlist_entry *mod = (const void *) si->modlist_paddr;
        for (uint32_t i = 0; mod && i < si->nr_modules; i++)
                add_module(mod[i].paddr, mod[i].size);
        if (si->version >= 1 && si->memmap_paddr) {
                const struct hvm_memmap_entry *e = (const void *) si->memmap_paddr;
                for (uint32_t i = 0; i < si->memmap_entries; i++)
                        add_range(e[i].addr, e[i].size, e[i].type);
        }
}

static uint32_t read32(const uint8_t *p)
{
        return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t read64(const uint8_t *p)
{
        return read32(p) | (uint64_t) read32(p + 4) << 32;
}

static void parse_linux(const uint8_t *bp)
{
        copy_cmdline(read32(bp + HDR_CMD_LINE_PTR) | (uint64_t) read32(bp + BP_EXT_CMD_LINE_PTR) << 32);
        uint64_t rd_addr = read32(bp + HDR_RAMDISK_IMAGE) | (uint64_t) read32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
        uint64_t rd_size = read32(bp + HDR_RAMDISK_SIZE) | (uint64_t) read32(bp + BP_EXT_RAMDISK_SIZE) << 32;
        if (rd_size)
                add_module(rd_addr, rd_size);
        unsigned n = MIN(bp[BP_E820_ENTRIES], BP_E820_MAX);
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
                add_range(read64(e), read64(e + 8), read32(e + 16));
        }
}

const struct boot_info *boot_info(void)
{
        if (parsed)
                return &info;
        parsed = true;
        info.protocol = protocol;
        info.structure_addr = structure_addr;
        if (protocol == BOOT_PROTOCOL_PVH)
                parse_pvh((const struct hvm_start_info *) structure_addr);
        else
                parse_linux((const uint8_t *) structure_addr);
        return &info;
}
