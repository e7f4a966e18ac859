/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * protocol.h: the launcher protocol, between guestd and each
 * guestd-launcher.
 *
 * A SOCK_SEQPACKET socket; one message per packet: a JSON object (json-c)
 * with a "type" string and the type's fields, and fds alongside with
 * SCM_RIGHTS. protocol_recv() checks every message before anyone uses it:
 * size, well-formed JSON object, known type, the direction it may travel,
 * and the number of fds the type carries. Each side then dispatches
 * through its own table saying in which states a type is allowed; anything
 * else from a launcher is a protocol error that ends that launcher, never
 * the daemon.
 *
 * Messages (D = daemon, L = launcher):
 *   setup    D->L  the machine: body {guest, memory_mib, vcpus, cmdline,
 *                  initrd (bool), disks: [{read_only, id}], and optional
 *                  (false, absent) resume, acpi, cmdline_devices (bool)
 *                  and test_violation (string); struct
 *                  protocol_setup_body has the bounds}; fds, in order: /dev/kvm,
 *                  kernel, initrd (if any), disk 0..n-1, console (a stream
 *                  socket), listen (a listening unix socket on which a
 *                  restarted daemon reconnects). With resume true the
 *                  second fd is a snapshot (read-only) instead of the
 *                  kernel, there is no initrd, and the guest goes on from
 *                  where it was suspended instead of booting. The
 *                  launcher's stdout and stderr are a pipe guestd reads. First
 *                  and only once. The launcher creates the VM and exactly
 *                  `vcpus` vCPUs on /dev/kvm before it runs anything, then
 *                  closes it: KVM refuses (EIO) every VM and vCPU ioctl
 *                  from a process other than the VM's creator, so a VM
 *                  made by guestd could not be run by a launcher.
 *   attach   D->L  a daemon (re)connected: fds: [console, log] (a new
 *                  console stream socket, and the write end of a pipe that
 *                  becomes the launcher's stdout and stderr); body {}.
 *   pause, unpause, stop   D->L  body {}; stop ends the guest in order
 *                  (vCPUs stopped, disks flushed) and the launcher exits.
 *   shutdown D->L  body {}: ask the guest to shut down: the ACPI power
 *                  button where the guest's GED driver listens, else
 *                  Ctrl-Alt-Del on its keyboard; answered with
 *   shutdown_asked L->D body {asked, how, why}: how is
 *                  "acpi-power-button" or "ctrl-alt-del"; asked false
 *                  when nobody in the guest listens (no GED driver, no
 *                  keyboard driver has set the i8042 up, the guest is
 *                  paused), why saying so. A guest
 *                  that was asked ends by itself (reset or power-off), or
 *                  guestd stops it after its timeout.
 *   poweroff_signal L->D body {pid, uid}: someone sent the launcher
 *                  SIGRTMIN+4, as `machinectl poweroff` does to a
 *                  machine's leader (pid and uid: the sender's, from the
 *                  kernel; pid 0 for a sender outside the launcher's PID
 *                  namespace, as every one is under guestd); guestd stops
 *                  the guest as its Stop does.
 *   suspend  D->L  body {}. The launcher parks every vCPU (so no guest
 *                  instruction runs and, as only vCPU threads write the
 *                  disks, no disk is written until the suspend ends),
 *                  flushes the disks and answers "suspend_ready". If it
 *                  cannot, it sends "error" and then "state", and the guest
 *                  goes on as before.
 *   suspend_ready L->D body {}: parked and flushed; it waits. guestd
 *                  lowers the launcher's RLIMIT_FSIZE to the snapshot
 *                  reserve it charged its owner (docs/design.md, "Quota")
 *                  and sends "snapshot", or, if it cannot, "suspend_abort".
 *   snapshot D->L  body {}; fds: [snapshot] (an empty regular file, read
 *                  and write): the launcher writes the snapshot
 *                  (snapshot.h) with "progress" on the way, fdatasyncs it
 *                  and ends with "exited" 8 (suspended). If it cannot, it
 *                  closes the file and sends
 *   suspend_failed L->D body {message}: why; the launcher holds no copy
 *                  of the file and stays parked. guestd makes sure nothing
 *                  can write the file any more, gives the launcher its
 *                  file size limit back and sends
 *   suspend_abort D->L body {}: the launcher unparks the vCPUs (not if
 *                  the guest was paused before the suspend) and sends
 *                  "state"; the guest goes on as before.
 *                  A daemon that attaches while a suspend waits hears
 *                  "suspend_ready" or "suspend_failed" again instead of
 *                  "state".
 *   progress L->D  body {done, total}: bytes of guest RAM a suspend has
 *                  copied so far.
 *   supervise L->D once, after the seccomp lock, before the first "state":
 *                  body {}; fds: [listener, stats]: the seccomp listener
 *                  through which KVM_SET_NR_MMU_PAGES waits for guestd's
 *                  verdict (the launcher keeps no copy), and the VM's
 *                  binary statistics fd (KVM_GET_STATS_FD).
 *   mmu_pages D->L body {pages}: set the VM's shadow page-table cap
 *                  (KVM_SET_NR_MMU_PAGES, which guestd's listener lets
 *                  through up to what guestd assigned).
 *   mmu_pages_set L->D body {pages, error}: the answer: 0, or the errno
 *                  KVM or guestd's verdict gave.
 *   state    L->D  body {state: "running"|"paused", pid}: after setup,
 *                  after attach, and after each pause/unpause.
 *   exited   L->D  body {exit: <enum guest_exit number>, exit_name,
 *                  reason}: the last message; the launcher then exits
 *                  with that status.
 *   error    L->D  body {message}: a request could not be done; the
 *                  launcher goes on.
 *                  Test only: "test_violation": CALL in the body makes the
 *                  launcher attempt that forbidden call once sandboxed
 *                  (guestd --test-sandbox-violation; never from a user).
 *   violation L->D body {syscall, arg1}: the sandbox refused a system call
 *                  (its number, and its second argument: the request of an
 *                  ioctl); the launcher dies of SIGSYS right after.
 *
 * The bodies as C structs, with their encoders and decoders, are in
 * protocol-body.h: the launcher and guestd use those, not raw JSON.
 */
#pragma once

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdpass.h"

#define PROTOCOL_MAX_MESSAGE (64 * 1024)
/* The longest text a launcher may send (an error, an exit reason, how
 * a shutdown was asked): guestd logs it, keeps it in the guest record
 * and puts it on the bus. Texts are also valid UTF-8 without control
 * characters (protocol-body.c); anything else is a malformed message. */
#define PROTOCOL_TEXT_MAX 512
#define PROTOCOL_MAX_FDS FDPASS_MAX_FDS

enum protocol_type {
        PROTOCOL_SETUP,
        PROTOCOL_ATTACH,
        PROTOCOL_PAUSE,
        PROTOCOL_UNPAUSE,
        PROTOCOL_STOP,
        PROTOCOL_STATE,
        PROTOCOL_EXITED,
        PROTOCOL_ERROR,
        PROTOCOL_VIOLATION,
        PROTOCOL_SUSPEND,
        PROTOCOL_PROGRESS,
        PROTOCOL_SUPERVISE,
        PROTOCOL_MMU_PAGES,
        PROTOCOL_MMU_PAGES_SET,
        PROTOCOL_SHUTDOWN,
        PROTOCOL_SHUTDOWN_ASKED,
        PROTOCOL_POWEROFF_SIGNAL,
        PROTOCOL_SUSPEND_READY,
        PROTOCOL_SNAPSHOT,
        PROTOCOL_SUSPEND_FAILED,
        PROTOCOL_SUSPEND_ABORT,
        _PROTOCOL_TYPE_MAX,
        _PROTOCOL_TYPE_INVALID = -EINVAL,
};

enum protocol_direction {
        PROTOCOL_TO_LAUNCHER,
        PROTOCOL_TO_DAEMON,
};

struct protocol_message {
        enum protocol_type type;
        struct json_object *body; /* owned; the whole object, "type" included */
        int fds[PROTOCOL_MAX_FDS];
        size_t n_fds;
        size_t size; /* bytes received (what a reader's rate budget counts) */
};

const char *protocol_type_to_string(enum protocol_type t);
enum protocol_type protocol_type_from_string(const char *s);

/* Sends one message. body may be NULL (an empty body); it is not consumed;
 * its "type" field is set from type. */
int protocol_send(int sock, enum protocol_type type, struct json_object *body, const int *fds, size_t n_fds);

/* Receives one message travelling in direction dir and checks its shape
 * (see above). Returns 0, -ECONNRESET at end of stream, -EBADMSG for a
 * malformed message (any fds that came with it are closed), or another
 * -errno. Received fds are O_CLOEXEC. */
int protocol_recv(int sock, enum protocol_direction dir, struct protocol_message *ret);

/* The checks of protocol_recv() on a packet already received: buf[0..len)
 * must be exactly one JSON object of a known type that travels in dir and
 * carries n_fds fds. Returns 0 with the type and the body (caller puts),
 * or -EBADMSG. Pure: the fuzz target's entry point. */
int protocol_decode(const char *buf, size_t len, size_t n_fds, enum protocol_direction dir, enum protocol_type *ret_type,
                    struct json_object **ret_body);

/* Closes the message's fds that were not taken (set to -EBADF) and puts
 * the body. */
void protocol_message_done(struct protocol_message *m);

/* The forbidden calls a test may ask a launcher to attempt. */
extern const char *const protocol_test_violations[];
bool protocol_test_violation_known(const char *what);

/* Typed field access for handlers: -EBADMSG if missing or of another type. */
int protocol_get_string(struct json_object *body, const char *key, const char **ret);
int protocol_get_uint(struct json_object *body, const char *key, uint64_t max, uint64_t *ret);
int protocol_get_bool(struct json_object *body, const char *key, bool *ret);
