/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config.c: libFuzzer target for the guest configuration parser, the
 * JSON a user hands CreateGuest. Whatever it accepts must be within the
 * limits config.h promises, and must survive a round trip: the canonical
 * JSON the daemon stores parses again to the same configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "config.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct guest_config c = {}, again = {};
        char *text, *error = NULL, *json, *json_again;
        int r;

        if (size > GUEST_CONFIG_MAX + 16)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        r = guest_config_parse(text, &c, &error);
        free(text);
        if (r < 0) {
                FUZZ_ASSERT(r != -EINVAL || error);
                free(error);
                return 0;
        }
        FUZZ_ASSERT(c.kernel && c.kernel[0] == '/' && c.cmdline);
        FUZZ_ASSERT(c.memory_mib >= GUEST_MEMORY_MIB_MIN && c.memory_mib <= GUEST_MEMORY_MIB_MAX && c.memory_mib % 2 == 0);
        FUZZ_ASSERT(c.vcpus >= 1 && c.vcpus <= GUEST_VCPUS_MAX);
        FUZZ_ASSERT(c.n_disks <= GUEST_MAX_DISKS && strlen(c.cmdline) <= GUEST_CMDLINE_MAX(c.n_disks));
        for (size_t i = 0; i < c.n_disks; i++)
                FUZZ_ASSERT(c.disks[i].path && c.disks[i].path[0] == '/' && strlen(c.disks[i].id) <= GUEST_DISK_ID_MAX);

        json = guest_config_to_json(&c);
        FUZZ_ASSERT(json);
        r = guest_config_parse(json, &again, &error);
        if (r < 0)
                fprintf(stderr, "canonical form refused: %s\n%s\n", error ? error : "?", json);
        FUZZ_ASSERT(r == 0);
        json_again = guest_config_to_json(&again);
        FUZZ_ASSERT(json_again && strcmp(json, json_again) == 0);
        free(json);
        free(json_again);
        guest_config_done(&c);
        guest_config_done(&again);
        return 0;
}
