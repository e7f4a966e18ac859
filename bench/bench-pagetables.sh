#!/usr/bin/env bash
# The shadow page-table budget: what a cap costs a guest (bench/pagetables.py:
# fixed caps of 64, 256 and 1024 pages against KVM's default, and QEMU on the
# same payload) and what guestd frees under memory pressure, how fast,
# against KVM's own shrinker and doing nothing (bench/pagetables-pressure.sh).
# Needs a KVM that shadows guest page tables: this host's where it does
# (PVM, npt=0, ept=0), else the nested test VM booted with kvm-amd npt=0.
# Writes the section "Shadow page tables" of bench/RESULTS.md (between its
# markers), with the command that made it. Run by `make bench`, or alone:
#   make bench-pagetables
set -euo pipefail
cd "$(dirname "$0")/.."
: "${B:?}"
OUT=${BENCH_OUT:-bench/RESULTS.md}
TMP=$(mktemp -d /tmp/guestd-bench-pagetables.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PY=/usr/bin/python3
both="B=$B RUNS=${RUNS:-3} $PY bench/pagetables.py && B=$B bash bench/pagetables-pressure.sh"

shadows() {
        [ -c /dev/kvm ] || return 1
        [ -d /sys/module/kvm_pvm ] && return 0
        grep -qx '[N0]' /sys/module/kvm_amd/parameters/npt 2>/dev/null && return 0
        grep -qx '[N0]' /sys/module/kvm_intel/parameters/ept 2>/dev/null
}
if shadows && [ "${GUESTD_TEST_VM:-0}" != 1 ]; then
        env="on this host's /dev/kvm, which shadows guest page tables"
        bash -c "$both" | tee "$TMP/out"
else
        env="in the nested test VM booted with kvm-amd npt=0 (tests/vm/run-in-vm.sh --npt 0: Debian's $(uname -m) 6.1 kernel's KVM under QEMU TCG, one CPU, shadowing every guest page table; this machine's KVM does not shadow or is missing)"
        tests/vm/run-in-vm.sh --npt 0 -- bash -c "$both" | tee "$TMP/out"
fi
grep -q '^row: | sparse' "$TMP/out" && grep -q '^prow: | guestd' "$TMP/out" || { echo "bench-pagetables: no results" >&2; exit 1; }

{
        echo "<!-- pagetables:begin (bench/bench-pagetables.sh writes this section) -->"
        echo "## Shadow page tables"
        echo
        echo "Made by \`make bench-pagetables\` (\`B=$B bench/bench-pagetables.sh\`) on $(date -u +%Y-%m-%d), $env,"
        echo "$(qemu-system-x86_64 --version | head -1)."
        echo
        echo "### What a cap costs"
        echo
        echo "memtouch in a 512 MiB guest (KVM's default cap: 2621 pages), every pass in user mode: *sparse* touches one page in"
        echo "each of 2048 page tables (\`memtouch.mib=16 memtouch.virt-mib=4096 memtouch.stride=512\`), *dense* every page of a"
        echo "256 MiB window over 16 MiB (128 page tables). guestd-launcher standalone with \`--mmu-pages N\` (a fixed cap; 1024"
        echo "is lguest's fixed pool), or none (KVM's default: doing nothing); QEMU microvm (\`-M microvm,acpi=off -enable-kvm\`)"
        echo "sets no cap. Pass: guest TSC cycles of one verify pass, median over ${RUNS:-3} runs of 5 passes. Peak: the most"
        echo "SecPageTables rose while the guest ran. Zapped: shadow pages KVM threw away in the run (\`mmu_recycled\` +"
        echo "\`mmu_shadow_zapped\`, median). Lower is better."
        echo
        echo "| payload | cap | pass (M cycles) | / KVM's default | QEMU pass (M cycles) | / QEMU | peak (KiB) | QEMU peak (KiB) | zapped |"
        echo "|---|---|---|---|---|---|---|---|---|"
        sed -n 's/^row: //p' "$TMP/out"
        echo
        echo "### What is freed under memory pressure, and how fast"
        echo
        echo "Three 512 MiB memtouch guests (sparse, two users) under guestd with a 4 MiB budget. SecPageTables (KiB) before,"
        echo "right after, and 5 s after, the guests running on. Time: from the pressure event (a write to the FIFO guestd watches)"
        echo "to the last launcher's answer that its cap is in force; for KVM's shrinker, the \`drop_caches\` write."
        echo
        echo "| method | before | right after | freed | time (ms) | 5 s later |"
        echo "|---|---|---|---|---|---|"
        sed -n 's/^prow: //p' "$TMP/out"
        echo
        echo "guestd's log of that cut:"
        echo
        sed -n 's/^log: guestd: /    /p' "$TMP/out"
        echo
        cat bench/NOTES-pagetables.md 2>/dev/null || true
        echo "<!-- pagetables:end -->"
} >"$TMP/section"

source bench/section.sh
replace_section pagetables "$TMP/section" "$OUT"
echo "Wrote the page-table section of $OUT"
