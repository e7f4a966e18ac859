/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput() over files, one
 * call per file, without libFuzzer: how `make check` replays each target's
 * seed corpus and every crashing input kept under tests/fuzz/regress/, with
 * any compiler. Exit 0 when every input ran; a bug aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                FILE *f = fopen(argv[i], "rb");
                uint8_t *buf = NULL;
                size_t len = 0, cap = 0, n;

                if (!f) {
                        perror(argv[i]);
                        return 1;
                }
                do {
                        if (len == cap) {
                                cap = cap ? cap * 2 : 4096;
                                buf = realloc(buf, cap);
                                if (!buf)
                                        return 1;
                        }
                        n = fread(buf + len, 1, cap - len, f);
                        len += n;
                } while (n > 0);
                fclose(f);
                LLVMFuzzerTestOneInput(buf, len);
                free(buf);
        }
        printf("%d input(s) replayed\n", argc - 1);
        return 0;
}
