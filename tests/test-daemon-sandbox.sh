# guestd-test: kvm
# The launcher's sandbox as guestd builds it, inspected from outside while a
# guest runs: its own uid and gid, no groups, no capabilities in any set,
# no_new_privs, seccomp in filter mode, not dumpable (so its owner cannot
# read it), its own mount, PID, IPC, UTS, network and cgroup namespaces, an
# empty read-only root, rlimits from the guest's size, only the fds it
# needs. Then guestd started with --test-sandbox-violation: launchers
# that try a forbidden call die of SIGSYS, the guest is recorded as
# crashed with the call's name, and guestd serves everyone else meanwhile.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 16, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
daemon_start

expect_exit 0 "A creates box (2 vCPUs, 32 MiB)" "${CTL_A[@]}" create box --kernel "$G/count.elf" --memory 32 --vcpus 2 \
        --cmdline "count.delay=100000"
expect_exit 0 "A starts box" "${CTL_A[@]}" start box
check "box runs" wait_state a box running 20
PID=$(launcher_pids | head -n 1)
check "one launcher runs" [ -n "$PID" ]
[ -n "$PID" ] || finish
st=/proc/$PID/status
field() { sed -n "s/^$1:[[:space:]]*//p" "$st"; }
uid=$(field Uid | awk '{print $1}')
echo "    launcher $PID: Uid $(field Uid), Gid $(field Gid), Groups '$(field Groups)'"
check "uids all the launcher's own, from the range" \
        bash -c '[ "$(awk "{print \$1==\$2 && \$2==\$3 && \$3==\$4}" <<<"$1")" = 1 ] && [ "$2" -ge '"$LAUNCHER_UID_MIN"' ] && [ "$2" -le '"$LAUNCHER_UID_MAX"' ]' - "$(field Uid)" "$uid"
check "gids the same number, all four" [ "$(field Gid | awk '{print $1==$2 && $2==$3 && $3==$4 && $1=='"$uid"'}')" = 1 ]
check "no supplementary groups" [ -z "$(field Groups)" ]
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
        check "$set is empty" [ "$(field $set)" = 0000000000000000 ]
done
check "no_new_privs" [ "$(field NoNewPrivs)" = 1 ]
check "seccomp filter mode" [ "$(field Seccomp)" = 2 ]
# Not dumpable: /proc/PID files then belong to root, not to the launcher uid.
check "not dumpable: /proc/PID/mem belongs to root" [ "$(stat -c %u "/proc/$PID/mem")" = 0 ]
check "the guest's owner cannot read its launcher's memory" bash -c '! "$@" cat /proc/'"$PID"'/mem 2>/dev/null' - "${AS_A[@]}"
check "nor its environment" bash -c '! "$@" cat /proc/'"$PID"'/environ 2>/dev/null' - "${AS_A[@]}"
for ns in mnt pid ipc uts net cgroup; do
        check "own $ns namespace" [ "$(readlink "/proc/$PID/ns/$ns")" != "$(readlink "/proc/$GUESTD_PID/ns/$ns")" ]
done
check "PID 1 in its PID namespace" [ "$(sed -n 's/^NSpid:[[:space:]]*[0-9]*[[:space:]]*//p' "$st")" = 1 ]
check "its root is empty" [ -z "$(ls -A "/proc/$PID/root/")" ]
check "its root is read-only" bash -c '! touch "/proc/$1/root/x" 2>/dev/null' - "$PID"
if command -v ip >/dev/null && command -v nsenter >/dev/null; then
        nsenter --net="/proc/$PID/ns/net" ip -o link >"$TMP/links" 2>&1
        check "its network namespace has a loopback and nothing else" [ "$(awk '{print $2}' "$TMP/links" | tr '\n' ' ')" = "lo: " ]
fi
limits=/proc/$PID/limits
lim() { awk -v n="$1" 'index($0, n) == 1 { print $(NF-2) }' "$limits"; }
echo "    limits: AS $(lim 'Max address space') NOFILE $(lim 'Max open files') NPROC $(lim 'Max processes') CORE $(lim 'Max core file size')"
check "address space: 32 MiB of RAM + 256 MiB + 2 x 16 MiB" [ "$(lim 'Max address space')" = $(((32 + 256 + 32) * 1024 * 1024)) ]
check "core files: none" [ "$(lim 'Max core file size')" = 0 ]
check "processes: vCPUs + 8" [ "$(lim 'Max processes')" = 10 ]
check "open files: 64 + 2 per vCPU" [ "$(lim 'Max open files')" = 68 ]
fds=$(ls "/proc/$PID/fd" | wc -l)
echo "    launcher fds: $fds: $(for f in /proc/$PID/fd/*; do readlink "$f"; done | sed 's/:\[[0-9]*\]//' | sort | uniq -c | tr -s ' \n' ' ')"
# Besides stdout and stderr (a pipe to guestd, which logs what comes):
# sockets to guestd, the VM and vCPUs, the guest's memfd, its stdin pipe,
# eventfds. No file: the kernel is closed once loaded, disks would be here.
check "no fd to any file but the guest's memory" \
        bash -c 'for f in /proc/$1/fd/*; do n=${f##*/}; [ "$n" = 1 ] || [ "$n" = 2 ] || readlink "$f"; done |
                 grep -v "^socket:\|^anon_inode:\|^/memfd:guest-ram\|^pipe:" && exit 1; exit 0' - "$PID"
check "stdout and stderr are one pipe" bash -c '[[ $(readlink /proc/$1/fd/2) == pipe:* ]] && [ "$(readlink /proc/$1/fd/1)" = "$(readlink /proc/$1/fd/2)" ]' - "$PID"
check "non-blocking at the launcher's end: a guestd behind costs log lines, not a stall" \
        bash -c '[ $(( 0$(sed -n "s/^flags:[[:space:]]*//p" /proc/$1/fdinfo/2) & 04000 )) != 0 ]' - "$PID"
check "whose other end guestd reads" bash -c 'for f in /proc/$2/fd/*; do [ "$(readlink "$f")" = "$(readlink /proc/$1/fd/2)" ] && exit 0; done; exit 1' - "$PID" "$GUESTD_PID"
check "the launcher's lines reach guestd's log under the guest's name" grep -q "^<6>guestd: Guest ${UID_A}_box: launcher: Guest box: 32 MiB, 2 vCPUs" "$DTMP/guestd.log"
check "no /dev/kvm fd left after the VM was made" bash -c '! for f in /proc/$1/fd/*; do readlink "$f"; done | grep -q "^/dev/kvm$"' - "$PID"
expect_exit 0 "pause under the sandbox" "${CTL_A[@]}" pause box
expect_exit 0 "unpause under the sandbox" "${CTL_A[@]}" unpause box
check "box still counts" wait_log a box "count 2" 20

# --- violations: B's guest runs throughout and is never touched.
expect_exit 0 "B creates bystander" "${CTL_B[@]}" create bystander --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "B starts bystander" "${CTL_B[@]}" start bystander
check "bystander runs" wait_state b bystander running 20
expect_exit 0 "stop box" "${CTL_A[@]}" stop box --force
for call in "ioctl-create-vcpu:syscall ioctl (KVM_CREATE_VCPU)" \
            "ioctl-create-vm:syscall ioctl (KVM_CREATE_VM)" "open:syscall openat" "socket:syscall socket" "execve:syscall execve" \
            "mmap-exec:syscall mmap" "ptrace:syscall ptrace"; do
        what=${call%%:*} reason=${call#*:}
        daemon_stop
        daemon_start --test-sandbox-violation="$what"
        check "$what: bystander found again, still running" wait_state b bystander running 10
        expect_exit 0 "$what: create" "${CTL_A[@]}" create "v-$what" --kernel "$G/count.elf" --memory 16
        "${CTL_A[@]}" start "v-$what" >"$TMP/out" 2>"$TMP/err"
        echo "    start: $(cat "$TMP/err")"
        check "$what: the guest is crashed" wait_state a "v-$what" crashed 20
        expect_exit 0 "$what: status" "${CTL_A[@]}" status "v-$what" --json
        got=$(json 'd.get("state_reason")' <"$TMP/out")
        echo "    violation $what: $got"
        check "$what: reason is 'sandbox violation: $reason'" [ "$got" = "sandbox violation: $reason" ]
        expect_exit 0 "$what: guestd answers ListGuests meanwhile" "${CTL_B[@]}" list
        expect_grep "$TMP/out" "^bystander  *running" "$what: the bystander still runs"
        check "$what: its launcher is gone, only the bystander's runs" [ "$(launcher_pids | wc -l)" = 1 ]
done

# --- a launcher that asks for a page-table cap above what guestd assigned:
# the ioctl goes to guestd (seccomp user notification), which refuses it
# with EPERM; the guest runs on.
daemon_stop
daemon_start --test-sandbox-violation=ioctl-set-nr-mmu-pages
expect_exit 0 "mmu: create" "${CTL_A[@]}" create v-mmu --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "mmu: start" "${CTL_A[@]}" start v-mmu
check "mmu: the launcher's request reached guestd and was refused" \
        wait_file "$DTMP/guestd.log" "Guest ${UID_A}_v-mmu: refused the launcher's KVM_SET_NR_MMU_PAGES 1048576: its cap is 81 pages"
check "mmu: the launcher got EPERM" wait_file "$DTMP/guestd.log" "launcher: Test: KVM_SET_NR_MMU_PAGES 1048576 refused by guestd: Operation not permitted"
check "mmu: the guest runs on" wait_log a v-mmu "count 3" 30
check "mmu: it is running" [ "$(guest_state a v-mmu)" = running ]
expect_exit 0 "mmu: stop" "${CTL_A[@]}" stop v-mmu --force

daemon_stop
daemon_start
expect_exit 0 "stop bystander" "${CTL_B[@]}" stop bystander --force
finish
