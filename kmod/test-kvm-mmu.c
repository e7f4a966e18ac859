/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-kvm-mmu.c: which kind of MMU the KVM modules' parameters say, and
 * so whether a page-table cap frees anything, on fake trees (a /sys and
 * a /dev) of each kind of host: AMD and Intel with and without NPT/EPT,
 * the TDP MMU on and off, PVM, no KVM at all, and KVM modules loaded
 * where there is no /dev/kvm (a container: no guest can run, whatever the
 * parameters say). And the real host, whatever it says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm-mmu.h"
#include "test.h"

static char root[] = "/tmp/test-kvm-mmu.XXXXXX";

static void param(const char *module, const char *name, const char *value) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/sys/module/%s", root, module);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/sys/module/%s/parameters", root, module);
        mkdir(path, 0755);
        if (!name)
                return;
        snprintf(path, sizeof(path), "%s/sys/module/%s/parameters/%s", root, module, name);
        f = fopen(path, "we");
        CHECK(f != NULL);
        if (f) {
                fprintf(f, "%s\n", value);
                fclose(f);
        }
}

/* The fake /dev/kvm: a plain file does (the probe asks only whether it
 * exists; making a device node would need root). */
static void device(bool exists) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/dev/kvm", root);
        if (!exists) {
                (void) unlink(path);
                return;
        }
        f = fopen(path, "we");
        CHECK(f != NULL);
        if (f)
                fclose(f);
}

/* No modules, and /dev/kvm as told. */
static void reset(bool kvm_device) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf %s/sys %s/dev && mkdir -p %s/sys/module %s/dev", root, root, root, root);
        CHECK_EQ(system(cmd), 0);
        device(kvm_device);
}

static bool cap_bounds(enum kvm_mmu_kind k) {
        return k == KVM_MMU_SHADOW || k == KVM_MMU_SHADOW_USER || k == KVM_MMU_TDP_LEGACY;
}

/* The kind found; every answer has a reason, and claims an effect only
 * where the cap bounds something. */
static enum kvm_mmu_kind probe_expecting(int want_r, struct kvm_mmu_info *info) {
        int r = kvm_mmu_probe(root, info);

        CHECK_EQ(r, want_r);
        CHECK(info->why[0] != 0);
        CHECK_EQ(info->cap_effective, cap_bounds(info->kind));
        CHECK(kvm_mmu_kind_to_string(info->kind) != NULL);
        return info->kind;
}

static enum kvm_mmu_kind probe(void) {
        struct kvm_mmu_info info;

        return probe_expecting(0, &info);
}

int main(void) {
        struct kvm_mmu_info info;

        CHECK(mkdtemp(root));

        /* Nothing at all. */
        reset(false);
        CHECK_EQ(probe_expecting(0, &info), KVM_MMU_NONE);
        CHECK(strcmp(info.why, "this host has no /dev/kvm: no guest can run here") == 0);

        /* The modules say PVM, or a TDP MMU, but there is no /dev/kvm (a
         * container without the device, as the host that showed issue
         * 22): no guest can run, and nothing is claimed for the caps. */
        param("kvm", "tdp_mmu", "N");
        param("kvm_pvm", NULL, NULL);
        CHECK_EQ(probe_expecting(0, &info), KVM_MMU_NONE);
        CHECK(!info.cap_effective);
        CHECK(strstr(info.why, "no /dev/kvm") && !strstr(info.why, "PVM"));
        reset(false);
        param("kvm", "tdp_mmu", "Y");
        param("kvm_amd", "npt", "0");
        CHECK_EQ(probe_expecting(0, &info), KVM_MMU_NONE);
        CHECK(strstr(info.why, "no /dev/kvm") && !strstr(info.why, "npt"));

        /* A /dev/kvm but no kvm module (nothing to serve it). */
        reset(true);
        CHECK_EQ(probe_expecting(0, &info), KVM_MMU_NONE);
        CHECK(strstr(info.why, "no KVM module") != NULL);

        reset(true);
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

        reset(true);
        param("kvm", "tdp_mmu", "Y");
        param("kvm_intel", "ept", "Y");
        CHECK_EQ(probe(), KVM_MMU_TDP);
        param("kvm_intel", "ept", "N");
        CHECK_EQ(probe(), KVM_MMU_SHADOW);

        /* A kernel without tdp_mmu: the TDP MMU is all there is. */
        reset(true);
        param("kvm", NULL, NULL);
        param("kvm_intel", "ept", "Y");
        CHECK_EQ(probe(), KVM_MMU_TDP);

        /* PVM, whatever else it says. */
        reset(true);
        param("kvm", "tdp_mmu", "N");
        param("kvm_pvm", NULL, NULL);
        CHECK_EQ(probe(), KVM_MMU_SHADOW_USER);

        /* A value that is neither: unknown, said so, nothing claimed. */
        reset(true);
        param("kvm", "tdp_mmu", "Y");
        param("kvm_amd", "npt", "maybe");
        CHECK_EQ(probe_expecting(-EINVAL, &info), KVM_MMU_UNKNOWN);
        CHECK(strstr(info.why, "kvm_amd's parameter npt") != NULL);
        param("kvm_amd", "npt", "1");
        param("kvm", "tdp_mmu", "sometimes");
        CHECK_EQ(probe_expecting(-EINVAL, &info), KVM_MMU_UNKNOWN);
        CHECK(strstr(info.why, "kvm's parameter tdp_mmu") != NULL);

        /* Every kind has a name; none past the end. */
        for (enum kvm_mmu_kind k = 0; k < _KVM_MMU_KIND_MAX; k++)
                CHECK(kvm_mmu_kind_to_string(k) != NULL);
        CHECK(kvm_mmu_kind_to_string(_KVM_MMU_KIND_MAX) == NULL);

        /* This host, for the log. */
        (void) kvm_mmu_probe(NULL, &info);
        printf("this host: %s: %s\n", kvm_mmu_kind_to_string(info.kind), info.why);
        CHECK(info.why[0] != 0);
        CHECK_EQ(info.kind == KVM_MMU_NONE, access("/dev/kvm", F_OK) != 0 || access("/sys/module/kvm", F_OK) != 0);

        {
                char cmd[600];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
                CHECK_EQ(system(cmd), 0);
        }
        return TEST_RESULT();
}
