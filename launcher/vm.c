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
 */
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "boot.h"
#include "i8042.h"
#include "log.h"
#include "mptable.h"
#include "power.h"
#include "serial.h"
#include "vcpu.h"
#include "virtio-blk.h"
#include "vm.h"

#define VM_IO_FLUSH_MS 20
#define VM_CMDLINE_MAX 4096

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

        pthread_mutex_t exit_lock;
        bool exiting;
        struct vm_result result;
};

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

        if (snprintf(cmdline, cmdline_size, "%s", config->cmdline ? config->cmdline : "") >= (int) cmdline_size)
                return log_error_errno(-E2BIG, "The kernel command line is too long");
        for (unsigned i = 0; i < config->n_disks; i++) {
                uint64_t base = VM_VIRTIO_MMIO_BASE + i * VM_VIRTIO_MMIO_SIZE;
                size_t len = strlen(cmdline);
                r = virtio_blk_create(&vm->bus, &vm->host, base, virtio_irqs[i], config->disks[i].fd,
                                      config->disks[i].read_only, config->disks[i].id, &vm->disks[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to create virtio-blk device %u: %m", i);
                /* Linux (and our payloads) find virtio-mmio devices here,
                 * as with QEMU's microvm. */
                if (snprintf(cmdline + len, cmdline_size - len, "%svirtio_mmio.device=%u@0x%" PRIx64 ":%u",
                             len ? " " : "", VM_VIRTIO_MMIO_SIZE, base, virtio_irqs[i]) >= (int) (cmdline_size - len))
                        return log_error_errno(-E2BIG, "The kernel command line is too long");
        }
        return 0;
}

/* The I/O loop: console input into the UART while it has room, and a
 * periodic flush of console output, until the guest ends. */
static void vm_io_loop(struct vm *vm, int in_fd) {
        bool input_open = in_fd >= 0;

        while (!vm_exiting(vm)) {
                struct pollfd p[2] = { { .fd = vm->wake_fd, .events = POLLIN }, { .fd = -1 } };
                size_t space = serial_rx_space(vm->serial);

                if (input_open && space > 0)
                        p[1] = (struct pollfd) { .fd = in_fd, .events = POLLIN };
                if (poll(p, 2, VM_IO_FLUSH_MS) < 0 && errno != EINTR) {
                        vm_end(vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: poll failed");
                        break;
                }
                if (p[0].revents & POLLIN) {
                        uint64_t v;
                        (void) !read(vm->wake_fd, &v, sizeof(v));
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        uint8_t buf[SERIAL_RX_SIZE];
                        ssize_t n = read(in_fd, buf, MIN(space, sizeof(buf)));
                        if (n > 0)
                                serial_receive(vm->serial, buf, n);
                        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                                input_open = false; /* end of console input: the guest keeps running */
                }
                serial_flush(vm->serial);
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
        pthread_mutex_destroy(&vm->exit_lock);
}

int vm_run(const struct vm_config *config, struct kvm_machine *machine, struct vm_result *ret) {
        struct vm vm = {
                .host = { .irq_line = vm_irq_line, .request_exit = vm_request_exit },
                .machine = machine,
                .mem = { .fd = -EBADF },
        };
        char cmdline[VM_CMDLINE_MAX];
        struct boot_entry entry;
        unsigned started = 0;
        int r;

        vm.host.mem = &vm.mem;
        pthread_mutex_init(&vm.exit_lock, NULL);
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

        r = guest_memory_create(&vm.mem, config->memory_bytes);
        if (r < 0) {
                log_error_errno(r, "Failed to create %" PRIu64 " MiB of guest memory: %m", config->memory_bytes / MiB);
                goto out;
        }
        r = vm_set_memory(&vm);
        if (r < 0) {
                log_error_errno(r, "Failed to give guest memory to KVM: %m");
                goto out;
        }
        r = vm_add_devices(&vm, config, cmdline, sizeof(cmdline));
        if (r < 0)
                goto out;
        r = boot_load(&vm.mem, config->kernel_fd, config->initrd_fd, cmdline, &entry);
        if (r < 0)
                goto out;
        r = mptable_write(&vm.mem, machine->n_vcpus);
        if (r < 0) {
                log_error_errno(r, "Failed to write the MP table: %m");
                goto out;
        }
        log_debug("Booting %s kernel, entry 0x%" PRIx64 ", command line: %s", entry.protocol, entry.entry, cmdline);

        for (unsigned i = 0; i < machine->n_vcpus; i++) {
                r = vcpu_setup(&vm.vcpus[i], machine->vcpu_fds[i], machine->vcpu_mmap_size, i == 0 ? &entry : NULL);
                if (r < 0)
                        goto out;
        }
        for (; started < machine->n_vcpus; started++) {
                r = vcpu_start(&vm.vcpus[started]);
                if (r < 0) {
                        vm_end(&vm, GUEST_EXIT_LAUNCHER_ERROR, "launcher error: failed to start a vCPU thread");
                        break;
                }
        }
        vm_io_loop(&vm, config->console_in_fd);
        for (unsigned i = 0; i < started; i++)
                vcpu_join(&vm.vcpus[i]);
        vm.result.guest_ram_touched_kib = proc_self_status_kib("RssShmem");
        *ret = vm.result;
        r = 0;
out:
        vm_free(&vm);
        return r;
}
