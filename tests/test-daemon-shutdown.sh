# guestd-test: kvm
# The host's shutdown (issue 9): guestd holds logind's shutdown delay
# inhibitor (here tests/fake-logind stands in for systemd-logind, as no
# machine here runs systemd); on PrepareForShutdown(true) every running or
# paused guest of every user is suspended, the inhibitor is released once
# all are, and after a "reboot" (every process of the old guestd ended, a
# fresh guestd on the same state) they are still suspended and resume where
# they were. A guest whose owner's snapshot quota cannot hold it is stopped
# in order, saying why; policy "host_shutdown": "stop" stops them all; a
# plain stop of guestd suspends nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
[ -x "$B/tests/fake-logind" ] || skip "$B/tests/fake-logind is not built"
daemon_setup
POLICY='{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024, "max_snapshot_mib": 200},
         "users": {"'"$USER_B"'": {"max_snapshot_mib": 5}}}'
write_policy "$POLICY"

# The stand-in logind: commands on a FIFO, its events in a file.
mkfifo "$TMP/logind.in"
"$B/tests/fake-logind" "$BUS" <"$TMP/logind.in" >"$TMP/logind.out" 2>"$TMP/logind.err" &
LOGIND_PID=$!
exec 9>"$TMP/logind.in"
logind() { echo "$1" >&9; }
wait_event() { # PATTERN [SECONDS]
        local i
        for i in $(seq $((${2:-30} * 10))); do
                grep -q -- "$1" "$TMP/logind.out" && return 0
                sleep 0.1
        done
        echo "    fake-logind: no '$1' after ${2:-30}s; it said: $(tr '\n' '|' <"$TMP/logind.out")" >&2
        return 1
}
# events PATTERN: how many of fake-logind's lines match so far;
# wait_more PATTERN N [SECONDS]: wait until more than N do (a pattern seen
# before, such as a second release, must not match the first one again).
events() { grep -c -- "$1" "$TMP/logind.out"; }
wait_more() {
        local end=$((SECONDS + ${3:-30}))
        while [ "$SECONDS" -lt "$end" ]; do
                [ "$(events "$1")" -gt "$2" ] && return 0
                sleep 0.1
        done
        echo "    fake-logind: no new '$1' (still $2) after ${3:-30}s; it said: $(tr '\n' '|' <"$TMP/logind.out")" >&2
        return 1
}
check "fake-logind is on the bus" wait_event "^ready$" 10
trap 'rc=$?; exec 9>&-; kill $LOGIND_PID 2>/dev/null; (exit $rc); daemon_cleanup' EXIT

daemon_start
check "guestd takes a shutdown delay inhibitor" wait_event "^inhibit shutdown guestd delay$"

expect_exit 0 "A creates count" "${CTL_A[@]}" create count --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=3000000"
expect_exit 0 "A starts count" "${CTL_A[@]}" start count
expect_exit 0 "B creates count" "${CTL_B[@]}" create count --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=3000000"
expect_exit 0 "B starts count" "${CTL_B[@]}" start count
expect_exit 0 "A creates a second, paused" "${CTL_A[@]}" create paused --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=3000000"
expect_exit 0 "start it" "${CTL_A[@]}" start paused
check "A's count counts" wait_log a count "^count 2" 60
expect_exit 0 "pause it" "${CTL_A[@]}" pause paused

# --- a plain stop and start of guestd suspends nothing
inhibits=$(events "^inhibit shutdown guestd delay$")
daemon_stop
daemon_start
check "after a guestd restart count still runs" [ "$(guest_state a count)" = running ]
check "guestd takes the inhibitor again" wait_more "^inhibit shutdown guestd delay$" "$inhibits" 10

# --- the host shuts down (guestd's stop above released its inhibitor too:
# count from here)
released=$(events "^released guestd$")
logind shutdown
check "guestd releases the inhibitor once every guest is done" wait_more "^released guestd$" "$released" 60
check "A's count is suspended" [ "$(guest_state a count)" = suspended ]
check "A's paused guest is suspended" [ "$(guest_state a paused)" = suspended ]
expect_exit 0 "A's status" "${CTL_A[@]}" status count
expect_grep "$TMP/out" "Reason: suspended for the host's shutdown" "the reason says why"
check "B's count did not fit B's snapshot quota: stopped, not lost in a kill" [ "$(guest_state b count)" = stopped ]
check "no launcher runs" [ -z "$(launcher_pids)" ]
expect_exit 1 "no resume while the host shuts down" "${CTL_A[@]}" resume paused
expect_grep "$TMP/err" "shutting down" "the error says so"
grep "Host shutdown" "$DTMP/guestd.log" | sed 's/^/    /'
expect_grep "$DTMP/guestd.log" "Host shutdown: guest ${UID_B}_count: .*max_snapshot_mib.* Stopping it instead" "the log says why B's was stopped"

# --- the reboot: guestd and every process it started end; a fresh one
daemon_kill KILL
for p in $(launcher_pids); do kill -KILL "$p"; done
daemon_start
check "after the reboot A's count is suspended" [ "$(guest_state a count)" = suspended ]
expect_exit 0 "A resumes count" "${CTL_A[@]}" resume count
check "count counts on" wait_log a count "^count [0-9]" 60
log=$(ctl_a log count)
first=$(echo "$log" | awk '/^count [0-9]+/ { print $2 + 0; exit }')
check "it went on from where it was ($first), not from 0" [ "${first:-0}" -gt 1 ]
expect_exit 0 "A resumes the paused one" "${CTL_A[@]}" resume paused

# --- a shutdown called off: guestd holds its inhibitor again
released=$(events "^released guestd$")
inhibits=$(events "^inhibit shutdown guestd delay$")
logind shutdown
check "released again (a new release: the earlier one must not count)" wait_more "^released guestd$" "$released" 60
logind cancel
check "after the cancel guestd takes a new inhibitor" wait_more "^inhibit shutdown guestd delay$" "$inhibits" 10
expect_exit 0 "and starts are allowed again: resume count" "${CTL_A[@]}" resume count

# --- policy "host_shutdown": "stop"
write_policy '{"host_shutdown": "stop", "defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
expect_exit 0 "reload the policy" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy
released=$(events "^released guestd$")
logind shutdown
check "with host_shutdown stop: released" wait_more "^released guestd$" "$released" 60
check "count was stopped, not suspended" [ "$(guest_state a count)" = stopped ]

finish
