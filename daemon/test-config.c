/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-config.c: guest names and configurations, the strict checks a
 * user's input meets before anything is stored. */
#include <string.h>

#include "config.h"
#include "test.h"

static void test_names(void) {
        char long_name[GUEST_NAME_MAX + 2];

        CHECK(guest_name_is_valid("web"));
        CHECK(guest_name_is_valid("a"));
        CHECK(guest_name_is_valid("A-b_c.9"));
        CHECK(guest_name_is_valid("_x"));
        CHECK(!guest_name_is_valid(""));
        CHECK(!guest_name_is_valid(NULL));
        CHECK(!guest_name_is_valid("."));
        CHECK(!guest_name_is_valid(".."));
        CHECK(!guest_name_is_valid(".hidden"));
        CHECK(!guest_name_is_valid("-opt"));
        CHECK(!guest_name_is_valid("a/b"));
        CHECK(!guest_name_is_valid("../etc"));
        CHECK(!guest_name_is_valid("sp ace"));
        CHECK(!guest_name_is_valid("ü"));
        memset(long_name, 'x', sizeof(long_name));
        long_name[GUEST_NAME_MAX] = 0;
        CHECK(guest_name_is_valid(long_name));
        long_name[GUEST_NAME_MAX] = 'x';
        long_name[GUEST_NAME_MAX + 1] = 0;
        CHECK(!guest_name_is_valid(long_name));
}

/* Each bad configuration is refused, and the message names the field. */
static const struct {
        const char *json;
        const char *mentions;
} bad[] = {
        { "", "ends too early" },
        { "{", "ends too early" },
        { "[]", "JSON object" },
        { "{\"memory_mib\": 16, \"vcpus\": 1}", "\"kernel\" is required" },
        { "{\"kernel\": \"/k\", \"vcpus\": 1}", "\"memory_mib\" is required" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16}", "\"vcpus\" is required" },
        { "{\"kernel\": \"k\", \"memory_mib\": 16, \"vcpus\": 1}", "\"kernel\" must be an absolute path" },
        { "{\"kernel\": 1, \"memory_mib\": 16, \"vcpus\": 1}", "\"kernel\" must be a string" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 0, \"vcpus\": 1}", "\"memory_mib\" must be between" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 3, \"vcpus\": 1}", "multiple of 2" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 2097152, \"vcpus\": 1}", "\"memory_mib\" must be between" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 99999999999999999999999, \"vcpus\": 1}", "\"memory_mib\"" },
        { "{\"kernel\": \"/k\", \"memory_mib\": -2, \"vcpus\": 1}", "\"memory_mib\" must be between" },
        { "{\"kernel\": \"/k\", \"memory_mib\": \"16\", \"vcpus\": 1}", "\"memory_mib\" must be an integer" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16.0, \"vcpus\": 1}", "\"memory_mib\" must be an integer" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 0}", "\"vcpus\" must be between 1 and 64" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 65}", "\"vcpus\" must be between 1 and 64" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"extra\": 1}", "Unknown key \"extra\"" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1} {}", "not valid JSON" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1} x", "not valid JSON" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"initrd\": \"rel\"}", "\"initrd\" must be an absolute path" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"cmdline\": 5}", "\"cmdline\" must be a string" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": {}}", "\"disks\" must be an array" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": [1]}", "\"disks[0]\" must be an object" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": [{}]}", "\"disks[0].path\" is required" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": [{\"path\": \"/d\", \"ro\": true}]}", "disks[0].ro" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": [{\"path\": \"/d\", \"read_only\": 1}]}", "disks[0].read_only" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": [{\"path\": \"/d\", \"id\": \"123456789012345678901\"}]}", "at most 20" },
        { "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"disks\": [{\"path\": \"/1\"},{\"path\": \"/2\"},{\"path\": \"/3\"},"
          "{\"path\": \"/4\"},{\"path\": \"/5\"},{\"path\": \"/6\"},{\"path\": \"/7\"},{\"path\": \"/8\"},{\"path\": \"/9\"}]}", "at most 8" },
        { "{\"kernel\": \"/k\\u0000x\", \"memory_mib\": 16, \"vcpus\": 1}", "NUL" },
};

static void test_bad(void) {
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct guest_config c = {};
                char *error = NULL;
                int r = guest_config_parse(bad[i].json, &c, &error);

                CHECK_EQ(r, -EINVAL);
                CHECK(error && strstr(error, bad[i].mentions));
                if (!error || !strstr(error, bad[i].mentions))
                        fprintf(stderr, "  case %zu: %s -> %s\n", i, bad[i].json, error ? error : "(no message)");
                free(error);
                guest_config_done(&c);
        }
}

static void test_good(void) {
        struct guest_config c = {}, again = {};
        char *error = NULL, *json;
        int r;

        r = guest_config_parse("  {\"kernel\": \"/boot/vmlinux\", \"initrd\": \"/boot/initrd\", \"cmdline\": \"console=ttyS0\","
                               " \"memory_mib\": 64, \"vcpus\": 2,"
                               " \"disks\": [{\"path\": \"/var/d.img\", \"read_only\": true, \"id\": \"root\"}, {\"path\": \"/x\"}]}\n",
                               &c, &error);
        CHECK_EQ(r, 0);
        CHECK(!error);
        CHECK(strcmp(c.kernel, "/boot/vmlinux") == 0);
        CHECK(strcmp(c.initrd, "/boot/initrd") == 0);
        CHECK(strcmp(c.cmdline, "console=ttyS0") == 0);
        CHECK_EQ(c.memory_mib, 64);
        CHECK_EQ(c.vcpus, 2);
        CHECK_EQ(c.n_disks, 2);
        CHECK(c.disks[0].read_only);
        CHECK(strcmp(c.disks[0].id, "root") == 0);
        CHECK(!c.disks[1].read_only);
        CHECK(c.disks[1].id[0] == 0);

        /* The canonical form parses back to the same configuration. */
        json = guest_config_to_json(&c);
        CHECK(json);
        CHECK_EQ(guest_config_parse(json, &again, NULL), 0);
        CHECK(strcmp(again.kernel, c.kernel) == 0 && again.memory_mib == c.memory_mib && again.n_disks == 2);
        free(json);
        guest_config_done(&again);
        guest_config_done(&c);

        r = guest_config_parse("{\"kernel\": \"/k\", \"memory_mib\": 2, \"vcpus\": 64}", &c, NULL);
        CHECK_EQ(r, 0);
        CHECK(c.initrd == NULL);
        CHECK(strcmp(c.cmdline, "") == 0);
        guest_config_done(&c);
}

/* ACPI: on by default, the disks on the command line only where it is
 * off; a record from before ACPI keeps the machine it had. */
static void test_acpi(void) {
        static const struct {
                const char *extra;
                bool record, acpi, cmdline_devices;
        } cases[] = {
                { "", false, true, false },
                { ", \"acpi\": false", false, false, true },
                { ", \"cmdline_devices\": true", false, true, true },
                { ", \"acpi\": true, \"cmdline_devices\": false", false, true, false },
                { ", \"acpi\": false, \"cmdline_devices\": true", false, false, true },
                { "", true, false, true },
                { ", \"acpi\": true", true, true, false },
        };
        struct guest_config c = {}, again = {};
        char json[256], *canonical, *error = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(json, sizeof(json), "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1%s}", cases[i].extra);
                CHECK_EQ(cases[i].record ? guest_config_parse_record(json, &c, NULL) : guest_config_parse(json, &c, NULL), 0);
                CHECK_EQ(c.acpi, cases[i].acpi);
                CHECK_EQ(c.cmdline_devices, cases[i].cmdline_devices);
                /* Stored explicitly: a record reads back the same, new or old. */
                canonical = guest_config_to_json(&c);
                CHECK(canonical && strstr(canonical, "\"acpi\""));
                CHECK_EQ(guest_config_parse_record(canonical, &again, NULL), 0);
                CHECK(again.acpi == c.acpi && again.cmdline_devices == c.cmdline_devices);
                free(canonical);
                guest_config_done(&again);
                guest_config_done(&c);
        }
        CHECK_EQ(guest_config_parse("{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"acpi\": false, \"cmdline_devices\": false}",
                                    &c, &error),
                 -EINVAL);
        CHECK(error && strstr(error, "cmdline_devices") && strstr(error, "only place"));
        free(error);
        error = NULL;
        CHECK_EQ(guest_config_parse("{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"acpi\": 1}", &c, &error), -EINVAL);
        CHECK(error && strstr(error, "\"acpi\" must be true or false"));
        free(error);
}

/* A command line CreateGuest accepts must fit the launcher's buffer with
 * the virtio_mmio.device= argument it appends for each disk
 * (guest-limits.h): before, 4096 bytes passed here and failed every Start. */
static void test_cmdline_length(void) {
        char *line = malloc(GUEST_CMDLINE_SIZE + 1), *json = malloc(GUEST_CMDLINE_SIZE + 1024), *error = NULL;
        struct guest_config c = {};
        const char *disks8 = ", \"disks\": [{\"path\": \"/a\"}, {\"path\": \"/b\"}, {\"path\": \"/c\"}, {\"path\": \"/d\"},"
                             " {\"path\": \"/e\"}, {\"path\": \"/f\"}, {\"path\": \"/g\"}, {\"path\": \"/h\"}]";
        static const struct {
                unsigned length;
                bool eight_disks, ok;
                const char *devices;
        } cases[] = {
                { GUEST_CMDLINE_SIZE, false, false, "" },    /* was accepted */
                { GUEST_CMDLINE_SIZE - 1, false, true, "" }, /* no disk: the whole buffer but the NUL */
                { GUEST_CMDLINE_MAX(8), true, true, ", \"cmdline_devices\": true" },
                { GUEST_CMDLINE_MAX(8) + 1, true, false, ", \"cmdline_devices\": true" },
                { GUEST_CMDLINE_MAX(0), true, false, ", \"cmdline_devices\": true" },
                { GUEST_CMDLINE_MAX(8) + 1, true, false, ", \"acpi\": false" },
                /* ACPI without the command line: nothing is appended. */
                { GUEST_CMDLINE_MAX(0), true, true, "" },
                { GUEST_CMDLINE_MAX(0) + 1, true, false, "" },
        };

        CHECK(line && json);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                memset(line, 'x', cases[i].length);
                line[cases[i].length] = 0;
                snprintf(json, GUEST_CMDLINE_SIZE + 1024, "{\"kernel\": \"/k\", \"memory_mib\": 16, \"vcpus\": 1, \"cmdline\": \"%s\"%s%s}",
                         line, cases[i].eight_disks ? disks8 : "", cases[i].devices);
                int r = guest_config_parse(json, &c, &error);
                if (cases[i].ok) {
                        CHECK_EQ(r, 0);
                        guest_config_done(&c);
                } else {
                        CHECK_EQ(r, -EINVAL);
                        CHECK(error && strstr(error, "cmdline"));
                }
                free(error);
                error = NULL;
        }
        free(line);
        free(json);
}

int main(void) {
        test_cmdline_length();
        test_names();
        test_bad();
        test_good();
        test_acpi();
        return TEST_RESULT();
}
