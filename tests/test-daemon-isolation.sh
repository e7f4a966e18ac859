# guestd-test: kvm
# One user cannot see or touch another's guests: not by name through
# guestctl, and not by calling the guest's object path directly on the bus
# (which skips the name lookup). B may use the same name for a guest of
# its own. uid 0 sees everyone's guests and names them "UID/NAME".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 4, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}}'
daemon_start

expect_exit 0 "A creates secret" "${CTL_A[@]}" create secret --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "A starts secret" "${CTL_A[@]}" start secret
check "secret runs" wait_state a secret running 20
expect_exit 0 "A's list --json" "${CTL_A[@]}" list --json
OBJ=$(json 'd[0]["object"]' <"$TMP/out")
echo "    A's guest object: $OBJ"

# --- by name, through guestctl: B is told there is no such guest.
expect_exit 0 "B's list" "${CTL_B[@]}" list --json
check "B's list does not show A's guest" [ "$(json 'len(d)' <"$TMP/out")" = 0 ]
for verb in status start stop pause unpause console log remove; do
        expect_exit 3 "B: $verb secret is NoSuchGuest" "${CTL_B[@]}" "$verb" secret
done
expect_exit 3 "B: stop --force secret is NoSuchGuest" "${CTL_B[@]}" stop --force secret
# Root's "UID/NAME" form is for uid 0 only.
expect_exit 0 "B: $UID_A/secret is refused" bash -c '! "$@"' - "${CTL_B[@]}" status "$UID_A/secret"
echo "    B naming $UID_A/secret got: $(cat "$TMP/err")"
check "B: the error is named, not a crash" grep -q "^guestctl: " "$TMP/err"

# --- by object path, straight on the bus
for m in Start Pause Unpause OpenConsole GetConsoleLog; do
        expect_exit 1 "B calls $m on A's object" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 "$OBJ" org.guestd1.Guest "$m"
        echo "    $m: $(cat "$TMP/err")"
        expect_grep "$TMP/err" "NoSuchGuest\|AccessDenied\|Unknown object\|nknown\|denied\|no such\|No such" "B's $m is refused with a named error"
done
expect_exit 1 "B calls Stop(true) on A's object" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 "$OBJ" org.guestd1.Guest Stop b true
expect_exit 1 "B reads A's properties" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 "$OBJ" org.freedesktop.DBus.Properties GetAll s org.guestd1.Guest
echo "    GetAll: $(cat "$TMP/err")"
expect_exit 1 "B reads A's State property" "${AS_B[@]}" busctl --address="$BUS" get-property org.guestd1 "$OBJ" org.guestd1.Guest State
expect_exit 0 "B's GetManagedObjects" "${AS_B[@]}" busctl --address="$BUS" call --json=short org.guestd1 /org/guestd1 org.freedesktop.DBus.ObjectManager GetManagedObjects
check "B's GetManagedObjects does not list A's guest" bash -c '! grep -qF "$1" "$2"' - "$OBJ" "$TMP/out"
expect_exit 1 "B's RemoveGuest of A's name fails" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager RemoveGuest s secret

check "A's guest is still running, untouched" [ "$(guest_state a secret)" = running ]

# --- B's own guest of the same name is B's alone
expect_exit 0 "B creates its own secret" "${CTL_B[@]}" create secret --kernel "$G/hello.elf" --memory 16
expect_exit 0 "B's list" "${CTL_B[@]}" list --json
check "B sees one guest, its own" [ "$(json '[(g["name"], g["owner"]) for g in d]' <"$TMP/out")" = "[('secret', $UID_B)]" ]
OBJ_B=$(json 'd[0]["object"]' <"$TMP/out")
check "B's secret has its own object" [ "$OBJ_B" != "$OBJ" ]
expect_exit 6 "B: stop of its own stopped secret is BadState (not A's)" "${CTL_B[@]}" stop secret
check "A's guest still runs" [ "$(guest_state a secret)" = running ]
expect_exit 0 "A's own status of secret" "${CTL_A[@]}" status secret --json
check "A's secret is A's" [ "$(json 'd["owner"]' <"$TMP/out")" = "$UID_A" ]
expect_exit 0 "A's list" "${CTL_A[@]}" list --json
check "A does not see B's guest" [ "$(json 'len(d)' <"$TMP/out")" = 1 ]

# --- uid 0 sees all and acts on all
expect_exit 0 "root's list" "${CTL_ROOT[@]}" list --json
check "root sees both guests" [ "$(json "sorted(g['owner'] for g in d) == sorted([$UID_A, $UID_B])" <"$TMP/out")" = True ]
expect_exit 0 "root's human list has an OWNER column" "${CTL_ROOT[@]}" list
expect_grep "$TMP/out" "^NAME  *OWNER  *STATE  *VCPUS  *MEMORY$" "root's list header"
expect_grep "$TMP/out" "^secret  *$USER_A  *running" "root's list names A"
expect_exit 0 "root: status $UID_A/secret" "${CTL_ROOT[@]}" status "$UID_A/secret"
expect_grep "$TMP/out" "State: running" "root sees A's state"

# --- the launcher is nobody's: neither A nor B may signal it
LPID=$(launcher_pids | head -n 1)
check "the launcher runs under a uid from the reserved range" [ -n "$LPID" ]
if [ -n "$LPID" ]; then
        check "A cannot signal the launcher of A's own guest" bash -c '! "$@" kill -STOP '"$LPID"' 2>/dev/null' - "${AS_A[@]}"
        check "B cannot signal it" bash -c '! "$@" kill -STOP '"$LPID"' 2>/dev/null' - "${AS_B[@]}"
fi
expect_exit 0 "root stops A's guest" "${CTL_ROOT[@]}" stop "$UID_A/secret" --force
check "A sees it stopped" wait_state a secret stopped 10
finish
