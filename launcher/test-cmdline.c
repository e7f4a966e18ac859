/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test: what the launcher appends to the kernel command line for its
 * disks fits what guest-limits.h (and so guestd's CreateGuest) counts on, so a
 * command line guestd accepts always fits the launcher's buffer. */
#include <stdio.h>
#include <string.h>

#include "guest-limits.h"
#include "test.h"
#include "vm.h"

int main(void) {
        char arg[GUEST_DEVICE_ARG_MAX + 1];
        size_t total = GUEST_CMDLINE_MAX(GUEST_MAX_DISKS);

        for (unsigned i = 0; i < GUEST_MAX_DISKS; i++) {
                int n = vm_device_arg(arg, sizeof(arg), i);
                CHECK(n > 0 && n <= GUEST_DEVICE_ARG_MAX);
                CHECK(arg[0] == ' ' && strncmp(arg + 1, "virtio_mmio.device=", 19) == 0);
                total += (size_t) n;
        }
        printf("the longest device argument: \"%s\"\n", arg);
        /* The user's longest command line and all the disks' arguments fit
         * the buffer with its NUL. */
        CHECK(total + 1 <= GUEST_CMDLINE_SIZE);
        CHECK_EQ(vm_device_arg(arg, sizeof(arg), GUEST_MAX_DISKS), -EINVAL);
        CHECK_EQ(vm_device_arg(arg, 10, 0), -E2BIG);
        for (unsigned n = 0; n <= GUEST_MAX_DISKS; n++)
                CHECK(GUEST_CMDLINE_MAX(n) < GUEST_CMDLINE_SIZE);
        return TEST_RESULT();
}
