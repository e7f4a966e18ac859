#!/usr/bin/env bash
# Runs the unit test binaries given as arguments, then every integration
# test tests/test-*.sh, and ends with the line "N passed, N failed, N skipped".
# Exit status convention for a test: 0 pass, 77 skip (say why on stderr),
# anything else fail. Output of failing tests is shown; others are quiet
# unless V=1.
#
# Tests that start guests say so with a line "guestd-test: kvm" (a comment
# at the top of the script, or in the unit test's source). Where /dev/kvm
# is missing, or with GUESTD_TEST_VM=1 (make check-vm), those run inside
# one boot of the nested test VM (tests/vm/run-in-vm.sh), after all the
# others have run here; the output says so. Tests of the page-table budget
# need a KVM that shadows guest page tables ("guestd-test: kvm-shadow"):
# they run here on such a host (PVM, npt=0, ept=0, tdp_mmu=N), else in a
# second boot of the nested test VM with kvm-amd npt=0. A test that needs
# cgroup v2 ("guestd-test: cgroup") or KVM with NPT/EPT ("guestd-test:
# kvm-tdp") where this host has /dev/kvm but not that (a PVM host in a
# container) runs in a boot of the nested test VM of its own, never
# skipped for it (GUESTD_VM_ONLY lists them for the VM's run). Tests of the
# Debian package on a host where systemd is PID 1 ("guestd-test:
# systemd-host": they install and purge the package) run only in a boot of
# the nested test VM with the host's systemd as its PID 1, never on the
# machine itself, whatever it has. Where this machine has two CPUs or
# more, the npt=0 and systemd boots run one after the other beside the
# main one (each VM has one CPU), their output shown after it
# (GUESTD_VM_PARALLEL=0: all in turn). Environment: B
# (required), ONLY="PATTERN..." (integration tests whose path contains
# one of these words; make check-smoke),
# V=1, GUESTD_TEST_VM=1, GUESTD_VM_OPTIONS (extra run-in-vm.sh options),
# GUESTD_VM_PARALLEL=0|1,
# GUESTD_SKIP_SYSTEMD_HOST=REASON (the systemd-host tests are counted as
# skipped, with REASON: .ci/run's clang suite, since they install the
# .deb, which debian/rules builds with gcc whichever suite runs them).
#
#   tests/run-tests.sh [--kvm-only|--shadow-only|--systemd-only|--units-only] UNIT_BINARY...
#     --kvm-only     run only the tests that need KVM (what the VM runs)
#     --shadow-only  run only the tests that need shadow paging
#     --systemd-only run only the systemd-host tests (in the VM booted
#                    with systemd)
#     --units-only   run only the unit tests that do not need KVM (a
#                    package build: make check-unit)
set -u
cd "$(dirname "$0")/.."
: "${B:?B must name the build directory}"
export B
kvm_only=0 shadow_only=0 units_only=0 systemd_only=0
if [ "${1:-}" = --kvm-only ]; then kvm_only=1; shift; fi
if [ "${1:-}" = --units-only ]; then units_only=1; shift; fi
if [ "${1:-}" = --shadow-only ]; then kvm_only=1 shadow_only=1; shift; fi
if [ "${1:-}" = --systemd-only ]; then kvm_only=1 systemd_only=1; shift; fi
passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d /tmp/guestd-tests.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# needs_kvm FILE: FILE (a test script or a unit test's source) says it
# starts guests.
needs_kvm() {
        grep -q 'guestd-test: kvm' "$1" 2>/dev/null
}
needs_shadow() {
        grep -q 'guestd-test: kvm-shadow' "$1" 2>/dev/null
}
needs_systemd_host() {
        grep -q 'guestd-test: systemd-host' "$1" 2>/dev/null
}
# A test that needs cgroup v2 ("guestd-test: cgroup"), or KVM with NPT or
# EPT ("guestd-test: kvm-tdp"), where this host's KVM lacks it, runs in the
# nested test VM, which has both: never a skip for what the VM can do.
needs_cgroup() {
        grep -q 'guestd-test: cgroup' "$1" 2>/dev/null
}
needs_tdp() {
        grep -q 'guestd-test: kvm-tdp' "$1" 2>/dev/null
}
host_cgroup2() {
        [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]
}
# Whether this host's /dev/kvm shadows guest page tables (kmod/kvm-mmu.h).
host_shadows() {
        [ -c /dev/kvm ] || return 1
        [ -d /sys/module/kvm_pvm ] && return 0
        grep -qx '[N0]' /sys/module/kvm_amd/parameters/npt 2>/dev/null && return 0
        grep -qx '[N0]' /sys/module/kvm_intel/parameters/ept 2>/dev/null && return 0
        grep -qx '[N0]' /sys/module/kvm/parameters/tdp_mmu 2>/dev/null
}
unit_source() {
        local d
        for d in common kmod launcher launcher/devices policy daemon cli; do
                [ -f "$d/$1.c" ] && { echo "$d/$1.c"; return; }
        done
}

# Where the tests that need KVM run: here, or in the nested test VM.
if [ $kvm_only = 1 ]; then
        kvm_where=here
elif [ "${GUESTD_TEST_VM:-0}" = 1 ]; then
        kvm_where=vm
        kvm_why="make check-vm (GUESTD_TEST_VM=1)"
elif [ ! -c /dev/kvm ]; then
        kvm_where=vm
        kvm_why="this machine has no /dev/kvm"
else
        kvm_where=here
fi

run_one() {
        local name=$1; shift
        local log="$logdir/$(basename "$name").log" rc start end
        start=$(date +%s.%N)
        "$@" >"$log" 2>&1
        rc=$?
        end=$(date +%s.%N)
        local t
        t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')
        if [ $rc -eq 0 ]; then
                passed=$((passed + 1)); echo "PASS  $name ($t)"
                # A part that cannot run here says so: shown, never hidden.
                grep '^SKIP (part' "$log" | sort -u | sed 's/^/    /'
                [ "${V:-0}" = 1 ] && sed 's/^/    /' "$log"
        elif [ $rc -eq 77 ]; then
                skipped=$((skipped + 1)); echo "SKIP  $name: $(tail -n 1 "$log")"
        else
                failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name (exit $rc, $t)"
                # The failed checks first (a daemon test's log ends with
                # guestd's), then the end of the log.
                grep -E '^(FAIL|SKIP):' "$log" | head -n 20 | sed 's/^/    /'
                echo "    --- last lines of the test's output:"
                tail -n 30 "$log" | sed 's/^/    /'
        fi
}

# Decide for each test where it runs; run the ones for here now.
vm_units=() vm_tests=0
for t in "$@"; do
        kvm=0
        needs_kvm "$(unit_source "$(basename "$t")")" && kvm=1
        [ $systemd_only = 1 ] && continue
        [ $kvm_only = 1 ] && [ $kvm = 0 ] && continue
        if [ $units_only = 1 ] && [ $kvm = 1 ]; then
                skipped=$((skipped + 1))
                echo "SKIP  unit/$(basename "$t"): it starts guests (--units-only: make check runs it)"
                continue
        fi
        if [ $kvm = 1 ] && [ $kvm_where = vm ]; then vm_units+=("$t"); continue; fi
        run_one "unit/$(basename "$t")" "$t"
done
vm_shadow_tests=0 vm_systemd_tests=0 vm_routed=() vm_routed_why=()
for t in tests/test-*.sh; do
        [ $units_only = 1 ] && break
        [ -e "$t" ] || continue
        if [ -n "${ONLY:-}" ]; then
                picked=0
                for pat in $ONLY; do [[ "$t" == *"$pat"* ]] && picked=1; done
                [ $picked = 1 ] || continue
        fi
        # In the VM for what this host lacks: only those it was sent.
        [ -n "${GUESTD_VM_ONLY:-}" ] && [[ " $GUESTD_VM_ONLY " != *" $t "* ]] && continue
        if needs_systemd_host "$t"; then
                if [ -n "${GUESTD_SKIP_SYSTEMD_HOST:-}" ] && [ $kvm_only = 0 ]; then
                        skipped=$((skipped + 1))
                        echo "SKIP  $t: $GUESTD_SKIP_SYSTEMD_HOST"
                elif [ $systemd_only = 1 ]; then
                        run_one "$t" bash "$t"
                elif [ $kvm_only = 0 ]; then
                        vm_systemd_tests=$((vm_systemd_tests + 1))
                fi
                continue
        fi
        [ $systemd_only = 1 ] && continue
        kvm=0
        needs_kvm "$t" && kvm=1
        [ $kvm_only = 1 ] && [ $kvm = 0 ] && continue
        if needs_shadow "$t"; then
                if [ $shadow_only = 1 ] || { [ $kvm_where = here ] && host_shadows && { host_cgroup2 || ! needs_cgroup "$t"; }; }; then
                        run_one "$t" bash "$t"
                elif [ $kvm_only = 0 ]; then
                        vm_shadow_tests=$((vm_shadow_tests + 1))
                fi
                continue
        fi
        [ $shadow_only = 1 ] && continue
        if [ $kvm = 1 ] && [ $kvm_where = vm ]; then vm_tests=$((vm_tests + 1)); continue; fi
        if [ $kvm = 1 ] && [ $kvm_only = 0 ]; then
                if needs_cgroup "$t" && ! host_cgroup2; then
                        vm_routed+=("$t"); vm_routed_why+=("cgroup v2 is not mounted here"); continue
                fi
                if needs_tdp "$t" && host_shadows; then
                        vm_routed+=("$t"); vm_routed_why+=("KVM here shadows guest page tables"); continue
                fi
        fi
        run_one "$t" bash "$t"
done

# run_vm [--log FILE] RUN-IN-VM-OPTIONS... -- RUN-TESTS-ARGS...: one boot
# of the nested test VM. Its runner prints its own PASS/FAIL lines and a
# tally "vm: N passed, N failed, N skipped". With --log the boot's output
# goes to FILE only (a boot running beside another); vm_count FILE adds
# its tally to ours afterwards.
run_vm() {
        local vmlog=$logdir/vm.log quiet=0 vm_rc
        local -a vm_opts=()
        if [ "$1" = --log ]; then vmlog=$2 quiet=1; shift 2; fi
        while [ "$1" != -- ]; do vm_opts+=("$1"); shift; done
        shift
        if [ $quiet = 1 ]; then
                # shellcheck disable=SC2086
                tests/vm/run-in-vm.sh ${GUESTD_VM_OPTIONS:-} "${vm_opts[@]}" -- tests/run-tests.sh "$@" >"$vmlog" 2>&1
                vm_rc=$?
        else
                # shellcheck disable=SC2086
                tests/vm/run-in-vm.sh ${GUESTD_VM_OPTIONS:-} "${vm_opts[@]}" -- tests/run-tests.sh "$@" 2>&1 | tee "$vmlog"
                vm_rc=${PIPESTATUS[0]}
        fi
        echo "$vm_rc" >"$vmlog.rc"
        [ $quiet = 1 ] || vm_count "$vmlog"
}
vm_count() {
        local vmlog=$1 vm_rc tally p f s name
        vm_rc=$(cat "$vmlog.rc" 2>/dev/null || echo "?")
        tally=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$vmlog" | tail -n 1)
        if [ -n "$tally" ]; then
                read -r p f s <<<"$(sed -E 's/^vm: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$tally")"
                passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
                while read -r name; do failures+=("$name"); done < <(sed -n 's/^FAIL  \([^ ]*\) .*/\1/p' "$vmlog")
        else
                failed=$((failed + 1)); failures+=("nested-test-VM")
                echo "FAIL  the nested test VM ended (status $vm_rc) before its tests did; the tests it ran are not counted"
        fi
}

# The boots of the nested test VM: the tests that start guests in one,
# the shadow-paging tests in a second with npt=0, the systemd-host tests
# in a third booted with systemd. Each VM has one CPU (run-in-vm.sh says
# why): where this machine has more, the second and third run one after
# the other beside the first (GUESTD_VM_PARALLEL=0: all one after the
# other), and their output is shown once the first has ended.
vm_parallel=${GUESTD_VM_PARALLEL:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
side_logs=() side_titles=() side_args=()
# side_vm TITLE RUN_VM-ARGS...: a boot for the side chain, or now.
side_vm() {
        local title=$1; shift
        if [ "$vm_parallel" = 1 ]; then
                side_logs+=("$logdir/vm-side-${#side_logs[@]}.log") side_titles+=("$title") side_args+=("$*")
                echo "=== $title (beside the other boots; its output follows theirs)"
        else
                echo "=== $title"
                run_vm "$@"
        fi
}
if [ $kvm_only = 0 ] && [ $vm_shadow_tests -gt 0 ]; then
        if [ $kvm_where = here ] && host_shadows; then
                shadow_why="cgroup v2 is not mounted here"
        else
                shadow_why=${kvm_why:-KVM here uses NPT or EPT}
        fi
        side_vm "$vm_shadow_tests tests that need shadow paging run in the nested test VM with npt=0 ($shadow_why): tests/vm/run-in-vm.sh --npt 0" \
                --npt 0 -- --shadow-only
fi
if [ $kvm_only = 0 ] && [ $vm_systemd_tests -gt 0 ]; then
        side_vm "$vm_systemd_tests tests of the package on a systemd host run in the nested test VM booted with systemd as PID 1: tests/vm/run-in-vm.sh --systemd" \
                --systemd -- --systemd-only
fi
side_pid=''
if [ ${#side_logs[@]} -gt 0 ]; then
        (
                for i in "${!side_logs[@]}"; do
                        # shellcheck disable=SC2086
                        run_vm --log "${side_logs[$i]}" ${side_args[$i]}
                done
        ) &
        side_pid=$!
fi
if [ $kvm_only = 0 ] && [ $kvm_where = vm ] && [ $((${#vm_units[@]} + vm_tests)) -gt 0 ]; then
        echo "=== $((${#vm_units[@]} + vm_tests)) tests that start guests run in the nested test VM ($kvm_why): tests/vm/run-in-vm.sh"
        run_vm -- --kvm-only "${vm_units[@]}"
fi
if [ ${#vm_routed[@]} -gt 0 ]; then
        why=$(printf '%s\n' "${vm_routed_why[@]}" | sort -u | paste -sd ';' | sed 's/;/; /g')
        echo "=== ${#vm_routed[@]} tests that start guests need what this machine lacks ($why): they run in the nested test VM: tests/vm/run-in-vm.sh"
        GUESTD_VM_ONLY="${vm_routed[*]}" run_vm -- --kvm-only
fi
if [ -n "$side_pid" ]; then
        wait "$side_pid"
        for i in "${!side_logs[@]}"; do
                echo "=== ${side_titles[$i]}"
                cat "${side_logs[$i]}"
                vm_count "${side_logs[$i]}"
        done
fi

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
if [ $kvm_only = 1 ]; then
        echo "vm: $passed passed, $failed failed, $skipped skipped"
else
        echo "$passed passed, $failed failed, $skipped skipped"
fi
[ $failed -eq 0 ]
