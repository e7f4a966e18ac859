# Shared helpers for the integration tests (sourced). A test exits 0 on
# pass, 77 on skip (with the reason as its last line on stderr), else fail.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${B:?B must name the build directory, e.g. build/gcc}"
LAUNCHER=$B/guestd-launcher
# Debian's python3 (make deps), not a version manager's shim that may come
# first on PATH: a shim is a shell script that runs several more, which
# costs seconds a call in the nested test VM.
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
GUESTS=$B/guests
TEST_FAILS=0

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; TEST_FAILS=$((TEST_FAILS + 1)); }
ok() { echo "ok: $*"; }

need_kvm() {
        [ -c /dev/kvm ] || skip "/dev/kvm is missing: KVM tests cannot run on this machine"
        [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm is not accessible to $(id -un)"
}
# kvm_shadows: whether this host's KVM bounds guest page tables with its
# shadow MMU cap (PVM, npt=0, ept=0, or the legacy MMU); prints how.
kvm_shadows() {
        [ -d /sys/module/kvm_pvm ] && { echo pvm; return 0; }
        grep -qx '[N0]' /sys/module/kvm_amd/parameters/npt 2>/dev/null && { echo npt=0; return 0; }
        grep -qx '[N0]' /sys/module/kvm_intel/parameters/ept 2>/dev/null && { echo ept=0; return 0; }
        grep -qx '[N0]' /sys/module/kvm/parameters/tdp_mmu 2>/dev/null && { echo tdp_mmu=N; return 0; }
        return 1
}
need_launcher() { [ -x "$LAUNCHER" ] || skip "$LAUNCHER is not built"; }

TMP=$(mktemp -d /tmp/guestd-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# expect_exit WANT NAME CMD...: run CMD (under a timeout), check its status.
# Output is kept in $TMP/out and $TMP/err.
expect_exit() {
        local want=$1 name=$2 rc; shift 2
        timeout "${TEST_TIMEOUT:-60}" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
        rc=$?
        if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; return 0; fi
        fail "$name: exit $rc, wanted $want"
        sed 's/^/    out: /' "$TMP/out" | tail -n 20 >&2
        sed 's/^/    err: /' "$TMP/err" | tail -n 20 >&2
        return 1
}
expect_grep() {
        local file=$1 pattern=$2 name=$3
        if grep -q -- "$pattern" "$file"; then ok "$name"; else fail "$name: no '$pattern' in $(basename "$file")"; sed 's/^/    /' "$file" | tail -n 10 >&2; fi
}
# The COM1 flood (hostile-serial) also writes garbage to the other UART
# registers, the interrupt enables among them. In the nested test VM that
# part stalls the VM's one emulated CPU, its timers included (QEMU's TCG
# SVM, 7.2 and 10 alike, while the launcher raises the UART's IRQ to a
# guest with interrupts off; tests/vm/run-in-vm.sh): there the flood is
# data only, and says so.
# Prints the extra kernel command line for hostile-serial.
serial_flood_cmdline() {
        if [ "${GUESTD_IN_VM:-0}" = 1 ]; then
                echo "SKIP (part, nested test VM): hostile-serial's garbage in the UART registers; the data flood runs (see tests/lib.sh)" >&2
                echo "hostile-serial.regs=0"
        fi
}
finish() { [ "$TEST_FAILS" -eq 0 ] || { echo "$TEST_FAILS check(s) failed" >&2; exit 1; }; exit 0; }
