# guestd-test: kvm-shadow
# guestd-test: cgroup
# The page-table budget under real memory pressure (issue 10): guestd
# watches /proc/pressure/memory itself (no $MEMORY_PRESSURE_WATCH), with
# its trigger "some 200000 2000000". A memory hog in a cgroup held at
# memory.high (no swap: the kernel throttles it, and that stall is memory
# pressure for the whole host) makes the kernel fire it; guestd cuts the
# memtouch guests' caps to at most their shares, their page tables fall,
# the guests run on. Once the hog is gone and the host is calm, the caps
# grow back to KVM's default.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
source "$(dirname "$0")/pagetables-lib.sh"
need_launcher
need_daemon
need_shadow_paging
[ -r /proc/pressure/memory ] || skip "this kernel has no /proc/pressure/memory (PSI off): no real memory pressure to watch"

daemon_setup
HOG_CG=/sys/fs/cgroup/guestd-test-hog
HOG_PID=
stop_hog() {
        [ -n "$HOG_PID" ] && kill -KILL "$HOG_PID" 2>/dev/null && wait "$HOG_PID" 2>/dev/null
        HOG_PID=
        [ -d "$HOG_CG" ] && rmdir "$HOG_CG" 2>/dev/null
        return 0
}
trap 'stop_hog; daemon_cleanup' EXIT
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024},
  "users": {"'"$USER_A"'": {"page_table_weight": 3}},
  "page_table_budget": 1}'
unset MEMORY_PRESSURE_WATCH MEMORY_PRESSURE_WRITE
daemon_start
expect_grep "$DTMP/guestd.log" "Watching memory pressure: /proc/pressure/memory (some 200000 2000000)" \
        "guestd watches the kernel's PSI with a 2 s window"

memtouch_guests
check "calm: every cap is KVM's default" wait_until 20 caps_are ceiling
t0=$(total_bytes)
show_caps
echo "    before the hog: $t0 bytes of shadow page tables; PSI: $(head -n 1 /proc/pressure/memory)"

# The hog: 512 MiB of anonymous memory in a cgroup held at 16 MiB.
mkdir "$HOG_CG"
echo 16M >"$HOG_CG/memory.high"
/usr/bin/python3 -c '
import os, sys
with open(sys.argv[1] + "/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
b = bytearray(512 << 20)
while True:
    for i in range(0, len(b), 4096):
        b[i] = (b[i] + 1) & 255
' "$HOG_CG" &
HOG_PID=$!
check "real pressure: guestd cuts the caps" wait_until 120 log_count_is "Memory pressure: cut" 1
echo "    PSI: $(head -n 1 /proc/pressure/memory); the hog's: $(head -n 1 "$HOG_CG/memory.pressure" 2>/dev/null)"
check "every cap is at most its share" wait_until 30 caps_are at-most-share
t1=$(total_bytes)
show_caps
echo "    under pressure: $t1 bytes (from $t0)"
check "the guests' page tables fell ($t0 -> $t1 bytes)" [ "$t1" -lt "$t0" ]
expect_grep "$DTMP/guestd.log" "(memory pressure); its page tables .* freed" "the log says what the cut freed"
stop_hog
check "calm again: the caps grow back to KVM's default" wait_until 120 caps_are ceiling
check "MemoryPressure says calm" [ "$(mprop MemoryPressure)" = '"calm"' ]
for g in a:mt1 a:mt2 b:mt3; do
        check "${g#*:} still running" [ "$(guest_state "${g%%:*}" "${g#*:}")" = running ]
done
mt3_verified() { [ "$(verifies b mt3)" -ge 3 ]; }
check "mt3's checksums verify" wait_until 30 mt3_verified
for g in a:mt1 a:mt2 b:mt3; do
        "ctl_${g%%:*}" stop --force "${g#*:}" >/dev/null 2>&1
done
finish
