# guestd-test: kvm
# A local user on the bus forging the signals guestd acts on (issue 20,
# item 1). A match rule's sender= is the bus's promise for broadcasts
# only: a signal addressed to guestd reaches it whoever sent it, and a
# user may broadcast a signal named like logind's too. guestd believes a
# signal only from the current unique owner of the name it means, and
# the bus driver's own only from the driver (daemon/bus-sender.h).
#
# First the shipped bus policy: it keeps B's signal addressed to guestd
# off the bus. Then, on a bus whose policy lets every signal through (as
# a host with another policy might), guestd's own check: B's forged
# PrepareForShutdown, broadcast or addressed to guestd, suspends nothing
# and refuses no Start; a forged NameOwnerChanged for logind does not
# make guestd drop its inhibitor (a real shutdown afterwards still
# suspends the guest first); A's forged NameOwnerChanged for B's
# connection does not end B's subscription.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
[ -x "$B/tests/fake-logind" ] || skip "$B/tests/fake-logind is not built"
[ -x "$B/tests/bus-watch" ] || skip "$B/tests/bus-watch is not built"
command -v dbus-send >/dev/null || skip "dbus-send is missing (make deps: dbus)"
daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 512, "max_snapshot_mib": 200}}'

# forge USER ARGS...: dbus-send a signal as USER on the test bus.
forge() {
        local u=$1; shift
        as_user "$u" dbus-send --bus="$BUS" --type=signal "$@"
}
LOGIND=/org/freedesktop/login1
PFS=org.freedesktop.login1.Manager.PrepareForShutdown
NOC=org.freedesktop.DBus.NameOwnerChanged

# no_line PATTERN FILE: FILE has no line matching PATTERN.
no_line() { ! grep -q -- "$1" "$2"; }

# --- the shipped policy (dbus-send does not wait for the bus's refusal:
# guestd's log says whether the signal reached it)
daemon_start
forge "$USER_B" --dest=org.guestd1 "$LOGIND" "$PFS" boolean:true
forge "$USER_B" --dest=org.guestd1 /org/freedesktop/DBus "$NOC" string:org.freedesktop.login1 string::1.1 string:
expect_exit 0 "guestd answers after B's signals (a barrier)" "${CTL_A[@]}" list
check "the shipped bus policy keeps B's signals to guestd off the bus" no_line "Ignored" "$DTMP/guestd.log"
daemon_stop
bus_stop

# --- a bus that lets every signal through: guestd's own check holds
sed -e "s|<include>../dbus/org.guestd1.conf</include>|<include>$PWD/dbus/org.guestd1.conf</include>|" \
        -e 's|</busconfig>|<policy context="default"><allow send_type="signal"/></policy></busconfig>|' \
        tests/dbus-test.conf >"$DTMP/permissive.conf"
bus_start "$DTMP/permissive.conf"

mkfifo "$TMP/logind.in"
"$B/tests/fake-logind" "$BUS" <"$TMP/logind.in" >"$TMP/logind.out" 2>"$TMP/logind.err" &
LOGIND_PID=$!
exec 9>"$TMP/logind.in"
WATCH_PID=
trap 'rc=$?; exec 9>&-; kill $LOGIND_PID $WATCH_PID 2>/dev/null; (exit $rc); daemon_cleanup' EXIT
events() { grep -c -- "$1" "$TMP/logind.out"; }
wait_more() { # PATTERN N [SECONDS]
        local end=$((SECONDS + ${3:-30}))
        while [ "$SECONDS" -lt "$end" ]; do
                [ "$(events "$1")" -gt "$2" ] && return 0
                sleep 0.1
        done
        echo "    fake-logind: no new '$1' (still $2); it said: $(tr '\n' '|' <"$TMP/logind.out")" >&2
        return 1
}
check "fake-logind is on the bus" wait_more "^ready$" 0 10
daemon_start
check "guestd takes a shutdown delay inhibitor" wait_more "^inhibit shutdown guestd delay$" 0
LOGIND_UNIQUE=$(busctl --address="$BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s \
        org.freedesktop.login1 | sed -n 's/^s "\(.*\)"$/\1/p')
check "logind's unique name is known" [ -n "$LOGIND_UNIQUE" ]

expect_exit 0 "A creates count" "${CTL_A[@]}" create count --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=3000000"
expect_exit 0 "A starts count" "${CTL_A[@]}" start count
check "A's count counts" wait_log a count "^count 2" 60

if forge "$USER_B" --dest=org.guestd1 "$LOGIND" "$PFS" boolean:true; then
        ok "this bus lets B send guestd a PrepareForShutdown"
else
        fail "the permissive bus refused B's signal: the rest tests nothing"
fi
forge "$USER_B" "$LOGIND" "$PFS" boolean:true
# B's forged owner changes: logind left the bus.
forge "$USER_B" --dest=org.guestd1 /org/freedesktop/DBus "$NOC" string:org.freedesktop.login1 string:"$LOGIND_UNIQUE" string:
forge "$USER_B" /org/freedesktop/DBus "$NOC" string:org.freedesktop.login1 string:"$LOGIND_UNIQUE" string:
# A barrier: guestd has read everything B sent before it answers this.
expect_exit 0 "guestd answers A after B's forgeries" "${CTL_A[@]}" list
check "guestd ignored them (its log says so)" grep -q "Ignored .* bus signal" "$DTMP/guestd.log"
check "no 'Host shutdown' in guestd's log" no_line "Host shutdown" "$DTMP/guestd.log"
check "A's count still runs" [ "$(guest_state a count)" = running ]
expect_exit 0 "A creates a second guest" "${CTL_A[@]}" create second --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=3000000"
expect_exit 0 "and starts it: no 'the host is shutting down'" "${CTL_A[@]}" start second
check "the inhibitor was not released" [ "$(events "^released guestd$")" = 0 ]

# --- A forges the driver's word that B's connection left the bus
"${AS_B[@]}" "$B/tests/bus-watch" "$BUS" 120 --subscribe >"$TMP/watch.out" 2>&1 &
WATCH_PID=$!
check "B's watcher subscribed" wait_file "$TMP/watch.out" "^READY" 20
B_UNIQUE=$(busctl --address="$BUS" list --no-legend 2>/dev/null | awk -v p="$WATCH_PID" '$1 ~ /^:/ && $2 == p { print $1; exit }')
# (setpriv execs bus-watch: its pid is WATCH_PID.)
[ -n "$B_UNIQUE" ] || busctl --address="$BUS" list --no-legend >&2
check "B's watcher's unique name is known" [ -n "$B_UNIQUE" ]
forge "$USER_A" --dest=org.guestd1 /org/freedesktop/DBus "$NOC" string:"$B_UNIQUE" string:"$B_UNIQUE" string:
forge "$USER_A" /org/freedesktop/DBus "$NOC" string:"$B_UNIQUE" string:"$B_UNIQUE" string:
expect_exit 0 "guestd answers after A's forgeries" "${CTL_A[@]}" list
expect_exit 0 "B creates a guest" "${CTL_B[@]}" create seen --kernel "$G/hello.elf" --memory 16
check "B's subscription still gets B's signals" wait_file "$TMP/watch.out" "member=InterfacesAdded" 20

# --- the real logind's shutdown: the inhibitor was held all along
released=$(events "^released guestd$")
echo shutdown >&9
check "guestd releases the inhibitor once its guests are suspended" wait_more "^released guestd$" "$released" 90
check "A's count is suspended, not killed" [ "$(guest_state a count)" = suspended ]
check "guestd's log names the real shutdown" grep -q "Host shutdown: suspending" "$DTMP/guestd.log"

finish
