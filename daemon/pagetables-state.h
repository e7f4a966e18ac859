/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagetables-state.h: what the page-table budget (pagetables.h) keeps in
 * struct manager, declared apart so that manager.h needs none of its
 * functions.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "kvm-mmu.h"
#include "util.h"

#define PAGETABLES_TICK_USEC (2 * 1000000ULL) /* one pressure window */
#define PAGETABLES_CALM_USEC (4 * 1000000ULL) /* no pressure this long: regrow (default) */
#define PAGETABLES_UNKNOWN UINT64_MAX         /* a byte count nobody measured */

enum pagetables_pressure {
        PAGETABLES_UNWATCHED, /* no pressure source (or switched off) */
        PAGETABLES_CALM,
        PAGETABLES_PRESSURE,   /* caps cut; waiting for calm */
        PAGETABLES_RECOVERING, /* calm again; caps growing back */
        _PAGETABLES_PRESSURE_MAX,
};
const char *pagetables_pressure_to_string(enum pagetables_pressure p);

/* The manager's part (struct manager's pt). */
struct pagetables_state {
        struct kvm_mmu_info mmu;  /* what guestd found at start (kvm-mmu.h); KVM_MMU_NONE: no guest can run here */
        uint64_t host_ram_bytes;  /* 0 until set up */
        uint64_t override_mib;    /* root's SetPageTableBudget, else 0 */
        unsigned override_percent;
        struct pressure *pressure;
        enum pagetables_pressure state;
        usec_t last_pressure, last_cut;
        uint64_t pressure_events, cuts;
        usec_t calm_usec;         /* guestd --pressure-calm; 0: PAGETABLES_CALM_USEC */
        sd_event_source *tick;
};
