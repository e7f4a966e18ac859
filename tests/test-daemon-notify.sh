# guestd-test: kvm
# What guestd tells systemd (sd_notify, as under guestd.service's
# Type=notify): READY=1 once it serves, RELOADING=1 then READY=1 around a
# SIGHUP's policy reload (so that `systemctl reload guestd` returns when
# the policy is read), STOPPING=1 at SIGTERM. A stand-in for systemd's
# notification socket records each datagram.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
SOCK=$DTMP/notify
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    d = s.recv(4096).decode()
    print(" ".join(d.split("\n")), flush=True)
' "$SOCK" >"$TMP/notes" 2>&1 &
LISTENER=$!
check "the stand-in listens" wait_file "$TMP/notes" '^LISTENING' 10
NOTIFY_SOCKET=$SOCK daemon_start
check "READY=1 once guestd serves" wait_file "$TMP/notes" '^READY=1' 10
write_policy '{"defaults": {"max_guests": 3}}'
kill -HUP "$GUESTD_PID"
check "READY=1 again after the reload" wait_until 10 eval '[ "$(grep -c "^READY=1" "$TMP/notes")" = 2 ]'
check "RELOADING=1, with MONOTONIC_USEC, came first" eval 'grep "^RELOADING=1\|^READY=1" "$TMP/notes" | sed -n 2p | grep -q "^RELOADING=1 MONOTONIC_USEC=[0-9]"'
expect_exit 0 "A's quota" "${CTL_A[@]}" quota --json
check "and the new policy is in force" [ "$(json 'd["guests"]["limit"]' <"$TMP/out")" = 3 ]
kill -TERM "$GUESTD_PID"
check "STOPPING=1 at SIGTERM" wait_file "$TMP/notes" '^STOPPING=1' 10
kill "$LISTENER" 2>/dev/null
sed 's/^/    notify: /' "$TMP/notes"
finish
