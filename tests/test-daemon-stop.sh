# guestd-test: kvm
# Stop is a shutdown the guest takes part in (issue 11). Without force,
# guestd asks the guest (Ctrl-Alt-Del on its i8042 keyboard), waits up to
# the policy's timeouts.stop, then stops it itself (the launcher halts the
# vCPUs and flushes the disks); with force it kills the launcher at once.
# `guestctl stop` says which happened, and the guest's StateReason keeps it:
#   - kbd.elf (a keyboard driver that powers off on Ctrl-Alt-Del): shut
#     down by the guest when asked;
#   - kbd.elf kbd.listen=0 (asked, does not shut down): stopped by guestd
#     after the timeout, not before;
#   - count.elf (no keyboard driver) and a paused guest: nobody to ask,
#     stopped by guestd at once, saying why;
#   - stop --force: killed, nothing asked;
#   - SIGRTMIN+4 to the launcher (machinectl poweroff): as a Stop.
# And the calls one user may have waiting are bounded: 64 Stops pile up
# on a guest that takes its time, the next is LimitExceeded, and another
# user's calls are answered meanwhile.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
STOP_TIMEOUT=4
write_policy '{"defaults": {"max_guests": 8, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}, "timeouts": {"stop": '$STOP_TIMEOUT'}}'
daemon_start

# stop_and_time NAME [--force]: guestctl stop; its output in $TMP/out, the
# seconds it took in $STOP_S.
stop_and_time() {
        local t0; t0=$(date +%s%N)
        expect_exit 0 "A stops $*" "${CTL_A[@]}" stop "$@"
        STOP_S=$(( ($(date +%s%N) - t0) / 1000000000 ))
        echo "    guestctl stop $* (${STOP_S}s): $(cat "$TMP/out")"
}
reason() { "${CTL_A[@]}" status --json "$1" | json 'd["state_reason"]'; }
# start_ready NAME: start it and wait for this run's "kbd: keyboard ready"
# (the console log keeps earlier runs' lines).
ready_count() { "${CTL_A[@]}" log "$1" | grep -c "kbd: keyboard ready"; }
start_ready() {
        local before; before=$(ready_count "$1")
        expect_exit 0 "A starts $1" "${CTL_A[@]}" start "$1"
        for i in $(seq 100); do [ "$(ready_count "$1")" -gt "$before" ] && break; sleep 0.2; done
        check "$1's keyboard is ready" [ "$(ready_count "$1")" -gt "$before" ]
}

# --- A guest that listens shuts down by itself.
expect_exit 0 "A creates polite (kbd)" "${CTL_A[@]}" create polite --kernel "$G/kbd.elf" --memory 16
start_ready polite
stop_and_time polite
expect_grep "$TMP/out" "polite: shut down by the guest when asked (Ctrl-Alt-Del)" "guestctl says the guest shut down by itself"
check "polite heard Ctrl-Alt-Del" wait_log a polite "kbd: ctrl-alt-del, powering off" 5
check "polite is stopped" [ "$(guest_state a polite)" = stopped ]
check "its StateReason says so" [ "$(reason polite)" = "shut down by the guest when asked (Ctrl-Alt-Del)" ]
expect_grep "$DTMP/guestd.log" "Guest [0-9]*_polite: asked it to shut down (Ctrl-Alt-Del)" "guestd's log says it asked"

# --- A guest that is asked and does not shut down: the plug after the timeout.
expect_exit 0 "A creates deaf (kbd.listen=0)" "${CTL_A[@]}" create deaf --kernel "$G/kbd.elf" --memory 16 --cmdline "kbd.listen=0"
start_ready deaf
stop_and_time deaf
expect_grep "$TMP/out" "stopped by guestd without the guest's part (it did not shut down within $STOP_TIMEOUT s of Ctrl-Alt-Del)" \
        "guestctl says guestd stopped it after the timeout"
check "not before the timeout (${STOP_S}s >= ${STOP_TIMEOUT}s)" [ "$STOP_S" -ge "$STOP_TIMEOUT" ]
expect_grep <("${CTL_A[@]}" log deaf) "kbd: ignoring ctrl-alt-del" "deaf was asked (and ignored it)"
check "deaf is stopped" [ "$(guest_state a deaf)" = stopped ]

# --- Nobody to ask: at once, saying why.
expect_exit 0 "A creates tick (count: no keyboard driver)" "${CTL_A[@]}" create tick --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "A starts tick" "${CTL_A[@]}" start tick
check "tick runs" wait_log a tick "count 3" 20
stop_and_time tick
expect_grep "$TMP/out" "without the guest's part (no ACPI event driver has taken the power button's interrupt; no keyboard driver has set up the i8042)" \
        "guestctl says there was nobody to ask: no ACPI driver (the machine has ACPI by default), no keyboard driver"
check "without waiting for the timeout (${STOP_S}s < ${STOP_TIMEOUT}s)" [ "$STOP_S" -lt "$STOP_TIMEOUT" ]
start_ready polite
expect_exit 0 "A pauses polite" "${CTL_A[@]}" pause polite
stop_and_time polite
expect_grep "$TMP/out" "without the guest's part (it is paused)" "a paused guest is stopped by guestd, saying why"

# --- Force: killed, nothing asked. (The console log keeps earlier runs'
# lines: count them.)
asked_count() { "${CTL_A[@]}" log polite | grep -c "kbd: ctrl-alt-del"; }
ASKED_BEFORE=$(asked_count)
start_ready polite
stop_and_time polite --force
expect_grep "$TMP/out" "killed on request (Stop with force)" "stop --force kills"
check "polite was not asked" [ "$(asked_count)" = "$ASKED_BEFORE" ]

# --- SIGRTMIN+4 to the launcher, as `machinectl poweroff` sends a
# machine's leader: a Stop without force (the guest asked, then the plug
# after the timeout), not the signal's default action (the launcher's
# death, a crash).
start_ready polite
POLITE_PID=$(launcher_pids)
check "one launcher runs (polite's)" [ "$(echo "$POLITE_PID" | wc -w)" = 1 ]
kill -s SIGRTMIN+4 "$POLITE_PID"
check "polite stops" wait_state a polite stopped 20
check "shut down by the guest when asked, as a Stop" [ "$(reason polite)" = "shut down by the guest when asked (Ctrl-Alt-Del)" ]
expect_grep "$DTMP/guestd.log" "Guest [0-9]*_polite: power-off signal (SIGRTMIN+4, as machinectl poweroff sends) from outside its PID namespace, uid 0: stopping it" \
        "guestd's log says who sent it"
start_ready deaf
DEAF_PID=$(launcher_pids)
kill -s SIGRTMIN+4 "$DEAF_PID"
check "deaf stops (after the timeout)" wait_state a deaf stopped $((STOP_TIMEOUT + 20))
check "stopped by guestd after the timeout, as a Stop" \
        [ "$(reason deaf)" = "stopped by guestd without the guest's part (it did not shut down within $STOP_TIMEOUT s of Ctrl-Alt-Del); its vCPUs halted, its disks flushed" ]

# --- Waiting calls are bounded per user. deaf takes 20 s to stop; A's
# Stops pile up on it (each waits for the end), the 65th is refused.
write_policy '{"defaults": {"max_guests": 8, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}, "timeouts": {"stop": 20}}'
kill -HUP "$GUESTD_PID"
check "the policy is reloaded" wait_file "$DTMP/guestd.log" "Policy .* loaded" 5
start_ready deaf
DEAF=$("${CTL_A[@]}" status --json deaf | json 'd["object"]')
install -m 0755 "$(abspath "$B/tests/bus-call")" "$DTMP/bus-call"
"${AS_A[@]}" "$DTMP/bus-call" --pipeline --repeat=70 --expect=org.guestd1.Error.LimitExceeded \
        "$BUS" "$DEAF" org.guestd1.Guest Stop b false >"$TMP/flood" 2>&1 &
FLOOD=$!
check "deaf is stopping" wait_state a deaf stopping 10
# B meanwhile: answered.
expect_exit 0 "B's list while A's Stops wait" "${CTL_B[@]}" list
wait "$FLOOD"
echo "    $(cat "$TMP/flood")"
check "64 Stops waited and were answered, 6 were LimitExceeded" grep -q "calls=70 ok=64 expected=6 other=0" "$TMP/flood"
check "deaf is stopped" [ "$(guest_state a deaf)" = stopped ]
finish
