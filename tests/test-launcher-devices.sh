# guestd-test: kvm
# Devices as a guest sees them: console input reaches the guest through the
# UART, unclaimed ports and MMIO read as all-ones, and several vCPUs boot.
source "$(dirname "$0")/lib.sh"
need_launcher
need_kvm

# Console input: lines typed on the console come back upper-cased.
( echo "hello there"; sleep 0.5; echo "second line"; sleep 0.5; echo quit ) >"$TMP/in" &
wait
timeout 60 "$LAUNCHER" --kernel "$GUESTS/echo.elf" --memory 16 <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 0 ] && ok "echo exit 0" || fail "echo exit $rc: $(cat "$TMP/err")"
expect_grep "$TMP/out" "echo: HELLO THERE" "first input line echoed"
expect_grep "$TMP/out" "echo: SECOND LINE" "second input line echoed"
expect_grep "$TMP/out" "echo: bye" "quit reached the guest"

# Console on one fd (as under guestd): a socketpair-like fd given by number.
exec 7<>"$TMP/in"
timeout 60 "$LAUNCHER" --kernel "$GUESTS/hello.elf" --memory 16 --console 7 >"$TMP/out2" 2>"$TMP/err2"
rc=$?
exec 7>&-
[ $rc = 0 ] && ok "--console FD exit 0" || fail "--console FD exit $rc: $(cat "$TMP/err2")"
expect_grep "$TMP/in" "Hello from the guestd test guest" "--console FD output went to the fd"

# Unclaimed ports and MMIO.
expect_exit 0 "unclaimed ports and MMIO read all-ones" "$LAUNCHER" --kernel "$GUESTS/unknown.elf" --memory 16
expect_grep "$TMP/out" "unknown OK" "unknown payload finished"

# Several vCPUs: the payloads run on the boot CPU while the others wait for
# INIT/SIPI; the launcher must set them all up and end them all.
expect_exit 0 "hello with 4 vCPUs" "$LAUNCHER" --kernel "$GUESTS/hello.elf" --memory 16 --vcpus 4
expect_exit 0 "bzImage probe with 2 vCPUs" "$LAUNCHER" --kernel "$GUESTS/bzimage-probe.bzImage" --memory 64 --vcpus 2
finish
