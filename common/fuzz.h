/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz.h: what every libFuzzer target (the fuzz-*.c files) shares. A
 * broken invariant aborts, which libFuzzer reports as a crash and keeps. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                              \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                       \
                }                                                                      \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
