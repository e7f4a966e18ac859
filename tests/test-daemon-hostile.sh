# guestd-test: kvm
# Hostile guests through guestd. User A runs each hostile payload while
# user B's guest runs beside it. Each hostile guest gets errors from its
# devices or is ended with a clear reason, within a bounded time; B's
# guest goes on untouched; guestd answers ListGuests during each; and a
# guest flooding its console neither grows guestd nor its launcher beyond
# a bound, nor keeps either from stopping it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 16, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
daemon_start
truncate -s 1M "$G/a-disk.img" && chown "$USER_A" "$G/a-disk.img"

expect_exit 0 "B creates bystander" "${CTL_B[@]}" create bystander --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "B starts bystander" "${CTL_B[@]}" start bystander
check "bystander runs" wait_state b bystander running 20
last_count() { ctl_b log bystander | sed -n 's/^count \([0-9]*\)$/\1/p' | tail -n 1; }
# counted_past N: the bystander's count goes past N within 60 s. (Not a
# wait for line N+1: a fast guest may have printed it long enough ago that
# it left the 64 KiB of log guestd keeps.)
counted_past() {
        local i n
        for i in $(seq 600); do
                n=$(last_count)
                [ -n "$n" ] && [ "$n" -gt "$1" ] && return 0
                sleep 0.1
        done
        echo "    bystander: still at count ${n:-none} after 60 s (was ${1})" >&2
        return 1
}

# name payload final-state reason-pattern log-pattern [extra create options]
# A guest that crashes at once may do so before Start is answered: then
# Start fails (exit 1) and its error gives the reason.
run_hostile() {
        local name=$1 payload=$2 want=$3 reason=$4 logpat=$5; shift 5
        local before rc
        before=$(last_count)
        expect_exit 0 "$name: create" "${CTL_A[@]}" create "$name" --kernel "$G/$payload.elf" --memory 16 "$@"
        "${CTL_A[@]}" start "$name" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        if [ $rc = 0 ]; then
                ok "$name: started"
        elif [ $rc = 1 ] && [ "$want" = crashed ]; then
                expect_grep "$TMP/err" "$reason" "$name: ended before Start was answered, and Start's error says why"
        else
                fail "$name: start: exit $rc: $(cat "$TMP/err")"
        fi
        expect_exit 0 "$name: guestd answers B's ListGuests while it runs" "${CTL_B[@]}" list
        expect_grep "$TMP/out" "^bystander  *running" "$name: bystander listed as running"
        check "$name: ends $want within 60 s" wait_state a "$name" "$want" 60
        expect_exit 0 "$name: status" "${CTL_A[@]}" status "$name" --json
        local got
        got=$(json 'd.get("state_reason")' <"$TMP/out")
        echo "    $name: $want, reason: $got"
        check "$name: reason matches '$reason'" grep -q -- "$reason" <<<"$got"
        if [ -n "$logpat" ]; then
                check "$name: console says '$logpat'" wait_log a "$name" "$logpat" 5
        fi
        check "$name: bystander still running" [ "$(guest_state b bystander)" = running ]
        check "$name: bystander still counting" counted_past "${before:-0}"
}

run_hostile virtq hostile-virtq stopped "powered off" "cases, all refused; an honest read still works" --disk "$G/a-disk.img" --cmdline-devices
run_hostile mmio hostile-mmio stopped "powered off" "device still works" --disk "$G/a-disk.img" --cmdline-devices
run_hostile ports hostile-ports stopped "powered off" "all unassigned reads all-ones"
run_hostile triple end-triple crashed "triple fault" ""
run_hostile badinsn end-badinsn crashed "emulation failure .*instruction bytes" ""

# The flood: it never ends by itself. guestd keeps only the last 64 KiB;
# its own memory and the launchers' stay bounded; stop still works.
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
rss_before=$(rss "$GUESTD_PID")
flood_cmdline=$(serial_flood_cmdline 2>"$TMP/part")
cat "$TMP/part"
expect_exit 0 "flood: create" "${CTL_A[@]}" create flood --kernel "$G/hostile-serial.elf" --memory 16 ${flood_cmdline:+--cmdline "$flood_cmdline"}
expect_exit 0 "flood: start" "${CTL_A[@]}" start flood
check "flood runs" wait_state a flood running 20
log_bytes() { ctl_a log flood | wc -c; }
check "flood: guestd's 64 KiB log is full" wait_until 120 eval '[ "$(log_bytes)" -ge 65536 ]'
# A slow console client: attached, its output a pipe nobody reads, for a
# while.
guestd_fds() { ls "/proc/$GUESTD_PID/fd" | wc -l; }
fds_before=$(guestd_fds)
( timeout 6 "${CTL_A[@]}" console flood --idle 0 --read-only | sleep 6 ) &
slow=$!
check "flood: the slow client is attached (guestd holds its socket)" wait_until 20 eval '[ "$(guestd_fds)" -gt "$fds_before" ]'
expect_exit 0 "flood: guestd answers B's ListGuests during the flood" "${CTL_B[@]}" list
expect_exit 0 "flood: A's log" "${CTL_A[@]}" log flood
bytes=$(wc -c <"$TMP/out")
echo "    flood: log holds $bytes bytes; guestd RSS ${rss_before} -> $(rss "$GUESTD_PID") KiB"
check "flood: the log is the 64 KiB tail, no more" [ "$bytes" -le 65536 ] && [ "$bytes" -ge 1 ]
check "flood: guestd's RSS grew by less than 8 MiB" [ $(($(rss "$GUESTD_PID") - rss_before)) -lt 8192 ]
for p in $(launcher_pids); do
        echo "    launcher $p: VmRSS $(rss "$p") KiB"
        check "flood: launcher $p RSS (guest RAM included) under 32 MiB" [ "$(rss "$p")" -lt 32768 ]
done
wait "$slow" 2>/dev/null
expect_exit 0 "flood: stop --force" "${CTL_A[@]}" stop flood --force
check "flood: stopped within 10 s" wait_state a flood stopped 10
check "flood: bystander still running" [ "$(guest_state b bystander)" = running ]
expect_exit 0 "stop bystander" "${CTL_B[@]}" stop bystander
check "bystander stopped" wait_state b bystander stopped 20
check "guestd is alive" kill -0 "$GUESTD_PID"
finish
