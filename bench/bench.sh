#!/usr/bin/env bash
# make bench: guestd-launcher side by side with QEMU microvm on the same
# payload files. Writes bench/RESULTS.md (the table and the command).
# Needs /dev/kvm and qemu-system-x86_64; run as root (standalone launcher).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${B:?}"
RUNS=${RUNS:-20}
OUT=${BENCH_OUT:-bench/RESULTS.md}
L=$B/guestd-launcher
G=$B/guests
M=$B/bench/measure
TMP=$(mktemp -d /tmp/guestd-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[ -c /dev/kvm ] || { echo "bench: /dev/kvm is missing" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "bench: qemu-system-x86_64 is missing (make deps)" >&2; exit 1; }

QEMU=(qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -m 64 -nodefaults -no-user-config -nographic
      -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -global virtio-mmio.force-legacy=false)

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rows=()
row() { rows+=("| $1 | $2 | $3 | $4 |"); echo "$1: guestd-launcher $2, QEMU $3, ratio $4"; }

# 1. start-to-exit of hello, and peak RSS.
ours=$("$M" -n "$RUNS" -- "$L" --kernel "$G/hello.elf" --memory 64)
theirs=$("$M" -n "$RUNS" -e 1 -- "${QEMU[@]}" -kernel "$G/hello.elf")
[ "$(field failures "$ours")" = 0 ] && [ "$(field failures "$theirs")" = 0 ] || { echo "bench: hello failed: $ours / $theirs" >&2; exit 1; }
a=$(field median_ms "$ours"); b=$(field median_ms "$theirs")
row "hello start-to-exit, median of $RUNS (ms)" "$a" "$b" "$(ratio "$a" "$b")"
a=$(field max_rss_kib "$ours"); b=$(field max_rss_kib "$theirs")
row "hello peak RSS, whole process (KiB)" "$a" "$b" "$(ratio "$a" "$b")"
"$L" --kernel "$G/hello.elf" --memory 64 --stats >/dev/null 2>"$TMP/stats"
own=$(sed -n 's/.*launcher_peak_rss_kib=\([0-9]*\).*/\1/p' "$TMP/stats")
row "hello peak RSS excluding guest RAM (KiB)" "$own" "n/a (QEMU's guest RAM is anonymous memory, not separable)" "-"

# 2. 1 MiB on the serial port: count prints "count N\n" lines.
lines=$(awk 'BEGIN { n = 0; bytes = 0; while (bytes < 1048576) { bytes += length("count " n) + 1; n++ } print n }')
ours=$("$M" -n 3 -o "$TMP/serial.out" -- "$L" --kernel "$G/count.elf" --memory 64 --cmdline "count.delay=0 count.max=$lines")
bytes=$(wc -c <"$TMP/serial.out")
theirs=$("$M" -n 3 -e 1 -- "${QEMU[@]}" -kernel "$G/count.elf" -append "count.delay=0 count.max=$lines")
a=$(field median_ms "$ours"); b=$(field median_ms "$theirs")
row "print $lines lines ($bytes bytes) on COM1, median of 3 (ms)" "$a" "$b" "$(ratio "$a" "$b")"

# 3. virtio-blk write + flush + read back.
sectors=${BLK_SECTORS:-8192}
truncate -s $((sectors * 512)) "$TMP/disk"
ours=$("$M" -n 3 -- "$L" --kernel "$G/blk.elf" --memory 64 --disk "$TMP/disk" --cmdline "blk.sectors=$sectors")
theirs=$("$M" -n 3 -e 1 -- "${QEMU[@]}" -kernel "$G/blk.elf" -append "blk.sectors=$sectors" \
        -drive file="$TMP/disk",if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0)
a=$(field median_ms "$ours"); b=$(field median_ms "$theirs")
mib=$(awk -v s="$sectors" 'BEGIN { printf "%.1f", s * 512 / 1048576 }')
row "blk: write $mib MiB, flush, read back, verify; median of 3 (ms)" "$a" "$b" "$(ratio "$a" "$b")"
row "  = write+flush+read throughput (MiB/s)" "$(awk -v m="$mib" -v t="$a" 'BEGIN { printf "%.2f", m / (t / 1000) }')" \
        "$(awk -v m="$mib" -v t="$b" 'BEGIN { printf "%.2f", m / (t / 1000) }')" "$(ratio "$b" "$a")"

# 4. Linux guests to user space (make check-linux's script): the tiny 6.1
# kernel's disk round trip and shell, Debian's packaged kernel's shell,
# under the launcher and QEMU microvm, in the same environment (the nested
# test VM where this machine cannot run Linux user space: see the label).
if [ -x tests/linux/check-linux.sh ] && [ "${BENCH_LINUX:-1}" = 1 ]; then
        if LINUX_TIMES_OUT="$TMP/linux" B=$B tests/linux/check-linux.sh >"$TMP/linux.log" 2>&1; then
                env=$(sed -n 's/^environment=//p' "$TMP/linux" | tr _ ' ')
                for k in $(sed -n 's/^\(launcher_[a-z0-9_]*\)=.*/\1/p' "$TMP/linux"); do
                        q=qemu_${k#launcher_}
                        a=$(sed -n "s/^$k=//p" "$TMP/linux"); b=$(sed -n "s/^$q=//p" "$TMP/linux")
                        case $k in
                        *_exit) row "Linux, ${k#launcher_} (exit status: 3 = reset for the launcher, 0 for QEMU -no-reboot)" \
                                "$a" "${b:-n/a}" "-" ;;
                        *) row "Linux, ${k#launcher_} (s), $env" "$a" "${b:-n/a}" "$(ratio "$a" "${b:-0}")" ;;
                        esac
                done
        else
                row "Linux guests (make check-linux)" "failed, see make check-linux" "" ""
        fi
fi

{
        echo "# Benchmarks"
        echo
        echo "guestd-launcher (standalone) against \`${QEMU[*]}\` on the same payload files."
        echo "Ratio = guestd-launcher / QEMU (lower is better), except throughput (QEMU time / ours: higher is better)."
        echo
        echo "Made by \`make bench\` (\`B=$B bench/bench.sh\`) on $(date -u +%Y-%m-%d), $(uname -r), $(nproc) cores,"
        echo "$(qemu-system-x86_64 --version | head -1). The host's KVM emulates guest kernel mode (see HOST-KVM.md),"
        echo "so guest CPU work is slow for both alike."
        echo
        echo "| measure | guestd-launcher | QEMU microvm | ratio |"
        echo "|---|---|---|---|"
        printf '%s\n' "${rows[@]}"
        echo
        cat bench/NOTES.md 2>/dev/null || true
} >"$OUT"
echo "Wrote $OUT"
B=$B BENCH_OUT=$OUT bench/bench-daemon.sh
