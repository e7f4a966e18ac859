# guestd-test: kvm-tdp
# The page-table budget where a cap frees nothing (issue 10): KVM with
# NPT/EPT and its TDP MMU (the nested test VM's default, most hosts).
# guestd must say so (log, Manager properties, guestctl budget), never
# claim memory it did not free, and not cut anyone's cap on pressure.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
source "$(dirname "$0")/pagetables-lib.sh"
need_launcher
need_daemon
grep -qx 'Y' /sys/module/kvm/parameters/tdp_mmu 2>/dev/null &&
        { grep -qx '[Y1]' /sys/module/kvm_amd/parameters/npt 2>/dev/null || grep -qx '[Y1]' /sys/module/kvm_intel/parameters/ept 2>/dev/null; } ||
        skip "KVM here shadows guest page tables or uses its legacy MMU: a cap takes effect (test-daemon-pagetables.sh covers that)"

daemon_setup
FIFO=$DTMP/pressure.fifo
mkfifo -m 600 "$FIFO"
write_policy '{"defaults": {"max_running": 4}, "page_table_budget": 1}'
MEMORY_PRESSURE_WATCH=$FIFO daemon_start
expect_grep "$DTMP/guestd.log" "the caps have no effect: .*with the TDP MMU" "the log says the caps have no effect, and why"
expect_exit 0 "guestctl budget --json" "${CTL_A[@]}" budget --json
check "limit: tdp" [ "$(json 'd["limit"]' <"$TMP/out")" = tdp ]
check "the limit takes no effect" [ "$(json 'd["limit_effective"]' <"$TMP/out")" = False ]
expect_exit 0 "guestctl budget" "${CTL_A[@]}" budget
expect_grep "$TMP/out" "KVM's MMU: tdp; caps have no effect: " "guestctl budget says so"

expect_exit 0 "A creates mt" "${CTL_A[@]}" create mt --kernel "$G/memtouch.elf" --memory 64 \
        --cmdline "memtouch.mib=4 memtouch.virt-mib=256 memtouch.stride=512 memtouch.passes=0"
expect_exit 0 "A starts mt" "${CTL_A[@]}" start mt
check "mt verifies" wait_log a mt "pass 3 (verify)" 60
echo p >"$FIFO"
check "pressure is seen" wait_until 10 log_count_is "Memory pressure: nothing to do, page-table caps free nothing on this host" 1
check "MemoryPressure says pressure" [ "$(mprop MemoryPressure)" = '"pressure"' ]
check "calm again after the window" wait_until 20 eval '[ "$(mprop MemoryPressure)" = "\"calm\"" ]'
# The whole episode is over: nothing was cut in it.
check "nobody's cap was cut" [ "$(log_count "Memory pressure: cut")" = 0 ]
check "no memory was claimed freed" [ "$(log_count "(memory pressure)")" = 0 ]
check "mt runs on" [ "$(guest_state a mt)" = running ]
ctl_a stop --force mt >/dev/null 2>&1
finish
