/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for cgroup.c: reading memory.stat and /proc/meminfo, and a
 * setup that finds no cgroup v2 says why instead of failing guestd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "test.h"

static void test_memory_stat(void) {
        const char *stat = "anon 4096\nfile 0\nkernel 12288\nsec_pagetables 1339392\nshmem 0\n";
        uint64_t v = 0;

        CHECK_EQ(memory_stat_get(stat, "sec_pagetables", &v), 0);
        CHECK_EQ(v, 1339392);
        CHECK_EQ(memory_stat_get(stat, "anon", &v), 0);
        CHECK_EQ(v, 4096);
        /* A key is a whole word at the start of a line. */
        CHECK_EQ(memory_stat_get(stat, "pagetables", &v), -ENOENT);
        CHECK_EQ(memory_stat_get(stat, "sec", &v), -ENOENT);
        CHECK_EQ(memory_stat_get("", "anon", &v), -ENOENT);
        /* Not a number: refused, not half-read. */
        CHECK_EQ(memory_stat_get("anon 12x\n", "anon", &v), -EBADMSG);
        CHECK_EQ(memory_stat_get("anon \n", "anon", &v), -EBADMSG);
        CHECK_EQ(memory_stat_get("anon 99999999999999999999999\n", "anon", &v), -EBADMSG);
        /* The last line without a newline. */
        CHECK_EQ(memory_stat_get("a 1\nanon 7", "anon", &v), 0);
        CHECK_EQ(v, 7);
}

static void test_meminfo(void) {
        char path[] = "/tmp/guestd-test-meminfo.XXXXXX";
        int fd = mkstemp(path);
        uint64_t v = 0;
        FILE *f;

        CHECK(fd >= 0);
        f = fdopen(fd, "w");
        fputs("MemTotal:       24567890 kB\nPageTables:         4096 kB\nSecPageTables:      8120 kB\n", f);
        fclose(f);
        CHECK_EQ(meminfo_sec_page_tables(path, &v), 0);
        CHECK_EQ(v, UINT64_C(8120) * 1024);
        /* A kernel before 6.0: no SecPageTables line. */
        f = fopen(path, "w");
        fputs("MemTotal:       24567890 kB\nPageTables:         4096 kB\n", f);
        fclose(f);
        CHECK_EQ(meminfo_sec_page_tables(path, &v), -ENOENT);
        unlink(path);
        CHECK_EQ(meminfo_sec_page_tables("/nonexistent/meminfo", &v), -ENOENT);
        /* This host's, where it has one. */
        if (meminfo_sec_page_tables("/proc/meminfo", &v) == 0)
                printf("this host's SecPageTables: %llu bytes\n", (unsigned long long) v);
}

static void test_setup_without_cgroup2(void) {
        struct cgroups *c = (struct cgroups *) 1;
        char *why = NULL;
        uint64_t v;

        /* /tmp is no cgroup v2: no cgroups, a reason, guestd goes on. */
        cgroups_setup("/tmp", &c, &why);
        CHECK(c == NULL);
        CHECK(why && strstr(why, "not a cgroup v2 file system"));
        free(why);
        /* Without cgroups every guest operation is a quiet no-op or ENOENT. */
        CHECK_EQ(cgroups_guest_attach(NULL, "1000_a", 1, 0, 0), -ENOENT);
        CHECK(!cgroups_have_pids(NULL));
        CHECK_EQ(cgroups_guest_page_tables(NULL, "1000_a", &v), -ENOENT);
        CHECK_EQ(cgroups_guest_remove(NULL, "1000_a"), 0);
        CHECK(cgroups_base(NULL) == NULL);
}

int main(void) {
        test_memory_stat();
        test_meminfo();
        test_setup_without_cgroup2();
        return TEST_RESULT();
}
