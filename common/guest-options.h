/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest-options.h: the values of a guest's options as people type them,
 * read the same way by guestctl (create) and by the launcher standalone,
 * within the limits of guest-limits.h:
 *
 *   --memory SIZE              512M, 2G, 1.5GiB, or a plain number of MiB
 *   --vcpus N                  1 to GUEST_VCPUS_MAX
 *   --disk FILE[,ro|,rw][,id=ID]
 *
 * A size is a number, with a fraction of at most six digits, and a unit:
 * K, M, G or T (or KiB, MiB, GiB, TiB; in either case), each
 * 1024 times the one before; without a unit, the caller's (MiB for
 * memory). "2GB" is refused with a hint rather than guessed at: 1000 or
 * 1024?
 *
 * Each parser returns 0, or an error with a sentence for the user in
 * *ret_error (malloc'd; NULL without memory; ret_error may be NULL):
 *   -EINVAL  not a value of its kind at all (garbage, a number past 2^64):
 *            a usage error;
 *   -ERANGE  a value of its kind that no guest may have (zero, an odd or
 *            partial MiB of memory, past a limit, an over-long disk ID):
 *            the sentence says what is allowed, and the nearest value
 *            where there is one.
 * Nothing is logged here: guestctl and the launcher each say it their way.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guest-limits.h"

/* The longest fraction a size may have ("1.123456G"). */
#define GUEST_OPTIONS_FRACTION_DIGITS 6

/* s as a number of bytes, default_unit being the unit of a number without
 * one. *ret_exact: whether it is a whole number of bytes (a fraction can
 * leave part of a byte: "1.3K"); *ret_bytes is then rounded down. A size
 * past 2^64-1 bytes is -ERANGE; option names the option in messages. */
int guest_options_parse_size(const char *option, const char *s, uint64_t default_unit, uint64_t *ret_bytes, bool *ret_exact,
                             char **ret_error);
/* A size in whole MiB (a plain number is MiB), zero included: what a
 * budget takes. */
int guest_options_parse_size_mib(const char *option, const char *s, uint64_t *ret_mib, char **ret_error);

/* --memory: a whole, even number of MiB from GUEST_MEMORY_MIB_MIN to
 * GUEST_MEMORY_MIB_MAX (it is mapped in 2 MiB pages). */
int guest_options_parse_memory_mib(const char *s, uint64_t *ret_mib, char **ret_error);
/* --vcpus: 1 to GUEST_VCPUS_MAX. */
int guest_options_parse_vcpus(const char *s, uint64_t *ret_vcpus, char **ret_error);

/* --disk FILE[,ro|,rw][,id=ID]: the value, not yet opened. The last of ro
 * and rw counts; an empty ID is as none (the file's name, or guestd's
 * choice). */
struct guest_disk_option {
        char *path; /* malloc'd, as given (relative or not) */
        bool read_only;
        char id[GUEST_DISK_ID_MAX + 1]; /* "" when not given */
};
int guest_options_parse_disk(const char *s, struct guest_disk_option *ret, char **ret_error);
/* Frees what a parsed disk holds; d may be NULL. */
void guest_disk_option_done(struct guest_disk_option *d);
