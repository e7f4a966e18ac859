# guestd-test: kvm
# No user learns anything about another user's guests by listening (issue
# 11). guestd broadcasts no signal: a client calls Manager.Subscribe() and
# gets InterfacesAdded/Removed and PropertiesChanged, sent to it alone,
# about the guests it may see (its own; root: all). User B listens every
# way an unprivileged user can (subscribed, with raw match rules, asking
# to eavesdrop, gdbus monitor, dbus-monitor, busctl monitor) while user A
# creates, starts, pauses, unpauses, stops and removes a guest whose
# command line holds a secret: B receives nothing of it, while A and root
# follow it live. The object path names neither owner nor guest, nor do
# the launchers' cgroups; a user's subscriptions are bounded.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
WATCH=$(abspath "$B/tests/bus-watch")
[ -x "$WATCH" ] || skip "$WATCH is not built"
daemon_setup
install -m 0755 "$WATCH" "$DTMP/bus-watch"
W=$DTMP/bus-watch
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
daemon_start
SECRET=s3cr3t-token-$$-$RANDOM
PIDS=()
ready() { grep -q '^READY' "$1"; }
listen() { # listen FILE CMD...: in the background, into FILE
        local out=$1; shift
        "$@" >"$out" 2>&1 &
        PIDS+=($!)
}

listen "$TMP/a" "${AS_A[@]}" "$W" "$BUS" 120 --subscribe
listen "$TMP/root" "$W" "$BUS" 120 --subscribe
listen "$TMP/b-sub" "${AS_B[@]}" "$W" "$BUS" 120 --subscribe --match "type='signal',sender='org.guestd1'" --match "type='signal'"
listen "$TMP/b-eaves" "${AS_B[@]}" "$W" "$BUS" 120 --match "type='signal',eavesdrop='true'" --match "eavesdrop='true'"
listen "$TMP/b-gdbus" "${AS_B[@]}" timeout 120 gdbus monitor --address "$BUS" --dest org.guestd1
listen "$TMP/b-dbus-monitor" "${AS_B[@]}" timeout 120 dbus-monitor --address "$BUS" "type='signal'"
listen "$TMP/b-busctl" "${AS_B[@]}" timeout 120 busctl --address="$BUS" monitor
for f in a root b-sub b-eaves; do
        check "listener $f is ready" wait_file "$TMP/$f" '^READY' 20
done
# gdbus, dbus-monitor and busctl have no READY line: each shows it listens
# in its own way (busctl monitor is refused at once).
check "gdbus monitor (B) is listening" wait_file "$TMP/b-gdbus" '^The name org.guestd1 ' 20
check "dbus-monitor (B) is listening" wait_file "$TMP/b-dbus-monitor" 'member=NameAcquired' 20
check "busctl monitor (B) has answered" wait_file "$TMP/b-busctl" . 20

expect_exit 0 "A creates secret" "${CTL_A[@]}" create secret --kernel "$G/count.elf" --memory 16 \
        --cmdline "count.delay=200000 key=$SECRET"
OBJ=$(ctl_a status secret --json | json 'd["object"]')
expect_exit 0 "A starts it" "${CTL_A[@]}" start secret
expect_exit 0 "A pauses it" "${CTL_A[@]}" pause secret
expect_exit 0 "A unpauses it" "${CTL_A[@]}" unpause secret
expect_exit 0 "A stops it" "${CTL_A[@]}" stop secret
expect_exit 0 "A removes it" "${CTL_A[@]}" remove secret
# B's own guest: B's subscription does work.
expect_exit 0 "B creates its own" "${CTL_B[@]}" create mine --kernel "$G/hello.elf" --memory 16
# Barriers: every listener has received all that guestd sent before them.
# B's subscription hears of its own guest after all of A's signals; guestd
# leaving the bus is the last thing the others can hear of it (the bus
# routes each message to every recipient as it comes, and each listener
# reads its socket in order). guestd starts again for what follows.
check "root heard A's guest removed" wait_file "$TMP/root" "member=InterfacesRemoved" 20
check "B's subscription heard of B's guest" wait_file "$TMP/b-sub" '"mine"' 20
daemon_stop
check "B's raw matches saw guestd leave the bus" wait_file "$TMP/b-sub" "^NAME org.guestd1 owner '.*' -> ''$" 20
# sd-bus itself refuses a match with eavesdrop (EINVAL): bus-watch then
# listens with none and has nothing to wait for. dbus-monitor (libdbus)
# does ask the bus to eavesdrop.
if [ "$(grep -c '^REFUSED .*eavesdrop' "$TMP/b-eaves")" = 2 ]; then
        ok "B's eavesdrop matches were refused (by sd-bus), so that listener heard nothing to wait for"
else
        check "B's eavesdrop matches saw guestd leave the bus" wait_file "$TMP/b-eaves" "^NAME org.guestd1 owner '.*' -> ''$" 20
fi
check "gdbus monitor (B) saw guestd leave the bus" wait_file "$TMP/b-gdbus" 'org.guestd1 does not have an owner' 20
check "dbus-monitor (B) saw guestd leave the bus" wait_file "$TMP/b-dbus-monitor" 'string "org.guestd1"' 20
daemon_start
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done

handle=${OBJ##*/}
echo "    A's guest is $OBJ"
check "the object path names neither the owner's uid nor the guest: only a random handle" \
        eval 'grep -qxE "/org/guestd1/guest/[0-9a-f]{32}" <<<"$OBJ"'
# A follows its guest live, root too.
for who in a root; do
        expect_grep "$TMP/$who" "member=InterfacesAdded" "$who: InterfacesAdded"
        expect_grep "$TMP/$who" "$SECRET" "$who: with its configuration"
        expect_grep "$TMP/$who" 'STRING "paused"' "$who: PropertiesChanged to paused"
        expect_grep "$TMP/$who" 'STRING "stopped"' "$who: PropertiesChanged to stopped"
        expect_grep "$TMP/$who" "member=InterfacesRemoved" "$who: InterfacesRemoved"
done
check "A's signals were sent to A alone (unicast)" eval '! grep "^SIGNAL" "$TMP/a" | grep -q "destination=(broadcast)"'
check "A did not hear of B's guest" eval '! grep -q "\"mine\"" "$TMP/a"'
expect_grep "$TMP/b-sub" '"mine"' "B, subscribed, hears of its own guest"
# B learns nothing of A's guest, however it listens.
for f in b-sub b-eaves b-gdbus b-dbus-monitor b-busctl; do
        leaks() { grep -q -e "$SECRET" -e "$handle" -e '"secret"' "$TMP/$f"; }
        check "$f: nothing of A's guest (name, object, configuration)" eval '! leaks'
done
# The listeners did listen: gdbus and dbus-monitor say so, and dbus-monitor
# saw the bus's own signals to it.
expect_grep "$TMP/b-gdbus" "Monitoring signals" "gdbus monitor ran as B"
expect_grep "$TMP/b-dbus-monitor" "NameAcquired" "dbus-monitor ran as B, and received signals"
check "B's raw match rules caught no signal of guestd's but its own guest's" \
        eval '[ "$(grep -c "member=InterfacesAdded" "$TMP/b-sub")" = 1 ]'
check "B cannot become a monitor (busctl monitor)" eval '! grep -q "member=InterfacesAdded" "$TMP/b-busctl"'
sed 's/^/    busctl monitor as B: /' "$TMP/b-busctl" | head -n 3

# The launchers' cgroups (anyone can list /sys/fs/cgroup) say nothing either.
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
        expect_exit 0 "A creates and starts another" "${CTL_A[@]}" create other --kernel "$G/count.elf" --memory 16
        expect_exit 0 "start it" "${CTL_A[@]}" start other
        check "its cgroup is named by its handle, not its owner or name" \
                eval 'ls /sys/fs/cgroup/guestd-guests | grep -qx "$(ctl_a status other --json | json "d[\"object\"]" | sed "s|.*/||")"'
        check "every cgroup is named by a handle alone" eval '! find /sys/fs/cgroup/guestd-guests -mindepth 1 -maxdepth 1 -type d -printf "%f\n" | grep -qvxE "[0-9a-f]{32}"'
        ctl_a stop --force other >/dev/null 2>&1
fi

# Subscriptions are bounded per user, with a named error.
SUBS=()
for i in $(seq 33); do
        "${AS_B[@]}" "$W" "$BUS" 60 --subscribe >"$TMP/sub$i" 2>&1 &
        SUBS+=($!)
        wait_file "$TMP/sub$i" '^READY' 20 >/dev/null
done
check "B's 33rd subscription is refused: LimitExceeded" grep -q "REFUSED Subscribe: org.guestd1.Error.LimitExceeded" "$TMP/sub33"
check "the first 32 were accepted" eval '! grep -l REFUSED "$TMP"/sub{1..32} >/dev/null 2>&1'
for p in "${SUBS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${SUBS[@]}"; do wait "$p" 2>/dev/null; done
# Gone from the bus, gone from guestd: B may subscribe again (as soon as
# guestd has seen the 32 connections go).
subscribe_again() { "${AS_B[@]}" "$W" "$BUS" 1 --subscribe >"$TMP/again" 2>&1 && ! grep -q REFUSED "$TMP/again"; }
check "subscriptions end with their connection" wait_until 20 subscribe_again
expect_exit 1 "Unsubscribe without a subscription is refused" "${AS_A[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 \
        org.guestd1.Manager Unsubscribe
expect_grep "$TMP/err" "has not subscribed" "and says why"
finish
