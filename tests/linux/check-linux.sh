#!/bin/bash
# guestd: `make check-linux`. Real Linux guests, with a user space, under
# guestd-launcher, then the same under QEMU's microvm for comparison, and
# the tiny kernel's shell through guestd as an unprivileged user.
#
#   1. tiny vmlinux (PVH entry, 2 vCPUs, 8 MiB virtio-blk disk): the kernel
#      finds COM1, the disk with its exact size and its MBR partition, both
#      CPUs; /init (busybox, tests/linux/init) writes a block to the raw
#      disk, syncs, drops the cache, reads it back and prints its SHA-256;
#      the guest resets (reboot -f, i8042: status 3). The block is then
#      checked in the disk image on the host.
#   2. tiny LZ4 bzImage (Linux boot protocol): to its busybox shell; a
#      command typed on the console runs and answers; `reboot -f` ends it.
#   3. Debian's packaged kernel (the one the nested test VM boots, an XZ
#      bzImage) with the same initramfs: to the shell, the same way.
#   4. Debian's kernel with ACPI (--acpi; its initramfs has its virtio,
#      ext4, button and evdev modules): it finds the virtio-blk disk in
#      the DSDT (not on its command line), mounts the ext2 file system on
#      it, writes a file, reads it back; its dmesg has no ACPI warning or
#      error; at its shell, `poweroff -f` ends the launcher through the
#      ACPI sleep registers ("guest powered off (ACPI S5)", status 0). The
#      file is then read from the image on the host, and e2fsck finds the
#      file system clean.
#   5. The same under `qemu-system-x86_64 -M microvm,acpi=off` (3 with
#      acpi=on, for the time to the shell and to the power-off).
#   6. tests/linux/guestd-shell.sh: guestctl create/start of the tiny
#      kernel as a test user, the shell prompt on its console, a command
#      typed through `guestctl console`, `guestctl stop`; then a shell
#      loop writing to an ext2 disk, suspended and resumed through guestd
#      (the loop goes on, e2fsck finds the file system clean); then
#      Debian's kernel with ACPI and the same disk: `guestctl stop`
#      presses the power button and the guest powers itself off.
#
# Linux user space needs a stock KVM. Where /dev/kvm is missing, or is
# PVM's (which cannot run guest user space), or with GUESTD_TEST_VM=1, the
# kernel is built here and everything else runs in the nested test VM
# (tests/vm/run-in-vm.sh), and the output says so.
#
# Exit status: 0 all passed, 1 failure (reasons printed). Environment:
#   B                  build directory holding guestd-launcher (required)
#   LINUX_TIMES_OUT    file to write the measured times to, key=value lines
#   LINUX_BOOT_TIMEOUT seconds a boot may take (default 240)
#   LINUX_SKIP_QEMU=1  skip the QEMU comparison
#   LINUX_KEEP=1       keep the work directory (logs, disk) even on success
set -u
export LC_ALL=C # EPOCHREALTIME with a decimal point

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
: "${B:?B must name the build directory, e.g. B=build/gcc}"
export B
launcher=$B/guestd-launcher
limit=${LINUX_BOOT_TIMEOUT:-240}

# ------------------------------------------------------------ kernels
build_start=$EPOCHREALTIME
if ! kernel_info=$(tests/linux/build-kernel.sh); then
	echo "check-linux: building the kernel failed"
	exit 1
fi
build_seconds=$(awk -v a="$build_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
vmlinux='' bzimage='' initramfs=''
while IFS='=' read -r k v; do
	case $k in
	vmlinux) vmlinux=$v ;;
	bzimage) bzimage=$v ;;
	initramfs) initramfs=$v ;;
	esac
done <<<"$kernel_info"
for f in "$vmlinux" "$bzimage" "$initramfs"; do
	if [ -z "$f" ] || [ ! -f "$f" ]; then
		echo "check-linux: build-kernel.sh gave no usable outputs"
		exit 1
	fi
done
debian_kernel=$(tests/vm/run-in-vm.sh --prepare | sed -n 's/^kernel=//p')
debian_package=$(tests/vm/run-in-vm.sh --prepare | sed -n 's/^kernel_package=//p')
debian_modules=$(tests/vm/run-in-vm.sh --prepare | sed -n 's/^guest_modules=//p')
[ -f "$debian_kernel" ] || { echo "check-linux: cannot get Debian's kernel (tests/vm/run-in-vm.sh --prepare)"; exit 1; }

# ------------------------------------------------------------ where
if [ "${GUESTD_IN_VM:-0}" != 1 ]; then
	why=
	if [ ! -c /dev/kvm ]; then
		why="this machine has no /dev/kvm"
	elif [ -d /sys/module/kvm_pvm ]; then
		why="this machine's KVM is PVM, which cannot run Linux user space"
	elif [ "${GUESTD_TEST_VM:-0}" = 1 ]; then
		why="GUESTD_TEST_VM=1"
	fi
	if [ -n "$why" ]; then
		echo "check-linux: kernels built (${build_seconds} s); the boots run in the nested test VM ($why)"
		vmout=$(mktemp /tmp/guestd-check-linux-vm.XXXXXX)
		tests/vm/run-in-vm.sh -- env LINUX_TIMES_PRINT=1 tests/linux/check-linux.sh 2>&1 | tee "$vmout"
		rc=${PIPESTATUS[0]}
		# The VM's TCG CPU can freeze (tests/vm/run-in-vm.sh: no sign of
		# life, status 125), which says nothing of the boots: seen once
		# in CI while QEMU's microvm booted Debian's kernel inside it.
		# Once, and loudly, the whole run again; a second freeze fails.
		if [ "$rc" = 125 ] && grep -q '^run-in-vm: the VM froze' "$vmout"; then
			echo "check-linux: THE NESTED TEST VM FROZE (above); running every boot once more in a new VM"
			tests/vm/run-in-vm.sh -- env LINUX_TIMES_PRINT=1 tests/linux/check-linux.sh 2>&1 | tee "$vmout"
			rc=${PIPESTATUS[0]}
		fi
		if [ -n "${LINUX_TIMES_OUT:-}" ]; then
			{ sed -n 's/^check-linux-time: //p' "$vmout"; echo "kernel_build_s=$build_seconds"; } >"$LINUX_TIMES_OUT"
		fi
		rm -f "$vmout"
		exit "$rc"
	fi
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "check-linux: no read/write access to /dev/kvm (run as root)"
	exit 1
fi
where="on this machine's KVM"
[ "${GUESTD_IN_VM:-0}" = 1 ] && where="in the nested test VM (Debian's $(uname -r), TCG)"
echo "check-linux: booting $where"

failures=()
fail() { failures+=("$*"); echo "FAIL: $*"; }

work=$(mktemp -d /tmp/guestd-check-linux.XXXXXX) || exit 1
disk=$work/disk.img
truncate -s 8M "$disk" || exit 1
disk_blocks=16384 # 8 MiB in 512-byte sectors: what the guest must report
# An MBR with one Linux partition (type 0x83, sectors 2048-16383). The
# kernel's partition scan reads sector 0 through virtio-blk and logs
# " vda: vda1" only if the data arrived intact, not just the size.
{
	printf '\x00\x00\x02\x00\x83\xfe\xff\xff' # not bootable, CHS (unused), type, CHS
	printf '\x00\x08\x00\x00\x00\x38\x00\x00' # first LBA 2048, 14336 sectors
} | dd of="$disk" bs=1 seek=446 conv=notrunc status=none || exit 1
printf '\x55\xaa' | dd of="$disk" bs=1 seek=510 conv=notrunc status=none || exit 1

# The tiny kernel's command line avoids instructions PVM's emulator lacks
# (harmless on a stock KVM); reboot=k: reset through the i8042.
tiny_cmdline="console=ttyS0 earlyprintk=serial noxsave mitigations=off"
tiny_cmdline+=" clearcpuid=smap,smep,fsgsbase,pcid,invpcid,rdrand,rdseed,pku,umip,popcnt"
tiny_cmdline+=" panic=-1 reboot=k"
debian_cmdline="console=ttyS0 panic=-1 reboot=k"

# Debian's kernel's initramfs: the same one, and a second cpio archive
# after it (the kernel unpacks both) with its modules.
debian_initramfs=$work/initramfs-debian.cpio
if [ ! -f "$debian_modules/order" ]; then
	fail "Debian's kernel's modules are missing (tests/vm/run-in-vm.sh --prepare: guest_modules=$debian_modules)"
else
	mkdir -p "$work/dm/lib/modules/guestd"
	cp "$debian_modules"/* "$work/dm/lib/modules/guestd/"
	{ cat "$initramfs"; (cd "$work/dm" && find . | cpio -o -H newc --quiet); } >"$debian_initramfs" ||
		fail "cannot write $debian_initramfs"
	rm -rf "$work/dm"
fi
fs_blocks=32768 # 16 MiB in 512-byte sectors

times=()
record() { times+=("$1=$2"); }

# ------------------------------------------------------------ sessions
# A boot is a session: the VMM runs under a timeout with its console
# on a FIFO we write to and a pipe we read, each line timestamped into
# $work/NAME.log.
#   session_start NAME COMMAND...
#   session_expect PATTERN [SECONDS]   wait for a console line matching
#                       PATTERN (extended regex); sets $at (seconds since
#                       start); 1 if the VMM ended or time ran out first
#   session_send TEXT   type TEXT and Enter on the console
#   session_end [SECONDS]  wait for the VMM to end (default 30 s, then it
#                       is killed); sets $rc, $wall_total
session_start() {
	name=$1
	shift
	log=$work/$name.log
	: >"$log"
	rm -f "$work/$name.in"
	mkfifo "$work/$name.in"
	exec {in_fd}<>"$work/$name.in"
	t0=${EPOCHREALTIME/./}
	session_partial=
	exec {out_fd}< <(exec timeout -k 5 "$limit" "$@" <&$in_fd 2>&1)
	session_pid=$!
	ended=0
}
# session_read: the VMM's next line of output into $line. 0: a whole
# line; 1: none within a second (what came of a line so far is kept for the
# next call: under TCG the console can stall in the middle of a line, and
# half a line logged as one would match nothing); 2: the output ended,
# $line is what came after its last newline (maybe nothing).
session_partial=
session_read() {
	local part= r
	if IFS= read -r -t 1 part <&"$out_fd"; then
		line=$session_partial$part
		session_partial=
		line=${line%$'\r'}
		return 0
	else
		r=$?
	fi
	session_partial+=$part
	[ $r -gt 128 ] && return 1
	line=${session_partial%$'\r'}
	session_partial=
	return 2
}
# session_log R: $line into the log after the time since the start; when
# R is 2 (the output ended in the middle of a line: a suspend can stop the
# guest there) without a newline, so that boot_suspend can join it with
# what the resumed guest prints next.
session_log() {
	now=$(( ${EPOCHREALTIME/./} - t0 ))
	printf '%4d.%03d %s' $((now / 1000000)) $((now / 1000 % 1000)) "$line" >>"$log"
	[ "$1" = 2 ] || echo >>"$log"
}
session_expect() {
	local pattern=$1 secs=${2:-$limit} line now deadline r
	deadline=$(( ${EPOCHREALTIME/./} + secs * 1000000 ))
	while [ $ended = 0 ]; do
		session_read
		r=$?
		[ $r = 2 ] && ended=1
		now=$(( ${EPOCHREALTIME/./} - t0 ))
		if [ $r != 1 ] && [ -n "$line" ]; then
			session_log $r
			if [[ $line =~ $pattern ]]; then
				at=$(printf '%d.%02d' $((now / 1000000)) $((now / 10000 % 100)))
				return 0
			fi
		fi
		[ $(( now + t0 )) -lt $deadline ] || return 1
	done
	return 1
}
session_send() {
	printf '%s\n' "$1" >&"$in_fd"
}
session_end() {
	local secs=${1:-30} line now r
	# Read what is left until the VMM closes its output or time runs out.
	local deadline=$(( ${EPOCHREALTIME/./} + secs * 1000000 ))
	while [ $ended = 0 ] && [ ${EPOCHREALTIME/./} -lt $deadline ]; do
		session_read
		r=$?
		[ $r = 2 ] && ended=1
		if [ $r != 1 ] && [ -n "$line" ]; then
			session_log $r
		fi
	done
	# Time ran out in the middle of a line: what came of it.
	if [ $ended = 0 ] && [ -n "$session_partial" ]; then
		line=$session_partial
		session_partial=
		session_log 2
	fi
	[ $ended = 1 ] || kill -TERM "$session_pid" 2>/dev/null
	exec {in_fd}>&- {out_fd}<&-
	wait "$session_pid"
	rc=$?
	[ $ended = 1 ] || rc=timeout
	now=$(( ${EPOCHREALTIME/./} - t0 ))
	wall_total=$(printf '%d.%02d' $((now / 1000000)) $((now / 10000 % 100)))
}

show_tail() {
	echo "  --- last lines of $log (seconds since start, console) ---"
	tail -n 25 "$log" | sed 's/^/  | /'
}

# need NAME PATTERN WHAT: a line matching PATTERN must be in the log.
need() {
	grep -qE -- "$2" "$log" || { fail "$1: $3"; return 1; }
}

# check_kernel_lines NAME VCPUS DISK: what the kernel must have found.
check_kernel_lines() {
	local name=$1 ok=0
	need "$name" 'ttyS0 at I/O 0x3f8 \(irq = 4' "no 'ttyS0 at I/O 0x3f8 (irq = 4' line (COM1 not found)" || ok=1
	if [ "$3" = 1 ]; then
		need "$name" "virtio_blk virtio[0-9]+: \[vda\] $disk_blocks 512-byte logical blocks" \
			"no 'virtio_blk ... [vda] $disk_blocks 512-byte logical blocks' line (disk not found or wrong size)" || ok=1
		need "$name" '\] +vda: vda1$' "no ' vda: vda1' line (the partition table on the disk not read intact)" || ok=1
	fi
	if [ "$2" -gt 1 ]; then
		need "$name" "smp: Brought up 1 node, $2 CPUs" "no 'smp: Brought up 1 node, $2 CPUs' line (secondary CPUs not started)" || ok=1
	fi
	return $ok
}

summary=()
# note_time NAME KEY SECONDS
note_time() { record "${1}_$2" "$3"; }

# boot_disk NAME COMMAND...: the disk round trip (tiny kernel only), with
# the block made from $seed (on the command line too).
boot_disk() {
	local name=$1 ok=0 want got init_at='' done_at=''
	shift
	session_start "$name" "$@"
	if ! session_expect 'guestd-init: user space runs'; then
		fail "$name: /init never ran"
		ok=1
	else
		init_at=$at
		note_time "$name" init_wall_s "$at"
		if ! session_expect 'guestd-init: (disk round trip ok|FAILED)' 120 ||
			! grep -q 'guestd-init: disk round trip ok' "$log"; then
			fail "$name: the disk round trip did not finish: $(grep -m1 'guestd-init: FAILED' "$log" | sed -E 's/^ *[0-9.]+ //')"
			ok=1
		else
			done_at=$at
			note_time "$name" disk_done_wall_s "$at"
		fi
	fi
	session_end 60
	note_time "$name" total_wall_s "$wall_total"
	note_time "$name" exit "$rc"
	check_kernel_lines "$name" "$vcpus" 1 || ok=1
	# The block, read on the host from the image the guest wrote.
	want=$(sed -nE 's/.*guestd-init: writing sector 2048 \(sha256 ([0-9a-f]{64})\).*/\1/p' "$log" | head -n 1)
	got=$(dd if="$disk" bs=512 skip=2048 count=1 status=none | sha256sum | cut -d' ' -f1)
	if [ -z "$want" ]; then
		ok=1
	elif [ "$got" != "$want" ]; then
		fail "$name: sector 2048 of the image has sha256 $got, the guest wrote $want"
		ok=1
	elif ! dd if="$disk" bs=512 skip=2048 count=1 status=none | head -n 1 | grep -q "^guestd block $seed line 000"; then
		fail "$name: sector 2048 of the image does not hold this boot's block (seed $seed)"
		ok=1
	fi
	summary+=("$(printf '%-18s /init at %7s s, disk round trip done at %7s s (%s), ended after %7s s (status %s)' \
		"$name" "${init_at:-never}" "${done_at:-never}" "$([ $ok = 0 ] && echo ok || echo FAILED)" "$wall_total" "$rc")")
	return $ok
}

# shell_answers_then NAME COMMAND: at the shell, a command whose answer
# the shell computes (the echo of what we typed has the expression, not
# the number); once answered, sets shell_at and types COMMAND.
shell_answers_then() {
	session_send 'echo guestd-shell-$((6 * 7)) $(uname -s)'
	if ! session_expect 'guestd-shell-42 Linux' 60; then
		fail "$1: the shell did not answer a command typed on the console"
		return 1
	fi
	shell_at=$at
	note_time "$1" shell_wall_s "$at"
	session_send "$2"
}

# boot_shell NAME COMMAND...: to the shell, a command, reboot -f.
boot_shell() {
	local name=$1 ok=0 shell_at=''
	shift
	session_start "$name" "$@"
	if ! session_expect 'guestd-init: starting a shell'; then
		fail "$name: the shell never started"
		ok=1
	else
		shell_answers_then "$name" 'reboot -f' || ok=1
	fi
	session_end 60
	note_time "$name" total_wall_s "$wall_total"
	note_time "$name" exit "$rc"
	summary+=("$(printf '%-18s shell answered at %7s s, ended after %7s s (status %s)' \
		"$name" "${shell_at:-never}" "$wall_total" "$rc")")
	return $ok
}

# boot_files NAME IMAGE COMMAND...: Debian's kernel with ACPI (the command
# has guestd.mode=files and guestd.seed=$seed): the disk found through
# ACPI, the file round trip, no ACPI complaint in dmesg, the shell, then
# `poweroff -f`. The file is read on the host from IMAGE afterwards.
boot_files() {
	local name=$1 image=$2 ok=0 shell_at='' problems got
	shift 2
	session_start "$name" "$@"
	if ! session_expect 'guestd-init: (file round trip ok|FAILED)' ||
		! grep -q 'guestd-init: file round trip ok' "$log"; then
		fail "$name: the file round trip did not finish: $(grep -m1 'guestd-init: FAILED' "$log" | sed -E 's/^ *[0-9.]+ //')"
		ok=1
	else
		note_time "$name" files_wall_s "$at"
		session_expect 'guestd-init: ACPI warnings and errors in dmesg: ' 30
		problems=$(sed -nE 's/.*guestd-init: ACPI warnings and errors in dmesg: ([0-9]+).*/\1/p' "$log")
		if [ "$problems" != 0 ]; then
			fail "$name: the kernel logged ACPI warnings or errors (${problems:-no count}): $(sed -nE 's/.*guestd-init: dmesg: //p' "$log" | head -n 5 | tr '\n' '|')"
			ok=1
		fi
		if ! session_expect 'guestd-init: starting a shell' 30; then
			fail "$name: the shell never started"
			ok=1
		else
			shell_answers_then "$name" 'poweroff -f' || ok=1
		fi
	fi
	session_end 60
	note_time "$name" total_wall_s "$wall_total"
	note_time "$name" exit "$rc"
	# With ACPI (and no legacy PIC) GSI 4 is not Linux's IRQ 4: any
	# interrupt, not 0 (polled).
	need "$name" 'ttyS0 at I/O 0x3f8 \(irq = [1-9]' "no 'ttyS0 at I/O 0x3f8 (irq = N' line (COM1 not found in the DSDT, or without its interrupt)" || ok=1
	need "$name" "virtio_blk virtio[0-9]+: \[vda\] $fs_blocks 512-byte logical blocks" \
		"no 'virtio_blk ... [vda] $fs_blocks 512-byte logical blocks' line (the disk not found through ACPI)" || ok=1
	got=$(debugfs -R "cat /guestd-file" "$image" 2>/dev/null)
	[ "$got" = "guestd file $seed" ] || { fail "$name: /guestd-file in the image holds '$got', not 'guestd file $seed'"; ok=1; }
	e2fsck -fn "$image" >"$work/$name.fsck" 2>&1 || { fail "$name: e2fsck finds the file system damaged: $(tail -n 3 "$work/$name.fsck" | tr '\n' '|')"; ok=1; }
	summary+=("$(printf '%-18s shell answered at %7s s, powered off after %7s s (status %s), file round trip %s' \
		"$name" "${shell_at:-never}" "$wall_total" "$rc" "$([ $ok = 0 ] && echo ok || echo FAILED)")")
	return $ok
}

# boot_suspend NAME COMMAND...: (vcpus, disk: as in COMMAND) the disk round trip with a suspend in the
# middle (guestd-launcher only): the guest writes its block and syncs,
# then ticks five times a second (guestd.wait); at its fourth tick the
# launcher gets SIGUSR2 and suspends (status 8); resumed from the snapshot
# it goes on ticking from the next number, reads the block back and ends.
# The host checks the block, as for boot_disk.
boot_suspend() {
	local name=$1 ok=0 first last want got
	shift
	session_start "$name" "$@" --snapshot "$work/$name.snap" \
		--cmdline "$tiny_cmdline guestd.mode=disk guestd.seed=$seed guestd.wait=6"
	if ! session_expect 'guestd-init: tick 3$'; then
		fail "$name: the guest never reached its ticks"
		ok=1
	fi
	pkill -USR2 -P "$session_pid" -x guestd-launcher
	session_end 60
	[ "$rc" = 8 ] || { fail "$name: the suspend ended with status $rc, wanted 8"; ok=1; }
	mv "$log" "$work/$name-1.log"
	session_start "$name" "$launcher" --memory 128 --console stdio --vcpus "$vcpus" --disk "$disk" --resume "$work/$name.snap"
	session_expect 'guestd-init: (disk round trip ok|FAILED)' 120 || { fail "$name: no end of the round trip after the resume"; ok=1; }
	session_end 60
	[ "$rc" = 3 ] || { fail "$name: the resumed guest ended with status $rc, wanted 3"; ok=1; }
	grep -q 'guestd-init: disk round trip ok' "$log" || { fail "$name: the round trip failed after the resume"; ok=1; }
	grep -q 'guestd-init: user space runs' "$log" && { fail "$name: the resumed guest booted again"; ok=1; }
	# The ticks: consecutive across the suspend, none twice, none missed.
	# The console as the guest wrote it: without the times, the first log's
	# last line (cut by the suspend, without a newline) joined to the next.
	if ! { sed -E 's/^ *[0-9]+\.[0-9]{3} //' "$work/$name-1.log"; sed -E 's/^ *[0-9]+\.[0-9]{3} //' "$log"; } |
		sed -nE 's/.*guestd-init: tick ([0-9]+)$/\1/p' |
		awk '$1 != n { exit 1 } { n++ } END { exit n == 30 ? 0 : 1 }'; then
		fail "$name: the ticks did not go on from where the suspend stopped them"
		ok=1
	fi
	want=$(sed -nE 's/.*guestd-init: writing sector 2048 \(sha256 ([0-9a-f]{64})\).*/\1/p' "$work/$name-1.log" | head -n 1)
	got=$(dd if="$disk" bs=512 skip=2048 count=1 status=none | sha256sum | cut -d' ' -f1)
	[ -n "$want" ] && [ "$got" = "$want" ] || { fail "$name: sector 2048 of the image is not the block the guest wrote"; ok=1; }
	cat "$work/$name-1.log" "$log" >"$work/$name.both" && mv "$work/$name.both" "$log"
	summary+=("$(printf '%-18s suspended at its 4th tick, resumed, round trip %s' "$name" "$([ $ok = 0 ] && echo ok || echo FAILED)")")
	return $ok
}

# expect_status NAME RC: the VMM's exit status. guestd-launcher reports
# the i8042 reset as 3; QEMU (-no-reboot) exits 0 on the guest's reset.
expect_status() {
	[ "$rc" = "$2" ] || { fail "$1: ended with status $rc, wanted $2 (reset by reboot -f)"; return 1; }
}

# ------------------------------------------------------------ guestd-launcher
if [ ! -x "$launcher" ]; then
	fail "launcher: $launcher is not built"
else
	L=("$launcher" --initrd "$initramfs" --memory 128 --console stdio)
	name=launcher_vmlinux vcpus=2
	echo "booting the tiny vmlinux (PVH, $vcpus vCPUs) under guestd-launcher: disk round trip"
	seed=$RANDOM$RANDOM
	boot_disk $name "${L[@]}" --kernel "$vmlinux" --vcpus $vcpus --disk "$disk" \
		--cmdline "$tiny_cmdline guestd.mode=disk guestd.seed=$seed" || show_tail
	expect_status $name 3 || show_tail
	name=launcher_suspend vcpus=2
	echo "the tiny vmlinux ($vcpus vCPUs) under guestd-launcher, suspended between its disk write and read, resumed"
	seed=$RANDOM$RANDOM
	boot_suspend $name "${L[@]}" --kernel "$vmlinux" --vcpus $vcpus --disk "$disk" || show_tail
	name=launcher_bzimage vcpus=1
	echo "booting the tiny LZ4 bzImage under guestd-launcher: to the shell"
	boot_shell $name "${L[@]}" --kernel "$bzimage" --cmdline "$tiny_cmdline guestd.mode=shell" || show_tail
	check_kernel_lines $name 1 0 || show_tail
	expect_status $name 3 || show_tail
	name=launcher_debian
	echo "booting Debian's $debian_package under guestd-launcher: to the shell"
	boot_shell $name "${L[@]}" --memory 256 --kernel "$debian_kernel" --cmdline "$debian_cmdline guestd.mode=shell" || show_tail
	check_kernel_lines $name 1 0 || show_tail
	expect_status $name 3 || show_tail
	name=launcher_debian_acpi
	echo "booting Debian's $debian_package with ACPI under guestd-launcher: the disk through ACPI, a file, the shell, poweroff"
	seed=$RANDOM$RANDOM
	mkfs.ext2 -q -F "$work/$name.img" 16M
	boot_files $name "$work/$name.img" "$launcher" --initrd "$debian_initramfs" --memory 256 --console stdio --acpi \
		--disk "$work/$name.img" --kernel "$debian_kernel" \
		--cmdline "$debian_cmdline guestd.mode=files guestd.seed=$seed" || show_tail
	[ "$rc" = 0 ] || { fail "$name: ended with status $rc, wanted 0 (powered off)"; show_tail; }
	need $name 'guest powered off \(ACPI S5\)' "the launcher did not say 'guest powered off (ACPI S5)'" || show_tail
	if grep -q 'virtio_mmio.device=' "$log"; then
		fail "$name: virtio_mmio.device= on the command line: with ACPI the disk must be found in the DSDT alone"
	fi
fi

# ------------------------------------------------------------ QEMU
qemu=qemu-system-x86_64
if [ "${LINUX_SKIP_QEMU:-0}" = 1 ]; then
	echo "QEMU comparison skipped (LINUX_SKIP_QEMU=1)"
elif ! command -v $qemu >/dev/null; then
	fail "QEMU comparison: $qemu is not installed (make deps; LINUX_SKIP_QEMU=1 skips it)"
else
	# microvm has no i8042: reboot=t (a triple fault) resets it instead,
	# which -no-reboot turns into QEMU's exit. (With reboot=k the kernel
	# falls back to a real-mode BIOS restart that spins for minutes.)
	qemu_tiny_cmdline=${tiny_cmdline/reboot=k/reboot=t}
	qemu_debian_cmdline=${debian_cmdline/reboot=k/reboot=t}
	Q=($qemu -M microvm,acpi=off -enable-kvm -m 128 -nodefaults -no-user-config
		-display none -monitor none -serial stdio -no-reboot -initrd "$initramfs")
	name=qemu_vmlinux vcpus=2
	echo "booting the tiny vmlinux under QEMU microvm: disk round trip"
	seed=$RANDOM$RANDOM
	boot_disk $name "${Q[@]}" -smp $vcpus -kernel "$vmlinux" \
		-drive "file=$disk,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0 \
		-append "$qemu_tiny_cmdline guestd.mode=disk guestd.seed=$seed" || show_tail
	expect_status $name 0 || show_tail
	name=qemu_bzimage
	echo "booting the tiny LZ4 bzImage under QEMU microvm: to the shell"
	boot_shell $name "${Q[@]}" -kernel "$bzimage" -append "$qemu_tiny_cmdline guestd.mode=shell" || show_tail
	expect_status $name 0 || show_tail
	name=qemu_debian
	echo "booting Debian's $debian_package under QEMU microvm: to the shell"
	boot_shell $name "${Q[@]}" -m 256 -kernel "$debian_kernel" -append "$qemu_debian_cmdline guestd.mode=shell" || show_tail
	expect_status $name 0 || show_tail
	name=qemu_debian_acpi
	echo "booting Debian's $debian_package under QEMU microvm with ACPI: the same"
	seed=$RANDOM$RANDOM
	mkfs.ext2 -q -F "$work/$name.img" 16M
	boot_files $name "$work/$name.img" $qemu -M microvm,acpi=on -enable-kvm -m 256 -nodefaults -no-user-config \
		-display none -monitor none -serial stdio -no-reboot -initrd "$debian_initramfs" -kernel "$debian_kernel" \
		-drive "file=$work/$name.img,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0 \
		-append "$qemu_debian_cmdline guestd.mode=files guestd.seed=$seed" || show_tail
	expect_status $name 0 || show_tail
fi

# ------------------------------------------------------------ guestd
echo "the tiny kernel's shell, and suspend/resume of a loop writing to ext2, through guestd, as an unprivileged user (tests/linux/guestd-shell.sh)"
if LINUX_VMLINUX=$vmlinux LINUX_BZIMAGE=$bzimage LINUX_INITRAMFS=$initramfs \
	LINUX_DEBIAN_KERNEL=$debian_kernel LINUX_DEBIAN_INITRAMFS=$debian_initramfs \
	LINUX_CMDLINE="$tiny_cmdline guestd.mode=shell" bash tests/linux/guestd-shell.sh >"$work/guestd.log" 2>&1; then
	sed 's/^/  /' "$work/guestd.log" | grep -E '^  (ok|SKIP)' | tail -n 40
else
	fail "guestd: the shell through guestctl (tests/linux/guestd-shell.sh)"
	tail -n 40 "$work/guestd.log" | sed 's/^/  | /'
fi

# ------------------------------------------------------------ results
echo
echo "kernel build: ${build_seconds} s; boots $where:"
for s in "${summary[@]}"; do echo "  $s"; done
record kernel_build_s "$build_seconds"
record environment "${where// /_}"
if [ -n "${LINUX_TIMES_OUT:-}" ]; then
	printf '%s\n' "${times[@]}" >"$LINUX_TIMES_OUT" || echo "check-linux: cannot write $LINUX_TIMES_OUT"
fi
# In the nested VM nothing written here reaches the host: the times go
# out on stdout, for the check-linux.sh that started the VM.
[ "${LINUX_TIMES_PRINT:-0}" = 1 ] && printf 'check-linux-time: %s\n' "${times[@]}"

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "check-linux: FAILED (${#failures[@]}):"
	printf '  - %s\n' "${failures[@]}"
	echo "logs kept in $work"
	exit 1
fi
echo "check-linux: all boots passed"
if [ "${LINUX_KEEP:-0}" = 1 ]; then
	echo "logs kept in $work"
else
	rm -rf "$work"
fi
exit 0
