/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * suspend.h: the whole machine into one snapshot file and back; see
 * suspend.c. The I/O thread calls these (control.c); resume happens while
 * the machine is put together (vm.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "snapshot.h"
#include "util.h"

/* A suspend between its first half and its end: the state the guest goes
 * back to if it is called off, and when it began. */
struct suspend {
        bool was_paused;
        usec_t begun;
};

/* How far the snapshot has got (done bytes of RAM out of total). */
typedef void (*suspend_progress_t)(void *userdata, uint64_t done, uint64_t total);

/* The first half: every vCPU parked and the disks flushed. If that fails
 * the guest goes on as before: -errno, and a sentence in why. */
int suspend_park(struct machine *m, struct suspend *s, char *why, size_t why_size);
/* A suspend called off: the guest goes on as it was before it. */
void suspend_unpark(struct machine *m, const struct suspend *s);
/* The second half, parked: the snapshot into fd, on stable storage, and
 * the end of the guest. progress may be NULL. On failure -errno and a
 * sentence in why; the vCPUs stay parked. */
int suspend_write(struct machine *m, const struct suspend *s, int fd, suspend_progress_t progress, void *userdata, char *why,
                  size_t why_size);
/* Both halves at once (standalone: no guestd, no lowered file-size
 * limit). If that fails the guest goes on as before (nothing is lost):
 * -errno, and a sentence in why. */
int suspend_now(struct machine *m, int fd, char *why, size_t why_size);

/* Resume, before the devices exist: opens the snapshot in fd into *s,
 * checks that it is of a machine built like this one (memory_bytes of RAM,
 * m's vCPUs and disks; m->acpi is taken from it) and maps its RAM as m's. */
int suspend_open_snapshot(struct machine *m, int fd, uint64_t memory_bytes, struct snapshot *s);
/* Resume, after the devices exist and the vCPUs are set up: every part's
 * state from s. */
int suspend_restore_state(struct machine *m, const struct snapshot *s);
