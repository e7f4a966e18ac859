#!/bin/bash
# guestd: the nested test VM. Runs one command with a real, stock /dev/kvm,
# in this same tree, on any machine that has QEMU, with or without KVM of
# its own.
#
#   tests/vm/run-in-vm.sh [OPTIONS] [--] COMMAND [ARG...]
#     --memory MiB     the VM's memory (default 4096)
#     --cpus N         its CPUs (default 1: see "One CPU" below)
#     --npt 0|1        0: kvm-amd npt=0, so KVM shadows all guest memory,
#                      kernel mode included (default 1)
#     --no-entropy     a CPU without RDRAND and no random.trust_cpu (6.1
#                      still had its pool ready by the first command here:
#                      tests/seccomp-errno is the dependable way to test that)
#     --timeout S      end the VM after S seconds (default 3600)
#     --stall S        end it when it has shown no sign of life for S
#                      seconds (default 120): it froze
#     --console        show the VM's kernel console on stderr as it comes,
#                      with all its messages (quiet otherwise)
#     --systemd        boot the host's systemd as PID 1 in the VM (a real
#                      system bus, logind, polkitd and machined, started as
#                      on a host) and run the command as a service once
#                      the bus and logind are up
#   tests/vm/run-in-vm.sh --prepare
#     fetch what the VM needs, print "kernel=PATH", "kernel_package=NAME"
#     and "busybox=PATH" (Debian's kernel and static busybox, which the
#     Linux guest tests boot too), "qemu=PATH" and "qemu_version=V" (the
#     VM's QEMU), and exit
#
# What it does: QEMU 10 (TCG, no host KVM needed; Debian 12's backport,
# see "QEMU" below) boots Debian's own kernel,
# the one Debian 12's linux-image-amd64 depends on, with a CPU that has SVM
# and NPT, so that kernel's own kvm.ko and kvm-amd.ko give a /dev/kvm. The
# host's / is shared read-only over 9p with a tmpfs overlay on top (the
# initramfs's /init, tests/vm/init, sets that up), so the command runs in
# the same tree, with the same programs, as root, in the same directory,
# with the same environment. Nothing it writes reaches the host except its
# output. The tree may be anywhere (/tmp, /run, a name with spaces): the
# VM's init binds the command's directory at its own path before the
# VM's /run is mounted or its systemd empties /tmp (tests/vm/init); only
# a name with a newline in it is refused. Build on the host: compiling under TCG is slow.
#
# The command's stdout and stderr come back as it runs, and its exit status
# is this script's. When the VM itself fails (the kernel panics, it hangs
# past --timeout, freezes past --stall, KVM does not load) the end of its
# console, its CPU's registers (QEMU's monitor) and the last list of its
# processes (written every 20 s to io/ps in the work directory,
# /tmp/guestd-vm.*, where it can be read while the VM runs) are printed and
# the status is 125. Everything is cleaned up on every path.
#
# One CPU: with two, QEMU's emulated SVM (TCG, one thread per CPU) breaks
# the VM's kernel while many guests are started and killed. QEMU 7.2: both
# CPUs in soft lockups within minutes (tests/test-daemon-hostile-bus.sh's
# flood), or a panic "corrupted stack end detected inside scheduler" in a
# guestd-launcher thread. QEMU 10: a one-vCPU `count` guest triple-faulted,
# then the same panic, within 6 minutes of the suite (while the UART
# garbage that stalls one CPU, see below, ran three times unharmed on two).
# Neither is ours: the kernel stack is not the launcher's to write, and the
# same suite runs on one CPU. Guests with several vCPUs still run (their
# threads share the CPU).
#
# A limit of this VM: a guest that writes garbage to the UART's registers,
# interrupt enables included, while it runs with interrupts off
# (hostile-serial) stalls the VM's CPU, its timers included; a `timeout` in
# the VM then never fires. QEMU 7.2 and 10 alike: under 10, a 2 MiB flood
# with the garbage had not ended after 2.5 min of CPU in the VM (a few
# seconds on a host's KVM), then the VM's CPU halted and nothing woke it
# again. A data flood alone runs. Tests run the flood as data only here
# and say so (tests/lib.sh: serial_flood_cmdline).
#
# QEMU, the kernel and busybox (the initramfs's shell) come from Debian's
# packages, fetched with apt-get download on first use and kept under
# ${GUESTD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestd/vm}; nothing is
# installed on the host.
set -euo pipefail

memory=4096 cpus=1 npt=1 entropy=1 limit=3600 stall=120 show_console=0 prepare=0 systemd=0
usage() { sed -n '5,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--memory) memory=${2:?}; shift 2 ;;
	--cpus) cpus=${2:?}; shift 2 ;;
	--npt) npt=${2:?}; shift 2 ;;
	--no-entropy) entropy=0; shift ;;
	--timeout) limit=${2:?}; shift 2 ;;
	--stall) stall=${2:?}; shift 2 ;;
	--console) show_console=1; shift ;;
	--systemd) systemd=1; shift ;;
	--prepare) prepare=1; shift ;;
	--) shift; break ;;
	-*) echo "run-in-vm: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || [ $prepare = 1 ] || usage
case $npt in 0 | 1) ;; *) echo "run-in-vm: --npt takes 0 or 1" >&2; exit 2 ;; esac
for v in "$memory" "$cpus" "$limit" "$stall"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "run-in-vm: '$v' is not a positive number" >&2; exit 2; }
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GUESTD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestd/vm}
say() { echo "run-in-vm: $*" >&2; }
vm_fail() { say "$*"; exit 125; }

for tool in apt-get apt-cache dpkg-deb cpio sha256sum flock ldd; do
	command -v $tool >/dev/null || vm_fail "'$tool' is missing: run 'make deps'"
done

# Modules for KVM (AMD: the VM's CPU has SVM), the 9p shares over
# virtio-pci and the overlay, and FUSE (tests/fuse-hang), in the order they
# must be loaded.
MODULES="irqbypass kvm ccp kvm-amd virtio_ring virtio virtio_pci_modern_dev
virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay fuse"
# Modules for Debian's kernel as a guest (tests/linux/check-linux.sh packs
# them into its initramfs; --prepare says where): the virtio-mmio disk it
# finds through ACPI, ext4 (which mounts ext2), the ACPI power button and
# evdev to read it; in the order they must be loaded. Not loaded in the VM.
GUEST_MODULES="virtio_ring virtio virtio_mmio virtio_blk crc16 mbcache jbd2 crc32c_generic ext4 button evdev"

# ------------------------------------------------------------ kernel, busybox
# fetch PACKAGE DIR: apt-get download PACKAGE and unpack it into DIR.
fetch() {
	local pkg=$1 dir=$2 tmp
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	if ! (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
		say "apt-get download $pkg failed; updating the package lists"
		apt-get update -qq >/dev/null 2>&1 || true
		(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) ||
			{ rm -rf "$tmp"; vm_fail "cannot download Debian's $pkg"; }
	fi
	mkdir -p "$tmp/x"
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	rm -rf "$dir"
	mv "$tmp/x" "$dir"
	rm -rf "$tmp"
}

# ------------------------------------------------------------ QEMU
# The VM's QEMU: Debian 12's backport of QEMU 10 (bookworm-backports),
# fetched once with a private apt configuration under $cache/apt (the
# host's apt sources are not touched) and unpacked, never installed.
# Debian 12's own QEMU 7.2 freezes this VM: a guest vCPU that spins on a
# lock (PAUSE loop) while the VM runs its other vCPU's thread on the same
# CPU sometimes never lets the VM's timer interrupt through, so the lock
# holder never runs and nothing in the VM runs again (seen in about one
# boot in 20 of a 2-vCPU Linux guest; see --stall). QEMU 10 ran the same
# boots without it. The host's qemu-system-x86 (make deps) still provides
# the libraries and is the QEMU the comparisons and benchmarks use.
QEMU_PACKAGES="qemu-system-x86 qemu-system-common qemu-system-data seabios"
QEMU_SUITE=bookworm-backports
qemu_apt() {
	apt-get -o Dir::Etc::sourcelist="$cache/apt/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache" \
		-o APT::Get::List-Cleanup=0 "$@"
}
fetch_qemu() {
	local tmp p v
	mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${GUESTD_VM_MIRROR:-http://deb.debian.org/debian} $QEMU_SUITE main" \
		>"$cache/apt/sources.list"
	qemu_apt update -qq >/dev/null 2>&1 || vm_fail "cannot read the package lists of Debian's $QEMU_SUITE (apt-get update)"
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	for p in $QEMU_PACKAGES; do
		(cd "$tmp" && qemu_apt download "$p/$QEMU_SUITE" >/dev/null 2>&1) ||
			{ rm -rf "$tmp"; vm_fail "cannot download $p from Debian's $QEMU_SUITE"; }
	done
	mkdir -p "$tmp/x"
	for p in "$tmp"/*.deb; do dpkg-deb -x "$p" "$tmp/x"; done
	v=$(dpkg-deb -f "$tmp"/qemu-system-x86_*.deb Version)
	rm -rf "$cache/qemu"
	mv "$tmp/x" "$cache/qemu"
	rm -rf "$tmp"
	echo "$v" >"$cache/qemu/.version"
	touch "$cache/qemu/.complete"
}

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ ! -f "$cache/qemu/.complete" ]; then
	say "fetching QEMU from Debian's $QEMU_SUITE (first use; kept in $cache)"
	fetch_qemu
fi
qemu=$cache/qemu/usr/bin/qemu-system-x86_64
missing=$(ldd "$qemu" | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
[ -z "$missing" ] || vm_fail "the VM's QEMU ($qemu) needs libraries this machine lacks: $missing(make deps installs Debian's qemu-system-x86, which brings them)"
qemu_version=$(cat "$cache/qemu/.version")
# The kernel: the one linux-image-amd64 depends on, once; afterwards the
# cached one (no network, no surprise upgrade in the middle of a suite).
kpkg=$(cat "$cache/kernel-package" 2>/dev/null || true)
# A cache made with fewer modules is made again.
if [ -n "$kpkg" ] && [ -f "$cache/$kpkg/.complete" ]; then
	for m in $MODULES; do
		[ -f "$cache/$kpkg/modules/$m.ko" ] || { rm -f "$cache/$kpkg/.complete"; break; }
	done
	for m in $GUEST_MODULES; do
		[ -f "$cache/$kpkg/guest-modules/$m.ko" ] || { rm -f "$cache/$kpkg/.complete"; break; }
	done
fi
if [ -z "$kpkg" ] || [ ! -f "$cache/$kpkg/.complete" ]; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
	if [ -z "$kpkg" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
	fi
	[ -n "$kpkg" ] || vm_fail "cannot find which kernel linux-image-amd64 depends on (apt-cache)"
	if [ ! -f "$cache/$kpkg/.complete" ]; then
		say "fetching Debian's $kpkg (first use; kept in $cache)"
		fetch "$kpkg" "$cache/$kpkg.tmp"
		kdir=$cache/$kpkg.tmp
		mkdir -p "$kdir/vm/modules" "$kdir/vm/guest-modules"
		cp "$kdir"/boot/vmlinuz-* "$kdir/vm/vmlinuz"
		for m in $MODULES; do
			f=$(find "$kdir/lib/modules" -name "$m.ko" -print -quit)
			[ -n "$f" ] || vm_fail "$kpkg has no $m.ko"
			cp "$f" "$kdir/vm/modules/"
		done
		for m in $GUEST_MODULES; do
			f=$(find "$kdir/lib/modules" -name "$m.ko" -print -quit)
			[ -n "$f" ] || vm_fail "$kpkg has no $m.ko"
			cp "$f" "$kdir/vm/guest-modules/"
		done
		echo $GUEST_MODULES | tr ' ' '\n' >"$kdir/vm/guest-modules/order"
		# Keep only what the VM needs (the package unpacks to ~400 MB).
		mv "$kdir/vm" "$cache/$kpkg.vm"
		rm -rf "$kdir" "$cache/$kpkg"
		mv "$cache/$kpkg.vm" "$cache/$kpkg"
		touch "$cache/$kpkg/.complete"
	fi
	echo "$kpkg" >"$cache/kernel-package"
fi
kdir=$cache/$kpkg
if [ ! -f "$cache/busybox/.complete" ]; then
	say "fetching Debian's busybox-static (first use)"
	fetch busybox-static "$cache/busybox.tmp"
	mkdir -p "$cache/busybox"
	cp "$cache/busybox.tmp/bin/busybox" "$cache/busybox/busybox"
	rm -rf "$cache/busybox.tmp"
	touch "$cache/busybox/.complete"
fi

# The initramfs: busybox, the modules, tests/vm/init. Rebuilt when any
# of them changes.
ikey=$( { sha256sum "$here/init" "$cache/busybox/busybox" "$kdir"/modules/*.ko; echo "$MODULES"; } |
	sha256sum | cut -c1-16)
initramfs=$kdir/initramfs-$ikey.cpio
if [ ! -f "$initramfs" ]; then
	stage=$(mktemp -d "$cache/initramfs.XXXXXX")
	mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev"
	cp "$cache/busybox/busybox" "$stage/bin/busybox"
	cp "$kdir"/modules/*.ko "$stage/modules/"
	echo $MODULES | tr ' ' '\n' >"$stage/modules.order"
	install -m 0755 "$here/init" "$stage/init"
	rm -f "$kdir"/initramfs-*.cpio
	(cd "$stage" && find . | cpio -o -H newc --quiet) >"$initramfs.tmp"
	mv "$initramfs.tmp" "$initramfs"
	rm -rf "$stage"
fi
flock -u 9
exec 9>&-
if [ $prepare = 1 ]; then
	echo "kernel=$kdir/vmlinuz"
	echo "kernel_package=$kpkg"
	echo "guest_modules=$kdir/guest-modules"
	echo "busybox=$cache/busybox/busybox"
	echo "qemu=$qemu"
	echo "qemu_version=$qemu_version"
	exit 0
fi

# ------------------------------------------------------------ the command
work=$(mktemp -d /tmp/guestd-vm.XXXXXX)
qemu_pid='' tails=()
cleanup() {
	local p
	[ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null
	for p in "${tails[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir "$work/io"
# The command's directory, for the VM's init: it keeps that directory
# visible whatever the VM's boot mounts or empties (tests/vm/init).
[[ $PWD != *$'\n'* ]] || vm_fail "the current directory's name has a newline in it: the VM cannot be told where to run"
printf '%s' "$PWD" >"$work/io/cwd"
: >"$work/io/stdout"
: >"$work/io/stderr"
: >"$work/console.log"
mkfifo "$work/monitor.in" "$work/monitor.out"
# monitor COMMAND...: QEMU's answers to its monitor commands.
monitor() {
	local c
	for c; do printf '%s\n' "$c"; done >"$work/monitor.in"
	timeout 3 cat "$work/monitor.out" | tr -d '\r' | grep -v -e '^QEMU .* monitor' -e '^(qemu)' || true
}
{
	echo "# written by tests/vm/run-in-vm.sh"
	# Everything exported here, less what describes this shell or this
	# terminal, then the directory and the command.
	export -p | grep -vE '^declare -x (BASH_[A-Z_]*|SHLVL|OLDPWD|PWD|_|SHELL|TERM|TERMCAP|COLUMNS|LINES|SSH_[A-Z_]*|DISPLAY|XDG_RUNTIME_DIR|DBUS_SESSION_BUS_ADDRESS)(=|$)'
	echo "export GUESTD_IN_VM=1"
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$work/io/cmd.sh"

cpu=qemu64,+svm,+npt
klog="quiet loglevel=4"
[ $show_console = 1 ] && klog="loglevel=7"
append="console=ttyS0 panic=-1 $klog rdinit=/init guestd.npt=$npt norandmaps"
[ $systemd = 1 ] && append+=" guestd.systemd=1"
if [ $entropy = 1 ]; then
	cpu+=,+rdrand
	append+=" random.trust_cpu=on"
fi
tail -n +1 -s 0.2 -f "$work/io/stdout" &
tails+=($!)
tail -n +1 -s 0.2 -f "$work/io/stderr" >&2 &
tails+=($!)
if [ $show_console = 1 ]; then
	tail -n +1 -s 0.2 -f "$work/console.log" >&2 &
	tails+=($!)
fi

# TCG with one host thread per CPU; -no-reboot turns a panic (panic=-1
# reboots) into QEMU's exit.
QEMU_MODULE_DIR=$cache/qemu/usr/lib/x86_64-linux-gnu/qemu \
$qemu -L "$cache/qemu/usr/share/qemu" -L "$cache/qemu/usr/share/seabios" -accel tcg,thread=multi -cpu "$cpu" -smp "$cpus" -m "$memory" \
	-nodefaults -no-user-config -nographic -no-reboot -monitor pipe:"$work/monitor" \
	-serial "file:$work/console.log" \
	-kernel "$kdir/vmlinuz" -initrd "$initramfs" -append "$append" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$work/io,mount_tag=vmio,security_model=none,multidevs=remap" \
	</dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
# The VM's init writes its uptime to io/alive every 5 s. A VM that stops
# doing so for $stall s (or never starts to, within $stall s of boot) is
# frozen: nothing in it runs, its own timeouts included. Its CPU's state
# is taken from QEMU's monitor before it is ended.
start=$SECONDS
timed_out=0 frozen=0 cpu_state=''
while kill -0 "$qemu_pid" 2>/dev/null; do
	if [ $((SECONDS - start)) -ge "$limit" ]; then
		timed_out=1
	elif [ -f "$work/io/alive" ]; then
		[ $((EPOCHSECONDS - $(stat -c %Y "$work/io/alive"))) -lt "$stall" ] || frozen=1
	elif [ $((SECONDS - start)) -ge "$stall" ]; then
		frozen=1
	fi
	if [ $timed_out = 1 ] || [ $frozen = 1 ]; then
		cpu_state=$(monitor 'info registers -a' 'x/6i $pc')
		kill -KILL "$qemu_pid" 2>/dev/null
		break
	fi
	sleep 0.5
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=''
# Let the readers catch up with the last lines, then stop them.
sleep 0.5
for p in "${tails[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null || true
tails=()

if [ -f "$work/io/rc" ]; then
	exit "$(cat "$work/io/rc")"
fi
if [ $timed_out = 1 ]; then
	why="the VM did not finish within ${limit}s"
elif [ $frozen = 1 ]; then
	why="the VM froze: no sign of life from it for ${stall}s (io/alive)"
elif [ -s "$work/io/vm-error" ]; then
	why="the VM could not start the command: $(cat "$work/io/vm-error")"
elif grep -q 'Kernel panic' "$work/console.log"; then
	why="the VM's kernel panicked: $(grep -m1 'Kernel panic' "$work/console.log" | sed 's/^\[[^]]*\] //')"
else
	why="the VM ended without the command's exit status"
fi
{
	echo "run-in-vm: $why"
	echo "run-in-vm: --- the VM's console, last 60 lines"
	tail -n 60 "$work/console.log" | sed 's/^/  | /'
	[ -s "$work/qemu.log" ] && { echo "run-in-vm: --- QEMU"; sed 's/^/  | /' "$work/qemu.log"; }
	[ -n "$cpu_state" ] && { echo "run-in-vm: --- its CPU when it was ended (QEMU monitor; a guest's registers when in SVM guest mode)"; sed 's/^/  | /' <<<"$cpu_state"; }
	[ -s "$work/io/ps" ] && { echo "run-in-vm: --- processes in the VM, at most 20 s before its end"; sed 's/^/  | /' "$work/io/ps"; }
} >&2
exit 125
