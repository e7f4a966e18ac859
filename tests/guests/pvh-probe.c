/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvh-probe: prints and checks what a PVH loader handed us in struct
 * hvm_start_info: magic and version, the command line, the memory map
 * (version 1), and the modules (the initrd). The checks themselves are
 * shared with bzimage-probe (runtime/probe.c); options in README.md.
 */
#include "boot-structs.h"
#include "probe.h"

int guest_main(void)
{
        probe_init();
        const struct hvm_start_info *si = (const void *) boot_structure_addr();
        console_printf("pvh: start_info at 0x%lx: magic 0x%08x version %u flags 0x%x\n", (uint64_t) si, si->magic,
                       si->version, si->flags);
        if (!probe_check(si->magic == HVM_START_MAGIC, "start_info magic is 0x%08x", HVM_START_MAGIC))
                return probe_finish(); /* nothing else in it means anything */
        console_printf("pvh: cmdline_paddr 0x%lx, nr_modules %u, modlist_paddr 0x%lx, rsdp_paddr 0x%lx\n",
                       si->cmdline_paddr, si->nr_modules, si->modlist_paddr, si->rsdp_paddr);
        if (si->version >= 1)
                console_printf("pvh: memmap_paddr 0x%lx, memmap_entries %u\n", si->memmap_paddr, si->memmap_entries);
        probe_check(si->version >= 1, "start_info version %u >= 1 (has a memory map)", si->version);
        probe_check(si->cmdline_paddr != 0, "command line address is set");
        probe_check(si->nr_modules == 0 || si->modlist_paddr != 0, "module list address is set when there are modules");
        probe_check(si->nr_modules <= BOOT_MAX_MODULES, "at most %u modules", BOOT_MAX_MODULES);
        if (si->version >= 1)
                probe_check(si->memmap_entries <= BOOT_MAX_RANGES, "at most %u memory map entries", BOOT_MAX_RANGES);

        const struct boot_info *bi = boot_info();
        probe_cmdline(bi);
        probe_memory_map(bi);
        probe_modules(bi, image_start(), image_end());
        return probe_finish();
}
