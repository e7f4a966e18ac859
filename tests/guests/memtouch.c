/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memtouch: writes a pattern over N MiB of guest RAM through 4 KiB pages,
 * one page table per 2 MiB, then reads it back and checksums it.
 *
 * The point is the page tables as much as the memory: on a host with
 * shadow paging (ours, see shared/HOST-KVM.md) every guest page table the
 * guest touches costs KVM a shadow page, so this payload is how tests make
 * a guest use many of them and watch the launcher's page-table budget.
 * Shadow pages are only built for what runs natively, i.e. user mode, so
 * all the bulk work runs at CPL 3 (user_call()): zeroing the page-table
 * area, filling the page table entries, and every pass over the data.
 * Kernel mode (emulated, slow) only finds memory and writes the few upper
 * level entries.
 *
 * Layout: the window is at virtual 512 GiB (PML4 slot 1, away from the
 * identity map in slot 0). Its PDPT, page directories and page tables come
 * from RAM above the image (the memory map says where), then the data
 * pages after them. With memtouch.virt-mib=V > N the window is V MiB and
 * wraps around the N MiB of data, so V/2 page tables map the same frames:
 * many page tables for little RAM.
 *
 * With memtouch.stride=S only every S-th page of the window is touched:
 * S=512 touches one page per page table, which makes a guest hold many
 * shadow page tables while a pass stays short (the page-table budget's
 * tests, where every fault is emulated twice over).
 *
 * The pattern word for data page p, word w is a function of (p, w, seed)
 * only, so aliased pages agree and the checksum is reproducible.
 */
#include "runtime.h"

#define WINDOW_BASE (512 * GIB)
#define PAGE_SIZE ((uint64_t) 4096)
#define PTE_FLAGS (PTE_PRESENT | PTE_WRITE | PTE_USER)
#define MAX_FREE 64
#define MAX_SPANS 64

struct span {
        uint64_t start, end;
};

static struct span free_ranges[MAX_FREE];
static unsigned nr_free;

static void free_add(uint64_t start, uint64_t end)
{
        start = ALIGN_UP(start, PAGE_SIZE);
        end = ALIGN_DOWN(end, PAGE_SIZE);
        if (end > start && nr_free < MAX_FREE)
                free_ranges[nr_free++] = (struct span) { start, end };
}

/* Takes [start, end) out of the free ranges, splitting where needed. */
static void free_remove(uint64_t start, uint64_t end)
{
        start = ALIGN_DOWN(start, PAGE_SIZE);
        end = ALIGN_UP(end, PAGE_SIZE);
        for (unsigned i = 0; i < nr_free; i++) {
                struct span r = free_ranges[i];
                if (end <= r.start || start >= r.end)
                        continue;
                free_ranges[i] = free_ranges[--nr_free];
                free_add(r.start, MIN(start, r.end));
                free_add(MAX(end, r.start), r.end);
                i = (unsigned) -1; /* the list changed: start over */
        }
}

/* The work user mode does; one struct, shared by kernel and user mode. */
struct job {
        uint64_t *zero_start;   /* zero_pages(): the page-table area */
        uint64_t zero_words;
        uint64_t *ptes;         /* fill_ptes(): all page table entries, contiguous */
        uint64_t pages, vpages; /* data pages, window pages */
        struct span spans[MAX_SPANS];
        unsigned nr_spans;
        uint64_t *window;       /* touch(): */
        uint64_t stride;        /* every stride-th window page */
        uint64_t seed;
        bool write;
        uint64_t sum, mismatches, first_bad, cycles;
};
static struct job job;

static uint64_t zero_pages(void *arg)
{
        struct job *j = arg;
        for (uint64_t i = 0; i < j->zero_words; i++)
                j->zero_start[i] = 0;
        return 0;
}

static uint64_t fill_ptes(void *arg)
{
        struct job *j = arg;
        uint64_t i = 0;
        for (unsigned s = 0; s < j->nr_spans; s++)
                for (uint64_t a = j->spans[s].start; a < j->spans[s].end && i < j->pages; a += PAGE_SIZE)
                        j->ptes[i++] = a | PTE_FLAGS;
        for (; i < j->vpages; i++)
                j->ptes[i] = j->ptes[i - j->pages];
        return 0;
}

static inline uint64_t pattern(uint64_t page, uint64_t word, uint64_t seed)
{
        return ((page << 9 | word) * 0x9e3779b97f4a7c15ULL) ^ seed;
}

static uint64_t touch(void *arg)
{
        struct job *j = arg;
        uint64_t start = rdtsc(), sum = 0, bad = 0, first_bad = 0;
        for (uint64_t v = 0; v < j->vpages; v += j->stride) {
                uint64_t *w = j->window + v * (PAGE_SIZE / 8), p = v % j->pages;
                for (uint64_t i = 0; i < PAGE_SIZE / 8; i++) {
                        uint64_t x = pattern(p, i, j->seed);
                        if (j->write) {
                                w[i] = x;
                        } else {
                                uint64_t y = w[i];
                                if (y != x && bad++ == 0)
                                        first_bad = (uint64_t) &w[i];
                                x = y;
                        }
                        sum += x;
                }
        }
        j->sum = sum;
        j->mismatches = bad;
        j->first_bad = first_bad;
        j->cycles = rdtsc() - start;
        return 0;
}

static void run_user(uint64_t (*fn)(void *), const char *what)
{
        if (user_call(fn, &job, NULL) < 0)
                guest_fail("memtouch: user mode faulted while %s", what);
}

int guest_main(void)
{
        trap_init();
        const struct boot_info *bi = boot_info();
        uint64_t mib = cmdline_get_uint(bi->cmdline, "memtouch.mib", 16);
        uint64_t vmib = cmdline_get_uint(bi->cmdline, "memtouch.virt-mib", mib);
        uint64_t passes = cmdline_get_uint(bi->cmdline, "memtouch.passes", 2);
        uint64_t seed = cmdline_get_uint(bi->cmdline, "memtouch.seed", 0x5eed);
        uint64_t stride = cmdline_get_uint(bi->cmdline, "memtouch.stride", 1);
        if (mib == 0 || vmib < mib || vmib > 256 * 1024)
                guest_fail("memtouch: want 0 < memtouch.mib <= memtouch.virt-mib <= 262144");
        if (stride == 0 || stride > 512)
                guest_fail("memtouch: want 1 <= memtouch.stride <= 512 (pages)");

        /* Free RAM: what the memory map says, above the image, minus modules. */
        for (unsigned i = 0; i < bi->nr_ranges; i++) {
                const struct boot_range *r = &bi->ranges[i];
                if (r->type == BOOT_MEMORY_RAM && r->addr + r->size > image_end())
                        free_add(MAX(r->addr, image_end()), r->addr + r->size);
        }
        for (unsigned i = 0; i < bi->nr_modules; i++)
                free_remove(bi->modules[i].addr, bi->modules[i].addr + bi->modules[i].size);

        /* Page tables: one per 2 MiB of window, then directories, one PDPT.
         * They must sit in the identity-mapped first 4 GiB. */
        uint64_t nr_pt = (vmib + 1) / 2, nr_pd = (nr_pt + 511) / 512;
        uint64_t table_bytes = (1 + nr_pd + nr_pt) * PAGE_SIZE, tables = 0;
        for (unsigned i = 0; i < nr_free && !tables; i++)
                if (free_ranges[i].start + table_bytes <= MIN(free_ranges[i].end, 4 * GIB))
                        tables = free_ranges[i].start;
        if (!tables)
                guest_fail("memtouch: no %lu KiB of RAM below 4 GiB for page tables", table_bytes / KIB);
        free_remove(tables, tables + table_bytes);

        /* Data pages: the lowest free frames. */
        job.pages = mib * MIB / PAGE_SIZE;
        job.vpages = vmib * MIB / PAGE_SIZE;
        uint64_t found = 0;
        for (uint64_t below = 0; found < job.pages;) {
                /* ranges are unordered: take them lowest first */
                struct span *next = NULL;
                for (unsigned i = 0; i < nr_free; i++)
                        if (free_ranges[i].start >= below && (!next || free_ranges[i].start < next->start))
                                next = &free_ranges[i];
                if (!next || job.nr_spans == MAX_SPANS)
                        guest_fail("memtouch: %lu MiB wanted, the memory map has %lu MiB free above the image",
                                   mib, found * PAGE_SIZE / MIB);
                uint64_t take = MIN(job.pages - found, (next->end - next->start) / PAGE_SIZE);
                job.spans[job.nr_spans++] = (struct span) { next->start, next->start + take * PAGE_SIZE };
                found += take;
                below = next->end;
        }

        console_printf("memtouch: %lu MiB of RAM through a %lu MiB window at 0x%lx: %lu page tables, 4 KiB pages\n",
                       mib, vmib, WINDOW_BASE, nr_pt);
        console_printf("memtouch: page tables at 0x%lx (%lu KiB), data in %u ranges from 0x%lx to 0x%lx\n", tables,
                       table_bytes / KIB, job.nr_spans, job.spans[0].start, job.spans[job.nr_spans - 1].end - 1);

        job.zero_start = (uint64_t *) tables;
        job.zero_words = table_bytes / 8;
        run_user(zero_pages, "zeroing page tables");

        uint64_t *pdpt = (uint64_t *) tables, *pds = pdpt + 512, *pts = pds + 512 * nr_pd;
        for (uint64_t i = 0; i < nr_pd; i++)
                pdpt[i] = (uint64_t) (pds + 512 * i) | PTE_FLAGS;
        for (uint64_t i = 0; i < nr_pt; i++)
                pds[i] = (uint64_t) (pts + 512 * i) | PTE_FLAGS;
        boot_pml4[WINDOW_BASE / (512 * GIB)] = (uint64_t) pdpt | PTE_FLAGS;

        job.ptes = pts;
        run_user(fill_ptes, "filling page tables");
        paging_flush_tlb();

        job.window = (uint64_t *) WINDOW_BASE;
        job.stride = stride;
        job.seed = seed;
        uint64_t expected = 0;
        for (uint64_t pass = 1; passes == 0 || pass <= passes; pass++) {
                job.write = pass == 1;
                run_user(touch, "touching memory");
                if (job.write) {
                        expected = job.sum;
                        console_printf("memtouch pass %lu (write): checksum 0x%016lx, %lu cycles\n", pass, job.sum, job.cycles);
                        continue;
                }
                console_printf("memtouch pass %lu (verify): checksum 0x%016lx, %lu mismatches, %lu cycles\n", pass,
                               job.sum, job.mismatches, job.cycles);
                if (job.mismatches)
                        guest_fail("memtouch: pass %lu: %lu words differ, the first at virtual 0x%lx", pass,
                                   job.mismatches, job.first_bad);
                if (job.sum != expected)
                        guest_fail("memtouch: pass %lu: checksum 0x%lx, expected 0x%lx", pass, job.sum, expected);
        }
        console_printf("memtouch checksum 0x%016lx\n", expected);
        console_printf("memtouch OK %lu MiB\n", mib);
        return GUEST_EXIT_OK;
}
