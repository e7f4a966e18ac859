# guestd-test: kvm
# Quotas through guestd: each limit (guests defined, running, vCPUs,
# memory) refuses the request that would pass it with QuotaExceeded and a
# message naming the limit, the usage and the request; per-user and
# per-group overrides; `guestctl quota`; SIGHUP and ReloadPolicy reload the
# policy and an invalid policy is refused with the old one kept.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy "{
  \"defaults\": {\"max_guests\": 4, \"max_running\": 1, \"max_vcpus\": 2, \"max_memory_mib\": 64},
  \"users\": {\"$USER_B\": {\"max_running\": 0}}
}"
daemon_start

COUNT=(--kernel "$G/count.elf" --cmdline "count.delay=200000")
# quota_error MESSAGE: stderr is exactly "guestctl: MESSAGE" (the daemon's
# sentence names the limit, the usage and the request).
quota_error() {
        local got
        got=$(cat "$TMP/err")
        if [ "$got" = "guestctl: $1" ]; then
                ok "exact message: $1"
        else
                fail "QuotaExceeded message: got '$got', wanted 'guestctl: $1'"
        fi
}

# --- max_guests
for g in g1 g2 g3 g4; do
        expect_exit 0 "create $g" "${CTL_A[@]}" create "$g" "${COUNT[@]}" --memory 16
done
expect_exit 5 "a fifth guest is QuotaExceeded" "${CTL_A[@]}" create g5 "${COUNT[@]}" --memory 16
quota_error "Creating 'g5' needs 1 more guest; you have 4 of your 4 (max_guests). Remove a guest or ask for a larger quota."
expect_exit 3 "g5 was not created" "${CTL_A[@]}" status g5

# --- quota shows the live usage
expect_exit 0 "quota --json" "${CTL_A[@]}" quota --json
check "quota --json: guests 4/4, running 0/1, vcpus 0/2, memory 0/64" \
        [ "$(json '[(k, d[k]["used"], d[k]["limit"]) for k in ("guests", "running", "vcpus", "memory_mib")]' <"$TMP/out")" = \
          "[('guests', 4, 4), ('running', 0, 1), ('vcpus', 0, 2), ('memory_mib', 0, 64)]" ]

# --- max_running
expect_exit 0 "start g1" "${CTL_A[@]}" start g1
check "g1 is running" wait_state a g1 running 20
expect_exit 5 "a second running guest is QuotaExceeded" "${CTL_A[@]}" start g2
quota_error "Starting 'g2' needs 1 running guest; you use 1 of your 1 (max_running). Stop a guest or ask for a larger quota."
check "g2 did not start" [ "$(guest_state a g2)" = defined ]
expect_exit 0 "quota while g1 runs" "${CTL_A[@]}" quota
expect_grep "$TMP/out" "^running  *1  *1$" "quota table: running 1 of 1"
expect_grep "$TMP/out" "^vcpus  *1  *2$" "quota table: vcpus 1 of 2"
expect_grep "$TMP/out" "^memory_mib  *16  *64$" "quota table: memory 16 of 64"
expect_exit 0 "stop g1" "${CTL_A[@]}" stop g1 --force
check "g1 stopped" wait_state a g1 stopped 10
expect_exit 0 "remove g2..g4" bash -c 'for g in g2 g3 g4; do "$@" remove $g || exit 1; done' - "${CTL_A[@]}"

# --- a guest that alone exceeds max_vcpus or max_memory_mib could never
# start: refused at create (issue 22), naming the limit and the value
expect_exit 5 "create wide (3 vCPUs) against max_vcpus 2 is QuotaExceeded" "${CTL_A[@]}" create wide "${COUNT[@]}" --memory 16 --vcpus 3
quota_error "'wide' would need 3 vCPUs to run, more than your 2 (max_vcpus) for all your running guests together: it could never start. Give it less, or ask for a larger quota."
expect_exit 5 "create big (128 MiB) against max_memory_mib 64 is QuotaExceeded" "${CTL_A[@]}" create big "${COUNT[@]}" --memory 128
quota_error "'big' would need 128 MiB of memory to run, more than your 64 (max_memory_mib) for all your running guests together: it could never start. Give it less, or ask for a larger quota."
expect_exit 3 "wide was not created" "${CTL_A[@]}" status wide
expect_exit 3 "big was not created" "${CTL_A[@]}" status big
check "nothing runs" [ -z "$(launcher_pids)" ]

# --- per-user override: B may run nothing
expect_exit 0 "B creates one" "${CTL_B[@]}" create b1 "${COUNT[@]}" --memory 16
expect_exit 5 "B's start against max_running 0 is QuotaExceeded" "${CTL_B[@]}" start b1
quota_error "Starting 'b1' needs 1 running guest; you use 0 of your 0 (max_running). Stop a guest or ask for a larger quota."

# --- reload: SIGHUP with a valid policy lifts the limit; an invalid one is refused
write_policy "{
  \"defaults\": {\"max_guests\": 4, \"max_running\": 1, \"max_vcpus\": 4, \"max_memory_mib\": 64},
  \"groups\": {\"$USER_B\": {\"max_running\": 1}}
}"
check "guestd reloaded its policy" daemon_reload
expect_exit 0 "after SIGHUP, a group override lets B start" "${CTL_B[@]}" start b1
check "b1 runs" wait_state b b1 running 20
expect_exit 0 "after SIGHUP, wide (3 vCPUs) fits max_vcpus 4: created" "${CTL_A[@]}" create wide "${COUNT[@]}" --memory 16 --vcpus 3
expect_exit 0 "and started" "${CTL_A[@]}" start wide
check "wide runs" wait_state a wide running 20
expect_exit 0 "stop wide" "${CTL_A[@]}" stop wide --force
check "wide stopped" wait_state a wide stopped 10

write_policy '{"defaults": {"max_running": "lots"}}'
lines_before=$(wc -l <"$DTMP/guestd.log")
check "guestd read the invalid policy" daemon_reload
check "guestd is still running after an invalid policy" kill -0 "$GUESTD_PID"
tail -n +"$((lines_before + 1))" "$DTMP/guestd.log" >"$TMP/reload.log"
echo "    guestd said: $(cat "$TMP/reload.log")"
expect_grep "$TMP/reload.log" "max_running" "the refusal names the wrong field"
expect_exit 0 "B creates b2" "${CTL_B[@]}" create b2 "${COUNT[@]}" --memory 16
expect_exit 5 "old policy: B's second running guest is QuotaExceeded" "${CTL_B[@]}" start b2
quota_error "Starting 'b2' needs 1 running guest; you use 1 of your 1 (max_running). Stop a guest or ask for a larger quota."

# ReloadPolicy over the bus: uid 0 only.
expect_exit 1 "ReloadPolicy as A is refused" "${AS_A[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy
expect_grep "$TMP/err" "Only root may reload the policy" "ReloadPolicy refusal says why"
write_policy '{"defaults": {"max_guests": 4, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 64}}'
expect_exit 0 "ReloadPolicy as root" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy
expect_exit 0 "after ReloadPolicy B may run two" "${CTL_B[@]}" start b2
check "b2 runs" wait_state b b2 running 20
# --- max_vcpus and max_memory_mib at start: what runs counts
expect_exit 0 "A creates two (2 vCPUs)" "${CTL_A[@]}" create two "${COUNT[@]}" --memory 16 --vcpus 2
expect_exit 0 "A creates m56 (56 MiB)" "${CTL_A[@]}" create m56 "${COUNT[@]}" --memory 56
expect_exit 0 "A starts wide (3 of 4 vCPUs, 16 of 64 MiB)" "${CTL_A[@]}" start wide
check "wide runs" wait_state a wide running 20
expect_exit 5 "starting two (2 more vCPUs) is QuotaExceeded" "${CTL_A[@]}" start two
quota_error "Starting 'two' needs 2 vCPUs; you use 3 of your 4 (max_vcpus). Stop a guest or ask for a larger quota."
expect_exit 5 "starting m56 (56 more MiB) is QuotaExceeded" "${CTL_A[@]}" start m56
quota_error "Starting 'm56' needs 56 MiB of memory; you use 16 of your 64 (max_memory_mib). Stop a guest or ask for a larger quota."
expect_exit 0 "stop wide" "${CTL_A[@]}" stop wide --force
check "wide stopped" wait_state a wide stopped 10
expect_exit 0 "stop b1" "${CTL_B[@]}" stop b1 --force
expect_exit 0 "stop b2" "${CTL_B[@]}" stop b2 --force
finish
