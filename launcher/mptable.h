/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mptable.h: the Intel MultiProcessor Specification table; see mptable.c. */
#pragma once

#include "memory.h"

/* Writes the floating pointer and configuration table at BOOT_MPTABLE_ADDR
 * describing n_vcpus processors, one IOAPIC and ISA IRQs 0-15. */
int mptable_write(struct guest_memory *mem, unsigned n_vcpus);
