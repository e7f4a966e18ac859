# guestd-test: kvm
# The launcher under guestd (--control-fd): tests/launcher-harness plays
# the daemon's side of the launcher protocol against a real launcher and
# real guests: setup and a clean end, pause/unpause/stop, a daemon that
# goes away and reattaches, refused or malformed requests, SIGRTMIN+4
# (machinectl poweroff) with a daemon attached and without, and a suspend's
# handshake: parked, the file, written; a write that fails (past the file
# size limit, a read-only file) and the guest goes on, running or paused;
# a daemon that reattaches while the suspend waits.
source "$(dirname "$0")/lib.sh"
need_kvm
need_launcher
HARNESS=$B/tests/launcher-harness
[ -x "$HARNESS" ] || skip "$HARNESS is not built"

for scenario in basic pause reattach poweroff-signal suspend suspend-fail suspend-reattach suspend-bad bad bad-setup bad-attach; do
        if expect_exit 0 "control: $scenario" "$HARNESS" "$LAUNCHER" "$GUESTS" "$scenario"; then
                # The launcher must never have died of a signal.
                if grep -q "wait status" "$TMP/err"; then fail "control: $scenario: launcher killed"; fi
        fi
done
expect_grep "$TMP/err" "before 'attach'" "protocol error reason reaches the log"
finish
