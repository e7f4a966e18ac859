/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-guest.c: the state machine tables and the guest record's round
 * trip through its file (atomic write, load, refusal of bad records). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "console.h"
#include "guest.h"
#include "verbs.h"
#include "test.h"

static void test_states(void) {
        for (int s = 0; s < _GUEST_STATE_MAX; s++)
                CHECK_EQ(guest_state_from_string(guest_state_to_string(s)), s);
        CHECK_EQ(guest_state_from_string("zombie"), _GUEST_STATE_INVALID);

        CHECK(guest_state_transition_allowed(GUEST_DEFINED, GUEST_STARTING));
        CHECK(guest_state_transition_allowed(GUEST_STARTING, GUEST_RUNNING));
        CHECK(guest_state_transition_allowed(GUEST_STARTING, GUEST_DEFINED)); /* its files did not open */
        CHECK(guest_state_transition_allowed(GUEST_RUNNING, GUEST_PAUSED));
        CHECK(guest_state_transition_allowed(GUEST_PAUSED, GUEST_RUNNING));
        CHECK(guest_state_transition_allowed(GUEST_RUNNING, GUEST_CRASHED));
        CHECK(guest_state_transition_allowed(GUEST_STOPPING, GUEST_STOPPED));
        CHECK(guest_state_transition_allowed(GUEST_CRASHED, GUEST_STARTING));
        CHECK(!guest_state_transition_allowed(GUEST_DEFINED, GUEST_RUNNING));
        CHECK(!guest_state_transition_allowed(GUEST_STOPPED, GUEST_RUNNING));
        CHECK(!guest_state_transition_allowed(GUEST_STOPPING, GUEST_RUNNING));
        CHECK(!guest_state_transition_allowed(GUEST_DEFINED, GUEST_CRASHED));
        /* Suspend: from running or paused; it ends suspended, or goes on
         * as before; a resume that fails (starting) is suspended again. */
        CHECK(guest_state_transition_allowed(GUEST_RUNNING, GUEST_SUSPENDING));
        CHECK(guest_state_transition_allowed(GUEST_PAUSED, GUEST_SUSPENDING));
        CHECK(guest_state_transition_allowed(GUEST_SUSPENDING, GUEST_SUSPENDED));
        CHECK(guest_state_transition_allowed(GUEST_SUSPENDING, GUEST_RUNNING));
        CHECK(guest_state_transition_allowed(GUEST_SUSPENDED, GUEST_STARTING));
        CHECK(guest_state_transition_allowed(GUEST_STARTING, GUEST_SUSPENDED));
        CHECK(!guest_state_transition_allowed(GUEST_SUSPENDED, GUEST_RUNNING));
        CHECK(!guest_state_transition_allowed(GUEST_STOPPED, GUEST_SUSPENDED));
        CHECK(!guest_state_transition_allowed(GUEST_DEFINED, GUEST_SUSPENDING));

        /* Only active states are charged. */
        CHECK(guest_state_is_active(GUEST_STARTING) && guest_state_is_active(GUEST_STOPPING));
        CHECK(!guest_state_is_active(GUEST_DEFINED) && !guest_state_is_active(GUEST_CRASHED));
        /* A suspending guest still has its launcher; a suspended one not. */
        CHECK(guest_state_is_active(GUEST_SUSPENDING) && !guest_state_is_active(GUEST_SUSPENDED));
}

static void test_verbs(void) {
        char *msg = NULL;

        CHECK_EQ(verb_allowed(GUEST_VERB_START, GUEST_DEFINED, "x", &msg), 0);
        CHECK_EQ(verb_allowed(GUEST_VERB_START, GUEST_CRASHED, "x", &msg), 0);
        CHECK_EQ(verb_allowed(GUEST_VERB_PAUSE, GUEST_STOPPED, "x", &msg), -EBUSY);
        CHECK(msg && strcmp(msg, "Guest 'x' is stopped; start it first.") == 0);
        free(msg);
        CHECK_EQ(verb_allowed(GUEST_VERB_REMOVE, GUEST_RUNNING, "web", &msg), -EBUSY);
        CHECK(msg && strcmp(msg, "Guest 'web' is running; stop it first.") == 0);
        free(msg);
        CHECK_EQ(verb_allowed(GUEST_VERB_START, GUEST_RUNNING, "web", &msg), -EBUSY);
        CHECK(msg && strstr(msg, "running already"));
        free(msg);
        CHECK_EQ(verb_allowed(GUEST_VERB_SUSPEND, GUEST_PAUSED, "x", &msg), 0);
        CHECK_EQ(verb_allowed(GUEST_VERB_RESUME, GUEST_SUSPENDED, "x", &msg), 0);
        CHECK_EQ(verb_allowed(GUEST_VERB_REMOVE, GUEST_SUSPENDED, "x", &msg), 0);
        CHECK_EQ(verb_allowed(GUEST_VERB_START, GUEST_SUSPENDED, "vm", &msg), -EBUSY);
        CHECK(msg && strstr(msg, "suspended; resume it"));
        free(msg);
        CHECK_EQ(verb_allowed(GUEST_VERB_RESUME, GUEST_STOPPED, "vm", &msg), -EBUSY);
        CHECK(msg && strstr(msg, "stopped, not suspended"));
        free(msg);

        /* Every refusal has a sentence. */
        for (int v = 0; v < _GUEST_VERB_MAX; v++)
                for (int s = 0; s < _GUEST_STATE_MAX; s++) {
                        int r = verb_allowed(v, s, "n", &msg);
                        CHECK(r == 0 ? msg == NULL : (msg && strstr(msg, "Guest 'n' ") && !strstr(msg, "does not allow")));
                        free(msg);
                }
}

static void test_record(void) {
        char dir[] = "/tmp/test-guest.XXXXXX";
        struct guest_config c = {};
        struct guest *g = NULL, *back = NULL;
        int dir_fd;

        CHECK(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dir_fd >= 0);
        CHECK_EQ(guest_config_parse("{\"kernel\": \"/k\", \"memory_mib\": 32, \"vcpus\": 2, \"disks\": [{\"path\": \"/d\"}]}", &c, NULL), 0);
        CHECK_EQ(guest_new("web.1", 1000, &c, &g), 0);
        CHECK(strcmp(g->id, "1000_web.1") == 0);
        CHECK_EQ(guest_transition(g, GUEST_STARTING, ""), 0);
        CHECK_EQ(guest_transition(g, GUEST_SUSPENDING, ""), -EINVAL); /* not in the table */
        g->launcher_pid = 4242;
        g->launcher_uid = 61003;
        g->snapshot_bytes = 123456789012;
        g->resuming = true;
        CHECK_EQ(guest_transition(g, GUEST_RUNNING, "booted"), 0);
        CHECK_EQ(guest_save(g, dir_fd), 0);
        CHECK(faccessat(dir_fd, ".1000_web.1.json.tmp", F_OK, 0) < 0); /* no temporary file left */

        CHECK_EQ(guest_load(dir_fd, "1000_web.1.json", &back), 0);
        if (back) {
                CHECK(strcmp(back->name, "web.1") == 0);
                CHECK_EQ(back->owner, 1000);
                CHECK_EQ(back->state, GUEST_RUNNING);
                CHECK(strcmp(back->state_reason, "booted") == 0);
                CHECK_EQ(back->launcher_pid, 4242);
                CHECK_EQ(back->launcher_uid, 61003);
                CHECK_EQ(back->created_usec, g->created_usec);
                CHECK(strcmp(back->config_json, g->config_json) == 0);
                CHECK_EQ(back->config.vcpus, 2);
                CHECK_EQ(back->snapshot_bytes, 123456789012);
                CHECK(back->resuming);
                guest_free(back);
                back = NULL;
        }

        /* files_uid: who named the files (an admin's, not the owner's),
         * kept in the record; a record without it is the owner's. */
        CHECK_EQ(back == NULL, 1);
        g->files_uid = 1001;
        CHECK_EQ(guest_save(g, dir_fd), 0);
        CHECK_EQ(guest_load(dir_fd, "1000_web.1.json", &back), 0);
        if (back) {
                CHECK_EQ(back->files_uid, 1001);
                guest_free(back);
                back = NULL;
        }

        /* A launcher's reason, however long and whatever its bytes (issue
         * 20: a 65 KB error made a record the loader refused, and the
         * guest's quota was freed while its launcher ran on): kept as one
         * escaped line within GUEST_STATE_REASON_MAX, and the record
         * loads again. */
        {
                size_t big = 70 * 1024;
                char *reason = malloc(big + 1);
                CHECK(reason != NULL);
                if (reason) {
                        memset(reason, 'e', big);
                        static const char head[] = "x\n<0>guestd: forged \xff\x1b[2J";
                        static const char escaped[] = "x\\n<0>guestd: forged \\xff\\x1b[2Jeee";
                        memcpy(reason, head, sizeof(head) - 1);
                        reason[big] = 0;
                        CHECK_EQ(guest_transition(g, GUEST_RUNNING, reason), 0);
                        CHECK(strlen(g->state_reason) <= GUEST_STATE_REASON_MAX);
                        CHECK(strncmp(g->state_reason, escaped, sizeof(escaped) - 1) == 0);
                        CHECK(!strchr(g->state_reason, '\n') && !strchr(g->state_reason, 0x1b));
                        CHECK_EQ(guest_save(g, dir_fd), 0);
                        CHECK_EQ(guest_load(dir_fd, "1000_web.1.json", &back), 0);
                        if (back) {
                                CHECK(strcmp(back->state_reason, g->state_reason) == 0);
                                guest_free(back);
                                back = NULL;
                        }
                        free(reason);
                }
                /* A record larger than any guestd writes is refused, by
                 * name (guestd then accounts for its launcher by uid,
                 * spawn.c). */
                int fd = openat(dir_fd, "1_big.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                char pad[4096];
                memset(pad, ' ', sizeof(pad));
                CHECK(fd >= 0);
                for (size_t k = 0; k <= GUEST_RECORD_MAX / sizeof(pad); k++)
                        CHECK_EQ(loop_write(fd, pad, sizeof(pad)), 0);
                close(fd);
                CHECK_EQ(guest_load(dir_fd, "1_big.json", &back), -EFBIG);
                (void) unlinkat(dir_fd, "1_big.json", 0);
                CHECK_EQ(guest_transition(g, GUEST_RUNNING, "booted"), 0);
        }

        /* A record under another guest's file name is refused. */
        CHECK_EQ(renameat(dir_fd, "1000_web.1.json", dir_fd, "0_web.1.json"), 0);
        CHECK(guest_load(dir_fd, "0_web.1.json", &back) < 0);
        (void) unlinkat(dir_fd, "0_web.1.json", 0);

        /* A record from before suspend existed (no snapshot_bytes, no
         * resuming) loads with neither. */
        {
                const char *text = "{\"name\":\"old\",\"owner\":1,\"config\":{\"kernel\":\"/k\",\"memory_mib\":2,\"vcpus\":1},"
                                   "\"state\":\"stopped\",\"state_reason\":\"\",\"launcher_pid\":0,\"launcher_uid\":0,\"created_usec\":0}";
                int fd = openat(dir_fd, "1_old.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                CHECK(fd >= 0);
                CHECK_EQ(loop_write(fd, text, strlen(text)), 0);
                close(fd);
                CHECK_EQ(guest_load(dir_fd, "1_old.json", &back), 0);
                if (back) {
                        CHECK_EQ(back->files_uid, 1);
                        CHECK_EQ(back->snapshot_bytes, 0);
                        CHECK(!back->resuming);
                        guest_free(back);
                        back = NULL;
                }
                (void) unlinkat(dir_fd, "1_old.json", 0);
        }

        /* A record with a bad configuration is refused. */
        {
                const char *text = "{\"name\":\"x\",\"owner\":1,\"config\":{\"kernel\":\"rel\",\"memory_mib\":2,\"vcpus\":1},"
                                   "\"state\":\"defined\",\"state_reason\":\"\",\"launcher_pid\":0,\"launcher_uid\":0,\"created_usec\":0}";
                int fd = openat(dir_fd, "1_x.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                CHECK(fd >= 0);
                CHECK_EQ(loop_write(fd, text, strlen(text)), 0);
                close(fd);
                CHECK(guest_load(dir_fd, "1_x.json", &back) < 0);
                (void) unlinkat(dir_fd, "1_x.json", 0);
        }

        CHECK_EQ(guest_remove_file(g, dir_fd), 0);
        guest_free(g);
        guest_config_done(&c);
        close(dir_fd);
        rmdir(dir);
}

static void test_ring(void) {
        static struct console_ring r;
        static uint8_t out[CONSOLE_LOG_SIZE];
        uint8_t chunk[1000];
        size_t n;

        console_ring_append(&r, "hello", 5);
        n = console_ring_copy(&r, out, sizeof(out));
        CHECK_EQ(n, 5);
        CHECK(memcmp(out, "hello", 5) == 0);
        /* Overflow keeps the last 64 KiB, in order. */
        for (int i = 0; i < 100; i++) {
                memset(chunk, 'a' + i % 26, sizeof(chunk));
                console_ring_append(&r, chunk, sizeof(chunk));
        }
        n = console_ring_copy(&r, out, sizeof(out));
        CHECK_EQ(n, CONSOLE_LOG_SIZE);
        CHECK_EQ(out[CONSOLE_LOG_SIZE - 1], 'a' + 99 % 26);
        CHECK_EQ(out[CONSOLE_LOG_SIZE - 1000], 'a' + 99 % 26);
        CHECK_EQ(out[CONSOLE_LOG_SIZE - 1001], 'a' + 98 % 26);
}

/* --table: the two tables as docs/design.md shows them ("A guest's
 * life"), printed from the code (tests/test-structure.sh compares). */
static void print_tables(void) {
        printf("| request | ");
        for (int s = 0; s < _GUEST_STATE_MAX; s++)
                printf("%s | ", guest_state_to_string(s));
        printf("waits | at shutdown | charged | does |\n|---|");
        for (int s = 0; s < _GUEST_STATE_MAX + 4; s++)
                printf("---|");
        printf("\n");
        for (int v = 0; v < _GUEST_VERB_MAX; v++) {
                struct verb_info i;
                if (verb_info(v, &i) < 0)
                        abort();
                printf("| %s | ", i.name);
                for (int s = 0; s < _GUEST_STATE_MAX; s++)
                        printf("%s | ", i.allowed & (1u << s) ? "yes" : "-");
                printf("%s | %s | %s | %s |\n", i.waits ? "yes" : "-", i.not_at_shutdown ? "refused" : "-", i.quota, i.does);
        }
        printf("\n| from | may become |\n|---|---|\n");
        for (int f = 0; f < _GUEST_STATE_MAX; f++) {
                const char *sep = "";
                printf("| %s | ", guest_state_to_string(f));
                for (int t = 0; t < _GUEST_STATE_MAX; t++)
                        if (guest_state_transition_allowed(f, t)) {
                                printf("%s%s", sep, guest_state_to_string(t));
                                sep = ", ";
                        }
                printf(" |\n");
        }
}

int main(int argc, char *argv[]) {
        if (argc > 1 && strcmp(argv[1], "--table") == 0) {
                print_tables();
                return 0;
        }
        test_states();
        test_verbs();
        test_record();
        test_ring();
        return TEST_RESULT();
}
