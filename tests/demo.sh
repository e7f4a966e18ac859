#!/usr/bin/env bash
# make demo: the whole story on a private bus. guestd runs as root; an
# ordinary user, who cannot open /dev/kvm, creates and starts a guest with
# guestctl, watches its console, runs into the quota with a readable
# error, and stops the guest. (The set-up is the integration tests':
# tests/daemon-lib.sh, with its test user guestd-test-a as the user.)
set -u
# No /dev/kvm here: the same demo, in the nested test VM, whose KVM is
# Debian's own (tests/vm/run-in-vm.sh). Everything is built already.
if [ ! -c /dev/kvm ] && [ "${GUESTD_IN_VM:-0}" != 1 ]; then
        echo "demo: this machine has no /dev/kvm; the demo runs in the nested test VM (tests/vm/run-in-vm.sh, ~10 s to boot)"
        exec "$(dirname "$0")/vm/run-in-vm.sh" -- "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
source tests/daemon-lib.sh
skip() { echo "demo: cannot run: $*" >&2; exit 1; }
need_launcher
need_daemon
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# run CMD...: show the command as the user types it, then run it as that user.
run() {
        printf '\033[2m%s$\033[0m guestctl %s\n' "$USER_A" "$*"
        ctl_a "$@"
        local rc=$?
        [ $rc = 0 ] || printf '\033[2m(exit status %d)\033[0m\n' $rc
        return 0
}

daemon_setup
write_policy '{"defaults": {"max_guests": 4, "max_running": 1, "max_vcpus": 2, "max_memory_mib": 256}}'
daemon_start

say "The user has no access to /dev/kvm; guestd (root) is on a private bus"
ls -l /dev/kvm
as_a id
as_a sh -c 'exec 3<>/dev/kvm' 2>&1 | sed 's/^/  /'
echo "guestd pid $GUESTD_PID on $BUS; policy: max 1 running guest, 2 vCPUs, 256 MiB per user"

say "Create the demo guest (it counts until stopped) and start it"
run create demo --kernel "$G/count.elf" --memory 32 --cmdline "count.delay=1000000"
run start demo
wait_state a demo running 20 >/dev/null
run list
run status demo

say "Its console (guestctl console; Ctrl-] leaves when interactive)"
printf '\033[2m%s$\033[0m guestctl console demo   (3 seconds of it)\n' "$USER_A"
timeout 3 "${CTL_A[@]}" console demo --idle 0 </dev/null
echo

say "A second guest would pass the quota: the daemon says so"
run create second --kernel "$G/hello.elf" --memory 16
run start second
run quota

say "Stop the demo guest; now the second one fits"
run stop demo
wait_state a demo stopped 20 >/dev/null
run start second
wait_state a second stopped 20 >/dev/null
run log second
run list

say "Another user sees none of it"
printf '\033[2m%s$\033[0m guestctl list; guestctl stop demo\n' "$USER_B"
ctl_b list
ctl_b stop demo
echo "(exit status $?: no such guest, for this user)"

run remove demo
run remove second
say "Done"
