/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-exit-classify.c: each rule of exit-classify.h, and that an earlier
 * rule wins over a later one. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "exit-classify.h"
#include "guest-exit.h"
#include "test.h"

static void expect(const struct launcher_end *e, enum guest_state want, const char *want_reason) {
        char *reason = NULL;
        enum guest_state s = exit_classify(e, &reason);

        CHECK_EQ(s, want);
        CHECK(reason);
        if (reason && !strstr(reason, want_reason)) {
                fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", reason, want_reason);
                test_failures++;
        }
        free(reason);
}

static void test_status_table(void) {
        char *reason = NULL;

        CHECK_EQ(exit_classify_status(GUEST_EXIT_POWEROFF, NULL, &reason), GUEST_STOPPED);
        CHECK(reason && strcmp(reason, "guest powered off") == 0);
        free(reason);
        CHECK_EQ(exit_classify_status(GUEST_EXIT_STOPPED, "", &reason), GUEST_STOPPED);
        CHECK(reason && strcmp(reason, "stopped on request") == 0);
        free(reason);
        CHECK_EQ(exit_classify_status(GUEST_EXIT_SHUTDOWN, "triple fault at rip 0x1000", &reason), GUEST_CRASHED);
        CHECK(reason && strcmp(reason, "triple fault at rip 0x1000") == 0);
        free(reason);
        CHECK_EQ(exit_classify_status(GUEST_EXIT_INTERNAL_ERROR, NULL, &reason), GUEST_CRASHED);
        free(reason);
        CHECK_EQ(exit_classify_status(GUEST_EXIT_RESET, NULL, &reason), GUEST_CRASHED);
        CHECK(reason && strstr(reason, "reset"));
        free(reason);
        CHECK_EQ(exit_classify_status(42, NULL, &reason), GUEST_CRASHED);
        CHECK(reason && strstr(reason, "status 42"));
        free(reason);
        CHECK(strcmp(guest_exit_to_string(GUEST_EXIT_SUSPENDED), "suspended to a snapshot") == 0);
        CHECK(strcmp(guest_exit_to_string(2), "unknown") == 0);
        CHECK(strcmp(guest_exit_to_string(-1), "unknown") == 0);
}

static void test_rules(void) {
        /* 1. SIGSYS: the violation, whatever else was said. */
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_KILLED, .wait_status = SIGSYS, .exited_received = true,
                                        .exit_code = GUEST_EXIT_POWEROFF, .violation_received = true,
                                        .violation_reason = "sandbox violation: syscall ptrace" },
               GUEST_CRASHED, "syscall ptrace");
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_DUMPED, .wait_status = SIGSYS }, GUEST_CRASHED,
               "did not say which system call");
        /* After a restart there is no wait status: the report counts. */
        expect(&(struct launcher_end) { .violation_received = true, .violation_reason = "sandbox violation: syscall openat" },
               GUEST_CRASHED, "openat");
        /* With a wait status, a report without SIGSYS is not the end. */
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_EXITED, .wait_status = 0, .violation_received = true,
                                        .exited_received = true, .exit_code = GUEST_EXIT_POWEROFF },
               GUEST_STOPPED, "powered off");
        /* 2. protocol error before a kill. */
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_KILLED, .wait_status = SIGKILL, .protocol_error = "bad json",
                                        .kill_requested = true, .kill_reason = "killed on request" },
               GUEST_CRASHED, "protocol error: bad json");
        /* 3. guestd's kill, unless the launcher said "exited" first. */
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_KILLED, .wait_status = SIGKILL, .kill_requested = true,
                                        .kill_reason = "killed on request (Stop with force)" },
               GUEST_STOPPED, "Stop with force");
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_KILLED, .wait_status = SIGKILL, .kill_requested = true,
                                        .kill_reason = "killed", .exited_received = true, .exit_code = GUEST_EXIT_SHUTDOWN },
               GUEST_CRASHED, "triple fault");
        /* 4. "exited", and a stop that ends by reset or power-off. */
        expect(&(struct launcher_end) { .exited_received = true, .exit_code = GUEST_EXIT_RESET }, GUEST_CRASHED, "reset");
        expect(&(struct launcher_end) { .exited_received = true, .exit_code = GUEST_EXIT_RESET, .stop_requested = true },
               GUEST_STOPPED, "stopped on request");
        expect(&(struct launcher_end) { .exited_received = true, .exit_code = GUEST_EXIT_POWEROFF, .stop_requested = true },
               GUEST_STOPPED, "stopped on request");
        /* asked: by which means (the launcher's shutdown_asked) */
        expect(&(struct launcher_end) { .exited_received = true, .exit_code = GUEST_EXIT_RESET, .stop_requested = true,
                                        .stop_mode = STOP_ASKED },
               GUEST_STOPPED, "shut down by the guest when asked (Ctrl-Alt-Del)");
        expect(&(struct launcher_end) { .exited_received = true, .exit_code = GUEST_EXIT_POWEROFF, .stop_requested = true,
                                        .stop_mode = STOP_ASKED, .stop_power_button = true },
               GUEST_STOPPED, "shut down by the guest when asked (ACPI power button)");
        expect(&(struct launcher_end) { .exited_received = true, .exit_code = GUEST_EXIT_SHUTDOWN, .stop_requested = true,
                                        .exit_reason = "triple fault at rip 0x10" },
               GUEST_CRASHED, "rip 0x10");
        /* 5. a bare exit status. */
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_EXITED, .wait_status = GUEST_EXIT_LAUNCHER_ERROR },
               GUEST_CRASHED, "launcher failed");
        /* 6. another signal. */
        expect(&(struct launcher_end) { .have_status = true, .wait_code = CLD_KILLED, .wait_status = SIGSEGV }, GUEST_CRASHED,
               "SIGSEGV");
        /* 7. nothing known. */
        expect(&(struct launcher_end) {}, GUEST_CRASHED, "without saying why");
}

int main(void) {
        test_status_table();
        test_rules();
        return TEST_RESULT();
}
