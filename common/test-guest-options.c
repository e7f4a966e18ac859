/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-guest-options.c: the values of a guest's options, as guestctl and
 * the launcher read them: sizes with units, memory, vCPUs, disks, and what
 * each refusal says. */
#include <string.h>

#include "guest-options.h"
#include "test.h"

/* memory_is S WANT_R WANT_MIB SAYS: the result, and a message holding SAYS. */
static void memory_is(const char *s, int want_r, uint64_t want_mib, const char *says) {
        _cleanup_free_ char *error = NULL;
        uint64_t mib = 12345;
        int r = guest_options_parse_memory_mib(s, &mib, &error);

        if (r != want_r || (r == 0 && mib != want_mib) || (r < 0 && (!error || !strstr(error, says)))) {
                fprintf(stderr, "--memory '%s': r=%d mib=%" PRIu64 " error=%s; wanted r=%d mib=%" PRIu64 " saying '%s'\n", s, r, mib,
                        error ? error : "(none)", want_r, want_mib, says);
                CHECK(false);
        }
        CHECK(r < 0 || !error);
}

static void size_is(const char *s, int want_r, uint64_t want_bytes, bool want_exact) {
        _cleanup_free_ char *error = NULL;
        uint64_t bytes = 0;
        bool exact = false;
        int r = guest_options_parse_size("--size", s, MiB, &bytes, &exact, &error);

        if (r != want_r || (r == 0 && (bytes != want_bytes || exact != want_exact))) {
                fprintf(stderr, "size '%s': r=%d bytes=%" PRIu64 " exact=%d error=%s\n", s, r, bytes, exact, error ? error : "(none)");
                CHECK(false);
        }
        CHECK(r == 0 ? !error : error && strstr(error, "--size") != NULL);
}

static void test_sizes(void) {
        size_is("0", 0, 0, true);
        size_is("1", 0, MiB, true);
        size_is("1024", 0, 1024 * MiB, true);
        size_is("512M", 0, 512 * MiB, true);
        size_is("512m", 0, 512 * MiB, true);
        size_is("512MiB", 0, 512 * MiB, true);
        size_is("2G", 0, 2 * GiB, true);
        size_is("2g", 0, 2 * GiB, true);
        size_is("1.5GiB", 0, 1536 * MiB, true);
        size_is("1.5", 0, MiB + MiB / 2, true);
        size_is("4K", 0, 4096, true);
        size_is("4kib", 0, 4096, true);
        size_is("1T", 0, 1024 * GiB, true);
        size_is("1.3K", 0, 1331, false);    /* 1331.2 bytes */
        size_is("0.000001K", 0, 0, false);
        size_is("16777215T", 0, UINT64_C(16777215) * 1024 * GiB, true);
        size_is("16777216T", -ERANGE, 0, false); /* 2^64 bytes */
        size_is("18446744073709551615", -ERANGE, 0, false); /* MiB */
        size_is("18446744073709551616", -EINVAL, 0, false); /* not a 64-bit number */
        size_is("99999999999999999999", -EINVAL, 0, false);
        size_is("1.1234567G", -EINVAL, 0, false);
        static const char *const garbage[] = { "", " 1", "1 ", "-1", "+1", ".5", "1.", "1..2", "1.5.G", "G", "1X", "1GG", "1Gi",
                                               "1e3", "0x10", "1,5G", "1 G", "1P", "abc" };
        for (size_t i = 0; i < ELEMENTSOF(garbage); i++)
                size_is(garbage[i], -EINVAL, 0, false);

        /* "2GB": refused, saying how to write it. */
        _cleanup_free_ char *error = NULL;
        uint64_t b;
        bool exact;
        CHECK_EQ(guest_options_parse_size("--memory", "2GB", MiB, &b, &exact, &error), -EINVAL);
        CHECK(error && strstr(error, "write 2G or 2GiB"));
        CHECK_EQ(guest_options_parse_size("--memory", "2", MiB, &b, &exact, NULL), 0); /* ret_error may be NULL */
        CHECK_EQ(guest_options_parse_size("--memory", "x", MiB, &b, &exact, NULL), -EINVAL);

        /* Whole MiB (a budget). */
        uint64_t mib = 0;
        CHECK_EQ(guest_options_parse_size_mib("budget", "2G", &mib, NULL), 0);
        CHECK_EQ(mib, 2048);
        CHECK_EQ(guest_options_parse_size_mib("budget", "0", &mib, NULL), 0);
        CHECK_EQ(mib, 0);
        free(error);
        error = NULL;
        CHECK_EQ(guest_options_parse_size_mib("budget", "1.5M", &mib, &error), -ERANGE);
        CHECK(error && strstr(error, "not a whole number of MiB; the nearest is 2M"));
}

static void test_memory(void) {
        memory_is("64", 0, 64, NULL);
        memory_is("2", 0, 2, NULL);
        memory_is("512M", 0, 512, NULL);
        memory_is("2G", 0, 2048, NULL);
        memory_is("1.5GiB", 0, 1536, NULL);
        memory_is("1048576", 0, 1048576, NULL);
        memory_is("1T", 0, 1048576, NULL);
        memory_is("2048K", 0, 2, NULL);
        memory_is("0", -ERANGE, 0, "less than the 2 MiB a guest needs");
        memory_is("1", -ERANGE, 0, "less than the 2 MiB");
        memory_is("1.9", -ERANGE, 0, "less than the 2 MiB");
        memory_is("3", -ERANGE, 0, "not a whole, even number of MiB");
        memory_is("3", -ERANGE, 0, "the nearest is 4M");
        memory_is("5M", -ERANGE, 0, "the nearest is 6M");
        memory_is("1.3G", -ERANGE, 0, "the nearest is 1332M"); /* 1331.2 MiB */
        memory_is("2.5", -ERANGE, 0, "the nearest is 2M");
        memory_is("1000K", -ERANGE, 0, "less than the 2 MiB");
        memory_is("4097K", -ERANGE, 0, "the nearest is 4M");
        memory_is("1048578", -ERANGE, 0, "more than the 1048576 MiB (1024G) a guest may have");
        memory_is("2097152", -ERANGE, 0, "more than the 1048576 MiB");
        memory_is("9223372036854775808", -ERANGE, 0, "more than the 1048576 MiB"); /* 2^63 MiB: past 2^64 bytes */
        memory_is("99999999999999999999", -EINVAL, 0, "too large to be a size");
        memory_is("2GB", -EINVAL, 0, "write 2G or 2GiB");
        memory_is("lots", -EINVAL, 0, "--memory takes a size such as 512M, 2G or 1.5GiB");
        memory_is("", -EINVAL, 0, "not ''");
}

static void test_vcpus(void) {
        _cleanup_free_ char *error = NULL;
        uint64_t v = 0;

        CHECK_EQ(guest_options_parse_vcpus("1", &v, &error), 0);
        CHECK_EQ(v, 1);
        CHECK(!error);
        CHECK_EQ(guest_options_parse_vcpus(STRINGIFY(GUEST_VCPUS_MAX), &v, NULL), 0);
        CHECK_EQ(v, GUEST_VCPUS_MAX);
        CHECK_EQ(guest_options_parse_vcpus("0", &v, &error), -ERANGE);
        CHECK(error && strstr(error, "a guest has 1 to " STRINGIFY(GUEST_VCPUS_MAX) " vCPUs"));
        free(error);
        CHECK_EQ(guest_options_parse_vcpus("1000", &v, &error), -ERANGE);
        free(error);
        CHECK_EQ(guest_options_parse_vcpus("two", &v, &error), -EINVAL);
        CHECK(error && strstr(error, "--vcpus takes a number of vCPUs"));
        free(error);
        CHECK_EQ(guest_options_parse_vcpus("99999999999999999999", &v, &error), -EINVAL);
        free(error);
        error = NULL;
        CHECK_EQ(guest_options_parse_vcpus("-1", &v, NULL), -EINVAL);
        CHECK_EQ(guest_options_parse_vcpus("2 ", &v, NULL), -EINVAL);
}

static void disk_is(const char *s, int want_r, const char *path, bool read_only, const char *id) {
        _cleanup_free_ char *error = NULL;
        struct guest_disk_option d = {};
        int r = guest_options_parse_disk(s, &d, &error);

        if (r != want_r || (r == 0 && (strcmp(d.path, path) != 0 || d.read_only != read_only || strcmp(d.id, id) != 0))) {
                fprintf(stderr, "--disk '%s': r=%d path=%s ro=%d id=%s error=%s\n", s, r, d.path ? d.path : "-", d.read_only, d.id,
                        error ? error : "(none)");
                CHECK(false);
        }
        CHECK(r == 0 ? !error : !!error);
        guest_disk_option_done(&d);
        CHECK(!d.path);
}

static void test_disks(void) {
        disk_is("a.img", 0, "a.img", false, "");
        disk_is("/x/a.img,ro", 0, "/x/a.img", true, "");
        disk_is("a.img,ro,rw", 0, "a.img", false, "");
        disk_is("a.img,id=root", 0, "a.img", false, "root");
        disk_is("a.img,ro,id=12345678901234567890", 0, "a.img", true, "12345678901234567890");
        disk_is("a.img,id=", 0, "a.img", false, "");
        disk_is("a.img,,ro", 0, "a.img", true, "");
        disk_is("a.img,", 0, "a.img", false, "");
        disk_is("a.img,id=123456789012345678901", -ERANGE, NULL, false, NULL);
        disk_is("a.img,format=qcow2", -EINVAL, NULL, false, NULL);
        disk_is("a.img,RO", -EINVAL, NULL, false, NULL);
        disk_is("", -EINVAL, NULL, false, NULL);
        disk_is(",ro", -EINVAL, NULL, false, NULL);
        guest_disk_option_done(NULL);

        _cleanup_free_ char *error = NULL;
        struct guest_disk_option d;
        CHECK_EQ(guest_options_parse_disk("a,format=qcow2", &d, &error), -EINVAL);
        CHECK(error && strstr(error, "Unknown disk option 'format=qcow2' in --disk a,format=qcow2 (known: ro, rw, id=ID)"));
}

int main(void) {
        test_sizes();
        test_memory();
        test_vcpus();
        test_disks();
        return TEST_RESULT();
}
