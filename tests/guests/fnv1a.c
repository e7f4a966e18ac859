/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fnv1a: prints the 32-bit FNV-1a checksum of a file (or stdin) as eight
 * hex digits, the value pvh-probe and bzimage-probe take as
 * probe.initrd-sum=. Host tool; the algorithm is runtime/fnv1a.h, shared
 * with the guests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fnv1a.h"

int main(int argc, char **argv)
{
        if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
                fprintf(stderr, "usage: %s [FILE]\nPrints the 32-bit FNV-1a checksum of FILE (default: stdin).\n", argv[0]);
                return argc == 2 ? 0 : 1;
        }
        FILE *f = argc == 2 ? fopen(argv[1], "rb") : stdin;
        if (!f) {
                fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
                return 1;
        }
        uint32_t hash = FNV1A_INIT;
        unsigned char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                hash = fnv1a_update(hash, buf, n);
        if (ferror(f)) {
                fprintf(stderr, "%s: read error\n", argv[0]);
                return 1;
        }
        printf("%08x\n", hash);
        return 0;
}
