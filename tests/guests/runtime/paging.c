/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * paging.c: identity mappings beyond the static first 4 GiB (entry.S),
 * for devices or modules a loader put higher. 2 MiB pages, page
 * directories from a small static pool: up to 8 more GiB, below 512 GiB.
 */
#include "runtime.h"

extern uint64_t boot_pdpt[512];

#define EXTRA_PDS 8
static uint64_t extra_pd[EXTRA_PDS][512] __attribute__((aligned(4096), section(".noinit.pagetables")));
static unsigned extra_pds_used;

void paging_flush_tlb(void)
{
        uint64_t cr3;
        __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

int paging_map_identity(uint64_t addr, uint64_t size)
{
        if (size == 0)
                return 0;
        uint64_t end = addr + size;
        if (end < addr || end > 512 * GIB)
                return -1;
        for (uint64_t gib = addr / GIB; gib <= (end - 1) / GIB; gib++) {
                if (boot_pdpt[gib] & PTE_PRESENT)
                        continue;
                if (extra_pds_used == EXTRA_PDS)
                        return -1;
                uint64_t *pd = extra_pd[extra_pds_used++];
                for (unsigned i = 0; i < 512; i++)
                        pd[i] = (gib * GIB + i * 2 * MIB) | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE;
                boot_pdpt[gib] = (uint64_t) pd | PTE_PRESENT | PTE_WRITE | PTE_USER;
        }
        paging_flush_tlb();
        return 0;
}
