# guestd-test: kvm
# A snapshot is bounded by the reserve its owner was charged, whatever the
# guest's disks look like (issue 20, item 5). User A's guest has a 1 TiB
# sparse writable disk, so its launcher starts with RLIMIT_FSIZE at 1 TiB
# (its disks are files it writes). Caught while it writes its snapshot,
# its limit is the reserve (before, it wrote with 1 TiB: the test fails
# there). A suspend that fails (a full disk) gives it its limit back and
# the guest goes on; a guestd killed while the launcher waits parked for
# its file goes on with the suspend when it comes back. Then guestd runs
# tests/hostile-launcher, a launcher taken over by its guest: with the
# snapshot file it cannot write past the reserve; one that says its write
# failed but keeps the file open is ended as a protocol error before it
# gets its limit back; one that lets go goes on, its limit given back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024, "max_snapshot_mib": 1024}}'
daemon_start
SNAPS=$DTMP/state/snapshots
TiB=$((1 << 40))

# A sparse 1 TiB disk A owns (a file system that cannot hold one would
# make the test prove less: say so).
truncate -s 1T "$G/huge.img" || fail "cannot make a 1 TiB sparse file in $G"
chown "$USER_A" "$G/huge.img"
# reserve MIB VCPUS: the largest snapshot (common/snapshot.h).
reserve() { echo $((4096 + $1 * 1048576 + 256 * 1024 + $2 * 64 * 1024)); }
# soft_limit PID: its soft RLIMIT_FSIZE in $SOFT ("unlimited" or bytes),
# with shell builtins only (quick, to catch the launcher mid-write).
soft_limit() {
        local a b c d rest
        SOFT=
        while read -r a b c d rest; do
                [ "$a $b $c" = "Max file size" ] && SOFT=$d
        done <"/proc/$1/limits"
}

expect_exit 0 "A creates big, with a 1 TiB disk" "${CTL_A[@]}" create big --kernel "$G/memtouch.elf" --memory 128 \
        --disk "$G/huge.img" --cmdline "memtouch.mib=96 memtouch.passes=0"
RESERVE=$(reserve 128 1)
expect_exit 0 "start big" "${CTL_A[@]}" start big
check "big has written its memory" wait_log a big "memtouch pass 1 (write)" 300
pid=$(launcher_pids)
soft_limit "$pid"
check "its launcher starts with RLIMIT_FSIZE at its disk's size ($SOFT)" [ "$SOFT" = "$TiB" ]

# --- caught mid-write: stopped as soon as its snapshot file has data, the
# launcher's limit is the reserve. (A write too quick to catch is tried
# again, from a resumed guest.)
caught=
for try in 1 2 3; do
        ctl_a suspend big >/dev/null 2>"$TMP/susp.err" &
        susp=$!
        while kill -0 "$pid" 2>/dev/null; do
                if [ -s "$SNAPS/${UID_A}_big.snap.new" ]; then
                        kill -STOP "$pid"
                        soft_limit "$pid"
                        caught=$SOFT
                        size=$(stat -c %s "$SNAPS/${UID_A}_big.snap.new")
                        kill -CONT "$pid"
                        break
                fi
        done
        wait $susp
        check "try $try: big is suspended" wait_state a big suspended 60
        [ -n "$caught" ] && break
        echo "    try $try: the launcher had finished before it was caught"
        expect_exit 0 "resume big" "${CTL_A[@]}" resume big
        check "big runs" wait_state a big running 60
        pid=$(launcher_pids)
done
if [ -z "$caught" ]; then
        fail "never caught the launcher while it wrote its snapshot"
elif [ "$caught" != unlimited ] && [ "$caught" -le "$RESERVE" ]; then
        ok "while it writes its snapshot, its RLIMIT_FSIZE is $caught (the reserve is $RESERVE)"
        check "the snapshot so far is within it ($size bytes)" [ "$size" -le "$RESERVE" ]
else
        fail "the launcher wrote its snapshot with RLIMIT_FSIZE $caught, more than the reserve $RESERVE"
fi
check "the committed snapshot is within the reserve" [ "$(stat -c %s "$SNAPS/${UID_A}_big.snap")" -le "$RESERVE" ]

# --- a failed suspend: the limit goes back to the disk's size and the
# guest goes on (guestd holds its snapshot directory open: restarted onto
# the mount)
expect_exit 0 "resume big" "${CTL_A[@]}" resume big
check "big runs" wait_state a big running 60
pid=$(launcher_pids)
daemon_stop
mount -t tmpfs -o size=1m,mode=0700 guestd-test-full "$SNAPS"
daemon_start
expect_exit 1 "a suspend onto a full disk fails" "${CTL_A[@]}" suspend big
expect_grep "$TMP/err" "could not be suspended.*\(No space left\|File too large\)" "the error says why"
check "big runs on" [ "$(guest_state a big)" = running ]
soft_limit "$pid"
check "its launcher has its limit back ($SOFT)" [ "$SOFT" = "$TiB" ]
check "no half-written file is left" [ -z "$(ls -A "$SNAPS")" ]
verified() { ctl_a log big 2>/dev/null | grep -c 'verify): checksum .*, 0 mismatches'; }
v=$(verified)
check "big goes on verifying its memory" wait_until 120 eval '[ "$(verified)" -gt '"$v"' ]'
daemon_stop
umount "$SNAPS"
daemon_start

# --- guestd killed while the launcher waits parked for its file: the next
# guestd goes on with the suspend. (The launcher is stopped while guestd
# asks, so that guestd is gone before it answers.)
kill -STOP "$pid"
ctl_a suspend big >/dev/null 2>&1 &
susp=$!
check "big is suspending" wait_until 30 eval '[ "$(guest_state a big)" = suspending ]'
daemon_kill KILL
wait $susp 2>/dev/null
kill -CONT "$pid"
daemon_start
check "the restarted guestd finished the suspend" wait_state a big suspended 120
check "its snapshot is there" [ -f "$SNAPS/${UID_A}_big.snap" ]
check "no launcher is left" wait_until 30 eval '[ -z "$(launcher_pids)" ]'
v=$(verified)
expect_exit 0 "resume big" "${CTL_A[@]}" resume big
check "big verifies its memory after the resume" wait_until 120 eval '[ "$(verified)" -gt '"$v"' ]'
check "with no mismatch" [ -z "$(ctl_a log big 2>/dev/null | grep 'mismatches' | grep -v ', 0 mismatches')" ]
expect_exit 0 "stop big" "${CTL_A[@]}" stop --force big

# --- a launcher taken over by its guest (tests/hostile-launcher)
HOSTILE=$(abspath "$B/tests/hostile-launcher")
if [ ! -x "$HOSTILE" ]; then
        fail "$HOSTILE is not built"
        finish
fi
daemon_stop
LAUNCHER_ABS=$HOSTILE
daemon_start
HRESERVE=$(reserve 16 1)
for s in snapshot-keep snapshot-drop; do
        expect_exit 0 "A creates h-$s" "${CTL_A[@]}" create "h-$s" --kernel "$G/hello.elf" --memory 16 --disk "$G/huge.img" \
                --cmdline "hostile=$s"
        expect_exit 0 "A starts h-$s" "${CTL_A[@]}" start "h-$s"
        check "h-$s runs" wait_state a "h-$s" running 20
done
# keep: with the file it writes 64 GiB in and is refused; it says the
# write failed but keeps the file: ended, its limit never given back.
expect_exit 1 "h-snapshot-keep's suspend fails" "${CTL_A[@]}" suspend h-snapshot-keep
check "h-snapshot-keep could not write past the reserve ($HRESERVE)" \
        grep -q "with the snapshot file: a byte at 65536 MiB into the snapshot (RLIMIT_FSIZE $HRESERVE): File too large" \
        "$DTMP/guestd.log"
check "h-snapshot-keep is crashed" wait_state a h-snapshot-keep crashed 30
r=$(ctl_a status h-snapshot-keep 2>/dev/null | sed -n 's/^ *Reason: //p')
check "the reason: it kept the snapshot file open ($r)" grep -q "protocol error: it kept the snapshot file open" <<<"$r"
no_told() { ! grep -q "told to go on" "$DTMP/guestd.log"; }
check "it was never told to go on" no_told
check "no snapshot file is left" [ -z "$(ls -A "$SNAPS")" ]
# drop: refused the same, lets go of the file: it goes on, its limit back.
expect_exit 1 "h-snapshot-drop's suspend fails" "${CTL_A[@]}" suspend h-snapshot-drop
expect_grep "$TMP/err" "could not be suspended: no room left (a lie)" "the error is what the launcher said"
check "h-snapshot-drop runs on" [ "$(guest_state a h-snapshot-drop)" = running ]
soft_limit "$(launcher_pids)"
check "its limit is back to its disk's size ($SOFT)" [ "$SOFT" = "$TiB" ]
check "no snapshot file is left" [ -z "$(ls -A "$SNAPS")" ]
expect_exit 0 "stop h-snapshot-drop" "${CTL_A[@]}" stop --force h-snapshot-drop
# A suspend's message outside a suspend is a protocol error.
expect_exit 0 "A creates h-ready-unasked" "${CTL_A[@]}" create h-ready-unasked --kernel "$G/hello.elf" --memory 16 \
        --cmdline "hostile=ready-unasked"
expect_exit 0 "A starts h-ready-unasked" "${CTL_A[@]}" start h-ready-unasked
check "h-ready-unasked is crashed" wait_state a h-ready-unasked crashed 30
r=$(ctl_a status h-ready-unasked 2>/dev/null | sed -n 's/^ *Reason: //p')
check "the reason: suspend_ready while running ($r)" grep -q 'unexpected message "suspend_ready" while running' <<<"$r"
finish
