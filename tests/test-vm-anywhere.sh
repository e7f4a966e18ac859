# make check's boots of the nested test VM work whatever directory the
# tree is in. A copy of the runner (tests/run-tests.sh, tests/vm/) with
# three probe tests, one for each boot make check makes (the tests that
# start guests, the shadow-paging tests with npt=0, the systemd-host tests
# with the host's systemd as PID 1), is put under /tmp in a directory
# whose name has spaces, and its runner is run there as make check runs
# it (GUESTD_TEST_VM=1). Each probe checks it runs in that directory, sees
# the copy's own files, can write beside them, and has what its boot
# promises (/dev/kvm; npt=0; systemd as PID 1). Under /tmp, the systemd
# boot's systemd-tmpfiles (Debian's tmp.conf, "D /tmp") emptied the tree
# before the command ran (tests/vm/init keeps it now). The systemd boot
# is then run once more from a tree under /var/tmp.
# Runs here, on any machine: the VM is QEMU's TCG (no KVM needed).
source "$(dirname "$0")/lib.sh"

top=$(mktemp -d /tmp/guestd-anywhere.XXXXXX)
vtop=''
trap 'rm -rf "$top" ${vtop:+"$vtop"}' EXIT

# make_tree DIR: the copy, with its probe tests and a marker only it has.
make_tree() {
        local dir=$1 m
        mkdir -p "$dir/tests/vm"
        cp tests/run-tests.sh "$dir/tests/"
        cp tests/vm/run-in-vm.sh tests/vm/init "$dir/tests/vm/"
        echo "$dir" >"$dir/marker"
        # The runner reads these markers; written here so that this
        # script does not carry them itself.
        m="guestd-test:"
        local common='[ "$(cat marker)" = "$PWD" ] || { echo "not in the copy: $PWD"; exit 1; }
[ "${GUESTD_IN_VM:-}" = 1 ] || { echo "not in the nested test VM"; exit 1; }
echo written >"new file" && [ "$(cat "new file")" = written ] || { echo "cannot write in the tree"; exit 1; }
[ -c /dev/kvm ] || { echo "no /dev/kvm"; exit 1; }'
        printf '# %s kvm\n%s\necho "ran in $PWD"\n' "$m" "$common" >"$dir/tests/test-probe-kvm.sh"
        printf '# %s kvm-shadow\n%s\ngrep -qx "[N0]" /sys/module/kvm_amd/parameters/npt || { echo "npt is on"; exit 1; }\necho "ran in $PWD"\n' \
                "$m" "$common" >"$dir/tests/test-probe-shadow.sh"
        printf '# %s systemd-host\n%s\n[ "$(cat /proc/1/comm)" = systemd ] || { echo "PID 1 is $(cat /proc/1/comm)"; exit 1; }\necho "ran in $PWD"\n' \
                "$m" "$common" >"$dir/tests/test-probe-systemd.sh"
}

# --- (a) make check's three boots from a tree under /tmp, named with spaces
tree="$top/a tree with spaces"
make_tree "$tree"
out=$( cd "$tree" && env -u ONLY -u GUESTD_VM_ONLY -u GUESTD_SKIP_SYSTEMD_HOST GUESTD_TEST_VM=1 B=build \
        bash tests/run-tests.sh 2>&1 )
last=$(tail -n 1 <<<"$out")
if [ "$last" = "3 passed, 0 failed, 0 skipped" ]; then
        ok "the runner's three VM boots (guests, npt=0, systemd) ran their tests in $tree"
else
        fail "the runner's VM boots from $tree ended '$last'"
        sed 's/^/    /' <<<"$out" | tail -n 40
fi
for boot in "tests that start guests" "need shadow paging" "booted with systemd"; do
        grep -q "^=== .*$boot" <<<"$out" || fail "the runner made no boot for the $boot tests"
done
# Nothing the VM wrote reaches the host.
[ ! -e "$tree/new file" ] || fail "a file the VM wrote appeared in the host's tree"

# --- (b) the systemd boot from a tree under /var/tmp
vtop=$(mktemp -d /var/tmp/guestd-anywhere.XXXXXX)
make_tree "$vtop/tree"
if out=$( cd "$vtop/tree" && tests/vm/run-in-vm.sh --systemd -- bash tests/test-probe-systemd.sh 2>&1 ) &&
        [ "$(tail -n 1 <<<"$out")" = "ran in $vtop/tree" ]; then
        ok "the systemd boot ran its command in $vtop/tree"
else
        fail "the systemd boot from $vtop/tree: $(tail -n 5 <<<"$out")"
fi

# --- (c) a directory whose name the VM cannot be told is refused by name
nl="$top/new
line"
mkdir -p "$nl"
if out=$( cd "$nl" && "$OLDPWD/tests/vm/run-in-vm.sh" -- true 2>&1 ); then
        fail "run-in-vm.sh ran in a directory with a newline in its name"
elif grep -q 'newline' <<<"$out"; then
        ok "a directory with a newline in its name is refused: $(tail -n 1 <<<"$out")"
else
        fail "a directory with a newline in its name: $(tail -n 3 <<<"$out")"
fi

finish
