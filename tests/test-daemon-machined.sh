# guestd-test: kvm
# guestd-test: cgroup
# Each launcher a machine of systemd-machined's, in a scope of its own
# (issue 13), with tests/fake-machined standing in for machined and for
# systemd behind it (no machine here runs systemd as PID 1): it owns
# org.freedesktop.machine1 on the test bus and, for each CreateMachine,
# makes a scope cgroup under a test slice, bounds it and moves the leader
# there, as systemd does for machined.
#  - Without machined on the bus guestd says so and each launcher runs in
#    guestd's own cgroup, as before.
#  - With it, a Start asks CreateMachine for guestd-HANDLE (id: the handle,
#    service guestd, class vm, the launcher as leader, MemoryMax and
#    TasksMax as guestd's own cgroup would have) and nothing names the
#    owner or the guest; the launcher runs in that scope, which bounds it;
#    the guest's page tables are measured there; root's status shows the
#    handle.
#  - MachineExists is asked again; a refusal fails the Start (Failed,
#    naming machined's error), a CreateMachine that does not answer fails
#    it with Timeout after --machined-timeout, and a Stop meanwhile ends
#    it; none leaves a launcher, the guest is as it was, and nobody else
#    waits meanwhile.
#  - A restarted guestd finds each launcher's cgroup again, its own and a
#    scope, and measures both; a stopped guest's scope is left to systemd,
#    guestd's own cgroup removed.
#  - machined gone: guestd's own cgroups again, and the log says so.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
[ -x "$B/tests/fake-machined" ] || skip "$B/tests/fake-machined is not built"
[ -x "$B/tests/bus-call" ] || skip "$B/tests/bus-call is not built"
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] ||
        skip "cgroup v2 is not mounted at /sys/fs/cgroup: no scopes to stand in for systemd's"

SLICE=/sys/fs/cgroup/guestd-test-machine.slice
remove_slice() {
        local d i
        for i in $(seq 50); do
                for d in "$SLICE"/*.scope; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
                [ -d "$SLICE" ] && rmdir "$SLICE" 2>/dev/null
                [ -d "$SLICE" ] || return 0
                sleep 0.1
        done
        echo "    cannot remove $SLICE" >&2
}
remove_slice

daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
install -m 0755 "$B/tests/bus-call" "$DTMP/bus-call"
MD_TIMEOUT=6
# guestd's cgroup is this test's; an earlier guestd may have left its own
# cgroups' layout there (the nested VM runs every test in one cgroup).
own_cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
LAYOUT_BEFORE=0
[ -d "/sys/fs/cgroup${own_cg%/}/guestd-guests" ] && LAYOUT_BEFORE=1
daemon_start --machined-timeout=$MD_TIMEOUT

# What guestd bounds a 64 MiB, 1-vCPU launcher to (as in
# test-daemon-pagetables.sh): the guest's RAM, RLIMIT_AS's margin (256 MiB
# and 16 per vCPU) and KVM's default page-table cap (327 pages); its vCPU
# and 8 more tasks.
MEMMAX=$(((64 + 256 + 16) * 1048576 + 327 * 4096))
TASKSMAX=9
handle() { ctl_a status "$1" --json | json 'd["object"].split("/")[-1]'; }
lpid() { json 'd["launcher_pid"]' <"$DTMP/state/guests/${UID_A}_$1.json"; }
running_launchers() { launcher_pids | wc -l; }
launchers_are() { [ "$(running_launchers)" = "$1" ]; }
measured() { [ "$(ctl_a status "$1" --json | json 'd["page_tables_bytes"] is not None')" = True ]; }

# --- no machined: guestd's own cgroups, as before
check "guestd says machined is not on the bus" \
        wait_file "$DTMP/guestd.log" "systemd-machined is not on the bus: each launcher runs in a cgroup of guestd's own" 10
if [ "$LAYOUT_BEFORE" = 1 ]; then
        # An earlier test's guestd left its layout in this cgroup: guestd
        # takes it up at start (launchers may be in it), as it should.
        check "and takes up the own cgroups an earlier guestd left" grep -q "own cgroups for launchers are under" "$DTMP/guestd.log"
else
        check "and has not set up its own cgroups before a Start needs them" eval '! grep -q "own cgroups for launchers are under" "$DTMP/guestd.log"'
fi
expect_exit 0 "A creates own" "${CTL_A[@]}" create own --kernel "$G/count.elf" --memory 64 --cmdline "count.delay=3000000"
expect_exit 0 "A starts own" "${CTL_A[@]}" start own
check "own runs" wait_state a own running 60
H_OWN=$(handle own) P_OWN=$(lpid own)
BASE=$(sed -n "s/.*guestd's own cgroups for launchers are under \(.*\), bounding .*/\1/p" "$DTMP/guestd.log" | head -n 1)
OWN_CG=$BASE/$H_OWN
echo "    guestd's own cgroups: $BASE"
check "own's launcher ($P_OWN) runs in guestd's own cgroup for it" grep -qFx "0::${OWN_CG#/sys/fs/cgroup}" "/proc/$P_OWN/cgroup"
check "own's page tables are measured there" measured own

# --- fake-machined comes onto the bus: commands on a FIFO, what it was asked in a file
mkfifo "$TMP/machined.in"
"$B/tests/fake-machined" "$BUS" "$SLICE" <"$TMP/machined.in" >"$TMP/machined.out" 2>"$TMP/machined.err" &
MACHINED_PID=$!
exec 8>"$TMP/machined.in"
machined_cleanup() {
        exec 8>&-
        [ -n "$MACHINED_PID" ] && { kill "$MACHINED_PID" 2>/dev/null; wait "$MACHINED_PID" 2>/dev/null; }
        daemon_stop
        local p
        for p in $(launcher_pids); do kill -KILL "$p" 2>/dev/null; done
        remove_slice
}
trap 'rc=$?; machined_cleanup; (exit $rc); daemon_cleanup' EXIT
if ! wait_file "$TMP/machined.out" "^ready$" 10; then
        fail "fake-machined is on the bus: $(cat "$TMP/machined.err")"
        finish
fi
ok "fake-machined is on the bus"
# machined COMMAND ACK: tell fake-machined, wait for its answer (if it
# has died, a write would end this script with SIGPIPE: say so instead).
machined() {
        kill -0 "$MACHINED_PID" 2>/dev/null || { echo "    fake-machined has ended: $(cat "$TMP/machined.err")" >&2; return 1; }
        echo "$1" >&8
        wait_file "$TMP/machined.out" "^$2\$" 5
}
creates() { grep -c "^create name=$MACHINED_PREFIX$1 " "$TMP/machined.out"; }
MACHINED_PREFIX=guestd-

expect_exit 0 "A creates secret-vm" "${CTL_A[@]}" create secret-vm --kernel "$G/count.elf" --memory 64 --cmdline "count.delay=3000000"
expect_exit 0 "A starts secret-vm" "${CTL_A[@]}" start secret-vm
check "secret-vm runs" wait_state a secret-vm running 60
H=$(handle secret-vm) P=$(lpid secret-vm)
SCOPE=$SLICE/machine-guestd\\x2d$H.scope
check "guestd logs that machined now answers" wait_file "$DTMP/guestd.log" "systemd-machined answers on the bus: each launcher runs in a scope of its own" 5
expect_grep "$TMP/machined.out" \
        "^create name=guestd-$H id=$H service=guestd class=vm leader=$P root= MemoryMax=$MEMMAX TasksMax=$TASKSMAX CollectMode=inactive-or-failed\$" \
        "CreateMachine: guestd-HANDLE, the handle as id, service guestd, class vm, the launcher as leader, its memory and tasks bounded"
check "the leader is secret-vm's launcher" [ "$(cat "/proc/$P/comm")" = guestd-launcher ]
grep "^create" "$TMP/machined.out" | sed 's/^/    /'
# machinectl list is anyone's to read: the name is the handle alone.
says_nothing() { ! grep "^create" "$TMP/machined.out" | grep -qiE "secret|own|$USER_A|uid="; }
check "nothing machined is told names the guest or its owner" says_nothing
check "the machine's name is guestd- and 32 hex digits" grep -qE "^create name=guestd-[0-9a-f]{32} " "$TMP/machined.out"
check "the launcher runs in the machine's scope (/proc/$P/cgroup)" grep -qFx "0::${SCOPE#/sys/fs/cgroup}" "/proc/$P/cgroup"
check "the scope's memory.max is MemoryMax" [ "$(cat "$SCOPE/memory.max")" = $MEMMAX ]
check "the scope's pids.max is TasksMax" [ "$(cat "$SCOPE/pids.max")" = $TASKSMAX ]
expect_grep "$DTMP/guestd.log" "Guest ${UID_A}_secret-vm: launcher $P is the machine guestd-$H" "root's log maps the guest to its machine"
check "its page tables are measured in the scope" measured secret-vm
inuse=$(busctl --address="$BUS" get-property org.guestd1 "/org/guestd1/guest/$H" org.guestd1.Guest PageTablesInUse | cut -d' ' -f2)
echo "    PageTablesInUse $inuse; the scope's sec_pagetables $(awk '$1 == "sec_pagetables" { print $2 }' "$SCOPE/memory.stat")"
expect_exit 0 "root's status of $UID_A/secret-vm" "${CTL_ROOT[@]}" status "$UID_A/secret-vm"
expect_grep "$TMP/out" "Handle: $H\$" "root's status shows the handle"
expect_exit 0 "root's list --json" "${CTL_ROOT[@]}" list --json
check "root's list maps the handle back to A's secret-vm" \
        [ "$(json "[(g['owner'], g['name']) for g in d if g['object'].endswith('/$H')]" <"$TMP/out")" = "[($UID_A, 'secret-vm')]" ]

# --- the guest's last scope not collected yet: asked again
expect_exit 0 "A creates other" "${CTL_A[@]}" create other --kernel "$G/count.elf" --memory 64 --cmdline "count.delay=3000000"
H2=$(handle other)
check "fake-machined will answer MachineExists twice" \
        machined "refuse org.freedesktop.machine1.MachineExists 2" "refuse org.freedesktop.machine1.MachineExists 2"
expect_exit 0 "MachineExists twice: A's start of other still succeeds" "${CTL_A[@]}" start other
check "other runs" wait_state a other running 60
check "CreateMachine was asked three times" [ "$(creates "$H2")" = 3 ]
expect_exit 0 "A stops other" "${CTL_A[@]}" stop --force other
check "other stopped" wait_state a other stopped 20
check "its scope is left to systemd (guestd removes none)" [ -d "$SLICE/machine-guestd\\x2d$H2.scope" ]
empty() { [ -z "$(cat "$SLICE/machine-guestd\\x2d$H2.scope/cgroup.procs")" ]; }
check "and empty" wait_until 10 empty

# --- machined refuses: the Start fails, named, and leaves nothing
check "fake-machined will refuse the next call" \
        machined "refuse org.freedesktop.DBus.Error.AccessDenied" "refuse org.freedesktop.DBus.Error.AccessDenied 1"
expect_exit 0 "a refused Start is Failed" "${AS_A[@]}" "$DTMP/bus-call" --expect=org.guestd1.Error.Failed "$BUS" \
        "/org/guestd1/guest/$H2" org.guestd1.Guest Start
expect_grep "$TMP/out" "systemd-machined could not make guest 'other' a machine: .*(org.freedesktop.DBus.Error.AccessDenied)" \
        "the error names machined's"
check "fake-machined refused it" grep -q "^refused guestd-$H2 org.freedesktop.DBus.Error.AccessDenied\$" "$TMP/machined.out"
check "other is stopped, as before the Start" [ "$(guest_state a other)" = stopped ]
check "no launcher is left of it (two run: own, secret-vm)" wait_until 10 launchers_are 2
expect_grep "$DTMP/guestd.log" "systemd-machined refused CreateMachine for guestd-$H2" "guestd logs the refusal"

# --- machined does not answer: nobody else waits; Stop ends the Start
check "fake-machined holds the calls from now on" machined hold hold
"${CTL_A[@]}" start other >"$TMP/held.out" 2>"$TMP/held.err" &
HELD=$!
check "the call is held" wait_file "$TMP/machined.out" "^held guestd-$H2\$" 20
check "other is starting" [ "$(guest_state a other)" = starting ]
t0=$(date +%s%N)
expect_exit 0 "B is answered meanwhile" "${CTL_B[@]}" list
ms=$((($(date +%s%N) - t0) / 1000000))
check "at once ($ms ms)" [ "$ms" -lt 5000 ]
expect_exit 0 "A stops other while machined works" "${CTL_A[@]}" stop other
expect_grep "$TMP/out" "stopped before it started" "Stop says it never started"
held_done() { ! kill -0 "$HELD" 2>/dev/null; }
check "the Start is answered" wait_until 20 held_done
wait "$HELD"
check "the Start fails (exit 1)" [ $? = 1 ]
expect_grep "$TMP/held.err" "stopped before it started (systemd-machined was still making its scope)" "the Start says why"
check "no launcher is left of it" wait_until 10 launchers_are 2
check "other is stopped again" [ "$(guest_state a other)" = stopped ]

# --- ... and until --machined-timeout: Timeout
t0=$(date +%s)
expect_exit 12 "a Start machined does not answer ends with Timeout" "${CTL_A[@]}" start other
took=$(($(date +%s) - t0))
check "after --machined-timeout ($MD_TIMEOUT s; took $took s)" [ "$took" -ge $((MD_TIMEOUT - 1)) -a "$took" -le $((MD_TIMEOUT + 15)) ]
expect_grep "$TMP/err" "systemd-machined did not make guest 'other' a machine within $MD_TIMEOUT s" "the Timeout says so"
check "no launcher is left of it" wait_until 10 launchers_are 2
check "other is stopped again" [ "$(guest_state a other)" = stopped ]
check "fake-machined answers them now" machined release "release 2"
check "late answers to calls guestd gave up on change nothing" [ "$(guest_state a other)" = stopped ]
check "guestd serves on" [ "$(guest_state a secret-vm)" = running ]

# --- a restarted guestd finds each launcher's cgroup again
daemon_stop
# (Without the FIFO's write end: fake-machined ends when this script closes it.)
daemon_start --machined-timeout=$MD_TIMEOUT 8>&-
check "secret-vm still runs" wait_state a secret-vm running 20
check "own still runs" wait_state a own running 20
check "secret-vm's scope is found again" \
        grep -qF "Guest ${UID_A}_secret-vm: found launcher $P again (running), in cgroup ${SCOPE#/sys/fs/cgroup}" "$DTMP/guestd.log"
check "own's cgroup is found again" \
        grep -qF "Guest ${UID_A}_own: found launcher $P_OWN again (running), in cgroup ${OWN_CG#/sys/fs/cgroup}" "$DTMP/guestd.log"
check "secret-vm's page tables are measured again" measured secret-vm
check "own's too" measured own
expect_exit 0 "A stops secret-vm" "${CTL_A[@]}" stop --force secret-vm
check "secret-vm stopped" wait_state a secret-vm stopped 20
check "its scope is left to systemd" [ -d "$SCOPE" ]
expect_exit 0 "A stops own" "${CTL_A[@]}" stop --force own
check "own stopped" wait_state a own stopped 20
own_gone() { [ ! -e "$OWN_CG" ]; }
check "guestd's own cgroup for own is removed" wait_until 10 own_gone

# --- machined goes: guestd's own cgroups again, said in the log
exec 8>&-
kill "$MACHINED_PID"
wait "$MACHINED_PID"
MACHINED_PID=
gone() { ! busctl --address="$BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.freedesktop.machine1 | grep -q true; }
check "fake-machined has left the bus" wait_until 10 gone
before=$(grep -c "systemd-machined is not on the bus" "$DTMP/guestd.log")
expect_exit 0 "A starts own again" "${CTL_A[@]}" start own
check "own runs" wait_state a own running 60
P_OWN=$(lpid own)
check "in guestd's own cgroup again" grep -qFx "0::${OWN_CG#/sys/fs/cgroup}" "/proc/$P_OWN/cgroup"
check "guestd says machined is gone" [ "$(grep -c "systemd-machined is not on the bus" "$DTMP/guestd.log")" -gt "$before" ]
expect_exit 0 "A stops own" "${CTL_A[@]}" stop --force own
finish
