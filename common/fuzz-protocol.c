/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-protocol.c: libFuzzer target for the launcher protocol decoder
 * (protocol_decode(), the checks protocol_recv() makes on every packet)
 * and the typed bodies' decoders (setup's round trip through its encoder).
 * The first byte picks the direction and how many fds "came" with the
 * packet; the rest is the packet. A message that decodes must have a
 * known type and a "type" field naming it, and a typed field read from it
 * must behave; a crash, a sanitizer report or an abort() here is a bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "protocol-body.h"
#include "protocol.h"

/* A setup that decodes is within every bound of guest-limits.h, counts
 * the fds that came, and comes back the same through its encoder. */
static void check_setup(struct json_object *body, size_t n_fds) {
        struct protocol_setup_body b, again;
        struct json_object *encoded;
        char *why = NULL;

        if (protocol_setup_decode(body, n_fds, &b, &why) < 0) {
                free(why); /* NULL only without memory */
                return;
        }
        FUZZ_ASSERT(why == NULL);
        FUZZ_ASSERT(b.guest && *b.guest && strlen(b.guest) <= GUEST_NAME_MAX);
        FUZZ_ASSERT(b.memory_mib >= GUEST_MEMORY_MIB_MIN && b.memory_mib <= GUEST_MEMORY_MIB_MAX && b.memory_mib % 2 == 0);
        FUZZ_ASSERT(b.vcpus >= 1 && b.vcpus <= GUEST_VCPUS_MAX);
        FUZZ_ASSERT(b.cmdline && strlen(b.cmdline) <= GUEST_CMDLINE_MAX(0));
        FUZZ_ASSERT(!(b.resume && b.initrd));
        FUZZ_ASSERT(!b.test_violation || protocol_test_violation_known(b.test_violation));
        FUZZ_ASSERT(b.n_disks <= GUEST_MAX_DISKS && protocol_setup_n_fds(&b) == n_fds);
        for (size_t i = 0; i < b.n_disks; i++)
                FUZZ_ASSERT(b.disks[i].id && strlen(b.disks[i].id) <= GUEST_DISK_ID_MAX);

        encoded = protocol_setup_encode(&b);
        if (!encoded)
                return;
        FUZZ_ASSERT(protocol_setup_decode(encoded, n_fds, &again, NULL) == 0);
        FUZZ_ASSERT(strcmp(again.guest, b.guest) == 0 && again.memory_mib == b.memory_mib && again.vcpus == b.vcpus &&
                    strcmp(again.cmdline, b.cmdline) == 0 && again.initrd == b.initrd && again.resume == b.resume &&
                    again.acpi == b.acpi && again.cmdline_devices == b.cmdline_devices && again.n_disks == b.n_disks);
        FUZZ_ASSERT(!again.test_violation == !b.test_violation &&
                    (!b.test_violation || strcmp(again.test_violation, b.test_violation) == 0));
        for (size_t i = 0; i < b.n_disks; i++)
                FUZZ_ASSERT(again.disks[i].read_only == b.disks[i].read_only && strcmp(again.disks[i].id, b.disks[i].id) == 0);
        json_object_put(encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        enum protocol_direction dir;
        enum protocol_type type;
        struct json_object *body = NULL, *field;
        const char *s;
        uint64_t u;
        bool b;
        size_t n_fds;

        if (size < 1)
                return 0;
        dir = data[0] & 1 ? PROTOCOL_TO_DAEMON : PROTOCOL_TO_LAUNCHER;
        n_fds = (data[0] >> 1) % (PROTOCOL_MAX_FDS + 2);
        if (protocol_decode((const char *) data + 1, size - 1, n_fds, dir, &type, &body) < 0) {
                FUZZ_ASSERT(body == NULL);
                return 0;
        }
        FUZZ_ASSERT(body && type >= 0 && type < _PROTOCOL_TYPE_MAX);
        FUZZ_ASSERT(json_object_object_get_ex(body, "type", &field));
        FUZZ_ASSERT(strcmp(json_object_get_string(field), protocol_type_to_string(type)) == 0);
        /* The accessors the handlers use, on whatever the body holds. */
        (void) protocol_get_string(body, "message", &s);
        (void) protocol_get_string(body, "state", &s);
        (void) protocol_get_uint(body, "exit", 255, &u);
        if (protocol_get_uint(body, "syscall", UINT32_MAX, &u) == 0)
                FUZZ_ASSERT(u <= UINT32_MAX);
        (void) protocol_get_uint(body, "memory_mib", UINT64_MAX, &u);
        (void) protocol_get_bool(body, "initrd", &b);
        /* The typed decoders, each on whatever the body holds: a success
         * must give what the protocol promises. */
        check_setup(body, n_fds);
        {
                struct protocol_state_body st;
                struct protocol_exited_body ex;
                struct protocol_error_body er;
                struct protocol_violation_body vi;
                struct protocol_progress_body pr;
                struct protocol_mmu_pages_body mp;
                struct protocol_mmu_pages_set_body ms;
                struct protocol_shutdown_asked_body sa;
                struct protocol_poweroff_signal_body ps;
                struct protocol_suspend_failed_body sf;
                (void) protocol_state_decode(body, &st);
                if (protocol_exited_decode(body, &ex) == 0)
                        FUZZ_ASSERT(ex.exit >= 0 && ex.exit <= 255);
                if (protocol_error_decode(body, &er) == 0)
                        FUZZ_ASSERT(er.message != NULL);
                if (protocol_violation_decode(body, &vi) == 0)
                        FUZZ_ASSERT(vi.syscall <= UINT32_MAX);
                if (protocol_progress_decode(body, &pr) == 0)
                        FUZZ_ASSERT(pr.done <= pr.total);
                if (protocol_mmu_pages_decode(body, &mp) == 0)
                        FUZZ_ASSERT(mp.pages <= UINT32_MAX);
                if (protocol_mmu_pages_set_decode(body, &ms) == 0)
                        FUZZ_ASSERT(ms.error >= 0 && ms.error < 4096);
                (void) protocol_shutdown_asked_decode(body, &sa);
                if (protocol_poweroff_signal_decode(body, &ps) == 0)
                        FUZZ_ASSERT(ps.pid <= INT32_MAX && ps.uid <= UINT32_MAX);
                if (protocol_suspend_failed_decode(body, &sf) == 0)
                        FUZZ_ASSERT(sf.message != NULL && strlen(sf.message) <= PROTOCOL_TEXT_MAX);
        }
        json_object_put(body);
        return 0;
}
