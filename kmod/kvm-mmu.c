/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-mmu.c: see kvm-mmu.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm-mmu.h"
#include "kvm.h"

const char *kvm_mmu_kind_to_string(enum kvm_mmu_kind k) {
        static const char *const table[_KVM_MMU_KIND_MAX] = {
                [KVM_MMU_NONE] = "none",
                [KVM_MMU_UNKNOWN] = "unknown",
                [KVM_MMU_SHADOW] = "shadow",
                [KVM_MMU_SHADOW_USER] = "shadow-user",
                [KVM_MMU_TDP_LEGACY] = "tdp-legacy",
                [KVM_MMU_TDP] = "tdp",
        };
        return (unsigned) k < _KVM_MMU_KIND_MAX ? table[k] : NULL;
}

/* A module parameter: 1 (Y, 1), 0 (N, 0), -ENOENT (no such file), or
 * another -errno (-EINVAL: something else). */
static int parameter(const char *root, const char *module, const char *name) {
        char path[512], value[16] = "";
        FILE *f;

        snprintf(path, sizeof(path), "%s/sys/module/%s/parameters/%s", root, module, name);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(value, sizeof(value), f))
                value[0] = 0;
        fclose(f);
        value[strcspn(value, "\n")] = 0;
        if (strcmp(value, "Y") == 0 || strcmp(value, "1") == 0)
                return 1;
        if (strcmp(value, "N") == 0 || strcmp(value, "0") == 0)
                return 0;
        return -EINVAL;
}

static bool module_loaded(const char *root, const char *module) {
        char path[512];

        snprintf(path, sizeof(path), "%s/sys/module/%s", root, module);
        return access(path, F_OK) == 0;
}

/* Whether root's /dev/kvm exists: where it does not, no guest runs, and
 * what the modules' parameters say serves nobody. An error other than
 * ENOENT counts as there: a Start then says what is wrong with it. */
static bool device_exists(const char *root) {
        char path[512];

        snprintf(path, sizeof(path), "%s%s", root, KVM_DEVICE_PATH);
        return access(path, F_OK) == 0 || errno != ENOENT;
}

/* A parameter guestd cannot use: it says so, and claims nothing. */
static int mmu_unknown(struct kvm_mmu_info *ret, const char *module, const char *name, int error) {
        ret->kind = KVM_MMU_UNKNOWN;
        ret->cap_effective = false;
        if (error == -EINVAL)
                snprintf(ret->why, sizeof(ret->why),
                         "%s's parameter %s reads neither yes nor no: guestd cannot tell whether the caps free anything here",
                         module, name);
        else
                snprintf(ret->why, sizeof(ret->why),
                         "cannot read %s's parameter %s (%s): guestd cannot tell whether the caps free anything here", module,
                         name, strerror(-error));
        return error;
}

int kvm_mmu_probe(const char *root, struct kvm_mmu_info *ret) {
        int tdp = -ENOENT, tdp_mmu;
        const char *vendor = NULL, *tdp_name = NULL;

        *ret = (struct kvm_mmu_info){ .kind = KVM_MMU_NONE };
        root = root ?: "";
        if (!device_exists(root)) {
                snprintf(ret->why, sizeof(ret->why), "this host has no %s: no guest can run here", KVM_DEVICE_PATH);
                return 0;
        }
        if (!module_loaded(root, "kvm")) {
                snprintf(ret->why, sizeof(ret->why), "no KVM module is loaded: no guest can run here");
                return 0;
        }
        if (module_loaded(root, "kvm_pvm")) {
                ret->kind = KVM_MMU_SHADOW_USER;
                snprintf(ret->why, sizeof(ret->why),
                         "PVM (kvm_pvm) shadows the guests' user-mode page tables: the cap bounds them");
                goto done;
        }
        if (module_loaded(root, "kvm_amd")) {
                vendor = "kvm_amd";
                tdp_name = "npt";
        } else if (module_loaded(root, "kvm_intel")) {
                vendor = "kvm_intel";
                tdp_name = "ept";
        }
        if (vendor)
                tdp = parameter(root, vendor, tdp_name);
        if (tdp < 0 && tdp != -ENOENT)
                return mmu_unknown(ret, vendor, tdp_name, tdp);
        if (tdp <= 0) {
                ret->kind = KVM_MMU_SHADOW;
                if (vendor && tdp == 0)
                        snprintf(ret->why, sizeof(ret->why), "%s %s=0: KVM shadows every guest page table, and the cap bounds them",
                                 vendor, tdp_name);
                else
                        snprintf(ret->why, sizeof(ret->why), "KVM without NPT or EPT shadows every guest page table, and the cap bounds them");
                goto done;
        }
        tdp_mmu = parameter(root, "kvm", "tdp_mmu");
        if (tdp_mmu < 0 && tdp_mmu != -ENOENT)
                return mmu_unknown(ret, "kvm", "tdp_mmu", tdp_mmu);
        if (tdp_mmu == 0) {
                ret->kind = KVM_MMU_TDP_LEGACY;
                snprintf(ret->why, sizeof(ret->why), "%s %s=1 with kvm tdp_mmu=0: the cap bounds KVM's legacy MMU tables", vendor,
                         tdp_name);
        } else {
                /* tdp_mmu=Y, or a kernel without the parameter (the TDP MMU
                 * is the only one for TDP there). */
                ret->kind = KVM_MMU_TDP;
                snprintf(ret->why, sizeof(ret->why),
                         "%s %s=1 with the TDP MMU: KVM ignores the cap, so the page-table budget has no effect on this host",
                         vendor, tdp_name);
        }
done:
        ret->cap_effective = ret->kind != KVM_MMU_TDP;
        return 0;
}
