/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-stats.c: see kvm-stats.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm-stats.h"
#include "util.h"

/* More than KVM has ever had: a bound on what we read, not a limit. */
#define MAX_DESC 4096
#define MAX_NAME_SIZE 4096

int kvm_get_stats_fd(int vm_or_vcpu_fd) {
        int fd = ioctl(vm_or_vcpu_fd, KVM_GET_STATS_FD, NULL);

        if (fd < 0)
                return -errno;
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

bool kvm_stats_fd_is_vm(int fd) {
        return fd_is_anon_inode(fd, "kvm-vm-stats");
}

int kvm_stats_open(int fd, struct kvm_stats *ret) {
        struct kvm_stats_header h;
        _cleanup_free_ uint8_t *buf = NULL;
        struct kvm_stat_desc *desc;
        size_t one;
        int r;

        *ret = (struct kvm_stats){ .fd = -EBADF };
        r = pread_full(fd, &h, sizeof(h), 0);
        if (r < 0)
                return r;
        if (h.num_desc == 0 || h.num_desc > MAX_DESC || h.name_size == 0 || h.name_size > MAX_NAME_SIZE)
                return -EBADMSG;
        one = sizeof(struct kvm_stats_desc) + h.name_size;
        buf = malloc(one * h.num_desc);
        desc = calloc(h.num_desc, sizeof(*desc));
        if (!buf || !desc) {
                free(desc);
                return -ENOMEM;
        }
        r = pread_full(fd, buf, one * h.num_desc, h.desc_offset);
        if (r < 0) {
                free(desc);
                return r;
        }
        for (uint32_t i = 0; i < h.num_desc; i++) {
                struct kvm_stats_desc d;
                const char *name = (const char *) buf + i * one + sizeof(d);

                memcpy(&d, buf + i * one, sizeof(d));
                if (d.size == 0 || !memchr(name, 0, h.name_size)) {
                        free(desc);
                        return -EBADMSG;
                }
                snprintf(desc[i].name, sizeof(desc[i].name), "%s", name);
                desc[i].flags = d.flags;
                desc[i].size = d.size;
                desc[i].offset = (uint64_t) h.data_offset + d.offset;
        }
        *ret = (struct kvm_stats){ .fd = fd, .desc = desc, .n_desc = h.num_desc };
        return 0;
}

void kvm_stats_close(struct kvm_stats *s) {
        free(s->desc);
        *s = (struct kvm_stats){ .fd = -EBADF };
}

const struct kvm_stat_desc *kvm_stats_find(const struct kvm_stats *s, const char *name) {
        for (unsigned i = 0; i < s->n_desc; i++)
                if (strcmp(s->desc[i].name, name) == 0)
                        return &s->desc[i];
        return NULL;
}

int kvm_stats_read(const struct kvm_stats *s, const struct kvm_stat_desc *d, uint64_t *ret) {
        return pread_full(s->fd, ret, sizeof(*ret), d->offset);
}

int kvm_stats_get(const struct kvm_stats *s, const char *name, uint64_t *ret) {
        const struct kvm_stat_desc *d = kvm_stats_find(s, name);

        return d ? kvm_stats_read(s, d, ret) : -ENOENT;
}
