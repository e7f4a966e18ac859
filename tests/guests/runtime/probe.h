/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe.h: the checks pvh-probe and bzimage-probe share. Every check prints
 * one line ("check ok: ..." or "check FAILED: ..."); probe_finish() prints
 * "PROBE OK" or "PROBE FAIL: <first failure>" and returns the power-off
 * value. Options read from the command line: probe.mem=<MiB>,
 * probe.modules=<N>, probe.initrd-size=<bytes>, probe.initrd-sum=<hex>,
 * probe.expect-cmdline-token=<token> (any number of times).
 */
#pragma once

#include "runtime.h"

void probe_init(void);
/* Records one check; returns ok. */
bool probe_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True if the RAM ranges of the memory map, together, cover [addr, addr + size). */
bool probe_ram_covers(const struct boot_info *bi, uint64_t addr, uint64_t size);
void probe_cmdline(const struct boot_info *bi);
void probe_memory_map(const struct boot_info *bi);
/* image_end_addr: where the image ends as the protocol defines it. */
void probe_modules(const struct boot_info *bi, uint64_t image_start_addr, uint64_t image_end_addr);
int probe_finish(void);
