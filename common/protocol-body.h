/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * protocol-body.h: the launcher protocol's message bodies as C structs,
 * one encoder and one decoder each, so that the launcher that writes a
 * message and guestd that reads it agree by construction (protocol.h
 * lists the messages; test-protocol round-trips each body and refuses
 * every malformed one).
 *
 * Decoders take the body of a message protocol_recv() has already
 * checked for its shape and type; strings point into that body and live
 * as long as it. A malformed body is -EBADMSG. Encoders return a new JSON
 * object for protocol_send() (the caller puts it), NULL when out of
 * memory. "violation" is written by the launcher's SIGSYS handler without
 * json-c (launcher/sandbox.c) and read here.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-limits.h"

/* setup D->L: the machine guestd checked (its configuration, within
 * guest-limits.h), and the fds that come with it, in this order:
 * /dev/kvm, the kernel (with resume: the snapshot), the initrd (if
 * initrd), one per disk, the console (a connected stream socket) and the
 * listening socket for a restarted guestd (protocol.h). The decoder
 * checks every bound below again, the kinds of key, and that the fds
 * counted this way came; the launcher checks the two sockets' kinds. */
struct protocol_setup_disk {
        bool read_only;
        const char *id; /* 0 to GUEST_DISK_ID_MAX bytes */
};
struct protocol_setup_body {
        const char *guest;   /* its name: 1 to GUEST_NAME_MAX bytes, no control characters */
        uint64_t memory_mib; /* even, GUEST_MEMORY_MIB_MIN to GUEST_MEMORY_MIB_MAX */
        unsigned vcpus;      /* 1 to GUEST_VCPUS_MAX */
        /* At most GUEST_CMDLINE_MAX(n) bytes, n the disks the launcher
         * adds to it: all of them without acpi or with cmdline_devices. */
        const char *cmdline;
        bool initrd; /* an initrd fd comes; never with resume */
        bool resume; /* optional, false: go on from a snapshot instead of booting */
        bool acpi;   /* optional, false: ACPI tables, the disks in the DSDT */
        bool cmdline_devices; /* optional, false: with acpi, the disks on the command line too */
        const char *test_violation; /* optional, NULL: one of protocol_test_violations[] */
        struct protocol_setup_disk disks[GUEST_MAX_DISKS];
        size_t n_disks;
};

/* state L->D */
struct protocol_state_body {
        bool paused;
        uint64_t pid;
};
/* exited L->D */
struct protocol_exited_body {
        int exit; /* enum guest_exit, 0-255 */
        const char *exit_name, *reason; /* may be NULL */
};
/* error L->D */
struct protocol_error_body {
        const char *message;
};
/* violation L->D */
struct protocol_violation_body {
        uint64_t syscall, arg1;
};
/* progress L->D */
struct protocol_progress_body {
        uint64_t done, total;
};
/* mmu_pages D->L */
struct protocol_mmu_pages_body {
        uint64_t pages;
};
/* mmu_pages_set L->D */
struct protocol_mmu_pages_set_body {
        uint64_t pages;
        int error; /* 0 or an errno, below 4096 */
};
/* shutdown_asked L->D: how the guest was asked (or would have been). */
#define PROTOCOL_SHUTDOWN_POWER_BUTTON "acpi-power-button"
#define PROTOCOL_SHUTDOWN_CTRL_ALT_DEL "ctrl-alt-del"
struct protocol_shutdown_asked_body {
        bool asked;
        const char *how, *why; /* why: NULL when asked */
};
/* poweroff_signal L->D: who sent SIGRTMIN+4 (machinectl poweroff). */
struct protocol_poweroff_signal_body {
        uint64_t pid, uid;
};
/* suspend_failed L->D: why the snapshot could not be written (the
 * launcher has closed the file and waits, parked, for "suspend_abort"). */
struct protocol_suspend_failed_body {
        const char *message;
};

/* NULL also when n_disks is past GUEST_MAX_DISKS. */
struct json_object *protocol_setup_encode(const struct protocol_setup_body *b);
/* The number of fds a setup with this body carries. */
size_t protocol_setup_n_fds(const struct protocol_setup_body *b);
/* n_fds: how many came with the message. On -EBADMSG *ret_error (if
 * ret_error is not NULL) is a sentence naming the field and its bounds,
 * for the launcher's "error" (caller frees; NULL without memory). */
int protocol_setup_decode(struct json_object *body, size_t n_fds, struct protocol_setup_body *ret, char **ret_error);
struct json_object *protocol_state_encode(const struct protocol_state_body *b);
int protocol_state_decode(struct json_object *body, struct protocol_state_body *ret);
struct json_object *protocol_exited_encode(const struct protocol_exited_body *b);
int protocol_exited_decode(struct json_object *body, struct protocol_exited_body *ret);
struct json_object *protocol_error_encode(const struct protocol_error_body *b);
int protocol_error_decode(struct json_object *body, struct protocol_error_body *ret);
int protocol_violation_decode(struct json_object *body, struct protocol_violation_body *ret);
struct json_object *protocol_progress_encode(const struct protocol_progress_body *b);
int protocol_progress_decode(struct json_object *body, struct protocol_progress_body *ret);
struct json_object *protocol_mmu_pages_encode(const struct protocol_mmu_pages_body *b);
int protocol_mmu_pages_decode(struct json_object *body, struct protocol_mmu_pages_body *ret);
struct json_object *protocol_mmu_pages_set_encode(const struct protocol_mmu_pages_set_body *b);
int protocol_mmu_pages_set_decode(struct json_object *body, struct protocol_mmu_pages_set_body *ret);
struct json_object *protocol_shutdown_asked_encode(const struct protocol_shutdown_asked_body *b);
int protocol_shutdown_asked_decode(struct json_object *body, struct protocol_shutdown_asked_body *ret);
struct json_object *protocol_poweroff_signal_encode(const struct protocol_poweroff_signal_body *b);
int protocol_poweroff_signal_decode(struct json_object *body, struct protocol_poweroff_signal_body *ret);
struct json_object *protocol_suspend_failed_encode(const struct protocol_suspend_failed_body *b);
int protocol_suspend_failed_decode(struct json_object *body, struct protocol_suspend_failed_body *ret);
