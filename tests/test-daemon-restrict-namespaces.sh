# guestd-test: kvm
# guestd under systemd's RestrictNamespaces= (guestd.service): there
# clone3() answers ENOSYS, so that callers use clone(), whose namespace
# flags a seccomp filter can check. guestd makes each launcher's
# namespaces with clone3() and must then fall back to clone(). Found on a
# real systemd host (tests/test-systemd-host.sh: "Cannot start the
# launcher in its sandbox: Function not implemented"); here guestd runs
# under tests/seccomp-errno, which answers clone3() the same way (and sets
# no_new_privs, as NoNewPrivileges=yes), on any machine.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
SECCOMP_ERRNO=$(abspath "$B/tests/seccomp-errno")
[ -x "$SECCOMP_ERRNO" ] || skip "$SECCOMP_ERRNO is not built"
daemon_setup
GUESTD_WRAP=("$SECCOMP_ERRNO" clone3 ENOSYS)
daemon_start
check "guestd runs with clone3() answered ENOSYS" eval '[ "$(awk "/^Seccomp:/ {print \$2}" "/proc/$GUESTD_PID/status")" = 2 ]'
check "and with no_new_privs" eval '[ "$(awk "/^NoNewPrivs:/ {print \$2}" "/proc/$GUESTD_PID/status")" = 1 ]'

expect_exit 0 "A creates count (two vCPUs: the launcher's threads too are made without clone3)" \
        "${CTL_A[@]}" create count --kernel "$G/count.elf" --memory 16 --vcpus 2 --cmdline "count.delay=20000"
expect_exit 0 "A starts it" "${CTL_A[@]}" start count
check "it runs" wait_state a count running 20
check "it counts" wait_log a count "count 3$" 30
pid=$(launcher_pids | head -n 1)
check "its launcher is in namespaces of its own (pid)" eval '[ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]'
check "and mount" eval '[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]'
expect_exit 0 "A stops it" "${CTL_A[@]}" stop count --force
check "it stopped" wait_state a count stopped 20
check "guestd did not fail to make namespaces" eval '! grep -q "Cannot create the launcher" "$DTMP/guestd.log"'
finish
