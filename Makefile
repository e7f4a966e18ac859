# guestd: one Makefile for everything. `make help` lists the targets.
#
# Objects go under build/<compiler>/ so that `make` and `make CC=clang`
# can live side by side. Unit tests are every */test-*.c beside the code;
# each links against the program libraries below.

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
B := build/$(notdir $(firstword $(CC)))

# Where `make install` puts things. PREFIX and DESTDIR as usual; the
# directories systemd, D-Bus and udev read come from their pkg-config
# files where those exist (Debian 12: units in /lib/systemd/system).
PREFIX ?= /usr/local
DESTDIR ?=
PKG_CONFIG ?= pkg-config
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/guestd
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
pcvar = $(or $(shell $(PKG_CONFIG) --variable=$(2) $(1) 2>/dev/null),$(3))
SYSTEMDUNITDIR ?= $(call pcvar,systemd,systemdsystemunitdir,/usr/lib/systemd/system)
SYSUSERSDIR ?= $(call pcvar,systemd,sysusersdir,/usr/lib/sysusers.d)
TMPFILESDIR ?= $(call pcvar,systemd,tmpfilesdir,/usr/lib/tmpfiles.d)
LOGINDCONFDIR ?= /usr/lib/systemd/logind.conf.d
DBUSDIR ?= /usr/share/dbus-1
# polkit reads its actions from here only, whatever PREFIX is.
POLKITACTIONSDIR ?= /usr/share/polkit-1/actions
UDEVRULESDIR ?= $(call pcvar,udev,udevdir,/usr/lib/udev)/rules.d
MODPROBEDIR ?= /usr/lib/modprobe.d

# Compiler flags: CFLAGS, CPPFLAGS and LDFLAGS from the environment or
# the command line (a distribution's hardening flags) come after ours.
# -Werror only where asked (WERROR=1: the project's CI), never forced on
# whoever builds a release.
CFLAGS ?= -O2 -g
WERROR ?= 0
WARNFLAGS := -Wall -Wextra -Wno-unused-parameter $(if $(filter 1,$(WERROR)),-Werror)
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE -pthread -fno-strict-aliasing -Icommon -Ikmod -Ilauncher -Ilauncher/devices -Idaemon
ALL_CFLAGS = $(BASEFLAGS) $(PKG_CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP
# Libraries from Debian's -dev packages, found with pkg-config.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags libsystemd json-c libcap-ng libseccomp zlib smartcols 2>/dev/null)
LIBS_JSON = $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null)
LIBS_SYSTEMD = $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null)
LIBS_CAPNG = $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null)
LIBS_SECCOMP = $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null)
# zlib: CRC-32 for snapshot files (common/snapshot.c).
LIBS_ZLIB = $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null)
# libsmartcols: guestctl's tables (cli/output.c).
LIBS_SMARTCOLS = $(shell $(PKG_CONFIG) --libs smartcols 2>/dev/null)
# The launcher is linked statically: it is executed in an empty root,
# where no dynamic loader or shared library can be found.
LDLIBS_LAUNCHER = -static -pthread $(shell $(PKG_CONFIG) --static --libs json-c libseccomp zlib 2>/dev/null)
LDLIBS_DAEMON = -pthread $(LIBS_SYSTEMD) $(LIBS_JSON) $(LIBS_CAPNG) $(LIBS_SECCOMP) $(LIBS_ZLIB)
LDLIBS_CLI = $(LIBS_SYSTEMD) $(LIBS_JSON) $(LIBS_SMARTCOLS)
LDLIBS_ALL = -pthread $(LIBS_SYSTEMD) $(LIBS_JSON) $(LIBS_CAPNG) $(LIBS_SECCOMP) $(LIBS_ZLIB)

.PHONY: all check check-smoke check-vm check-unit check-integration check-linux demo bench bench-suspend bench-pagetables report install uninstall deb clean deps help fuzz guests
all: deps-check programs guests

# ---------------------------------------------------------------- deps
# Debian packages the build, tests, demo and benchmarks need. `make deps`
# installs the missing ones (as root, or through sudo). qemu-system-x86 is
# the QEMU the comparisons and benchmarks run; the nested test VM runs
# Debian 12's backport of QEMU 10, which tests/vm/run-in-vm.sh fetches and
# unpacks into its cache (7.2 brings the libraries it needs).
# acpica-tools: iasl, which launcher/test-acpi runs on the ACPI tables.
# dpkg-dev, debhelper, lintian: make deb. groff-base: tests/test-manpages.sh.
# zsh, fish: tests/test-completion.sh runs their completions.
# universal-ctags: tests/test-structure.sh (function lengths).
# libsmartcols-dev (util-linux): guestctl's tables (cli/output.c).
# systemd-container (machined, machinectl), polkitd: tests/test-systemd-host.sh,
# in the nested VM that boots this machine's own systemd.
DEB_PACKAGES := gcc clang make pkg-config libsystemd-dev libjson-c-dev libcap-ng-dev \
	libseccomp-dev zlib1g-dev dbus qemu-system-x86 cpio lz4 bc flex bison libelf-dev libssl-dev \
	linux-source-6.1 xz-utils libclang-rt-14-dev iproute2 util-linux python3 systemd acpica-tools \
	dpkg-dev debhelper lintian groff-base zsh fish systemd-container polkitd universal-ctags \
	libsmartcols-dev
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing missing Debian packages:" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
deps-check:
	@command -v $(PKG_CONFIG) >/dev/null || { echo "$(PKG_CONFIG) is missing: run 'make deps' first" >&2; exit 1; }

# ---------------------------------------------------------------- libraries
NOT_LIB := $(wildcard */test-*.c */*/test-*.c */fuzz-*.c */*/fuzz-*.c) launcher/main.c daemon/main.c
COMMON_SRC := $(filter-out $(NOT_LIB),$(wildcard common/*.c))
KMOD_SRC := $(filter-out $(NOT_LIB),$(wildcard kmod/*.c))
LAUNCHER_SRC := $(filter-out $(NOT_LIB),$(wildcard launcher/*.c launcher/devices/*.c))
DAEMON_SRC := $(filter-out $(NOT_LIB),$(wildcard daemon/*.c))
CLI_SRC := $(filter-out $(NOT_LIB),$(wildcard cli/*.c))

obj = $(patsubst %.c,$(B)/%.o,$(1))
$(B)/libcommon.a: $(call obj,$(COMMON_SRC))
$(B)/libkmod.a: $(call obj,$(KMOD_SRC))
$(B)/liblauncher.a: $(call obj,$(LAUNCHER_SRC))
$(B)/libdaemon.a: $(call obj,$(DAEMON_SRC))
$(B)/%.a:
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ---------------------------------------------------------------- programs
PROGRAMS := $(B)/guestd-launcher $(if $(DAEMON_SRC),$(B)/guestd) $(if $(CLI_SRC),$(B)/guestctl)
programs: $(PROGRAMS)
$(B)/guestd-launcher: $(B)/launcher/main.o $(B)/liblauncher.a $(B)/libkmod.a $(B)/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LAUNCHER)
$(B)/guestd: $(B)/daemon/main.o $(B)/libdaemon.a $(B)/libkmod.a $(B)/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_DAEMON)
$(B)/guestctl: $(call obj,$(CLI_SRC)) $(B)/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_CLI)

# ---------------------------------------------------------------- unit tests
UNIT_SRC := $(wildcard common/test-*.c kmod/test-*.c launcher/test-*.c launcher/devices/test-*.c daemon/test-*.c cli/test-*.c)
UNIT_BINS := $(patsubst %.c,$(B)/unit/%,$(notdir $(UNIT_SRC)))
UNIT_LIBS := $(B)/liblauncher.a $(if $(DAEMON_SRC),$(B)/libdaemon.a) $(B)/libkmod.a $(B)/libcommon.a
vpath test-%.c common kmod launcher launcher/devices daemon cli
$(B)/unit/%: $(B)/unit/%.o $(UNIT_LIBS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
$(B)/unit/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
.PRECIOUS: $(B)/unit/%.o

# ---------------------------------------------------------------- guests
# Freestanding test payloads (tests/guests/), PVH ELF so QEMU boots them too.
include tests/guests/guests.mk
include tests/guests/ends/ends.mk

# ---------------------------------------------------------------- fuzzing
# libFuzzer targets (clang): `make fuzz` runs each for FUZZ_SECONDS and
# keeps any crashing input under tests/fuzz/regress/<target>/, where
# `make check` replays it (and each seed corpus) with any compiler through
# tests/fuzz/replay.c. See tests/fuzz/README.md.
FUZZ_TARGETS := virtqueue protocol config policy snapshot
FUZZ_SRC_virtqueue := launcher/devices/fuzz-virtqueue.c launcher/devices/virtqueue.c launcher/memory.c
FUZZ_SRC_protocol := common/fuzz-protocol.c common/protocol.c common/protocol-body.c common/fdpass.c
FUZZ_SRC_config := daemon/fuzz-config.c daemon/config.c
FUZZ_SRC_policy := daemon/fuzz-policy.c daemon/policy.c
FUZZ_SRC_snapshot := common/fuzz-snapshot.c common/snapshot.c
FUZZ_COMMON := common/util.c common/log.c
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS := $(patsubst %,build/fuzz/fuzz-%,$(FUZZ_TARGETS))
REPLAY_BINS := $(patsubst %,$(B)/fuzz/replay-%,$(FUZZ_TARGETS))
.SECONDEXPANSION:
build/fuzz/fuzz-%: $$(FUZZ_SRC_$$*) $(FUZZ_COMMON)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASEFLAGS) $(PKG_CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_ZLIB)
$(B)/fuzz/replay-%: tests/fuzz/replay.c $$(FUZZ_SRC_$$*) $(FUZZ_COMMON)
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(PKG_CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_ZLIB)
fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

# ---------------------------------------------------------------- check
# The Debian package's file (the deb rule is below): tests/test-systemd-host.sh
# installs it, so check and check-vm depend on it. Defined here, before
# those rules, because make expands a rule's prerequisites as it reads it.
DEB_VERSION := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
DEB_FILE := build/deb/guestd_$(DEB_VERSION)_amd64.deb
DEB_INPUTS := $(shell find . \( -path ./build -o -path ./.git \) -prune -o -type f -print)
TEST_HELPERS := $(B)/tests/launcher-harness $(B)/tests/bus-call $(B)/tests/bus-watch $(B)/tests/seccomp-errno $(B)/tests/fake-logind \
	$(B)/tests/fake-polkit $(B)/tests/fake-machined $(B)/tests/fuse-hang $(B)/tests/hostile-launcher
check: all $(UNIT_BINS) $(TEST_HELPERS) $(REPLAY_BINS) $(DEB_FILE)
	@B=$(B) tests/run-tests.sh $(UNIT_BINS)

# The smoke suite: every unit test (those that start guests in the nested
# test VM where /dev/kvm is missing) and a few integration tests that
# start real guests through the real daemon and CLI, in one boot. CI runs
# it with the second compiler (clang), the whole suite with gcc (.ci/run).
SMOKE_TESTS ?= test-launcher-exits test-launcher-devices test-launcher-suspend test-daemon-lifecycle
check-smoke: all $(UNIT_BINS) $(TEST_HELPERS)
	@B=$(B) ONLY="$(SMOKE_TESTS)" tests/run-tests.sh $(UNIT_BINS)

# The unit tests that need neither KVM nor a bus (debian/rules runs these).
check-unit: $(UNIT_BINS)
	@B=$(B) tests/run-tests.sh --units-only $(UNIT_BINS)

# The tests that start guests, in the nested test VM even where /dev/kvm
# exists (a PVM host cannot run Linux user space; the VM's KVM is stock).
check-vm: all $(UNIT_BINS) $(TEST_HELPERS) $(REPLAY_BINS) $(DEB_FILE)
	@B=$(B) GUESTD_TEST_VM=1 tests/run-tests.sh $(UNIT_BINS)

check-linux: all
	@B=$(B) tests/linux/check-linux.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) tests/demo.sh

bench: all $(B)/bench/measure
	@B=$(B) bench/bench.sh
	@B=$(B) bench/bench-suspend.sh
	@B=$(B) bench/bench-pagetables.sh
bench-suspend: all
	@B=$(B) bench/bench-suspend.sh
bench-pagetables: all
	@B=$(B) bench/bench-pagetables.sh

# The security figures (tests/REPORT.md): hostile guests and users, the
# sandbox, FUZZ_SECONDS of each fuzz target.
report: all $(TEST_HELPERS) $(FUZZ_BINS)
	@B=$(B) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/report.sh

# The files `make install` writes, as DIRECTORY/NAME=SOURCE MODE; `make
# uninstall` removes the same list. The unit is made from its .in with
# the installed paths; the policy is written only where none exists.
INSTALL_FILES = \
	$(SBINDIR)/guestd=$(B)/guestd:0755 \
	$(BINDIR)/guestctl=$(B)/guestctl:0755 \
	$(LIBEXECDIR)/guestd-launcher=$(B)/guestd-launcher:0755 \
	$(MANDIR)/man1/guestctl.1=cli/guestctl.1:0644 \
	$(MANDIR)/man8/guestd.8=daemon/guestd.8:0644 \
	$(MANDIR)/man8/guestd-launcher.8=launcher/guestd-launcher.8:0644 \
	$(MANDIR)/man5/guestd-policy.json.5=policy/guestd-policy.json.5:0644 \
	$(MODPROBEDIR)/guestd-kvm.conf=kmod/guestd-kvm.conf:0644 \
	$(DBUSDIR)/system.d/org.guestd1.conf=dbus/org.guestd1.conf:0644 \
	$(DBUSDIR)/system-services/org.guestd1.service=dbus/org.guestd1.service:0644 \
	$(DBUSDIR)/interfaces/org.guestd1.xml=dbus/org.guestd1.xml:0644 \
	$(POLKITACTIONSDIR)/org.guestd1.policy=policy/org.guestd1.policy:0644 \
	$(LOGINDCONFDIR)/guestd.conf=packaging/logind-guestd.conf:0644 \
	$(TMPFILESDIR)/guestd.conf=packaging/tmpfiles-guestd.conf:0644 \
	$(DATADIR)/bash-completion/completions/guestctl=packaging/completion/guestctl.bash:0644 \
	$(DATADIR)/zsh/vendor-completions/_guestctl=packaging/completion/_guestctl:0644 \
	$(DATADIR)/fish/vendor_completions.d/guestctl.fish=packaging/completion/guestctl.fish:0644
LOCKDOWN_RULES = $(UDEVRULESDIR)/72-guestd-kvm-lockdown.rules
UNIT = $(SYSTEMDUNITDIR)/guestd.service
POLICY = $(SYSCONFDIR)/guestd/policy.json

install: programs
	@set -e; for f in $(INSTALL_FILES); do \
		dest=$${f%%=*}; src=$${f#*=}; mode=$${src##*:}; src=$${src%:*}; \
		install -D -m $$mode $$src $(DESTDIR)$$dest; echo "  $(DESTDIR)$$dest"; \
	done
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' packaging/guestd.service.in >$(DESTDIR)$(UNIT)
	chmod 0644 $(DESTDIR)$(UNIT)
	@# /dev/kvm root-only: the admin's opt-in (kmod/72-guestd-kvm-lockdown.rules).
	@if [ "$(KVM_LOCKDOWN)" = 1 ]; then \
		install -D -m 0644 kmod/72-guestd-kvm-lockdown.rules $(DESTDIR)$(LOCKDOWN_RULES); echo "  $(DESTDIR)$(LOCKDOWN_RULES)"; \
	else \
		echo "Not installing kmod/72-guestd-kvm-lockdown.rules: /dev/kvm stays as the host has it (make install KVM_LOCKDOWN=1 keeps it to guestd)."; \
	fi
	@if [ -e $(DESTDIR)$(POLICY) ]; then \
		echo "Keeping $(DESTDIR)$(POLICY) (policy/policy.json is the shipped one)"; \
	else \
		install -D -m 0644 policy/policy.json $(DESTDIR)$(POLICY); echo "  $(DESTDIR)$(POLICY)"; \
	fi

# The Debian package (debian/), built from a copy of the tree under
# build/deb/ (dpkg-buildpackage cleans its tree and writes beside it), then
# checked by lintian. The .deb lands in build/deb/.
# Built again when anything in the tree has changed (DEB_FILE, above check).
deb: $(DEB_FILE)
$(DEB_FILE): $(DEB_INPUTS)
	rm -rf build/deb && mkdir -p build/deb/guestd
	tar --exclude=./build --exclude=./.git -cf - . | tar -C build/deb/guestd -xf -
	cd build/deb/guestd && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --info build/deb/guestd_*.changes
	@ls build/deb/*.deb

# Removes what install wrote; a policy an admin changed stays.
uninstall:
	@for f in $(INSTALL_FILES); do dest=$${f%%=*}; rm -fv $(DESTDIR)$$dest; done
	rm -fv $(DESTDIR)$(UNIT) $(DESTDIR)$(LOCKDOWN_RULES)
	@if [ -e $(DESTDIR)$(POLICY) ] && ! cmp -s $(DESTDIR)$(POLICY) policy/policy.json; then \
		echo "Keeping $(DESTDIR)$(POLICY): it differs from the shipped policy"; \
	else \
		rm -fv $(DESTDIR)$(POLICY); rmdir $(DESTDIR)$(SYSCONFDIR)/guestd 2>/dev/null || true; \
	fi
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	rm -rf build

help:
	@echo "make [all]      build programs and guest payloads (into $(B))"
	@echo "make deps       install missing Debian packages"
	@echo "make check      run the whole test suite (unit + integration)"
	@echo "make check-unit the unit tests that need neither KVM nor a bus"
	@echo "make check-smoke  every unit test and a few guest tests (SMOKE_TESTS), one VM boot"
	@echo "make check-vm   the tests that start guests, in the nested test VM (tests/vm/)"
	@echo "make check-linux  build a tiny Linux kernel and boot it"
	@echo "make demo       boot the demo guest"
	@echo "make bench      benchmarks against QEMU, see bench/RESULTS.md"
	@echo "make bench-suspend  suspend and resume against QEMU's migrate (part of make bench)"
	@echo "make bench-pagetables  shadow page-table caps and pressure (part of make bench)"
	@echo "make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 60)"
	@echo "make report     security figures into tests/REPORT.md (hostile tests, fuzzing)"
	@echo "make install    install under PREFIX=$(PREFIX) DESTDIR=$(DESTDIR); KVM_LOCKDOWN=1: /dev/kvm root-only"
	@echo "make uninstall  remove what make install wrote (a changed policy stays)"
	@echo "make deb        the Debian package (debian/) into build/deb/, checked by lintian"
	@echo "                WERROR=1: warnings are errors (CI); CFLAGS, CPPFLAGS, LDFLAGS, PKG_CONFIG honoured"
	@echo "make clean      remove build/"

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)

$(B)/bench/measure: bench/measure.c
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# A D-Bus client that names the errors it gets (tests/test-daemon-hostile-bus.sh).
$(B)/tests/bus-call: $(B)/tests/bus-call.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SYSTEMD)

# Prints every signal that reaches a listener (tests/test-daemon-confidentiality.sh).
$(B)/tests/bus-watch: $(B)/tests/bus-watch.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SYSTEMD)

# A FUSE mount that never answers (tests/test-daemon-availability.sh).
$(B)/tests/fuse-hang: $(B)/tests/fuse-hang.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

# Stands in for systemd-logind on a test bus (tests/test-daemon-shutdown.sh).
$(B)/tests/fake-logind: $(B)/tests/fake-logind.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SYSTEMD)

# Stands in for polkitd on a test bus (tests/test-daemon-polkit.sh).
$(B)/tests/fake-polkit: $(B)/tests/fake-polkit.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SYSTEMD)

# Stands in for systemd-machined, and systemd's scopes, on a test bus
# (tests/test-daemon-machined.sh).
$(B)/tests/fake-machined: $(B)/tests/fake-machined.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SYSTEMD)

# Runs a command with one system call answered by an error: getrandom()
# as before the entropy pool is ready (tests/test-launcher-no-entropy.sh),
# clone3() as under systemd's RestrictNamespaces=
# (tests/test-daemon-restrict-namespaces.sh).
$(B)/tests/seccomp-errno: $(B)/tests/seccomp-errno.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SECCOMP)

# A launcher taken over by its guest, run by guestd in the real one's place
# (tests/test-daemon-hostile-launcher.sh): static, as it runs in the
# launcher's empty root.
$(B)/tests/hostile-launcher: $(B)/tests/hostile-launcher.o $(B)/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LAUNCHER)

# Plays guestd's side of the launcher protocol (tests/test-launcher-control.sh).
$(B)/tests/launcher-harness: $(B)/tests/launcher-harness.o $(B)/libkmod.a $(B)/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_ZLIB)
