#!/bin/bash
# guestd: `make check-linux`. Builds (or reuses) the tiny Linux kernel of
# tests/linux/build-kernel.sh and boots it under $B/guestd-launcher, first
# the uncompressed vmlinux by its PVH entry, then the LZ4 bzImage by the
# Linux boot protocol, each with an initramfs and an 8 MiB virtio-blk disk.
# Then, for comparison, the same two kernels under QEMU's microvm machine.
#
# A boot passes when its console shows
#   - "serial8250: ttyS0 at I/O 0x3f8 (irq = 4, ..."   (COM1 found)
#   - "virtio_blk ...: [vda] 16384 512-byte logical blocks"
#                                  (virtio-mmio disk found, exact size)
#   - " vda: vda1"                 (its MBR read intact through virtio-blk)
#   - "Run /init as init process"  (the kernel finished booting)
#   - with two vCPUs (the vmlinux boots): "smp: Brought up 1 node, 2 CPUs",
#     the second CPU found through the launcher's MP table and started
# and the VMM ended by itself. On our development hosts the guest cannot run
# user space: it panics right after "Run /init", and panic=-1 makes it
# reboot at once, which guestd-launcher reports as exit status 3 (reset).
# QEMU hangs after the guest's emulation failure instead, so it is stopped
# one second after the line has been seen.
#
# Exit status: 0 all passed, 1 failure (reasons printed), 77 no usable
# /dev/kvm. Environment:
#   B                  build directory holding guestd-launcher (required)
#   LINUX_TIMES_OUT    file to write the measured times to, key=value lines
#   LINUX_BOOT_TIMEOUT seconds a boot may take (default 150)
#   LINUX_END_GRACE    seconds guestd-launcher may take to end after
#                      "Run /init" (default 30)
#   LINUX_SKIP_QEMU=1  skip the QEMU comparison
#   LINUX_KEEP=1       keep the work directory (logs, disk) even on success
set -u
export LC_ALL=C # EPOCHREALTIME with a decimal point

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
: "${B:?B must name the build directory, e.g. B=build/gcc}"
launcher=$B/guestd-launcher
limit=${LINUX_BOOT_TIMEOUT:-150}

if [ ! -e /dev/kvm ]; then
	echo "check-linux: /dev/kvm is missing: cannot boot a guest (skipped)"
	exit 77
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "check-linux: no read/write access to /dev/kvm (run as root or join group kvm) (skipped)"
	exit 77
fi

failures=()
fail() { failures+=("$*"); echo "FAIL: $*"; }

# ------------------------------------------------------------ kernel
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

cmdline="console=ttyS0 earlyprintk=serial noxsave mitigations=off"
cmdline+=" clearcpuid=smap,smep,fsgsbase,pcid,invpcid,rdrand,rdseed,pku,umip,popcnt"
cmdline+=" panic=-1"

times=()
record() { times+=("$1=$2"); }

# boot NAME STOP_AFTER_INIT COMMAND...: runs COMMAND under a timeout with
# its output timestamped into $work/NAME.log. Once "Run /init" has
# appeared, the command gets 1 more second if STOP_AFTER_INIT=1 (QEMU, which
# hangs after the guest's panic) and $grace seconds otherwise (a VMM that
# should end by itself), then it is terminated.
# Sets: rc, killed (1 if terminated that way), wall_init (s from start to
# "Run /init", empty if never), wall_total, log.
grace=${LINUX_END_GRACE:-30}
boot() {
	local name=$1 stop=$2 wait_s=$grace
	shift 2
	[ "$stop" = 1 ] && wait_s=1
	log=$work/$name.log
	: >"$log"
	wall_init=
	local t0=${EPOCHREALTIME/./} line now fd pid killer='' mark=$work/$name.killed
	rm -f "$mark"
	exec {fd}< <(exec timeout -k 5 "$limit" "$@" </dev/null 2>&1)
	pid=$!
	while IFS= read -r line <&"$fd" || [ -n "$line" ]; do
		now=$(( ${EPOCHREALTIME/./} - t0 ))
		line=${line%$'\r'}
		printf '%4d.%03d %s\n' $((now / 1000000)) $((now / 1000 % 1000)) "$line" >>"$log"
		if [ -z "$wall_init" ] && [[ $line == *"Run /init as init process"* ]]; then
			wall_init=$(printf '%d.%02d' $((now / 1000000)) $((now / 10000 % 100)))
			{ sleep "$wait_s"; : >"$mark"; kill -TERM "$pid"; } </dev/null >/dev/null 2>&1 &
			killer=$!
		fi
		line=
	done
	exec {fd}<&-
	wait "$pid"
	rc=$?
	if [ -n "$killer" ]; then
		kill "$killer" 2>/dev/null
		wait "$killer" 2>/dev/null
	fi
	killed=0
	[ -e "$mark" ] && killed=1
	now=$(( ${EPOCHREALTIME/./} - t0 ))
	wall_total=$(printf '%d.%02d' $((now / 1000000)) $((now / 10000 % 100)))
}

# kernel_time LOG PATTERN: the printk timestamp of the first matching line.
kernel_time() {
	grep -m1 -E "$2" "$1" | sed -nE 's/^ *[0-9.]+ \[ *([0-9]+\.[0-9]+)\].*/\1/p'
}

# check NAME: the three required lines in $log. Prints what is missing.
check_console() {
	local name=$1 ok=0
	grep -qE 'ttyS0 at I/O 0x3f8 \(irq = 4' "$log" ||
		{ fail "$name: no 'ttyS0 at I/O 0x3f8 (irq = 4' line (COM1 not found)"; ok=1; }
	grep -qE "virtio_blk virtio[0-9]+: \[vda\] $disk_blocks 512-byte logical blocks" "$log" || {
		if grep -qE 'virtio_blk .*512-byte logical blocks' "$log"; then
			fail "$name: disk size wrong: $(grep -m1 -oE 'virtio_blk .*logical blocks' "$log") (want $disk_blocks)"
		else
			fail "$name: no 'virtio_blk ... [vda] $disk_blocks 512-byte logical blocks' line (disk not found)"
		fi
		ok=1
	}
	grep -qE '^ *[0-9.]+ \[ *[0-9.]+\]  ?vda: vda1$' "$log" || {
		if grep -qE 'I/O error, dev vda|vda: unable to read partition table' "$log"; then
			fail "$name: reading the disk failed: $(grep -m1 -E 'I/O error, dev vda|vda: unable' "$log" | sed -E 's/^ *[0-9.]+ //')"
		else
			fail "$name: no ' vda: vda1' line (partition table on the disk not seen)"
		fi
		ok=1
	}
	grep -q 'Run /init as init process' "$log" ||
		{ fail "$name: no 'Run /init as init process' line (boot did not finish)"; ok=1; }
	if [ "$2" -gt 1 ]; then
		grep -q "smp: Brought up 1 node, $2 CPUs" "$log" ||
			{ fail "$name: no 'smp: Brought up 1 node, $2 CPUs' line (secondary CPUs not started)"; ok=1; }
	fi
	return $ok
}

show_tail() {
	echo "  --- last lines of $log (seconds since start, console) ---"
	tail -n 25 "$log" | sed 's/^/  | /'
}

exit_reason() {
	case $1 in
	0) echo "guest powered off" ;;
	1) echo "launcher error" ;;
	3) echo "guest requested a reset" ;;
	4) echo "triple fault" ;;
	5) echo "KVM internal error" ;;
	6) echo "guest failure" ;;
	124 | 137) echo "timed out after ${limit}s" ;;
	143) echo "terminated" ;;
	*) echo "exit status $1" ;;
	esac
}

summary=()
# report NAME REASON: records the times of the last boot for the summary.
report() {
	local name=$1 k_init k_blk
	k_init=$(kernel_time "$log" 'Run /init as init process')
	k_blk=$(kernel_time "$log" 'virtio_blk .*logical blocks')
	record "${name}_run_init_kernel_s" "${k_init:-none}"
	record "${name}_run_init_wall_s" "${wall_init:-none}"
	record "${name}_virtio_blk_kernel_s" "${k_blk:-none}"
	record "${name}_total_wall_s" "$wall_total"
	record "${name}_exit" "$rc"
	[ -n "$k_init" ] && k_init=$(printf '%.2f' "$k_init")
	summary+=("$(printf '%-16s Run /init at %6s s kernel time, %6s s wall; ended after %6s s: %s' \
		"$name" "${k_init:-never}" "${wall_init:-never}" "$wall_total" "$2")")
}

# ------------------------------------------------------------ guestd-launcher
if [ ! -x "$launcher" ]; then
	fail "launcher: $launcher is not built"
else
	for kind in vmlinux bzimage; do
		kernel=$vmlinux vcpus=2
		[ $kind = bzimage ] && kernel=$bzimage vcpus=1
		name=launcher_$kind
		echo "booting $kind with $vcpus vCPU(s) under guestd-launcher (up to ${limit}s)"
		boot "$name" 0 "$launcher" --kernel "$kernel" --initrd "$initramfs" \
			--cmdline "$cmdline" --memory 128 --vcpus $vcpus --disk "$disk" --console stdio
		reason=$(exit_reason $rc)
		[ $killed = 1 ] && reason="still running ${grace}s after Run /init, terminated"
		report "$name" "$reason"
		ok=0
		check_console "$name" $vcpus || ok=1
		if [ $killed = 1 ]; then
			fail "$name: guestd-launcher did not end within ${grace}s after the guest's panic (with panic=-1 the guest resets at once)"
			ok=1
		elif [ $rc = 3 ]; then
			: # the expected end: the panicking guest asked for a reset
		elif [ $rc = 0 ] || [ $rc = 4 ] || [ $rc = 5 ] || [ $rc = 6 ]; then
			echo "note: $name: guestd-launcher ended with exit status $rc ($reason), not 3 (reset)"
		else
			fail "$name: guestd-launcher ended with exit status $rc ($reason)"
			ok=1
		fi
		[ $ok = 0 ] || show_tail
	done
fi

# ------------------------------------------------------------ QEMU
qemu='qemu-system-x86_64'
if [ "${LINUX_SKIP_QEMU:-0}" = 1 ]; then
	echo "QEMU comparison skipped (LINUX_SKIP_QEMU=1)"
elif ! command -v $qemu >/dev/null; then
	echo "QEMU comparison skipped: $qemu is not installed (make deps)"
else
	for kind in vmlinux bzimage; do
		kernel=$vmlinux vcpus=2
		[ $kind = bzimage ] && kernel=$bzimage vcpus=1
		name=qemu_$kind
		echo "booting $kind with $vcpus vCPU(s) under QEMU microvm for comparison (up to ${limit}s)"
		boot "$name" 1 $qemu -M microvm,acpi=off -enable-kvm -m 128 -smp $vcpus -nodefaults \
			-no-user-config -nographic -serial stdio \
			-kernel "$kernel" -initrd "$initramfs" -append "$cmdline" \
			-drive "file=$disk,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0
		if [ $killed = 1 ]; then reason="stopped after Run /init"; else reason=$(exit_reason $rc); fi
		report "$name" "$reason"
		check_console "$name" $vcpus || show_tail
	done
fi

# ------------------------------------------------------------ results
echo
echo "kernel build: ${build_seconds} s ($(grep -q '^dir=' <<<"$kernel_info" && echo "outputs in $(sed -n 's/^dir=//p' <<<"$kernel_info")"))"
for s in "${summary[@]}"; do echo "  $s"; done
record kernel_build_s "$build_seconds"
if [ -n "${LINUX_TIMES_OUT:-}" ]; then
	printf '%s\n' "${times[@]}" >"$LINUX_TIMES_OUT" || echo "check-linux: cannot write $LINUX_TIMES_OUT"
fi

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
