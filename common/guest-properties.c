/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest-properties.c: see guest-properties.h. */
#include <string.h>

#include "guest-properties.h"

const struct guest_property_info guest_properties[GUEST_PROPERTIES_MAX] = {
        { "Name", "s", GUEST_PROPERTY_CONST, "name", "Name" },
        { "Owner", "u", GUEST_PROPERTY_CONST, "owner", "Owner" },
        { "State", "s", GUEST_PROPERTY_EMITS, "state", "State" },
        { "StateReason", "s", GUEST_PROPERTY_EMITS, "state_reason", "Reason" },
        { "Memory", "t", GUEST_PROPERTY_CONST, "memory_mib", "Memory" },
        { "VCpus", "u", GUEST_PROPERTY_CONST, "vcpus", "vCPUs" },
        { "Config", "s", GUEST_PROPERTY_CONST, "config", "Config" },
        { "SnapshotSize", "t", GUEST_PROPERTY_EMITS, "snapshot_bytes", "Snapshot" },
        { "Progress", "(tt)", GUEST_PROPERTY_EMITS, "progress", "Progress" },
        { "PageTableCap", "t", GUEST_PROPERTY_POLLED, "page_table_cap", "Page tables" },
        { "PageTableCapInForce", "t", GUEST_PROPERTY_POLLED, "page_table_cap_in_force", "Page tables" },
        { "PageTableShare", "t", GUEST_PROPERTY_POLLED, "page_table_share", "Page tables" },
        { "PageTablesInUse", "t", GUEST_PROPERTY_POLLED, "page_tables_bytes", "Page tables" },
        { "PageTablesRecycled", "d", GUEST_PROPERTY_POLLED, "page_tables_recycled_per_s", "Page tables" },
};

const struct guest_property_info *guest_property_find(const char *name) {
        for (size_t i = 0; name && i < GUEST_PROPERTIES_MAX; i++)
                if (strcmp(guest_properties[i].name, name) == 0)
                        return &guest_properties[i];
        return NULL;
}
