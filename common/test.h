/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test.h: the few macros our unit tests share. A test program returns 0
 * when every check passed, 77 to skip (saying why), 1 otherwise. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static int test_failures;

#define CHECK(cond)                                                                  \
        do {                                                                         \
                if (!(cond)) {                                                       \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        test_failures++;                                             \
                }                                                                    \
        } while (0)
#define CHECK_EQ(a, b)                                                               \
        do {                                                                         \
                long long _a = (long long) (a), _b = (long long) (b);                \
                if (_a != _b) {                                                      \
                        fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
                                __FILE__, __LINE__, #a, #b, _a, _b);                 \
                        test_failures++;                                             \
                }                                                                    \
        } while (0)
#define TEST_SKIP(...)                                                               \
        do {                                                                         \
                fprintf(stderr, __VA_ARGS__);                                        \
                fprintf(stderr, "\n");                                               \
                exit(77);                                                            \
        } while (0)
#define TEST_RESULT() (test_failures == 0 ? 0 : (fprintf(stderr, "%d check(s) failed\n", test_failures), 1))
