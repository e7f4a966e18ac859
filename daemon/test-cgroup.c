/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for cgroup.c: reading memory.stat, /proc/meminfo and
 * /proc/PID/cgroup, and a setup that finds no cgroup v2 says why instead
 * of failing guestd. */
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

        /* /tmp is no cgroup v2: no cgroups, a reason, guestd goes on. */
        cgroups_setup("/tmp", &c, &why);
        CHECK(c == NULL);
        CHECK(why && strstr(why, "not a cgroup v2 file system"));
        free(why);
        /* Without cgroups every guest operation is a quiet no-op or ENOENT. */
        CHECK_EQ(cgroups_guest_attach(NULL, "1000_a", 1, 0, 0), -ENOENT);
        CHECK(!cgroups_have_pids(NULL));
        CHECK(!cgroups_guest_path_is_own(NULL, "1000_a", "/guestd-guests/1000_a"));
        CHECK_EQ(cgroups_guest_remove(NULL, "1000_a"), 0);
        CHECK(cgroups_base(NULL) == NULL);
}

/* /proc/PID/cgroup: the unified hierarchy's "0::" line, wherever it is
 * among a hybrid host's v1 lines; nothing else is taken for it. */
static void test_parse_proc(void) {
        char *path = NULL;

        CHECK_EQ(cgroup_parse_proc("0::/machine.slice/machine-guestd\\x2d0123.scope\n", &path), 0);
        CHECK(path && strcmp(path, "/machine.slice/machine-guestd\\x2d0123.scope") == 0);
        free(path);
        path = NULL;
        CHECK_EQ(cgroup_parse_proc("12:pids:/x\n1:name=systemd:/system.slice/guestd.service\n0::/system.slice/guestd.service/guestd-daemon", &path),
                 0);
        CHECK(path && strcmp(path, "/system.slice/guestd.service/guestd-daemon") == 0);
        free(path);
        path = NULL;
        CHECK_EQ(cgroup_parse_proc("0::/\n", &path), 0);
        CHECK(path && strcmp(path, "/") == 0);
        free(path);
        path = NULL;
        /* v1 only: no path. */
        CHECK_EQ(cgroup_parse_proc("4:memory:/user.slice\n1:name=systemd:/user.slice\n", &path), -ENOENT);
        CHECK_EQ(cgroup_parse_proc("", &path), -ENOENT);
        CHECK_EQ(cgroup_parse_proc("0::\n", &path), -ENOENT);
        /* Outside our cgroup namespace: no path of ours reaches it. */
        CHECK_EQ(cgroup_parse_proc("0::/../../machine.slice/x.scope\n", &path), -ENOENT);
        CHECK_EQ(cgroup_parse_proc("0::/a/..\n", &path), -ENOENT);
        CHECK(path == NULL);
        /* A name that merely starts with dots is a name. */
        CHECK_EQ(cgroup_parse_proc("0::/a/..b\n", &path), 0);
        CHECK(path && strcmp(path, "/a/..b") == 0);
        free(path);
        path = NULL;

        /* Our own, where /proc is there. */
        if (cgroup_pid_get_path(0, &path) == 0) {
                CHECK(path[0] == '/');
                printf("this process's cgroup: %s\n", path);
                free(path);
        }
}

static void test_page_tables_path(void) {
        uint64_t v;

        /* Only a path as the kernel gives it, and only below root. */
        CHECK_EQ(cgroup_page_tables("/nonexistent", "/x", &v), -ENOENT);
        CHECK_EQ(cgroup_page_tables("/sys/fs/cgroup", "x", &v), -ENOENT);
        CHECK_EQ(cgroup_page_tables("/sys/fs/cgroup", "/../etc", &v), -ENOENT);
        CHECK_EQ(cgroup_page_tables("/sys/fs/cgroup", NULL, &v), -ENOENT);
}

int main(void) {
        test_memory_stat();
        test_meminfo();
        test_setup_without_cgroup2();
        test_parse_proc();
        test_page_tables_path();
        return TEST_RESULT();
}
