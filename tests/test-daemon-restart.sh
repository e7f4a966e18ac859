# guestd-test: kvm
# guestd can die (kill -9) while guests run and lose nothing: launchers keep
# running, and the new guestd finds them again, lists them as running,
# their consoles go on, and guestctl stops them. Defined and stopped
# guests come back from their records.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 3, "max_vcpus": 8, "max_memory_mib": 512}}'
daemon_start

for g in r1 r2; do
        expect_exit 0 "create $g" "${CTL_A[@]}" create "$g" --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
        expect_exit 0 "start $g" "${CTL_A[@]}" start "$g"
done
expect_exit 0 "create idle (never started)" "${CTL_A[@]}" create idle --kernel "$G/hello.elf" --memory 16 --vcpus 2
expect_exit 0 "create ended (runs to the end)" "${CTL_A[@]}" create ended --kernel "$G/hello.elf" --memory 16
expect_exit 0 "start ended" "${CTL_A[@]}" start ended
check "r1 runs" wait_state a r1 running 20
check "r2 runs" wait_state a r2 running 20
check "ended stopped" wait_state a ended stopped 20
check "r1 is talking" wait_log a r1 "count 2" 20
before=$(launcher_pids | sort | tr '\n' ' ')
echo "    launchers before: $before"

daemon_kill KILL # returns once the process is reaped
check "launchers survive the daemon's death" [ "$(launcher_pids | sort | tr '\n' ' ')" = "$before" ]
expect_exit 7 "guestctl says guestd is unreachable" "${CTL_A[@]}" list
expect_grep "$TMP/err" "not running" "unreachable message"

daemon_start
expect_exit 0 "list after restart" "${CTL_A[@]}" list --json
check "all four guests are back with their states" \
        [ "$(json 'sorted((g["name"], g["state"], g["vcpus"]) for g in d)' <"$TMP/out")" = \
          "[('ended', 'stopped', 1), ('idle', 'defined', 2), ('r1', 'running', 1), ('r2', 'running', 1)]" ]
check "the same launchers, none restarted" [ "$(launcher_pids | sort | tr '\n' ' ')" = "$before" ]
echo "    $(date +%T.%N): reading r1's log"
ctl_a log r1 >"$TMP/log-at-n1" 2>&1
echo "    $(date +%T.%N): read it"
n1=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$TMP/log-at-n1" | tail -n 1)
# Any later count will do: what the guest printed while no guestd read
# its console is lost (the UART drops what it cannot write), so the count
# may jump; and a busy nested VM can hold the guest back for a while.
last_count_above() {
        local n; n=$(ctl_a log r1 2>/dev/null | sed -n 's/^count \([0-9]*\)$/\1/p' | tail -n 1)
        [ -n "$n" ] && [ "$n" -ge "$1" ]
}
if wait_until 60 last_count_above $((${n1:-0} + 3)); then
        ok "r1's console still reaches the log after restart"
else
        fail "r1's console still reaches the log after restart"
        # Seen failing now and then in the nested VM after another test,
        # when it waited for exactly count n1+3 for 200 tries (not yet
        # explained): all that can tell why.
        echo "    r1's count did not pass $((${n1:-0} + 3)) in 60 s" >&2
        echo "    --- guestd's whole log" >&2
        sed 's/^/    /' "$DTMP/guestd.log" >&2
        echo "    --- r1's console log, its end" >&2
        ctl_a log r1 2>&1 | tail -n 5 | sed 's/^/    /' >&2
        echo "    --- n1=$n1 from this log (head, tail; $(wc -l <"$TMP/log-at-n1") lines)" >&2
        head -n 5 "$TMP/log-at-n1" | sed 's/^/    /' >&2
        tail -n 5 "$TMP/log-at-n1" | sed 's/^/    /' >&2
        echo "    --- the log now: head, and lines near count $n1" >&2
        ctl_a log r1 2>&1 | head -n 5 | sed 's/^/    /' >&2
        ctl_a log r1 2>&1 | grep -n -m 8 "count ${n1:-0}" | sed 's/^/    /' >&2
        ps -eo pid,uid,stat,wchan:32,args | grep '[g]uestd-launcher' | sed 's/^/    /' >&2
        echo "    $(date +%T.%N): the launchers' threads" >&2
        for p in $(launcher_pids); do
                for t in /proc/$p/task/*; do
                        echo "    $p/${t##*/} $(cat $t/comm) $(cut -d' ' -f3,14,15 $t/stat) $(cat $t/wchan)" >&2
                done
        done
        grep -E 'ctxt|State' /proc/$GUESTD_PID/status | sed 's/^/    guestd /' >&2
        ls -l /proc/$GUESTD_PID/fd | sed 's/^/    /' >&2
fi
expect_exit 0 "quota after restart" "${CTL_A[@]}" quota --json
check "usage is recomputed: 2 running, 4 guests" [ "$(json '(d["running"]["used"], d["guests"]["used"])' <"$TMP/out")" = "(2, 4)" ]
expect_exit 0 "pause r2 after restart" "${CTL_A[@]}" pause r2
check "r2 paused" wait_state a r2 paused 10
expect_exit 0 "unpause r2" "${CTL_A[@]}" unpause r2
check "r2 running" wait_state a r2 running 10
expect_exit 0 "stop r1 (in order)" "${CTL_A[@]}" stop r1
check "r1 stopped" wait_state a r1 stopped 20
expect_exit 0 "stop r2 --force" "${CTL_A[@]}" stop r2 --force
check "r2 stopped" wait_state a r2 stopped 10
no_launchers() { [ -z "$(launcher_pids)" ]; }
check "no launcher left" wait_until 5 no_launchers

# A restart with nothing running, and an orderly one (SIGTERM), lose nothing either.
expect_exit 0 "start r1 again" "${CTL_A[@]}" start r1
check "r1 runs again" wait_state a r1 running 20
daemon_stop
daemon_start
check "after SIGTERM and restart r1 still runs" wait_state a r1 running 10
expect_exit 0 "stop r1" "${CTL_A[@]}" stop r1 --force
check "r1 stopped" wait_state a r1 stopped 10
expect_exit 0 "start idle after restart" "${CTL_A[@]}" start idle
check "idle (hello) ran to its end" wait_state a idle stopped 20
expect_exit 0 "remove everything" bash -c 'for g in r1 r2 idle ended; do "$@" remove $g || exit 1; done' - "${CTL_A[@]}"
daemon_kill KILL
daemon_start
expect_exit 0 "list after a last restart" "${CTL_A[@]}" list --json
check "removed guests stay removed" [ "$(json 'len(d)' <"$TMP/out")" = 0 ]

# The bus goes away: guestd exits with a failure (so that systemd's
# Restart=on-failure brings a new one), saying why.
kill "$BUS_PID"
wait "$BUS_PID" 2>/dev/null
BUS_PID=
guestd_gone() { ! kill -0 "$GUESTD_PID" 2>/dev/null; }
check "guestd exits when it loses the bus" wait_until 10 guestd_gone
wait "$GUESTD_PID" 2>/dev/null
rc=$?
GUESTD_PID=
check "with a failure status (got $rc)" [ "$rc" = 1 ]
expect_grep "$DTMP/guestd.log" "Lost the connection to the bus; exiting" "and says why"
finish
