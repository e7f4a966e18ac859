/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.h: what a user may ask for, checked before anything is stored.
 *
 * Guest names become part of file names (state-dir/guests/<uid>_<name>.json)
 * and object paths, and a guest's configuration is a JSON document a user
 * wrote: both are checked strictly here, once, so that the rest of the
 * daemon only ever sees well-formed values. Every refusal names the field
 * that was wrong, because the message goes back to the person who wrote it.
 */
#pragma once

#include "guest-limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The limits of a guest are guest-limits.h's, shared with the launcher
 * and guestctl. */
#define GUEST_CONFIG_MAX (64 * 1024) /* bytes of JSON */

struct guest_disk {
        char *path;
        bool read_only;
        char id[GUEST_DISK_ID_MAX + 1]; /* "" if none was given */
};

struct guest_config {
        char *kernel;
        char *initrd;  /* NULL if none */
        char *cmdline; /* never NULL; "" if none */
        uint64_t memory_mib;
        unsigned vcpus;
        struct guest_disk disks[GUEST_MAX_DISKS];
        size_t n_disks;
        /* ACPI tables (the launcher's --acpi): how distribution kernels
         * find their disks and are asked to shut down. Default on. */
        bool acpi;
        /* The disks as virtio_mmio.device= arguments on the command line
         * too, for kernels built with VIRTIO_MMIO_CMDLINE_DEVICES (the
         * only way without ACPI). Default: only where ACPI is off, so
         * that no disk is announced twice. */
        bool cmdline_devices;
};

/* 1 to GUEST_NAME_MAX characters from [A-Za-z0-9_.-], not starting with
 * '.' or '-'. */
bool guest_name_is_valid(const char *name);

/* Parses and checks a configuration. On failure returns -EINVAL and, if
 * ret_error is given, a sentence naming the field (caller frees). */
int guest_config_parse(const char *json, struct guest_config *ret, char **ret_error);
/* The same for a stored guest record: one written before "acpi" existed
 * has none, and keeps the machine it was made with (no ACPI, the disks on
 * the command line). */
int guest_config_parse_record(const char *json, struct guest_config *ret, char **ret_error);
/* The configuration as canonical JSON (caller frees); NULL on ENOMEM. */
char *guest_config_to_json(const struct guest_config *c);
void guest_config_done(struct guest_config *c);
