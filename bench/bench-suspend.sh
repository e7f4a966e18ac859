#!/usr/bin/env bash
# Suspend and resume, guestd-launcher against QEMU microvm (migrate to a
# file and -incoming from it), for 64, 256 and 1024 MiB guests with half
# their RAM touched (bench/suspend.py). Where /dev/kvm is missing it runs
# in the nested test VM (tests/vm/run-in-vm.sh), and the section says so.
# Writes the section "Suspend and resume" of bench/RESULTS.md (between its
# markers), with the command that made it. Run by `make bench`, or alone:
#   make bench-suspend
set -euo pipefail
cd "$(dirname "$0")/.."
: "${B:?}"
OUT=${BENCH_OUT:-bench/RESULTS.md}
TMP=$(mktemp -d /tmp/guestd-bench-suspend.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PY=/usr/bin/python3

if [ -c /dev/kvm ] && [ "${GUESTD_TEST_VM:-0}" != 1 ]; then
        env="on this host's /dev/kvm"
        B=$B "$PY" bench/suspend.py | tee "$TMP/out"
else
        env="in the nested test VM (tests/vm/run-in-vm.sh: Debian's $(uname -m) 6.1 kernel's KVM under QEMU TCG, one CPU; this machine has no /dev/kvm)"
        # Guest RAM, QEMU's, and both snapshots on the VM's RAM-backed /.
        tests/vm/run-in-vm.sh --memory 6144 -- env B="$B" RUNS="${RUNS:-5}" "$PY" bench/suspend.py | tee "$TMP/out"
fi
grep -q '^row: ' "$TMP/out" || { echo "bench-suspend: no results" >&2; exit 1; }

{
        echo "<!-- suspend:begin (bench/bench-suspend.sh writes this section) -->"
        echo "## Suspend and resume"
        echo
        echo "Made by \`make bench-suspend\` (\`B=$B bench/bench-suspend.sh\`) on $(date -u +%Y-%m-%d), $env,"
        echo "$(qemu-system-x86_64 --version | head -1). The payload is memtouch writing and verifying half of the guest's RAM"
        echo "(\`memtouch.mib=RAM/2 memtouch.passes=0\`), suspended once its first pass has written it. guestd-launcher:"
        echo "\`--snapshot\` + SIGUSR2, then \`--resume\`; QEMU: \`-M microvm,acpi=off -enable-kvm\`, QMP \`stop\` and"
        echo "\`migrate exec:cat > FILE\` then an fsync of FILE (the launcher's snapshot is fdatasync'ed before it says"
        echo "suspended), and \`-incoming exec:cat FILE\` and \`cont\` once loaded, until QMP says it runs. Resume times are from starting the"
        echo "process, medians of ${RUNS:-5}. Ratio = guestd-launcher / QEMU, lower is better."
        echo
        echo "| measure | guestd-launcher | QEMU microvm | ratio |"
        echo "|---|---|---|---|"
        sed -n 's/^row: //p' "$TMP/out"
        echo
        cat bench/NOTES-suspend.md 2>/dev/null || true
        echo "<!-- suspend:end -->"
} >"$TMP/section"

source bench/section.sh
replace_section suspend "$TMP/section" "$OUT"
echo "Wrote the suspend section of $OUT"
