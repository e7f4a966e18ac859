/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest-options.c: see guest-options.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "guest-options.h"
#include "util.h"

#define TiB (UINT64_C(1024) * GiB)

static const struct {
        char letter; /* lower case */
        uint64_t factor;
        const char *name;
} size_units[] = {
        { 'k', KiB, "KiB" },
        { 'm', MiB, "MiB" },
        { 'g', GiB, "GiB" },
        { 't', TiB, "TiB" },
};

/* A value of its kind that no guest may have: the sentence, -ERANGE. */
#define range_error(ret_error, ...) (set_error_message((ret_error), __VA_ARGS__), -ERANGE)

static const char *unit_name(uint64_t unit) {
        for (size_t i = 0; i < ELEMENTSOF(size_units); i++)
                if (size_units[i].factor == unit)
                        return size_units[i].name;
        return "bytes";
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* The unit at p ("", "G", "g", "GiB"); 0 if p is not one. */
static uint64_t unit_parse(const char *p, uint64_t default_unit) {
        if (!*p)
                return default_unit;
        for (size_t i = 0; i < ELEMENTSOF(size_units); i++)
                if ((p[0] | 0x20) == size_units[i].letter && (p[1] == 0 || strcasecmp(p + 1, "ib") == 0))
                        return size_units[i].factor;
        return 0;
}

int guest_options_parse_size(const char *option, const char *s, uint64_t default_unit, uint64_t *ret_bytes, bool *ret_exact,
                             char **ret_error) {
        uint64_t whole = 0, fraction = 0, scale = 1, unit;
        unsigned __int128 total;
        const char *p = s;

        if (ret_error)
                *ret_error = NULL;
        if (!s || !is_digit(*p))
                goto syntax;
        for (; is_digit(*p); p++) {
                if (whole > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return set_error_message(ret_error, "%s %s: the number is too large to be a size.", option, s);
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                if (!is_digit(*++p))
                        goto syntax;
                for (; is_digit(*p); p++) {
                        if (scale >= 1000000)
                                return set_error_message(ret_error, "%s %s: at most %d digits after the point, please.", option, s,
                                                         GUEST_OPTIONS_FRACTION_DIGITS);
                        fraction = fraction * 10 + (uint64_t) (*p - '0');
                        scale *= 10;
                }
        }
        unit = unit_parse(p, default_unit);
        if (unit == 0) {
                /* "2GB": 1000 or 1024 times? Say which we mean. */
                if (p[0] && (p[1] | 0x20) == 'b' && !p[2] && unit_parse((char[]) { p[0], 0 }, 0) != 0) {
                        int n = (int) (p - s);
                        char letter = (char) (p[0] & ~0x20);
                        return set_error_message(ret_error, "%s %s: write %.*s%c or %.*s%ciB (units are binary here: 1K is 1024 bytes).",
                                                 option, s, n, s, letter, n, s, letter);
                }
                goto syntax;
        }
        /* Below 2^124: whole < 2^64, scale <= 10^6 < 2^20, unit <= 2^40. */
        if (unit > TiB)
                return -EINVAL; /* a caller's mistake */
        total = ((unsigned __int128) whole * scale + fraction) * unit;
        if (total / scale > UINT64_MAX)
                return range_error(ret_error, "%s %s is more than 16 EiB.", option, s);
        *ret_bytes = (uint64_t) (total / scale);
        *ret_exact = total % scale == 0;
        return 0;

syntax:
        return set_error_message(ret_error,
                                 "%s takes a size such as 512M, 2G or 1.5GiB (K, M, G, T, each 1024 times the one before) or a plain number "
                                 "of %s, not '%s'.",
                                 option, unit_name(default_unit), s ? s : "");
}

int guest_options_parse_size_mib(const char *option, const char *s, uint64_t *ret_mib, char **ret_error) {
        uint64_t bytes;
        bool exact;
        int r;

        r = guest_options_parse_size(option, s, MiB, &bytes, &exact, ret_error);
        if (r < 0)
                return r;
        if (!exact || bytes % MiB != 0)
                return range_error(ret_error, "%s %s is not a whole number of MiB; the nearest is %" PRIu64 "M.", option, s,
                                   (bytes + MiB / 2) / MiB);
        *ret_mib = bytes / MiB;
        return 0;
}

int guest_options_parse_memory_mib(const char *s, uint64_t *ret_mib, char **ret_error) {
        const uint64_t step = 2 * MiB;
        uint64_t bytes, nearest;
        bool exact;
        int r;

        r = guest_options_parse_size("--memory", s, MiB, &bytes, &exact, ret_error);
        if (r == -ERANGE) {
                /* Past 16 EiB: said below as past the limit. */
                if (ret_error)
                        *ret_error = (free(*ret_error), NULL);
                bytes = UINT64_MAX, exact = true;
        } else if (r < 0)
                return r;
        if (bytes < GUEST_MEMORY_MIB_MIN * MiB)
                return range_error(ret_error, "--memory %s is less than the %d MiB a guest needs at least.", s,
                                   GUEST_MEMORY_MIB_MIN);
        if (bytes > GUEST_MEMORY_MIB_MAX * MiB)
                return range_error(ret_error, "--memory %s is more than the %" PRIu64 " MiB (%" PRIu64 "G) a guest may have.",
                                   s, GUEST_MEMORY_MIB_MAX, GUEST_MEMORY_MIB_MAX / 1024);
        if (!exact || bytes % step != 0) {
                /* The nearest even number of MiB, a tie going up. */
                nearest = MIN(MAX((bytes + step / 2) / step * 2, (uint64_t) GUEST_MEMORY_MIB_MIN), GUEST_MEMORY_MIB_MAX);
                return range_error(ret_error,
                                   "--memory %s is not a whole, even number of MiB (a guest's memory is mapped in 2 MiB pages); "
                                   "the nearest is %" PRIu64 "M.",
                                   s, nearest);
        }
        *ret_mib = bytes / MiB;
        return 0;
}

int guest_options_parse_vcpus(const char *s, uint64_t *ret_vcpus, char **ret_error) {
        uint64_t v;

        if (ret_error)
                *ret_error = NULL;
        if (!s || safe_atou64(s, &v) < 0)
                return set_error_message(ret_error, "--vcpus takes a number of vCPUs, 1 to %d, not '%s'.", GUEST_VCPUS_MAX, s ? s : "");
        if (v < 1 || v > GUEST_VCPUS_MAX)
                return range_error(ret_error, "--vcpus %s: a guest has 1 to %d vCPUs.", s, GUEST_VCPUS_MAX);
        *ret_vcpus = v;
        return 0;
}

/* One option of --disk, of len bytes at opt, into d. */
static int disk_option(const char *spec, const char *opt, size_t len, struct guest_disk_option *d, char **ret_error) {
        if (len == 2 && memcmp(opt, "ro", 2) == 0)
                d->read_only = true;
        else if (len == 2 && memcmp(opt, "rw", 2) == 0)
                d->read_only = false;
        else if (len >= 3 && memcmp(opt, "id=", 3) == 0) {
                if (len - 3 > GUEST_DISK_ID_MAX)
                        return range_error(ret_error, "--disk %s: a disk's ID is at most %d characters, not %zu.", spec,
                                           GUEST_DISK_ID_MAX, len - 3);
                memcpy(d->id, opt + 3, len - 3);
                d->id[len - 3] = 0;
        } else
                return set_error_message(ret_error, "Unknown disk option '%.*s' in --disk %s (known: ro, rw, id=ID).", (int) len, opt,
                                         spec);
        return 0;
}

int guest_options_parse_disk(const char *s, struct guest_disk_option *ret, char **ret_error) {
        struct guest_disk_option d = {};
        const char *comma, *opt;
        int r;

        if (ret_error)
                *ret_error = NULL;
        comma = s ? strchrnul(s, ',') : NULL;
        if (!s || comma == s)
                return set_error_message(ret_error, "--disk needs a file name: --disk FILE[,ro|,rw][,id=ID].");
        for (opt = comma; *opt; opt = comma) {
                opt++;
                comma = strchrnul(opt, ',');
                if (comma == opt)
                        continue; /* "a,,ro" */
                r = disk_option(s, opt, (size_t) (comma - opt), &d, ret_error);
                if (r < 0)
                        return r;
        }
        d.path = strndup(s, (size_t) (strchrnul(s, ',') - s));
        if (!d.path)
                return -ENOMEM;
        *ret = d;
        return 0;
}

void guest_disk_option_done(struct guest_disk_option *d) {
        if (d)
                d->path = (free(d->path), NULL);
}
