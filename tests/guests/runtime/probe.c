/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe.c: checks of what a loader handed us, shared by pvh-probe and
 * bzimage-probe (which differ only in where the facts come from). A probe
 * goes on after a failed check so that one run reports every problem.
 *
 * The initrd checksum runs at CPL 3 (user_call): a few hundred KiB of
 * FNV-1a is millions of instructions, seconds under the emulator that runs
 * our kernel mode, milliseconds natively.
 */
#include "fnv1a.h"
#include "probe.h"

static unsigned failures, checks;
static char first_failure[256];

void probe_init(void)
{
        trap_init();
}

bool probe_check(bool ok, const char *fmt, ...)
{
        char line[256];
        va_list ap;
        va_start(ap, fmt);
        format_string_va(line, sizeof(line), fmt, ap);
        va_end(ap);
        checks++;
        console_printf("check %s: %s\n", ok ? "ok" : "FAILED", line);
        if (!ok && failures++ == 0)
                memcpy(first_failure, line, sizeof(line));
        return ok;
}

bool probe_ram_covers(const struct boot_info *bi, uint64_t addr, uint64_t size)
{
        uint64_t cur = addr, end = addr + size;
        if (end < addr)
                return false;
        while (cur < end || (size == 0 && cur == addr)) {
                bool advanced = false;
                for (unsigned i = 0; i < bi->nr_ranges; i++) {
                        const struct boot_range *r = &bi->ranges[i];
                        if (r->type == BOOT_MEMORY_RAM && r->addr <= cur && cur < r->addr + r->size) {
                                cur = r->addr + r->size;
                                advanced = true;
                                break;
                        }
                }
                if (!advanced)
                        return false;
                if (size == 0)
                        break;
        }
        return true;
}

void probe_cmdline(const struct boot_info *bi)
{
        console_printf("cmdline: %s\n", bi->cmdline);
        probe_check(!bi->cmdline_truncated, "command line shorter than %u bytes", BOOT_CMDLINE_MAX);
        struct cmdline_token t, u;
        for (const char *c = bi->cmdline; cmdline_next(&c, &t);) {
                if (!token_key_is(&t, "probe.expect-cmdline-token"))
                        continue;
                bool found = false;
                for (const char *d = bi->cmdline; !found && cmdline_next(&d, &u);) {
                        size_t len = (size_t) (d - u.key);
                        found = u.key != t.key && t.value && len == t.value_len && memcmp(u.key, t.value, len) == 0;
                }
                probe_check(found, "command line has the token \"%.*s\"", t.value ? (int) t.value_len : 0, t.value ? t.value : "");
        }
}

void probe_memory_map(const struct boot_info *bi)
{
        uint64_t total = 0;
        console_printf("memmap: %u entries\n", bi->nr_ranges);
        for (unsigned i = 0; i < bi->nr_ranges; i++) {
                const struct boot_range *r = &bi->ranges[i];
                if (r->size == 0)
                        console_printf("memmap[%u]: 0x%016lx, empty, type %u\n", i, r->addr, r->type);
                else
                        console_printf("memmap[%u]: 0x%016lx-0x%016lx %s (%lu KiB)\n", i, r->addr, r->addr + r->size - 1,
                                       boot_memory_type_to_string(r->type), r->size / KIB);
                if (r->type == BOOT_MEMORY_RAM)
                        total += r->size;
        }
        console_printf("memmap: total RAM %lu KiB (%lu MiB)\n", total / KIB, total / MIB);
        probe_check(bi->nr_ranges > 0, "memory map is not empty");
        probe_check(probe_ram_covers(bi, 0, 4096), "RAM at address 0");
        probe_check(probe_ram_covers(bi, MIB, image_end() - MIB), "RAM at 1 MiB covers the image (0x%lx-0x%lx)",
                    image_start(), image_end() - 1);
        uint64_t mem = cmdline_get_uint(bi->cmdline, "probe.mem", 0);
        if (mem) {
                uint64_t want = mem * MIB, slack = MAX(4 * MIB, want / 32);
                probe_check(total <= want && total + slack >= want,
                            "total RAM %lu KiB matches probe.mem=%lu MiB (within %lu KiB below)", total / KIB, mem, slack / KIB);
        }
}

struct fnv_job {
        const uint8_t *data;
        uint64_t size;
};

static uint64_t fnv_user(void *arg)
{
        const struct fnv_job *job = arg;
        return fnv1a_update(FNV1A_INIT, job->data, job->size);
}

static bool module_checksum(const struct boot_module *m, uint32_t *ret)
{
        struct fnv_job job = { (const uint8_t *) m->addr, m->size };
        uint64_t result;
        if (paging_map_identity(m->addr, m->size) < 0 || user_call(fnv_user, &job, &result) < 0)
                return false;
        *ret = (uint32_t) result;
        return true;
}

void probe_modules(const struct boot_info *bi, uint64_t image_start_addr, uint64_t image_end_addr)
{
        uint32_t sum0 = 0;
        bool have_sum0 = false;
        console_printf("modules: %u\n", bi->nr_modules);
        for (unsigned i = 0; i < bi->nr_modules; i++) {
                const struct boot_module *m = &bi->modules[i];
                bool in_ram = probe_ram_covers(bi, m->addr, m->size);
                uint32_t sum = 0;
                bool have_sum = in_ram && module_checksum(m, &sum);
                if (have_sum)
                        console_printf("module[%u]: paddr 0x%lx size %lu fnv1a %08x\n", i, m->addr, m->size, sum);
                else
                        console_printf("module[%u]: paddr 0x%lx size %lu\n", i, m->addr, m->size);
                probe_check(in_ram, "module %u (0x%lx-0x%lx) lies in RAM", i, m->addr, m->addr + m->size - 1);
                probe_check(m->addr >= image_end_addr || m->addr + m->size <= image_start_addr,
                            "module %u does not overlap the image (0x%lx-0x%lx)", i, image_start_addr, image_end_addr - 1);
                if (i == 0) {
                        sum0 = sum;
                        have_sum0 = have_sum;
                }
        }

        const char *cmdline = bi->cmdline;
        struct cmdline_token t;
        if (cmdline_find(cmdline, "probe.modules", &t)) {
                uint64_t want = cmdline_get_uint(cmdline, "probe.modules", 0);
                probe_check(bi->nr_modules == want, "%u modules, probe.modules=%lu", bi->nr_modules, want);
        }
        if (cmdline_find(cmdline, "probe.initrd-size", &t)) {
                uint64_t want = cmdline_get_uint(cmdline, "probe.initrd-size", 0);
                probe_check(bi->nr_modules >= 1 && bi->modules[0].size == want, "initrd size %lu, probe.initrd-size=%lu",
                            bi->nr_modules ? bi->modules[0].size : 0, want);
        }
        if (cmdline_find(cmdline, "probe.initrd-sum", &t)) {
                uint64_t want = 0;
                if (!t.value || parse_uint(t.value, t.value_len, 16, &want) != t.value_len || want > UINT32_MAX)
                        guest_fail("bad value for probe.initrd-sum: want 8 hex digits");
                probe_check(bi->nr_modules >= 1 && have_sum0 && sum0 == want, "initrd fnv1a %08x, probe.initrd-sum=%08lx",
                            sum0, want);
        }
}

int probe_finish(void)
{
        if (failures == 0) {
                console_printf("probe: all %u checks passed\n", checks);
                console_puts("PROBE OK\n");
                return GUEST_EXIT_OK;
        }
        console_printf("PROBE FAIL: %s (%u of %u checks failed)\n", first_failure, failures, checks);
        return GUEST_EXIT_FAIL;
}
