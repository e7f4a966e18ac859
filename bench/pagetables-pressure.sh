#!/usr/bin/env bash
# Memory freed, and how fast, when the host needs it back: guestd's cut on
# a memory pressure event against KVM's own shrinker (which Debian's 6.1
# kernel still has; drop_caches=2 runs every slab shrinker at once) and
# against doing nothing. Run by bench/bench-pagetables.sh as root where
# KVM shadows guest page tables; prints table rows "prow: ...".
#
# Three memtouch guests of 512 MiB (two users), each with 2048 page tables
# touched over and over from user mode, under guestd with a 4 MiB budget.
# SecPageTables (/proc/meminfo) before, right after, and 5 s after: what
# was freed, and whether it stayed free while the guests kept running.
# The pressure event is a write to the FIFO guestd watches
# ($MEMORY_PRESSURE_WATCH); "time to free" runs from that write to the
# last launcher's answer that its cap is in force (guestd's log).
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
source tests/daemon-lib.sh
source tests/pagetables-lib.sh
need_launcher
need_daemon
need_shadow_paging >&2
sec() { awk '$1 == "SecPageTables:" { print $2 }' /proc/meminfo; }

daemon_setup >&2
FIFO=$DTMP/pressure.fifo
mkfifo -m 600 "$FIFO"
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 2048},
  "page_table_budget": 4}'
MEMORY_PRESSURE_WATCH=$FIFO daemon_start --pressure-calm 3600
MT=(--kernel "$G/memtouch.elf" --memory 512 --cmdline "memtouch.mib=16 memtouch.virt-mib=4096 memtouch.stride=512 memtouch.passes=0")
{
        expect_exit 0 "A creates mt1" "${CTL_A[@]}" create mt1 "${MT[@]}"
        expect_exit 0 "A creates mt2" "${CTL_A[@]}" create mt2 "${MT[@]}"
        expect_exit 0 "B creates mt3" "${CTL_B[@]}" create mt3 "${MT[@]}"
        expect_exit 0 "A starts mt1" "${CTL_A[@]}" start mt1
        expect_exit 0 "A starts mt2" "${CTL_A[@]}" start mt2
        expect_exit 0 "B starts mt3" "${CTL_B[@]}" start mt3
        for g in a:mt1 a:mt2 b:mt3; do
                check "${g#*:} verifies" wait_log "${g%%:*}" "${g#*:}" "pass 3 (verify)" 300
        done
} >&2
[ "$TEST_FAILS" = 0 ] || { echo "pagetables-pressure: the guests did not run" >&2; exit 1; }
sleep 3

row() { echo "prow: | $1 | $2 | $3 | $(($2 - $3)) | $4 | $5 |"; }

# Doing nothing: what the guests hold, 5 s apart.
a=$(sec); sleep 5; b=$(sec)
row "doing nothing (KVM's default caps)" "$a" "$a" "-" "$b"

# KVM's own shrinker, all at once.
a=$(sec)
t0=$(date +%s%N)
echo 2 >/proc/sys/vm/drop_caches
t1=$(date +%s%N)
b=$(sec); sleep 5; c=$(sec)
row "KVM's shrinker (drop_caches=2, every slab shrinker)" "$a" "$b" "$(((t1 - t0) / 1000000))" "$c"

# guestd: one pressure event, the caps to the shares.
a=$(sec)
n0=$(log_count "(memory pressure); its page tables")
t0=$(date +%s%N)
echo p >"$FIFO"
wait_until 60 log_count_is "(memory pressure); its page tables" $((n0 + 3)) || { echo "pagetables-pressure: no cut" >&2; exit 1; }
t1=$(date +%s%N)
b=$(sec); sleep 5; c=$(sec)
row "guestd: one pressure event (4 MiB budget)" "$a" "$b" "$(((t1 - t0) / 1000000))" "$c"
grep "(memory pressure); its page tables" "$DTMP/guestd.log" | sed 's/^/log: /'
for g in a:mt1 a:mt2 b:mt3; do
        [ "$(guest_state "${g%%:*}" "${g#*:}")" = running ] || { echo "pagetables-pressure: ${g#*:} is not running" >&2; exit 1; }
done
for g in a:mt1 a:mt2 b:mt3; do "ctl_${g%%:*}" stop --force "${g#*:}" >/dev/null 2>&1; done
