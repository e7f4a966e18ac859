# guestd-test: kvm
# Check-and-start is atomic: many Start calls at once from two users never
# take either past their quota, at any moment. Each user owns more guests
# than it may run (mixed vCPU counts so both the running and the vCPU limit
# bind), all starts are fired together, several rounds; meanwhile root
# samples every guest's state as fast as it can. A guest counts against the
# quota from "starting" until it is "stopped" again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
MAX_RUNNING=3 MAX_VCPUS=4 PER_USER=8 ROUNDS=${ROUNDS:-3}
write_policy "{\"defaults\": {\"max_guests\": 16, \"max_running\": $MAX_RUNNING, \"max_vcpus\": $MAX_VCPUS, \"max_memory_mib\": 1024}}"
daemon_start

for who in a b; do
        for i in $(seq $PER_USER); do
                "ctl_$who" create "c$i" --kernel "$G/count.elf" --memory 16 --vcpus $((i % 2 + 1)) \
                        --cmdline "count.delay=400000" || fail "$who creates c$i"
        done
done

sampler_start

for round in $(seq "$ROUNDS"); do
        pids=()
        for who in a b; do
                for i in $(seq $PER_USER); do
                        ( "ctl_$who" start "c$i" >/dev/null 2>"$TMP/err.$who.$i"; echo $? >"$TMP/rc.$who.$i" ) &
                        pids+=($!)
                done
        done
        wait "${pids[@]}"
        for who in a b; do
                started=0 vcpus=0 bad=0
                for i in $(seq $PER_USER); do
                        rc=$(cat "$TMP/rc.$who.$i")
                        case $rc in
                        0) started=$((started + 1)); vcpus=$((vcpus + i % 2 + 1)) ;;
                        5) ;;
                        *) bad=$((bad + 1)); echo "    $who c$i: exit $rc: $(cat "$TMP/err.$who.$i")" ;;
                        esac
                done
                echo "    round $round, user $who: $started started ($vcpus vCPUs), $((PER_USER - started - bad)) QuotaExceeded"
                check "round $round, $who: every start either succeeded or was QuotaExceeded" [ "$bad" = 0 ]
                check "round $round, $who: $started started <= $MAX_RUNNING" [ "$started" -le $MAX_RUNNING ]
                check "round $round, $who: $vcpus vCPUs <= $MAX_VCPUS" [ "$vcpus" -le $MAX_VCPUS ]
                check "round $round, $who: at least one started" [ "$started" -ge 1 ]
        done
        sleep 0.5
        # Stop everything, also concurrently, and wait until all have stopped.
        pids=()
        for who in a b; do
                for i in $(seq $PER_USER); do
                        "ctl_$who" stop "c$i" --force >/dev/null 2>&1 &
                        pids+=($!)
                done
        done
        wait "${pids[@]}"
        for who in a b; do
                for i in $(seq $PER_USER); do
                        s=$(guest_state "$who" "c$i")
                        [ "$s" = defined ] || [ "$s" = stopped ] || wait_state "$who" "c$i" stopped 10 || fail "round $round: $who c$i is $s"
                done
        done
done
sampler_stop
# Every sample: per owner, guests in an active state and their vCPUs.
sampler_verdict "$MAX_RUNNING" "$MAX_VCPUS" >"$TMP/verdict"
rc=$?
echo "    $(cat "$TMP/verdict")"
check "no sample ever showed a user over the quota" [ "$rc" = 0 ]
check "the sampler saw guests running" grep -q 'active_samples=[1-9]' "$TMP/verdict"
check "guestd is alive" kill -0 "$GUESTD_PID"
finish
