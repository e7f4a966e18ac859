/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest-props.c: see guest-props.h. */
#include <string.h>

#include "guest-props.h"
#include "pagetables.h"

static int append_name(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "s", g->name);
}
static int append_owner(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "u", (uint32_t) g->owner);
}
static int append_state(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "s", guest_state_to_string(g->state));
}
static int append_state_reason(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "s", g->state_reason);
}
static int append_memory(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "t", g->config.memory_mib);
}
static int append_vcpus(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "u", (uint32_t) g->config.vcpus);
}
static int append_config(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "s", g->config_json);
}
static int append_snapshot_size(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "t", g->snapshot_bytes);
}
static int append_progress(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "(tt)", g->conn.progress_done, g->conn.progress_total);
}
static int append_page_table_cap(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "t", g->pt.in_budget ? g->pt.cap : UINT64_C(0));
}
static int append_page_table_cap_in_force(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "t", g->pt.cap_applied);
}
static int append_page_table_share(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "t", g->pt.in_budget ? g->pt.share : UINT64_C(0));
}
static int append_page_tables_in_use(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "t", pagetables_guest_in_use(g->manager, g));
}
static int append_page_tables_recycled(sd_bus_message *m, const struct guest *g) {
        return sd_bus_message_append(m, "d", g->pt.recycled_rate);
}

/* Beside common/guest-properties.c's table, entry for entry (checked at
 * its tests: test-guest-props). */
static int (*const appenders[GUEST_PROPERTIES_MAX])(sd_bus_message *m, const struct guest *g) = {
        append_name,
        append_owner,
        append_state,
        append_state_reason,
        append_memory,
        append_vcpus,
        append_config,
        append_snapshot_size,
        append_progress,
        append_page_table_cap,
        append_page_table_cap_in_force,
        append_page_table_share,
        append_page_tables_in_use,
        append_page_tables_recycled,
};

int guest_props_append(sd_bus_message *m, struct guest *g, const char *property, bool as_variant) {
        const struct guest_property_info *p = guest_property_find(property);
        int r = 0;

        if (!p)
                return -ENOENT;
        if (as_variant)
                r = sd_bus_message_open_container(m, 'v', p->type);
        if (r >= 0)
                r = appenders[p - guest_properties](m, g);
        if (r >= 0 && as_variant)
                r = sd_bus_message_close_container(m);
        return r;
}
