/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm.c: putting a machine together and running it.
 *
 * The machine is a PC without firmware: RAM in a memfd, the in-kernel
 * interrupt controllers and PIT that kmod/ created, COM1, the i8042 (for
 * reset), the power-off port and one virtio-mmio block device per disk.
 * There is no BIOS: boot.c writes what the kernel's boot protocol expects
 * straight into memory and vcpu.c sets the registers it expects.
 *
 * Threads: one per vCPU, each looping in KVM_RUN and handing I/O exits to
 * the bus, plus this file's I/O loop on the calling thread, which feeds
 * console input to the UART and flushes its output. Any thread may end the
 * guest through the device host's request_exit(); the first reason wins,
 * every vCPU is kicked out of KVM_RUN, and vm_run() returns it.
 *
 * Under guestd the I/O loop also serves the control connection (see
 * protocol.h). Pausing kicks every vCPU out of KVM_RUN and parks it on a
 * condition variable before it may enter again; a pause is answered only
 * once every vCPU is parked, so "paused" means no guest instruction runs.
 * The guest does not depend on guestd: if the connection breaks (guestd
 * died or restarts) the guest keeps running, its console output is
 * dropped, and the loop waits on the listening socket for a daemon to come
 * back and attach a new console.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "boot.h"
#include "acpi.h"
#include "i8042.h"
#include "log.h"
#include "mptable.h"
#include "power.h"
#include "protocol-body.h"
#include "protocol.h"
#include "sandbox.h"
#include "serial.h"
#include "snapshot.h"
#include "kvm-stats.h"
#include "vcpu-state.h"
#include "vcpu.h"
#include "virtio-blk.h"
#include "vm-state.h"
#include "vm.h"

#define VM_IO_FLUSH_MS 20
#define VM_CMDLINE_MAX GUEST_CMDLINE_SIZE /* guest-limits.h */

/* Where a suspend under guestd has got. */
enum vm_suspend_phase {
        VM_SUSPEND_NONE,
        VM_SUSPEND_READY,  /* parked, disks flushed: waiting for "snapshot" */
        VM_SUSPEND_FAILED, /* the write failed, the file closed: waiting for "suspend_abort" */
};

struct vm {
        struct device_host host;
        struct guest_memory mem;
        struct bus bus;
        struct kvm_machine *machine;
        struct serial *serial;
        struct i8042 *i8042;
        struct virtio_blk *disks[VM_MAX_DISKS];
        struct vcpu vcpus[KVM_MACHINE_MAX_VCPUS];
        int wake_fd;

        /* exit_lock also guards pausing: vCPUs park on unpause_cond while
         * paused; the I/O thread waits on parked_cond until all of the
         * n_started vCPUs are parked. */
        pthread_mutex_t exit_lock;
        pthread_cond_t unpause_cond, parked_cond;
        bool exiting;
        bool paused;
        unsigned n_started, n_parked;
        struct vm_result result;

        /* The I/O thread's own: the console and, in daemon mode, the
         * control connection. */
        bool daemon_mode;
        int console_in_fd, console_out_fd;
        bool console_input_open;
        int control_fd, listen_fd;
        bool control_attached; /* the connection has had its setup or attach */
        /* For stop: the disks to flush (fds not owned). */
        int disk_fds[VM_MAX_DISKS];
        bool disk_read_only[VM_MAX_DISKS];
        unsigned n_disks;
        /* The machine has ACPI (its tables, sleep registers, the GED
         * power button): from the configuration, or on resume from the
         * snapshot's machine record. */
        bool acpi;

        /* Suspend (not owned): where to, when (standalone), which MSRs. */
        int snapshot_fd;
        usec_t suspend_at;
        const uint32_t *msr_indices;
        unsigned n_msrs;
        /* A suspend under guestd, between its "suspend" and its end (the
         * I/O thread's own): the state the guest goes back to if it is
         * called off, and where it has got (protocol.h). */
        enum vm_suspend_phase suspend_phase;
        bool suspend_was_paused;
        usec_t suspend_begun;
        char suspend_why[200]; /* VM_SUSPEND_FAILED: why, for a daemon that attaches */
};

/* The snapshot's machine record: what a resume must rebuild the same. */
struct vm_snapshot_machine {
        uint64_t memory_bytes;
        uint32_t n_vcpus;
        uint32_t n_disks;
        uint32_t flags; /* VM_MACHINE_* */
        uint32_t reserved;
};
#define VM_MACHINE_ACPI 0x1
/* Snapshots from before ACPI: the record without flags (no ACPI). */
#define VM_SNAPSHOT_MACHINE_V1_SIZE offsetof(struct vm_snapshot_machine, flags)

/* Snapshot records of the devices, in this order (index of
 * SNAPSHOT_RECORD_DEVICE); disk i is VM_DEVICE_DISK0 + i. */
enum {
        VM_DEVICE_SERIAL = 0,
        VM_DEVICE_I8042 = 1,
        VM_DEVICE_DISK0 = 2,
};

/* guestd bounds a snapshot's size before it is written (snapshot.h). */
#define VM_RECORD_MAX(payload) (sizeof(struct snapshot_record) + (sizeof(payload) + 7) / 8 * 8)
_Static_assert(VM_RECORD_MAX(struct vcpu_state) <= SNAPSHOT_STATE_PER_VCPU_MAX, "a vCPU's record fits guestd's bound");
_Static_assert(VM_RECORD_MAX(struct vm_snapshot_machine) + VM_RECORD_MAX(struct vm_state) + VM_RECORD_MAX(struct serial_state) +
                       VM_RECORD_MAX(struct i8042_state) + VM_MAX_DISKS * VM_RECORD_MAX(struct virtio_mmio_state) <=
               SNAPSHOT_STATE_FIXED_MAX,
               "the machine's records fit guestd's bound");

static void vm_irq_line(struct device_host *host, unsigned irq, int level) {
        struct vm *vm = (struct vm *) host;
        struct kvm_irq_level l = { .irq = irq, .level = level };

        if (ioctl(vm->machine->vm_fd, KVM_IRQ_LINE, &l) < 0)
                log_warning_errno(-errno, "KVM_IRQ_LINE %u failed: %m", irq);
}

static void vm_request_exit(struct device_host *host, enum guest_exit e, const char *reason) {
        struct vm *vm = (struct vm *) host;
        uint64_t one = 1;

        pthread_mutex_lock(&vm->exit_lock);
        if (!vm->exiting) {
                vm->exiting = true;
                vm->result.exit = e;
                snprintf(vm->result.reason, sizeof(vm->result.reason), "%s", reason);
                for (unsigned i = 0; i < vm->machine->n_vcpus; i++)
                        vcpu_kick(&vm->vcpus[i]);
                /* Parked vCPUs must leave, and a pause waiting for them
                 * must give up. */
                pthread_cond_broadcast(&vm->unpause_cond);
                pthread_cond_broadcast(&vm->parked_cond);
        }
        pthread_mutex_unlock(&vm->exit_lock);
        (void) !write(vm->wake_fd, &one, sizeof(one));
}

bool vm_exiting(struct vm *vm) {
        bool r;
        pthread_mutex_lock(&vm->exit_lock);
        r = vm->exiting;
        pthread_mutex_unlock(&vm->exit_lock);
        return r;
}

bool vm_vcpu_may_run(struct vm *vm) {
        bool r;

        pthread_mutex_lock(&vm->exit_lock);
        if (vm->paused && !vm->exiting) {
                vm->n_parked++;
                pthread_cond_broadcast(&vm->parked_cond);
                while (vm->paused && !vm->exiting)
                        pthread_cond_wait(&vm->unpause_cond, &vm->exit_lock);
                vm->n_parked--;
        }
        r = !vm->exiting;
        pthread_mutex_unlock(&vm->exit_lock);
        return r;
}

/* Stops every vCPU and returns once each is parked outside KVM_RUN (or
 * the guest is ending). A vCPU in the middle of a device access finishes
 * it first, so devices are quiescent too. */
static void vm_pause_vcpus(struct vm *vm) {
        pthread_mutex_lock(&vm->exit_lock);
        vm->paused = true;
        for (unsigned i = 0; i < vm->n_started; i++)
                vcpu_kick(&vm->vcpus[i]);
        while (vm->n_parked < vm->n_started && !vm->exiting)
                pthread_cond_wait(&vm->parked_cond, &vm->exit_lock);
        pthread_mutex_unlock(&vm->exit_lock);
}

static void vm_unpause_vcpus(struct vm *vm) {
        pthread_mutex_lock(&vm->exit_lock);
        vm->paused = false;
        pthread_cond_broadcast(&vm->unpause_cond);
        pthread_mutex_unlock(&vm->exit_lock);
}

void vm_end(struct vm *vm, enum guest_exit e, const char *reason) {
        vm_request_exit(&vm->host, e, reason);
}

struct bus *vm_bus(struct vm *vm) {
        return &vm->bus;
}

struct guest_memory *vm_memory(struct vm *vm) {
        return &vm->mem;
}

static int vm_set_memory(struct vm *vm) {
        struct kvm_userspace_memory_region low = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = vm->mem.low_size,
                .userspace_addr = (uintptr_t) vm->mem.host,
        };
        if (ioctl(vm->machine->vm_fd, KVM_SET_USER_MEMORY_REGION, &low) < 0)
                return -errno;
        if (vm->mem.size > vm->mem.low_size) {
                struct kvm_userspace_memory_region high = {
                        .slot = 1, .guest_phys_addr = GUEST_HIGH_RAM_START,
                        .memory_size = vm->mem.size - vm->mem.low_size,
                        .userspace_addr = (uintptr_t) (vm->mem.host + vm->mem.low_size),
                };
                if (ioctl(vm->machine->vm_fd, KVM_SET_USER_MEMORY_REGION, &high) < 0)
                        return -errno;
        }
        return 0;
}

/* virtio-mmio devices use the ISA IRQs nothing else in this machine does:
 * 5, 6, 7, 9, 10, 11, 12, 14 (0 PIT, 1 keyboard, 2 cascade, 3 COM2, 4 COM1,
 * 8 RTC, 13 FPU, 15 are taken or reserved on a PC). */
static const unsigned virtio_irqs[VM_MAX_DISKS] = { 5, 6, 7, 9, 10, 11, 12, 14 };

int vm_device_arg(char *buf, size_t size, unsigned i) {
        int n;

        if (i >= VM_MAX_DISKS)
                return -EINVAL;
        n = snprintf(buf, size, " virtio_mmio.device=%u@0x%" PRIx64 ":%u", VM_VIRTIO_MMIO_SIZE,
                     VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE, virtio_irqs[i]);
        return n < 0 || (size_t) n >= size ? -E2BIG : n;
}

/* The ACPI tables (acpi.h) in the reserved area below 1 MiB, from the same
 * devices vm_add_devices() made, and their address where the boot
 * protocol says. The MP table stays, for kernels without ACPI. */
static int vm_write_acpi(struct vm *vm, const struct vm_config *config, const struct boot_entry *entry) {
        struct acpi_machine am = {
                .n_vcpus = vm->machine->n_vcpus,
                .ioapic_id = vm->machine->n_vcpus, /* as in the MP table */
                .com1_port = SERIAL_COM1_PORT,
                .com1_irq = SERIAL_COM1_IRQ,
                .n_virtio = config->n_disks,
                .virtio_size = VM_VIRTIO_MMIO_SIZE,
        };
        uint8_t *buf = guest_memory_ptr(&vm->mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
        uint64_t rsdp;
        int r;

        if (!buf)
                return log_error_errno(-EFAULT, "No guest memory for the ACPI tables");
        for (unsigned i = 0; i < config->n_disks; i++) {
                am.virtio_base[i] = VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE;
                am.virtio_irq[i] = virtio_irqs[i];
        }
        r = acpi_build(&am, buf, ACPI_TABLES_SIZE, ACPI_TABLES_ADDR, &rsdp, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to build the ACPI tables: %m");
        r = boot_set_acpi_rsdp(&vm->mem, entry, rsdp);
        if (r < 0)
                return log_error_errno(r, "Failed to tell the kernel where the ACPI tables are: %m");
        log_debug("ACPI tables at 0x%x, RSDP at 0x%" PRIx64, ACPI_TABLES_ADDR, rsdp);
        return 0;
}

static int vm_add_devices(struct vm *vm, const struct vm_config *config, char *cmdline, size_t cmdline_size) {
        int r;

        r = serial_create(&vm->bus, &vm->host, SERIAL_COM1_PORT, SERIAL_COM1_IRQ, config->console_out_fd, &vm->serial);
        if (r < 0)
                return log_error_errno(r, "Failed to create the serial port: %m");
        r = i8042_create(&vm->bus, &vm->host, &vm->i8042);
        if (r < 0)
                return log_error_errno(r, "Failed to create the i8042: %m");
        r = power_create(&vm->bus, &vm->host);
        if (r < 0)
                return log_error_errno(r, "Failed to create the power-off port: %m");
        if (vm->acpi) {
                r = acpi_sleep_create(&vm->bus, &vm->host);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the ACPI sleep registers: %m");
        }

        if (snprintf(cmdline, cmdline_size, "%s", config->cmdline ? config->cmdline : "") >= (int) cmdline_size)
                return log_error_errno(-E2BIG, "The kernel command line is too long");
        for (unsigned i = 0; i < config->n_disks; i++) {
                uint64_t base = VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE;
                size_t len = strlen(cmdline);
                char arg[GUEST_DEVICE_ARG_MAX + 1];
                r = virtio_blk_create(&vm->bus, &vm->host, base, virtio_irqs[i], config->disks[i].fd,
                                      config->disks[i].read_only, config->disks[i].id, &vm->disks[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to create virtio-blk device %u: %m", i);
                /* Linux (and our payloads) find virtio-mmio devices here,
                 * as with QEMU's microvm; with ACPI, in the DSDT. */
                if (vm->acpi && !config->cmdline_devices)
                        continue;
                if (vm_device_arg(arg, sizeof(arg), i) < 0 ||
                    snprintf(cmdline + len, cmdline_size - len, "%s", len ? arg : arg + 1) >= (int) (cmdline_size - len))
                        return log_error_errno(-E2BIG, "The kernel command line is too long");
        }
        return 0;
}

/* ---------------------------------------------------------------- control
 *
 * The launcher's side of the protocol (protocol.h). protocol_recv() has
 * already checked each message's shape; here a table says in which
 * connection states each request is allowed. A request that is merely
 * untimely (pause while paused) is refused with "error" and the guest goes
 * on; anything else not allowed, and any malformed message, is a protocol
 * error: guestd and we disagree about the state of the guest, and the
 * only safe thing left is to end it.
 */

enum vm_control_state {
        VM_CONTROL_ATTACHING, /* a reconnected daemon has not sent attach yet */
        VM_CONTROL_RUNNING,
        VM_CONTROL_PAUSED,
        VM_CONTROL_SUSPEND_READY,  /* parked for a suspend, waiting for the file */
        VM_CONTROL_SUSPEND_FAILED, /* its write failed, waiting to go on */
};
#define STATE(s) (1u << (s))

static enum vm_control_state vm_control_state(const struct vm *vm) {
        if (!vm->control_attached)
                return VM_CONTROL_ATTACHING;
        if (vm->suspend_phase == VM_SUSPEND_READY)
                return VM_CONTROL_SUSPEND_READY;
        if (vm->suspend_phase == VM_SUSPEND_FAILED)
                return VM_CONTROL_SUSPEND_FAILED;
        return vm->paused ? VM_CONTROL_PAUSED : VM_CONTROL_RUNNING;
}

static void vm_control_disconnect(struct vm *vm) {
        sandbox_set_report_fd(-1);
        vm->control_fd = safe_close(vm->control_fd);
        vm->control_attached = false;
}

static void vm_protocol_error(struct vm *vm, const char *fmt, ...) _printf_(2, 3);
static void vm_protocol_error(struct vm *vm, const char *fmt, ...) {
        char reason[sizeof(vm->result.reason)];
        va_list ap;
        int n;

        n = snprintf(reason, sizeof(reason), "protocol error: ");
        va_start(ap, fmt);
        vsnprintf(reason + n, sizeof(reason) - n, fmt, ap);
        va_end(ap);
        log_error("%s", reason);
        /* "exited" with this reason goes out on the connection once the
         * vCPUs have stopped, as for any other end. */
        vm_end(vm, GUEST_EXIT_LAUNCHER_ERROR, reason);
}

/* Sends on the control connection; a daemon that cannot be reached is
 * gone, and the guest carries on without it. */
static void vm_control_send(struct vm *vm, enum protocol_type type, struct json_object *body) {
        int r;

        if (vm->control_fd < 0)
                return;
        r = protocol_send(vm->control_fd, type, body, NULL, 0);
        if (r < 0) {
                log_warning_errno(r, "Failed to send '%s' to guestd, closing the connection: %m", protocol_type_to_string(type));
                vm_control_disconnect(vm);
        }
}

/* Sends body (a typed encoder's result) and puts it. */
static void vm_control_send_body(struct vm *vm, enum protocol_type type, struct json_object *body) {
        if (!body)
                return (void) log_error_errno(-ENOMEM, "Out of memory");
        vm_control_send(vm, type, body);
        json_object_put(body);
}

static void vm_control_send_state_as(struct vm *vm, bool paused) {
        vm_control_send_body(vm, PROTOCOL_STATE, protocol_state_encode(&(struct protocol_state_body) { paused, (uint64_t) getpid() }));
}

/* The I/O thread is the only writer of paused, so it may read it unlocked. */
static void vm_control_send_state(struct vm *vm) {
        vm_control_send_state_as(vm, vm->paused);
}

static void vm_control_send_error(struct vm *vm, const char *message) {
        vm_control_send_body(vm, PROTOCOL_ERROR, protocol_error_encode(&(struct protocol_error_body) { message }));
}

static void vm_control_send_exited(struct vm *vm, enum guest_exit e, const char *reason) {
        vm_control_send_body(vm, PROTOCOL_EXITED,
                             protocol_exited_encode(&(struct protocol_exited_body) { e, guest_exit_to_string(e), reason }));
}

static void vm_control_send_suspend_failed(struct vm *vm) {
        vm_control_send_body(vm, PROTOCOL_SUSPEND_FAILED,
                             protocol_suspend_failed_encode(&(struct protocol_suspend_failed_body) { vm->suspend_why }));
}

/* Where the guest is, for a daemon that (re)attaches: its state, or the
 * suspend that waits for it. */
static void vm_control_send_where(struct vm *vm) {
        switch (vm->suspend_phase) {
        case VM_SUSPEND_READY:
                return vm_control_send(vm, PROTOCOL_SUSPEND_READY, NULL);
        case VM_SUSPEND_FAILED:
                return vm_control_send_suspend_failed(vm);
        case VM_SUSPEND_NONE:
                break;
        }
        vm_control_send_state(vm);
}

static void vm_control_attach(struct vm *vm, struct protocol_message *m) {
        int fd = TAKE_FD(m->fds[0]);

        /* The new guestd's log pipe replaces stdout and stderr (the old
         * one's read end went with the old guestd). dup3() swaps it in
         * atomically: other threads logging meanwhile write to one or the
         * other, never to a closed fd. */
        if (dup3(m->fds[1], STDOUT_FILENO, 0) < 0 || dup3(m->fds[1], STDERR_FILENO, 0) < 0)
                log_warning_errno(-errno, "Cannot take over guestd's new log pipe: %m");

        /* Non-blocking, as the first console: output guestd cannot take
         * is dropped rather than stall the guest (serial.c). */
        (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        /* The UART stops writing to the old console before we close it, so
         * its number cannot be reused under the UART's feet. */
        serial_set_output(vm->serial, fd);
        if (vm->console_out_fd != vm->console_in_fd)
                safe_close(vm->console_out_fd);
        safe_close(vm->console_in_fd);
        vm->console_in_fd = vm->console_out_fd = fd;
        vm->console_input_open = true;
        vm->control_attached = true;
        log_info("guestd attached: new console");
        vm_control_send_where(vm);
}

static void vm_control_pause(struct vm *vm, struct protocol_message *m) {
        vm_pause_vcpus(vm);
        serial_flush(vm->serial);
        vm_control_send_state(vm);
}

static void vm_control_unpause(struct vm *vm, struct protocol_message *m) {
        vm_unpause_vcpus(vm);
        vm_control_send_state(vm);
}

/* With the vCPUs paused: puts what the guest wrote to its disks on
 * stable storage. Returns the first failure, naming the disk in
 * *ret_disk. */
static int vm_flush_disks(struct vm *vm, unsigned *ret_disk) {
        int first = 0;

        for (unsigned i = 0; i < vm->n_disks; i++) {
                if (vm->disk_read_only[i])
                        continue;
                int r;
                do
                        r = fdatasync(vm->disk_fds[i]) < 0 ? -errno : 0;
                while (r == -EINTR);
                if (r < 0) {
                        log_error_errno(r, "Failed to flush disk %u: %m", i);
                        if (first == 0) {
                                first = r;
                                *ret_disk = i;
                        }
                }
        }
        return first;
}

/* Ends the guest in order: no vCPU runs (so no virtio-blk request is half
 * done), then what the guest wrote is on stable storage, then exit. */
static void vm_control_stop(struct vm *vm, struct protocol_message *m) {
        char reason[sizeof(vm->result.reason)] = "stopped by request";
        unsigned disk = 0;
        int r;

        vm_pause_vcpus(vm);
        serial_flush(vm->serial);
        r = vm_flush_disks(vm, &disk);
        if (r < 0)
                snprintf(reason, sizeof(reason), "stopped by request; flushing disk %u failed: %s", disk, strerror(-r));
        vm_end(vm, GUEST_EXIT_STOPPED, reason);
}

/* The ACPI power button (acpi.h): a pulse on the Generic Event Device's
 * interrupt, which the guest's GED driver turns into Notify(PWRB, 0x80):
 * a KEY_POWER press its init or acpid acts on. Only where the guest
 * listens: a GED driver unmasks the pin in the in-kernel IOAPIC when it
 * takes the interrupt; a kernel without ACPI leaves it masked. */
static int vm_power_button(struct vm *vm, const char **ret_why) {
        struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

        if (!vm->acpi) {
                *ret_why = "the machine has no ACPI";
                return -ENODEV;
        }
        if (ioctl(vm->machine->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
                *ret_why = "cannot read the IOAPIC";
                return log_warning_errno(-errno, "KVM_GET_IRQCHIP (IOAPIC) failed: %m");
        }
        if (chip.chip.ioapic.redirtbl[ACPI_GED_GSI].fields.mask) {
                *ret_why = "no ACPI event driver has taken the power button's interrupt";
                return -ENODEV;
        }
        vm_irq_line(&vm->host, ACPI_GED_GSI, 1);
        vm_irq_line(&vm->host, ACPI_GED_GSI, 0);
        return 0;
}

/* Asking the guest to shut down, for guestd's Stop and for SIGRTMIN+4:
 * the ACPI power button where the guest listens
 * for it, else Ctrl-Alt-Del on the keyboard, which a Linux
 * guest with a keyboard driver turns into its init's shutdown (or, where
 * init has not said otherwise, a reboot: the reset then ends the launcher
 * and guestd counts it as the stop). The answer says whether anyone was
 * there to ask; guestd then waits, or stops the guest itself. *ret_how
 * says which was tried last, and on failure *ret_why why (possibly in
 * both[]). */
static int vm_ask_shutdown(struct vm *vm, const char *who, const char **ret_how, const char **ret_why, char *both, size_t both_size) {
        const char *why = NULL, *button_why = NULL, *how = PROTOCOL_SHUTDOWN_POWER_BUTTON;
        int r;

        if (vm->paused) {
                r = -EBUSY;
                why = "the guest is paused";
        } else {
                r = vm_power_button(vm, &button_why);
                if (r < 0) {
                        how = PROTOCOL_SHUTDOWN_CTRL_ALT_DEL;
                        r = i8042_ctrl_alt_del(vm->i8042, &why);
                        if (r < 0 && vm->acpi) {
                                snprintf(both, both_size, "%s; %s", button_why, why ? why : strerror(-r));
                                why = both;
                        }
                }
        }
        if (r >= 0)
                log_info("Pressed %s: %s asks the guest to shut down",
                         strcmp(how, PROTOCOL_SHUTDOWN_POWER_BUTTON) == 0 ? "the ACPI power button" : "Ctrl-Alt-Del", who);
        else
                log_info("Cannot ask the guest to shut down: %s", why ? why : strerror(-r));
        *ret_how = how;
        *ret_why = r < 0 && !why ? strerror(-r) : why;
        return r;
}

static void vm_control_shutdown(struct vm *vm, struct protocol_message *m) {
        const char *how, *why;
        char both[200];
        int r;

        r = vm_ask_shutdown(vm, "guestd", &how, &why, both, sizeof(both));
        vm_control_send_body(vm, PROTOCOL_SHUTDOWN_ASKED,
                             protocol_shutdown_asked_encode(&(struct protocol_shutdown_asked_body) { r >= 0, how, r >= 0 ? NULL : why }));
}

/* SIGRTMIN+4: what `machinectl poweroff` sends a machine's leader (our
 * launcher, under guestd.service), as it would a container's init to ask
 * for an orderly shutdown. The handler notes who sent it and wakes the I/O
 * loop. There, under guestd, guestd is told and stops the guest as its
 * Stop does (asks it, waits its timeout, then pulls the plug; the state
 * and the journal say so); with no guestd attached (standalone, or while
 * guestd restarts) the launcher asks the guest itself. Without this the
 * signal's default action would kill the launcher: a pulled plug. */
static volatile sig_atomic_t vm_poweroff_requested;
static volatile sig_atomic_t vm_poweroff_pid, vm_poweroff_uid;
static int vm_poweroff_wake_fd = -EBADF;

static void vm_poweroff_signal(int sig, siginfo_t *si, void *context) {
        uint64_t one = 1;
        int saved = errno;

        vm_poweroff_pid = si ? si->si_pid : 0;
        vm_poweroff_uid = si ? (sig_atomic_t) si->si_uid : 0;
        vm_poweroff_requested = 1;
        if (vm_poweroff_wake_fd >= 0)
                (void) !write(vm_poweroff_wake_fd, &one, sizeof(one));
        errno = saved;
}

static void vm_poweroff(struct vm *vm) {
        struct protocol_poweroff_signal_body b = { .pid = (uint64_t) vm_poweroff_pid, .uid = (uint32_t) vm_poweroff_uid };
        const char *how, *why;
        char both[200];

        log_info("SIGRTMIN+4 (power off, as machinectl poweroff sends) from pid %" PRIu64 ", uid %" PRIu64, b.pid, b.uid);
        if (vm->daemon_mode && vm->control_fd >= 0 && vm->control_attached) {
                vm_control_send_body(vm, PROTOCOL_POWEROFF_SIGNAL, protocol_poweroff_signal_encode(&b));
                if (vm->control_fd >= 0)
                        return;
                /* guestd went away just now (the send failed and closed
                 * the connection): as if it had been away. */
        }
        (void) vm_ask_shutdown(vm, vm->daemon_mode ? "SIGRTMIN+4 (guestd is away)" : "SIGRTMIN+4", &how, &why, both, sizeof(both));
}

/* ---------------------------------------------------------------- suspend
 *
 * With every vCPU parked (so no device access is half done and the disks'
 * queues are quiet) the whole machine goes into one snapshot file
 * (snapshot.h): the machine record, each vCPU, the in-kernel irqchip, PIT
 * and clock, each device, then RAM. The disks are flushed first, so that
 * what the snapshot's guest believes written is on them.
 *
 * Two halves, because of the one limit guestd bounds the snapshot with:
 * RLIMIT_FSIZE is the process's, and the guest's disks are files this
 * process writes too, so it can be lowered to the snapshot's reserve only
 * while no disk write can come. Disks are written by the vCPU threads
 * alone (virtio-blk requests run in the vCPU's MMIO exit), so once every
 * vCPU is parked none can. Under guestd: park and flush, "suspend_ready";
 * guestd lowers the limit and sends the file; write it, or say why not
 * and wait, parked, until guestd has the limit back up and says go on
 * (protocol.h). Standalone there is no guestd and no lowered limit: both
 * halves at once. */
/* How far a suspend has got, for guestd (the I/O thread's connection). */
static void vm_snapshot_progress(void *userdata, uint64_t done, uint64_t total) {
        struct vm *vm = userdata;

        vm_control_send_body(vm, PROTOCOL_PROGRESS, protocol_progress_encode(&(struct protocol_progress_body) { done, total }));
}

static int vm_snapshot_write(struct vm *vm, int fd, char *why, size_t why_size) {
        struct vm_snapshot_machine machine = {
                .memory_bytes = vm->mem.size, .n_vcpus = vm->machine->n_vcpus, .n_disks = vm->n_disks,
                .flags = vm->acpi ? VM_MACHINE_ACPI : 0,
        };
        _cleanup_free_ struct vcpu_state *vcpu = NULL;
        struct snapshot_writer w;
        struct vm_state vms;
        struct serial_state serial;
        struct i8042_state i8042;
        int r;

#define FAIL(r, ...)                                                           \
        do {                                                                   \
                snprintf(why, why_size, __VA_ARGS__);                          \
                log_error("Cannot suspend: %s", why);                          \
                return (r);                                                    \
        } while (0)

        vcpu = malloc(sizeof(*vcpu));
        if (!vcpu)
                FAIL(-ENOMEM, "out of memory");
        r = snapshot_writer_start(&w, fd, vm->mem.size);
        if (r < 0)
                FAIL(r, "cannot start the snapshot: %s", strerror(-r));
        if (vm->daemon_mode)
                snapshot_writer_set_progress(&w, vm_snapshot_progress, vm);
        r = snapshot_write_record(&w, SNAPSHOT_RECORD_MACHINE, 0, &machine, sizeof(machine));
        for (unsigned i = 0; r >= 0 && i < vm->machine->n_vcpus; i++) {
                r = vcpu_state_save(vm->machine->vm_fd, vm->vcpus[i].fd, vm->vcpus[i].run, vm->msr_indices, vm->n_msrs, vcpu);
                if (r < 0)
                        FAIL(r, "cannot save vCPU %u's state: %s", i, strerror(-r));
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_VCPU, i, vcpu, sizeof(*vcpu));
        }
        if (r >= 0) {
                r = vm_state_save(vm->machine->vm_fd, &vms);
                if (r < 0)
                        FAIL(r, "cannot save the irqchip, PIT and clock: %s", strerror(-r));
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_VM, 0, &vms, sizeof(vms));
        }
        if (r >= 0) {
                serial_save(vm->serial, &serial);
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_SERIAL, &serial, sizeof(serial));
        }
        if (r >= 0) {
                i8042_save(vm->i8042, &i8042);
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_I8042, &i8042, sizeof(i8042));
        }
        for (unsigned i = 0; r >= 0 && i < vm->n_disks; i++) {
                struct virtio_mmio_state d;
                virtio_blk_save(vm->disks[i], &d);
                r = snapshot_write_record(&w, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_DISK0 + i, &d, sizeof(d));
        }
        if (r >= 0)
                r = vm->mem.fd >= 0 ? snapshot_write_memory(&w, vm->mem.fd) : snapshot_write_memory_mapped(&w, vm->mem.host);
        if (r >= 0)
                r = snapshot_writer_finish(&w);
        if (r < 0)
                FAIL(r, "writing the snapshot failed: %s", strerror(-r));
#undef FAIL
        log_info("Snapshot written: %" PRIu64 " KiB of RAM, %" PRIu64 " bytes of state", w.memory_written_bytes / 1024,
                 w.state_offset - w.state_start);
        return 0;
}

/* Standalone with --snapshot, SIGUSR2 asks for a suspend (as a person or
 * a test would: kill -USR2). The handler only notes it and wakes the I/O
 * loop, which suspends. */
static volatile sig_atomic_t vm_suspend_requested;
static int vm_suspend_wake_fd = -EBADF;

static void vm_suspend_signal(int sig) {
        uint64_t one = 1;
        int saved = errno;

        vm_suspend_requested = 1;
        if (vm_suspend_wake_fd >= 0)
                (void) !write(vm_suspend_wake_fd, &one, sizeof(one));
        errno = saved;
}

/* The first half: every vCPU parked and the disks flushed. If that fails
 * the guest goes on as before: -errno, and a sentence in why. */
static int vm_suspend_park(struct vm *vm, char *why, size_t why_size) {
        unsigned disk = 0;
        int r;

        vm->suspend_was_paused = vm->paused;
        vm->suspend_begun = now_usec();
        vm_pause_vcpus(vm);
        if (vm_exiting(vm)) {
                snprintf(why, why_size, "the guest is ending");
                return -ESHUTDOWN;
        }
        serial_flush(vm->serial);
        r = vm_flush_disks(vm, &disk);
        if (r < 0) {
                snprintf(why, why_size, "flushing disk %u failed: %s", disk, strerror(-r));
                log_error("Cannot suspend: %s; the guest goes on %s", why, vm->suspend_was_paused ? "paused" : "running");
                if (!vm->suspend_was_paused)
                        vm_unpause_vcpus(vm);
                return r;
        }
        return 0;
}

/* A suspend called off: the guest goes on as it was before it. */
static void vm_suspend_unpark(struct vm *vm) {
        if (!vm->suspend_was_paused)
                vm_unpause_vcpus(vm);
}

/* The second half, parked: the snapshot into fd, on stable storage, and
 * the end. On failure -errno and a sentence in why; the vCPUs stay
 * parked. */
static int vm_suspend_write(struct vm *vm, int fd, char *why, size_t why_size) {
        int r;

        r = vm_snapshot_write(vm, fd, why, why_size);
        if (r < 0)
                return r;
        do
                r = fdatasync(fd) < 0 ? -errno : 0;
        while (r == -EINTR);
        if (r < 0) {
                snprintf(why, why_size, "cannot put the snapshot on stable storage: %s", strerror(-r));
                log_error("Cannot suspend: %s", why);
                return r;
        }
        log_info("Suspended in %.1f ms (vCPUs stopped, disks flushed, snapshot written and on stable storage)",
                 (double) (now_usec() - vm->suspend_begun) / 1000);
        vm_end(vm, GUEST_EXIT_SUSPENDED, "suspended to a snapshot");
        return 0;
}

/* Standalone: suspends the guest to fd and ends it. If that fails the
 * guest goes on as before (nothing is lost): -errno, and a sentence in
 * why. */
static int vm_suspend(struct vm *vm, int fd, char *why, size_t why_size) {
        int r;

        r = vm_suspend_park(vm, why, why_size);
        if (r < 0)
                return r;
        r = vm_suspend_write(vm, fd, why, why_size);
        if (r < 0) {
                log_error("Suspend failed; the guest goes on %s", vm->suspend_was_paused ? "paused" : "running");
                vm_suspend_unpark(vm);
        }
        return r;
}

/* guestd's "mmu_pages": the cap on the VM's shadow page tables. The
 * ioctl waits for guestd's verdict (seccomp user notification). */
static void vm_control_mmu_pages(struct vm *vm, struct protocol_message *m) {
        struct protocol_mmu_pages_body b;
        int error;

        if (protocol_mmu_pages_decode(m->body, &b) < 0)
                return vm_protocol_error(vm, "'mmu_pages' without a page count");
        error = -kvm_set_nr_mmu_pages(vm->machine->vm_fd, b.pages);
        if (error)
                log_warning("Cannot set the shadow page-table cap to %" PRIu64 " pages: %s", b.pages, strerror(error));
        vm_control_send_body(vm, PROTOCOL_MMU_PAGES_SET,
                             protocol_mmu_pages_set_encode(&(struct protocol_mmu_pages_set_body) { b.pages, error }));
}

/* guestd's "suspend": park, flush, and wait for the file. */
static void vm_control_suspend(struct vm *vm, struct protocol_message *m) {
        char why[200];

        if (vm_suspend_park(vm, why, sizeof(why)) < 0) {
                vm_control_send_error(vm, why);
                vm_control_send_state(vm);
                return;
        }
        vm->suspend_phase = VM_SUSPEND_READY;
        vm_control_send(vm, PROTOCOL_SUSPEND_READY, NULL);
}

/* guestd's "snapshot": the file, with RLIMIT_FSIZE at the reserve guestd
 * charged for it. A write that fails closes it before saying so: guestd
 * gives the launcher its limit back only once nothing can write the file
 * (a launcher that kept a copy would then write past the reserve). */
static void vm_control_snapshot(struct vm *vm, struct protocol_message *m) {
        int fd = TAKE_FD(m->fds[0]), r;

        r = vm_suspend_write(vm, fd, vm->suspend_why, sizeof(vm->suspend_why));
        safe_close(fd);
        if (r >= 0) {
                vm->suspend_phase = VM_SUSPEND_NONE;
                return; /* "exited" follows once the vCPU threads have ended */
        }
        log_error("Suspend failed; the guest waits, parked, until guestd says it goes on");
        vm->suspend_phase = VM_SUSPEND_FAILED;
        vm_control_send_suspend_failed(vm);
}

/* guestd's "suspend_abort": the guest goes on as it was before the
 * suspend. */
static void vm_control_suspend_abort(struct vm *vm, struct protocol_message *m) {
        log_info("Suspend called off; the guest goes on %s", vm->suspend_was_paused ? "paused" : "running");
        vm->suspend_phase = VM_SUSPEND_NONE;
        vm_suspend_unpark(vm);
        vm_control_send_state(vm);
}

/* ---------------------------------------------------------------- resume
 *
 * The snapshot's record of a part, checked for its size. */
static const void *vm_snapshot_part(const struct snapshot *s, uint32_t type, uint32_t index, uint64_t size, const char *what) {
        uint64_t got = 0;
        const void *p = snapshot_find(s, type, index, &got);

        if (!p)
                log_error("The snapshot has no %s", what);
        else if (got != size) {
                log_error("The snapshot's %s is %" PRIu64 " bytes, this launcher's is %" PRIu64, what, got, size);
                p = NULL;
        }
        return p;
}

/* Opens the snapshot and checks that it is of a machine built like this
 * one; maps its RAM. */
static int vm_resume_memory(struct vm *vm, int fd, uint64_t memory_bytes, struct snapshot *s) {
        struct vm_snapshot_machine copy = {}, *m = &copy;
        const void *record;
        uint64_t size = 0;
        _cleanup_free_ char *why = NULL;
        int r;

        r = snapshot_open(fd, s, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot resume: %s", why ? why : "cannot read the snapshot");
        /* Two layouts: with the flags, and before them (no ACPI). */
        record = snapshot_find(s, SNAPSHOT_RECORD_MACHINE, 0, &size);
        if (!record)
                return log_error_errno(-EBADMSG, "The snapshot has no machine record");
        if (size != sizeof(copy) && size != VM_SNAPSHOT_MACHINE_V1_SIZE)
                return log_error_errno(-EBADMSG, "The snapshot's machine record is %" PRIu64 " bytes, this launcher's is %zu",
                                       size, sizeof(copy));
        memcpy(&copy, record, size);
        if (m->flags & ~(uint32_t) VM_MACHINE_ACPI)
                return log_error_errno(-EBADMSG, "The snapshot's machine has features this launcher does not know (flags 0x%" PRIx32 ")",
                                       m->flags);
        /* The machine the guest booted on, whatever this start asked. */
        vm->acpi = m->flags & VM_MACHINE_ACPI;
        if (m->memory_bytes != s->header.memory_size)
                return log_error_errno(-EBADMSG, "Cannot resume: corrupt snapshot: its machine record and its header disagree on the memory size");
        if (m->memory_bytes != memory_bytes || m->n_vcpus != vm->machine->n_vcpus || m->n_disks != vm->n_disks)
                return log_error_errno(-EINVAL, "Cannot resume: the snapshot is of a guest with %" PRIu64 " MiB, %u vCPUs and %u disks; this one has %" PRIu64 " MiB, %u vCPUs and %u disks",
                                       m->memory_bytes / MiB, m->n_vcpus, m->n_disks, memory_bytes / MiB, vm->machine->n_vcpus, vm->n_disks);
        r = guest_memory_map_snapshot(&vm->mem, fd, s->header.memory_offset, s->header.memory_size);
        if (r < 0)
                return log_error_errno(r, "Cannot map the snapshot's RAM: %m");
        return 0;
}

/* After the devices exist and the vCPUs are set up: every part's state. */
static int vm_resume_state(struct vm *vm, const struct snapshot *s) {
        const struct vm_state *vms;
        const struct serial_state *serial;
        const void *i8042;
        uint64_t i8042_size = 0;
        uint32_t msr = 0;
        int r;

        vms = vm_snapshot_part(s, SNAPSHOT_RECORD_VM, 0, sizeof(*vms), "irqchip, PIT and clock");
        serial = vm_snapshot_part(s, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_SERIAL, sizeof(*serial), "serial port");
        /* Two layouts: with the keyboard, and before it (i8042.h). */
        i8042 = snapshot_find(s, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_I8042, &i8042_size);
        if (!i8042)
                log_error("The snapshot has no i8042");
        if (!vms || !serial || !i8042)
                return -EBADMSG;
        r = vm_state_restore(vm->machine->vm_fd, vms);
        if (r < 0)
                return log_error_errno(r, "Cannot restore the irqchip, PIT and clock: %m");
        if ((r = serial_restore(vm->serial, serial)) < 0 || (r = i8042_restore_sized(vm->i8042, i8042, i8042_size)) < 0)
                return log_error_errno(r, "The snapshot's serial port or i8042 state is invalid: %m");
        for (unsigned i = 0; i < vm->n_disks; i++) {
                const struct virtio_mmio_state *d =
                        vm_snapshot_part(s, SNAPSHOT_RECORD_DEVICE, VM_DEVICE_DISK0 + i, sizeof(*d), "disk");
                if (!d)
                        return -EBADMSG;
                r = virtio_blk_restore(vm->disks[i], d);
                if (r < 0)
                        return log_error_errno(r, "The snapshot's state of disk %u is invalid: %m", i);
        }
        for (unsigned i = 0; i < vm->machine->n_vcpus; i++) {
                const struct vcpu_state *v = vm_snapshot_part(s, SNAPSHOT_RECORD_VCPU, i, sizeof(*v), "vCPU");
                if (!v)
                        return -EBADMSG;
                r = vcpu_state_restore(vm->vcpus[i].fd, v, &msr);
                if (r == -EIO)
                        return log_error_errno(r, "Cannot restore vCPU %u: KVM refuses MSR 0x%x", i, msr);
                if (r < 0)
                        return log_error_errno(r, "Cannot restore vCPU %u: %m", i);
        }
        return 0;
}

struct vm_control_handler {
        void (*handle)(struct vm *vm, struct protocol_message *m);
        unsigned allowed;   /* STATE() mask: handled */
        unsigned refused;   /* STATE() mask: answered with "error", the guest goes on */
        const char *refusal;
};

/* setup is absent: it comes once, before the machine exists (main.c).
 * While a suspend waits (SUSPEND_*) only what belongs to it, a stop (the
 * guest ends in order from there as from anywhere) and guestd's page-table
 * cap, which it sets whatever the guest does, are allowed. */
#define SUSPENDING (STATE(VM_CONTROL_SUSPEND_READY) | STATE(VM_CONTROL_SUSPEND_FAILED))
static const struct vm_control_handler vm_control_handlers[_PROTOCOL_TYPE_MAX] = {
        [PROTOCOL_ATTACH]  = { .handle = vm_control_attach, .allowed = STATE(VM_CONTROL_ATTACHING) },
        [PROTOCOL_PAUSE]   = { .handle = vm_control_pause, .allowed = STATE(VM_CONTROL_RUNNING),
                               .refused = STATE(VM_CONTROL_PAUSED), .refusal = "the guest is already paused" },
        [PROTOCOL_UNPAUSE] = { .handle = vm_control_unpause, .allowed = STATE(VM_CONTROL_PAUSED),
                               .refused = STATE(VM_CONTROL_RUNNING), .refusal = "the guest is not paused" },
        [PROTOCOL_STOP]    = { .handle = vm_control_stop, .allowed = STATE(VM_CONTROL_RUNNING) | STATE(VM_CONTROL_PAUSED) | SUSPENDING },
        [PROTOCOL_SHUTDOWN] = { .handle = vm_control_shutdown, .allowed = STATE(VM_CONTROL_RUNNING) | STATE(VM_CONTROL_PAUSED) },
        [PROTOCOL_SUSPEND] = { .handle = vm_control_suspend, .allowed = STATE(VM_CONTROL_RUNNING) | STATE(VM_CONTROL_PAUSED) },
        [PROTOCOL_SNAPSHOT] = { .handle = vm_control_snapshot, .allowed = STATE(VM_CONTROL_SUSPEND_READY) },
        [PROTOCOL_SUSPEND_ABORT] = { .handle = vm_control_suspend_abort, .allowed = SUSPENDING },
        [PROTOCOL_MMU_PAGES] = { .handle = vm_control_mmu_pages,
                                 .allowed = STATE(VM_CONTROL_RUNNING) | STATE(VM_CONTROL_PAUSED) | SUSPENDING },
};
#undef SUSPENDING

static void vm_control_receive(struct vm *vm) {
        struct protocol_message m = { .body = NULL };
        const struct vm_control_handler *h;
        enum vm_control_state state = vm_control_state(vm);
        int r;

        r = protocol_recv(vm->control_fd, PROTOCOL_TO_LAUNCHER, &m);
        if (r == -EAGAIN || r == -EINTR)
                return;
        if (r == -EBADMSG)
                return vm_protocol_error(vm, "malformed message from guestd");
        if (r < 0) {
                if (r == -ECONNRESET)
                        log_info("guestd closed the control connection; the guest keeps running");
                else
                        log_warning_errno(r, "The control connection failed, the guest keeps running: %m");
                return vm_control_disconnect(vm);
        }

        h = &vm_control_handlers[m.type];
        if (h->refused & STATE(state))
                vm_control_send_error(vm, h->refusal);
        else if (h->handle && (h->allowed & STATE(state)))
                h->handle(vm, &m);
        else if (state == VM_CONTROL_ATTACHING)
                vm_protocol_error(vm, "'%s' before 'attach' on a new connection", protocol_type_to_string(m.type));
        else
                vm_protocol_error(vm, "'%s' is not allowed now", protocol_type_to_string(m.type));
        protocol_message_done(&m);
}

/* A daemon (re)connects on the listening socket. Only root, or our own
 * user (a daemon's tests run unprivileged), may take over the guest. */
static void vm_control_accept(struct vm *vm) {
        _cleanup_close_ int fd = -EBADF;
        struct ucred cred;
        socklen_t len = sizeof(cred);

        fd = accept4(vm->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(-errno, "Failed to accept a control connection: %m");
                return;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                log_warning_errno(-errno, "Failed to get the credentials of a control connection: %m");
                return;
        }
        if (cred.uid != 0 && cred.uid != geteuid()) {
                log_warning("Refused a control connection from uid %u", (unsigned) cred.uid);
                return;
        }
        log_info("guestd reconnected (pid %d)", (int) cred.pid);
        vm->control_fd = TAKE_FD(fd);
        sandbox_set_report_fd(vm->control_fd);
        vm->control_attached = false;
}

/* The I/O loop: console input into the UART while it has room, a
 * periodic flush of console output, and in daemon mode the control
 * connection (or, without one, the listening socket), until the guest
 * ends. */
static void vm_io_loop(struct vm *vm) {
        while (!vm_exiting(vm)) {
                struct pollfd p[3] = { { .fd = vm->wake_fd, .events = POLLIN }, { .fd = -1 }, { .fd = -1 } };
                size_t space = serial_rx_space(vm->serial);
                bool listening = false;

                if (vm->console_input_open && vm->console_in_fd >= 0 && space > 0)
                        p[1] = (struct pollfd) { .fd = vm->console_in_fd, .events = POLLIN };
                if (vm->control_fd >= 0)
                        p[2] = (struct pollfd) { .fd = vm->control_fd, .events = POLLIN };
                else if (vm->listen_fd >= 0) {
                        p[2] = (struct pollfd) { .fd = vm->listen_fd, .events = POLLIN };
                        listening = true;
                }
                if (poll(p, ELEMENTSOF(p), VM_IO_FLUSH_MS) < 0 && errno != EINTR) {
                        vm_end(vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: poll failed");
                        break;
                }
                if (p[0].revents & POLLIN) {
                        uint64_t v;
                        (void) !read(vm->wake_fd, &v, sizeof(v));
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        uint8_t buf[SERIAL_RX_SIZE];
                        ssize_t n = read(vm->console_in_fd, buf, MIN(space, sizeof(buf)));
                        if (n > 0)
                                serial_receive(vm->serial, buf, n);
                        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                                vm->console_input_open = false; /* end of console input: the guest keeps running */
                }
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (listening)
                                vm_control_accept(vm);
                        else
                                vm_control_receive(vm);
                }
                serial_flush(vm->serial);
                if (vm_poweroff_requested) {
                        vm_poweroff_requested = 0;
                        vm_poweroff(vm);
                }
                if ((vm->suspend_at > 0 && now_usec() >= vm->suspend_at) || vm_suspend_requested) {
                        char why[200];
                        vm->suspend_at = 0;
                        vm_suspend_requested = 0;
                        (void) vm_suspend(vm, vm->snapshot_fd, why, sizeof(why));
                }
        }
        serial_flush(vm->serial);
}

static void vm_free(struct vm *vm) {
        for (unsigned i = 0; i < VM_MAX_DISKS; i++)
                vm->disks[i] = virtio_blk_free(vm->disks[i]);
        vm->serial = serial_free(vm->serial);
        vm->i8042 = i8042_free(vm->i8042);
        for (unsigned i = 0; i < KVM_MACHINE_MAX_VCPUS; i++)
                vcpu_done(&vm->vcpus[i]);
        guest_memory_destroy(&vm->mem);
        vm->wake_fd = safe_close(vm->wake_fd);
        if (vm->daemon_mode) {
                vm->control_fd = safe_close(vm->control_fd);
                vm->listen_fd = safe_close(vm->listen_fd);
                if (vm->console_out_fd != vm->console_in_fd)
                        safe_close(vm->console_out_fd);
                vm->console_in_fd = vm->console_out_fd = safe_close(vm->console_in_fd);
        }
        pthread_cond_destroy(&vm->unpause_cond);
        pthread_cond_destroy(&vm->parked_cond);
        pthread_mutex_destroy(&vm->exit_lock);
}

int vm_run(struct vm_config *config, struct kvm_machine *machine, struct vm_result *ret) {
        struct vm vm = {
                .host = { .irq_line = vm_irq_line, .request_exit = vm_request_exit },
                .machine = machine,
                .mem = { .fd = -EBADF },
                .daemon_mode = config->control_fd >= 0,
                .console_in_fd = config->console_in_fd,
                .console_out_fd = config->console_out_fd,
                .console_input_open = config->console_in_fd >= 0,
                .control_fd = config->control_fd,
                .listen_fd = config->listen_fd,
                .control_attached = true, /* setup came on it */
                .snapshot_fd = config->snapshot_fd,
                .msr_indices = config->msr_indices,
                .n_msrs = config->n_msrs,
        };
        bool resume = config->resume_fd >= 0;
        struct snapshot snap = { .state = NULL };
        char cmdline[VM_CMDLINE_MAX];
        struct boot_entry entry = { .entry = 0 };
        unsigned started = 0;
        int listener = -EBADF, stats_fd = -EBADF;
        int r;

        vm.host.mem = &vm.mem;
        pthread_mutex_init(&vm.exit_lock, NULL);
        pthread_cond_init(&vm.unpause_cond, NULL);
        pthread_cond_init(&vm.parked_cond, NULL);
        for (unsigned i = 0; i < KVM_MACHINE_MAX_VCPUS; i++)
                vcpu_init(&vm.vcpus[i], &vm, i);
        vm.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vm.wake_fd < 0) {
                r = log_error_errno(-errno, "Failed to create an eventfd: %m");
                goto out;
        }
        if (config->n_disks > VM_MAX_DISKS) {
                r = log_error_errno(-E2BIG, "At most %d disks are supported", VM_MAX_DISKS);
                goto out;
        }

        vm.n_disks = config->n_disks;
        for (unsigned i = 0; i < config->n_disks; i++) {
                vm.disk_fds[i] = config->disks[i].fd;
                vm.disk_read_only[i] = config->disks[i].read_only;
        }

        vm.acpi = config->acpi;
        if (resume) {
                r = vm_resume_memory(&vm, config->resume_fd, config->memory_bytes, &snap);
                if (r < 0)
                        goto out;
        } else {
                r = guest_memory_create(&vm.mem, config->memory_bytes);
                if (r < 0) {
                        log_error_errno(r, "Failed to create %" PRIu64 " MiB of guest memory: %m", config->memory_bytes / MiB);
                        goto out;
                }
        }
        r = vm_set_memory(&vm);
        if (r < 0) {
                log_error_errno(r, "Failed to give guest memory to KVM: %m");
                goto out;
        }
        r = vm_add_devices(&vm, config, cmdline, sizeof(cmdline));
        if (r < 0)
                goto out;
        if (!resume) {
                r = boot_load(&vm.mem, config->kernel_fd, config->initrd_fd, cmdline, &entry);
                config->kernel_fd = safe_close(config->kernel_fd);
                config->initrd_fd = safe_close(config->initrd_fd);
                if (r < 0)
                        goto out;
                r = mptable_write(&vm.mem, machine->n_vcpus);
                if (r < 0) {
                        log_error_errno(r, "Failed to write the MP table: %m");
                        goto out;
                }
                if (vm.acpi) {
                        r = vm_write_acpi(&vm, config, &entry);
                        if (r < 0)
                                goto out;
                }
                log_debug("Booting %s kernel, entry 0x%" PRIx64 ", command line: %s", entry.protocol, entry.entry, cmdline);
        }

        for (unsigned i = 0; i < machine->n_vcpus; i++) {
                r = vcpu_setup(&vm.vcpus[i], machine->vcpu_fds[i], machine->vcpu_mmap_size, i == 0 && !resume ? &entry : NULL);
                if (r < 0)
                        goto out;
        }
        /* Resume: the snapshot's state over what setup put there; its RAM
         * already holds the kernel, the boot data and the MP table. */
        if (resume) {
                r = vm_resume_state(&vm, &snap);
                snapshot_close(&snap);
                if (r < 0)
                        goto out;
                log_info("Resumed from the snapshot");
        }
        if (config->suspend_after_ms > 0)
                vm.suspend_at = now_usec() + config->suspend_after_ms * 1000;
        {
                struct sigaction sa = { .sa_sigaction = vm_poweroff_signal, .sa_flags = SA_RESTART | SA_SIGINFO };
                vm_poweroff_wake_fd = vm.wake_fd;
                sigemptyset(&sa.sa_mask);
                if (sigaction(SIGRTMIN + 4, &sa, NULL) < 0)
                        log_warning_errno(-errno, "Cannot take SIGRTMIN+4 (machinectl poweroff): %m");
        }
        if (!vm.daemon_mode && vm.snapshot_fd >= 0) {
                struct sigaction sa = { .sa_handler = vm_suspend_signal, .sa_flags = SA_RESTART };
                vm_suspend_wake_fd = vm.wake_fd;
                sigaction(SIGUSR2, &sa, NULL);
        }
        /* The vCPU threads start paused: each parks before its first
         * KVM_RUN. Once all are parked, the sandbox is locked on every
         * thread, and only then does the first guest instruction run. */
        vm.paused = true;
        for (; started < machine->n_vcpus; started++) {
                r = vcpu_start(&vm.vcpus[started]);
                if (r < 0) {
                        vm_end(&vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: failed to start a vCPU thread");
                        break;
                }
                /* Under the lock: a pause counts the vCPUs it waits for. */
                pthread_mutex_lock(&vm.exit_lock);
                vm.n_started = started + 1;
                pthread_mutex_unlock(&vm.exit_lock);
        }
        vm_pause_vcpus(&vm);
        sandbox_set_report_fd(vm.control_fd);
        /* Under guestd: the VM's statistics and the seccomp listener go to
         * guestd, which alone decides the page-table cap. */
        if (vm.daemon_mode && !vm_exiting(&vm)) {
                stats_fd = kvm_get_stats_fd(machine->vm_fd);
                if (stats_fd < 0)
                        vm_end(&vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: cannot get the VM's statistics (KVM_GET_STATS_FD)");
        }
        if (!vm_exiting(&vm) && sandbox_lock(vm.daemon_mode ? &listener : NULL) < 0)
                vm_end(&vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: cannot lock the sandbox (seccomp)");
        if (vm.daemon_mode && !vm_exiting(&vm)) {
                int fds[2] = { listener, stats_fd };
                if (vm.control_fd >= 0 && protocol_send(vm.control_fd, PROTOCOL_SUPERVISE, NULL, fds, 2) < 0)
                        log_warning_errno(-errno, "Cannot hand guestd the page-table supervision: %m");
        }
        /* The launcher must not hold the listener: it could answer its own
         * requests. */
        listener = safe_close(listener);
        stats_fd = safe_close(stats_fd);
        if (!vm_exiting(&vm) && config->test_violation && sandbox_test_violation(config->test_violation, machine->vm_fd) < 0)
                vm_end(&vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: the sandbox let a forbidden system call through");
        /* "running" goes out before the first instruction runs, so that
         * guestd always hears it before whatever "exited" follows. */
        if (!vm_exiting(&vm))
                vm_control_send_state_as(&vm, false);
        if (resume && config->started_usec > 0)
                log_info("Resumed: the first guest instruction runs %.1f ms after the launcher started",
                         (double) (now_usec() - config->started_usec) / 1000);
        vm_unpause_vcpus(&vm);
        vm_io_loop(&vm);
        for (unsigned i = 0; i < started; i++)
                vcpu_join(&vm.vcpus[i]);
        vm.result.guest_ram_touched_kib = guest_memory_allocated_kib(&vm.mem);
        if (vm.bus.unclaimed_reads || vm.bus.unclaimed_writes)
                log_info("%" PRIu64 " unclaimed port/MMIO reads answered with all-ones, %" PRIu64 " unclaimed writes dropped",
                         (uint64_t) vm.bus.unclaimed_reads, (uint64_t) vm.bus.unclaimed_writes);
        if (serial_tx_dropped(vm.serial) > 0)
                log_info("%" PRIu64 " bytes of console output dropped: the console was full or gone", serial_tx_dropped(vm.serial));
        vm_control_send_exited(&vm, vm.result.exit, vm.result.reason);
        *ret = vm.result;
        r = 0;
out:
        if (r < 0) {
                char reason[sizeof(vm.result.reason)];
                snprintf(reason, sizeof(reason), "launcher error: failed to set up the machine: %s", strerror(-r));
                vm_control_send_exited(&vm, GUEST_EXIT_LAUNCHER_ERROR, reason);
        }
        snapshot_close(&snap);
        /* The handler stays (the sandbox allows no sigaction now); it
         * only finds no fd to wake. */
        vm_suspend_wake_fd = -EBADF;
        vm_poweroff_wake_fd = -EBADF;
        vm_free(&vm);
        return r;
}
