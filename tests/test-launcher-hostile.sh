# guestd-test: kvm
# Hostile guests against the launcher alone: each either gets an error from
# the device or is ended with a clear reason, in bounded time, and the
# launcher never crashes (no death by signal, no hang past the timeout).
#   hostile-virtq   bad descriptor chains and rings: error status or
#                   DEVICE_NEEDS_RESET for every case, then an honest read
#   hostile-mmio    garbage in every virtio-mmio register, device recovers
#   hostile-ports   every port and unassigned memory reads all-ones
#   hostile-serial  a flood of COM1 output, bounded launcher memory
#   end-triple, end-badinsn  triple fault and an unemulatable instruction
source "$(dirname "$0")/lib.sh"
need_launcher
need_kvm
truncate -s 1M "$TMP/disk"
L=("$LAUNCHER" --memory 16 --disk "$TMP/disk")

# The launcher's exit status says how the guest ended; anything else
# (death by a signal, the timeout) is a launcher failure.
no_crash() {
        case $1 in
        0|1|3|4|5|6|7) ;;
        124) fail "$2: did not end within the timeout" ;;
        *) fail "$2: the launcher died (exit $1)" ;;
        esac
}

TEST_TIMEOUT=60 expect_exit 0 "hostile-virtq" "${L[@]}" --kernel "$GUESTS/hostile-virtq.elf"
expect_grep "$TMP/out" "hostile-virtq: .* cases, all refused; an honest read still works" "every bad chain refused, device recovers"
grep '^hostile-virtq: ' "$TMP/out" | sed 's/^/    /'
n=$(grep -c 'device needs reset\|answered with an error status\|answered, nothing written\|: refused$' "$TMP/out")
if [ "$n" -ge 20 ]; then ok "hostile-virtq: $n cases reported"; else fail "hostile-virtq: only $n cases reported"; fi
expect_grep "$TMP/err" "not logging further errors" "the launcher's log of guest errors is rate-limited"

expect_exit 0 "hostile-mmio" "${L[@]}" --kernel "$GUESTS/hostile-mmio.elf"
expect_grep "$TMP/out" "device still works" "garbage in every register, the device still works after a reset"
grep '^hostile-mmio: .*accesses on' "$TMP/out" | sed 's/^/    /'

TEST_TIMEOUT=120 expect_exit 0 "hostile-ports" "${L[@]}" --kernel "$GUESTS/hostile-ports.elf"
expect_grep "$TMP/out" "all unassigned reads all-ones" "every unassigned port and address reads all-ones"
grep '^hostile-ports: .*addresses' "$TMP/out" | sed 's/^/    /'
expect_grep "$TMP/err" "unclaimed" "the launcher counts unclaimed accesses"

# The flood: the launcher passes it on without keeping it. Its peak RSS
# (--stats, guest RAM excluded) stays small however much the guest writes.
# (A console that does not keep up is tested through guestd, whose
# console socket is non-blocking: tests/test-daemon-hostile.sh.)
flood_cmdline=$(serial_flood_cmdline 2>"$TMP/part")
cat "$TMP/part"
"$LAUNCHER" --memory 16 --kernel "$GUESTS/hostile-serial.elf" --cmdline "hostile-serial.mib=2 $flood_cmdline" --stats \
        >"$TMP/flood" 2>"$TMP/err" </dev/null &
pid=$!
wait $pid
rc=$?
no_crash $rc hostile-serial
[ $rc = 0 ] && ok "hostile-serial: flood ended by itself" || fail "hostile-serial: exit $rc"
bytes=$(wc -c <"$TMP/flood")
peak=$(sed -n 's/.*launcher_peak_rss_kib=\([0-9]*\).*/\1/p' "$TMP/err")
echo "    flood: $bytes bytes out, launcher peak RSS ${peak:-?} KiB"
if [ -n "$peak" ] && [ "$peak" -lt 16384 ]; then ok "hostile-serial: launcher memory bounded"; else fail "hostile-serial: launcher peak RSS ${peak:-unknown} KiB"; fi


expect_exit 4 "triple fault" "${L[@]}" --kernel "$GUESTS/end-triple.elf"
expect_exit 5 "unemulatable instruction" "${L[@]}" --kernel "$GUESTS/end-badinsn.elf"
expect_grep "$TMP/err" "instruction bytes" "the instruction is named"
finish
