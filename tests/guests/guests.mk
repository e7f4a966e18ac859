# Test payloads: freestanding PVH ELF kernels (and one bzImage) that our
# launcher and QEMU boot alike. Included by the top-level Makefile, which
# provides $(CC) and $(B). See tests/guests/README.md.
#
# Outputs, all under $(GUEST_DIR):
#   <payload>.elf              every payload in GUEST_PAYLOADS
#   bzimage-probe.bzImage      the Linux boot protocol probe
#   fnv1a                      host tool: the checksum the probes verify

GUEST_DIR := $(B)/guests
GUEST_SRC := tests/guests
GUEST_OBJ := $(GUEST_DIR)/obj

GUEST_PAYLOADS := hello count memtouch blk pvh-probe echo kbd unknown hostile-virtq hostile-mmio hostile-ports hostile-serial
GUEST_ELFS := $(patsubst %,$(GUEST_DIR)/%.elf,$(GUEST_PAYLOADS))
GUEST_BZIMAGE := $(GUEST_DIR)/bzimage-probe.bzImage
GUEST_FNV1A := $(GUEST_DIR)/fnv1a

GUEST_RUNTIME := console lib power cmdline boot-info paging trap trap-entry entry virtio-mmio probe
GUEST_RUNTIME_OBJS := $(patsubst %,$(GUEST_OBJ)/runtime/%.o,$(GUEST_RUNTIME))
GUEST_LIB := $(GUEST_OBJ)/libguest.a

OBJCOPY ?= objcopy

# Freestanding, and nothing KVM's instruction emulator on our hosts cannot
# execute (shared/HOST-KVM.md): no SSE/x87/AVX (so no XSAVE-dependent state
# and no FWAIT), no POPCNT, no INT3 (we never call __builtin_trap), no
# CET ENDBR64, no red zone (exception frames land below RSP).
GUEST_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -qi clang && echo 1)
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector -fno-stack-clash-protection \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-m64 -mcmodel=small -mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 -mno-avx \
	-mno-80387 -mno-popcnt \
	-I$(GUEST_SRC)/runtime -MMD -MP
ifneq ($(GUEST_IS_CLANG),1)
# GCC would otherwise turn our memset/memcpy loops into calls to themselves.
GUEST_CFLAGS += -fno-tree-loop-distribute-patterns
endif
GUEST_LDFLAGS := -nostdlib -static -fuse-ld=bfd -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments

.PHONY: guests
guests: $(GUEST_ELFS) $(GUEST_BZIMAGE) $(GUEST_FNV1A)

$(GUEST_OBJ)/%.o: $(GUEST_SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OBJ)/%.o: $(GUEST_SRC)/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_LIB): $(GUEST_RUNTIME_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

# A PVH payload: the PVH entry note and stub, its own code, the runtime.
$(GUEST_DIR)/%.elf: $(GUEST_OBJ)/runtime/pvh-entry.o $(GUEST_OBJ)/%.o $(GUEST_LIB) $(GUEST_SRC)/guest.ld
	$(CC) $(GUEST_LDFLAGS) -Wl,-T,$(GUEST_SRC)/guest.ld -o $@ $(filter %.o %.a,$^)

# The bzImage: real-mode setup sectors, then the protected-mode part that
# goes at 1 MiB; bzimage.ld lays out both and fills in the header's sizes,
# objcopy flattens the result into the file a boot loader expects.
GUEST_BZIMAGE_OBJS := $(GUEST_OBJ)/bzimage/setup.o $(GUEST_OBJ)/bzimage/head.o $(GUEST_OBJ)/bzimage/bzimage-probe.o
$(GUEST_DIR)/bzimage-probe.bzImage.elf: $(GUEST_BZIMAGE_OBJS) $(GUEST_LIB) $(GUEST_SRC)/bzimage/bzimage.ld
	$(CC) $(GUEST_LDFLAGS) -Wl,-T,$(GUEST_SRC)/bzimage/bzimage.ld -o $@ $(filter %.o %.a,$^)
$(GUEST_BZIMAGE): $(GUEST_DIR)/bzimage-probe.bzImage.elf
	$(OBJCOPY) -O binary $< $@

# Host tool, built with the host's normal flags.
$(GUEST_FNV1A): $(GUEST_SRC)/fnv1a.c $(GUEST_SRC)/runtime/fnv1a.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -I$(GUEST_SRC)/runtime -o $@ $<

.PRECIOUS: $(GUEST_OBJ)/%.o $(GUEST_DIR)/bzimage-probe.bzImage.elf
