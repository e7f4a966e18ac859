# guestd-test: kvm
# Administration through polkit (issue 13). Without polkit on the bus,
# root is the only admin and everyone may use guestd, as before. With
# tests/fake-polkit standing in for polkitd (rules per uid and action):
# user B, authorized for org.guestd1.manage, lists everyone's guests and
# stops, starts and removes A's ("UID/NAME": guestctl's GetGuest asks
# polkit, the calls on the guest's object path go by the grant that name
# got), reloads the policy; not authorized (no, challenge), B is told
# NoSuchGuest / AccessDenied as before, and a bare call on A's object path
# finds nothing. org.guestd1.use denied: B's CreateGuest and Start are
# refused, AccessDenied. The interactive flag reaches polkit only when
# guestctl runs on a terminal. A polkit that never answers stalls nobody
# else: A is served meanwhile, B gets Timeout after --polkit-timeout, and
# B's questions out to polkit are bounded (LimitExceeded).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
[ -x "$B/tests/fake-polkit" ] || skip "$B/tests/fake-polkit is not built"
command -v script >/dev/null || skip "script (util-linux) is missing"
daemon_setup
write_policy '{"defaults": {"max_guests": 4, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}}'
PK_TIMEOUT=3
daemon_start --polkit-timeout=$PK_TIMEOUT

# --- without polkit: as before
check "guestd says polkit is not on the bus" wait_file "$DTMP/guestd.log" "polkit is not on the bus: root is the only admin" 10
expect_exit 0 "A creates secret" "${CTL_A[@]}" create secret --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "A starts secret" "${CTL_A[@]}" start secret
check "secret runs" wait_state a secret running 20
expect_exit 3 "no polkit: B's status $UID_A/secret is NoSuchGuest" "${CTL_B[@]}" status "$UID_A/secret"
expect_exit 3 "no polkit: B's stop $UID_A/secret is NoSuchGuest" "${CTL_B[@]}" stop --force "$UID_A/secret"
expect_exit 0 "no polkit: B's list" "${CTL_B[@]}" list --json
check "no polkit: B sees none of A's guests" [ "$(json 'len(d)' <"$TMP/out")" = 0 ]
expect_exit 1 "no polkit: B's ReloadPolicy is refused" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy
expect_grep "$TMP/err" "Only root may reload" "no polkit: AccessDenied says only root"
expect_exit 0 "no polkit: B may create (everyone may use guestd)" "${CTL_B[@]}" create mine --kernel "$G/hello.elf" --memory 16
expect_exit 0 "no polkit: root's status $UID_A/secret" "${CTL_ROOT[@]}" status "$UID_A/secret"
check "secret still runs" [ "$(guest_state a secret)" = running ]

# --- fake-polkit comes onto the bus: commands on a FIFO, what it was asked in a file
mkfifo "$TMP/polkit.in"
"$B/tests/fake-polkit" "$BUS" <"$TMP/polkit.in" >"$TMP/polkit.out" 2>"$TMP/polkit.err" &
POLKIT_PID=$!
exec 8>"$TMP/polkit.in"
trap 'rc=$?; exec 8>&-; kill $POLKIT_PID 2>/dev/null; (exit $rc); daemon_cleanup' EXIT
check "fake-polkit is on the bus" wait_file "$TMP/polkit.out" "^ready$" 10
rule() { echo "rule $1 $2 $3" >&8; wait_file "$TMP/polkit.out" "^rule $1 $2 $3$" 5; }
rule '*' org.guestd1.use yes
checks() { grep -c "^check $UID_B $1 " "$TMP/polkit.out"; }

# B is not authorized (no rule: "no").
expect_exit 3 "polkit no: B's status $UID_A/secret is NoSuchGuest" "${CTL_B[@]}" status "$UID_A/secret"
check "guestd asked polkit about B and manage" grep -q "^check $UID_B org.guestd1.manage 0 no$" "$TMP/polkit.out"
check "guestd logs that polkit now answers" wait_file "$DTMP/guestd.log" "polkit answers on the bus" 5
expect_exit 0 "polkit no: B's list" "${CTL_B[@]}" list --json
check "polkit no: B's list has B's own guest only" [ "$(json '[g["owner"] for g in d]' <"$TMP/out")" = "[$UID_B]" ]
expect_exit 1 "polkit no: B's ReloadPolicy" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy
expect_grep "$TMP/err" "org.guestd1.manage" "polkit no: the refusal names the action"
expect_exit 4 "polkit no: B's budget is AccessDenied" "${CTL_B[@]}" budget 10
rule "$UID_B" org.guestd1.manage challenge
expect_exit 3 "polkit challenge: B's stop $UID_A/secret is NoSuchGuest" "${CTL_B[@]}" stop --force "$UID_A/secret"
check "polkit challenge: secret still runs" [ "$(guest_state a secret)" = running ]
expect_exit 4 "polkit challenge: B cannot create for A" "${CTL_B[@]}" create "$UID_A/other" --kernel "$G/hello.elf" --memory 16

# --- the interactive flag: only from a terminal
expect_exit 3 "B without a terminal" "${CTL_B[@]}" status "$UID_A/secret"
check "without a terminal the flag is 0" bash -c '[ "$(tail -n 1 "$1")" = "check $2 org.guestd1.manage 0 challenge" ]' - "$TMP/polkit.out" "$UID_B"
printf -v TTYCMD '%q ' "${CTL_B[@]}" status "$UID_A/secret"
expect_exit 3 "B on a terminal (script)" script -qec "$TTYCMD" /dev/null
check "on a terminal the flag is 1 (AllowUserInteraction)" bash -c '[ "$(grep "^check" "$1" | tail -n 1)" = "check $2 org.guestd1.manage 1 challenge" ]' - "$TMP/polkit.out" "$UID_B"

# --- B authorized for manage
rule "$UID_B" org.guestd1.manage yes
expect_exit 0 "polkit yes: B's list" "${CTL_B[@]}" list --json
check "polkit yes: B sees A's guest and its own" [ "$(json "sorted(g['owner'] for g in d) == sorted([$UID_A, $UID_B])" <"$TMP/out")" = True ]
OBJ=$(json "[g['object'] for g in d if g['owner'] == $UID_A][0]" <"$TMP/out")
expect_exit 0 "polkit yes: B's human list" "${CTL_B[@]}" list
expect_grep "$TMP/out" "^secret  *$USER_A  *running" "polkit yes: B's list says whose each guest is"
expect_exit 0 "polkit yes: B's status $UID_A/secret (GetGuest, then the object's properties)" "${CTL_B[@]}" status "$UID_A/secret"
expect_grep "$TMP/out" "State: running" "polkit yes: B sees A's guest running"
# A bare call on the object path, on a connection polkit granted nothing to.
expect_exit 1 "polkit yes: a bare Stop on A's object path, without a grant, finds nothing" \
        "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 "$OBJ" org.guestd1.Guest Stop b true
expect_grep "$TMP/err" "No such guest object\|NoSuchGuest" "the bare call: NoSuchGuest"
check "secret still runs" [ "$(guest_state a secret)" = running ]
expect_exit 0 "polkit yes: B reloads the policy" "${AS_B[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy
expect_exit 0 "polkit yes: B stops $UID_A/secret (GetGuest, then Stop on the object path)" "${CTL_B[@]}" stop --force "$UID_A/secret"
check "A sees it stopped" wait_state a secret stopped 10
expect_exit 0 "polkit yes: B starts $UID_A/secret" "${CTL_B[@]}" start "$UID_A/secret"
check "A sees it running" wait_state a secret running 20
expect_exit 0 "polkit yes: B stops it again" "${CTL_B[@]}" stop --force "$UID_A/secret"
check "A sees it stopped again" wait_state a secret stopped 10
expect_exit 0 "polkit yes: B removes $UID_A/secret" "${CTL_B[@]}" remove "$UID_A/secret"
expect_exit 0 "A's list" "${CTL_A[@]}" list --json
check "A's guest is gone" [ "$(json 'len(d)' <"$TMP/out")" = 0 ]

# --- what manage does not give (issue 20, item 3): a guest's files are
# opened with the rights of whoever named them, whoever owns or starts
# it. B, an admin through polkit, creating a guest for root naming files
# only root may read is refused at the create (they are opened as B); and
# files B could read when it created the guest, root's alone since, are
# refused at the Start, whoever starts it (root too).
install -m 0600 "$G/hello.elf" "$DTMP/root-kernel"
truncate -s 1M "$DTMP/root-disk"
chmod 0600 "$DTMP/root-disk"
expect_exit 4 "polkit yes: B's create for root naming root's files is refused: opened as B" \
        "${CTL_B[@]}" create 0/grab --kernel "$DTMP/root-kernel" --disk "$DTMP/root-disk" --memory 16
expect_grep "$TMP/err" "You may not read the kernel $DTMP/root-kernel" "the refusal names root's kernel"
expect_exit 3 "0/grab was not created" "${CTL_ROOT[@]}" status 0/grab
chmod 0644 "$DTMP/root-kernel"
chmod 0666 "$DTMP/root-disk"
expect_exit 0 "polkit yes: B creates a guest for root naming files B may use" \
        "${CTL_B[@]}" create 0/grab --kernel "$DTMP/root-kernel" --disk "$DTMP/root-disk" --memory 16
chmod 0600 "$DTMP/root-kernel" "$DTMP/root-disk"
expect_exit 4 "B's Start of 0/grab: its files are opened as B, not as root" "${CTL_B[@]}" start 0/grab
expect_grep "$TMP/err" "You may not read the kernel $DTMP/root-kernel" "the refusal names root's kernel"
expect_exit 4 "root's Start of 0/grab: still B's rights on the files B named" "${CTL_ROOT[@]}" start 0/grab
check "0/grab never ran" [ "$(ctl_root status 0/grab | sed -n 's/^ *State: //p')" = defined ]
check "guestd's record says whose rights open its files" grep -q "\"files_uid\": *$UID_B" "$DTMP/state/guests/0_grab.json"
expect_exit 0 "root removes 0/grab" "${CTL_ROOT[@]}" remove 0/grab

# --- org.guestd1.use denied for B
rule "$UID_B" org.guestd1.manage no
rule "$UID_B" org.guestd1.use no
expect_exit 4 "use no: B's create is AccessDenied" "${CTL_B[@]}" create mine2 --kernel "$G/hello.elf" --memory 16
expect_grep "$TMP/err" "org.guestd1.use" "use no: the refusal names the action"
expect_exit 4 "use no: B's start is AccessDenied" "${CTL_B[@]}" start mine
check "use no: B's guest is not started" [ "$(guest_state b mine)" = defined ]
expect_exit 0 "use no for B only: A creates" "${CTL_A[@]}" create secret --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "A starts it" "${CTL_A[@]}" start secret
check "A's secret runs" wait_state a secret running 20
rule "$UID_B" org.guestd1.use yes

# --- polkit never answers B: nobody else waits, B is told Timeout, B's questions are bounded
rule "$UID_B" org.guestd1.manage never
ms() { echo $(($(date +%s%N) / 1000000)); }
START=$(ms)
"${CTL_B[@]}" list >"$TMP/b-list.out" 2>"$TMP/b-list.err" </dev/null &
B_LIST=$!
check "B's list is waiting for polkit" wait_until 5 grep -q "^check $UID_B org.guestd1.manage 0 never$" "$TMP/polkit.out"
A_START=$(ms)
expect_exit 0 "A's status meanwhile" "${CTL_A[@]}" status secret
expect_exit 0 "A stops its guest meanwhile" "${CTL_A[@]}" stop --force secret
expect_exit 0 "root's list meanwhile" "${CTL_ROOT[@]}" list
A_TOOK=$(($(ms) - A_START))
echo "    A's and root's three calls took ${A_TOOK} ms while B's list waited for polkit"
check "they were answered without waiting for B's polkit ($A_TOOK ms < 2000 ms)" [ "$A_TOOK" -lt 2000 ]
wait "$B_LIST"
RC=$?
B_TOOK=$(($(ms) - START))
echo "    B's list: exit $RC after ${B_TOOK} ms: $(cat "$TMP/b-list.err")"
check "B's list ends with Timeout (exit 12)" [ "$RC" = 12 ]
check "after about --polkit-timeout ($B_TOOK ms)" [ "$B_TOOK" -ge $((PK_TIMEOUT * 1000 - 500)) -a "$B_TOOK" -lt $((PK_TIMEOUT * 1000 + 10000)) ]
grep -q "polkit did not answer within $PK_TIMEOUT s" "$TMP/b-list.err" && ok "the Timeout says polkit did not answer" ||
        fail "the Timeout message: $(cat "$TMP/b-list.err")"
# 24 calls at once from one connection: 16 wait for polkit (then Timeout),
# the other 8 are refused at once.
install -m 0755 "$(abspath "$B/tests/bus-call")" "$DTMP/bus-call"
BEFORE=$(checks org.guestd1.manage)
TEST_TIMEOUT=30 expect_exit 1 "B piles up 24 ReloadPolicy calls" "${AS_B[@]}" "$DTMP/bus-call" --repeat=24 --pipeline \
        --expect=org.guestd1.Error.LimitExceeded "$BUS" /org/guestd1 org.guestd1.Manager ReloadPolicy
echo "    $(tr '\n' '|' <"$TMP/out")"
expect_grep "$TMP/out" "calls=24 ok=0 expected=8 other=16" "past 16 questions out to polkit: 8 LimitExceeded"
expect_grep "$TMP/out" "org.guestd1.Error.Timeout" "the 16 others: Timeout"
check "polkit was asked 16 times, no more" [ $(($(checks org.guestd1.manage) - BEFORE)) = 16 ]
check "guestd is alive" kill -0 "$GUESTD_PID"
expect_exit 0 "A is served after it all" "${CTL_A[@]}" list
finish
