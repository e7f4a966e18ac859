/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-mmu.c: see kvm-mmu.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm-mmu.h"

const char *kvm_mmu_kind_to_string(enum kvm_mmu_kind k) {
        static const char *const table[_KVM_MMU_KIND_MAX] = {
                [KVM_MMU_SHADOW] = "shadow",
                [KVM_MMU_SHADOW_USER] = "shadow-user",
                [KVM_MMU_TDP_LEGACY] = "tdp-legacy",
                [KVM_MMU_TDP] = "tdp",
        };
        return (unsigned) k < _KVM_MMU_KIND_MAX ? table[k] : NULL;
}

/* A module parameter: 1 (Y, 1), 0 (N, 0), -ENOENT (no such file), or
 * -EINVAL (something else). */
static int parameter(const char *sys_root, const char *module, const char *name) {
        char path[512], value[16] = "";
        FILE *f;

        snprintf(path, sizeof(path), "%s/module/%s/parameters/%s", sys_root, module, name);
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

static bool module_loaded(const char *sys_root, const char *module) {
        char path[512];

        snprintf(path, sizeof(path), "%s/module/%s", sys_root, module);
        return access(path, F_OK) == 0;
}

int kvm_mmu_probe(const char *sys_root, struct kvm_mmu_info *ret) {
        int tdp = -ENOENT, tdp_mmu;
        const char *vendor = NULL, *tdp_name = NULL;

        *ret = (struct kvm_mmu_info){ 0 };
        if (!module_loaded(sys_root, "kvm"))
                return -ENOENT;
        if (module_loaded(sys_root, "kvm_pvm")) {
                ret->kind = KVM_MMU_SHADOW_USER;
                snprintf(ret->why, sizeof(ret->why),
                         "PVM (kvm_pvm) shadows the guests' user-mode page tables: the cap bounds them");
                goto done;
        }
        if (module_loaded(sys_root, "kvm_amd")) {
                vendor = "kvm_amd";
                tdp_name = "npt";
        } else if (module_loaded(sys_root, "kvm_intel")) {
                vendor = "kvm_intel";
                tdp_name = "ept";
        }
        if (vendor)
                tdp = parameter(sys_root, vendor, tdp_name);
        if (tdp < 0 && tdp != -ENOENT)
                return tdp;
        if (tdp <= 0) {
                ret->kind = KVM_MMU_SHADOW;
                if (vendor && tdp == 0)
                        snprintf(ret->why, sizeof(ret->why), "%s %s=0: KVM shadows every guest page table, and the cap bounds them",
                                 vendor, tdp_name);
                else
                        snprintf(ret->why, sizeof(ret->why), "KVM without NPT or EPT shadows every guest page table, and the cap bounds them");
                goto done;
        }
        tdp_mmu = parameter(sys_root, "kvm", "tdp_mmu");
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
