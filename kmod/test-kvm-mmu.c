/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-kvm-mmu.c: which kind of MMU the KVM modules' parameters say, and
 * so whether a page-table cap frees anything, on fake sysfs trees of
 * each kind of host: AMD and Intel with and without NPT/EPT, the TDP MMU
 * on and off, PVM, no KVM at all. And the real /sys, whatever it says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kvm-mmu.h"
#include "test.h"

static char root[] = "/tmp/test-kvm-mmu.XXXXXX";

static void param(const char *module, const char *name, const char *value) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/module/%s", root, module);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/module/%s/parameters", root, module);
        mkdir(path, 0755);
        if (!name)
                return;
        snprintf(path, sizeof(path), "%s/module/%s/parameters/%s", root, module, name);
        f = fopen(path, "we");
        CHECK(f != NULL);
        if (f) {
                fprintf(f, "%s\n", value);
                fclose(f);
        }
}

static void reset(void) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf %s/module && mkdir %s/module", root, root);
        CHECK_EQ(system(cmd), 0);
}

static enum kvm_mmu_kind probe(void) {
        struct kvm_mmu_info info;
        int r = kvm_mmu_probe(root, &info);

        CHECK_EQ(r, 0);
        CHECK(info.why[0] != 0);
        CHECK_EQ(info.cap_effective, info.kind != KVM_MMU_TDP);
        return r < 0 ? _KVM_MMU_KIND_MAX : info.kind;
}

int main(void) {
        struct kvm_mmu_info info;

        CHECK(mkdtemp(root));
        reset();
        CHECK_EQ(kvm_mmu_probe(root, &info), -ENOENT); /* no kvm module */

        param("kvm", "tdp_mmu", "Y");
        param("kvm_amd", "npt", "1");
        CHECK_EQ(probe(), KVM_MMU_TDP);
        CHECK(kvm_mmu_probe(root, &info) == 0 && strstr(info.why, "ignores the cap"));
        param("kvm_amd", "npt", "0"); /* the nested test VM's npt=0 */
        CHECK_EQ(probe(), KVM_MMU_SHADOW);
        CHECK(kvm_mmu_probe(root, &info) == 0 && strstr(info.why, "kvm_amd npt=0"));
        param("kvm_amd", "npt", "1");
        param("kvm", "tdp_mmu", "N");
        CHECK_EQ(probe(), KVM_MMU_TDP_LEGACY);

        reset();
        param("kvm", "tdp_mmu", "Y");
        param("kvm_intel", "ept", "Y");
        CHECK_EQ(probe(), KVM_MMU_TDP);
        param("kvm_intel", "ept", "N");
        CHECK_EQ(probe(), KVM_MMU_SHADOW);

        /* A kernel without tdp_mmu: the TDP MMU is all there is. */
        reset();
        param("kvm", NULL, NULL);
        param("kvm_intel", "ept", "Y");
        CHECK_EQ(probe(), KVM_MMU_TDP);

        /* PVM, whatever else it says. */
        reset();
        param("kvm", "tdp_mmu", "N");
        param("kvm_pvm", NULL, NULL);
        CHECK_EQ(probe(), KVM_MMU_SHADOW_USER);

        /* A value that is neither: refused. */
        reset();
        param("kvm", "tdp_mmu", "Y");
        param("kvm_amd", "npt", "maybe");
        CHECK_EQ(kvm_mmu_probe(root, &info), -EINVAL);

        /* This host, for the log. */
        if (kvm_mmu_probe("/sys", &info) == 0)
                printf("this host: %s: %s\n", kvm_mmu_kind_to_string(info.kind), info.why);
        else
                printf("this host: no KVM module loaded\n");

        {
                char cmd[600];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
                CHECK_EQ(system(cmd), 0);
        }
        return TEST_RESULT();
}
