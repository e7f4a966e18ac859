/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fnv1a.h: 32-bit FNV-1a, the checksum the probes compute over an initrd
 * and the host tool (tests/guests/fnv1a.c) computes over the file, so a
 * test can pass the expected value on the guest's command line. Shared by
 * both, so they cannot disagree.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 0x811c9dc5u
#define FNV1A_PRIME 0x01000193u

static inline uint32_t fnv1a_update(uint32_t hash, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                hash ^= p[i];
                hash *= FNV1A_PRIME;
        }
        return hash;
}
