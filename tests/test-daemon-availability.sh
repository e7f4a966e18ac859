# guestd-test: kvm
# No user stalls guestd (issue 11). A's guest has its kernel on a FUSE
# mount whose server never answers (tests/fuse-hang.c), like a network file
# system whose server is gone. guestd opens a Start's files in a child that
# has become the caller and waits for it in its event loop, so:
#   - A's Start stays pending ("starting") while B's calls (list, status,
#     create, a Start of B's own guest) are answered;
#   - A's Start fails after the policy's timeouts.open_files with
#     org.guestd1.Error.Timeout (guestctl exit 12) naming the file, and the
#     guest is as it was before ("defined");
#   - a Stop while the files are being opened ends the Start at once;
#   - guestd restarting meanwhile: the next one finds the guest stopped;
#   - guestd keeps no child and no fd of the stuck opens afterwards.
#   - the file's name, which guestd logs when the open times out, carries
#     a forged log line ("\n<0>guestd: ..."): guestd's log and guestctl's
#     error show it escaped on their one line (issue 20, item 8).
# And consoles: one writer per guest, read-only sessions beside it,
# --force takes over (the old writer is told and disconnected); at most
# 8 clients per guest and 16 per user (LimitExceeded); while A holds all
# of its consoles, B's Start and B's own console still work.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
[ -c /dev/fuse ] || modprobe fuse 2>/dev/null
[ -c /dev/fuse ] || skip "no /dev/fuse here (FUSE is not in this kernel): cannot make a file system that never answers"
FUSE_HANG=$(abspath "$B/tests/fuse-hang")
[ -x "$FUSE_HANG" ] || skip "$FUSE_HANG is not built"
daemon_setup
OPEN_TIMEOUT=8
write_policy '{"defaults": {"max_guests": 4, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}, "timeouts": {"open_files": '$OPEN_TIMEOUT'}}'
daemon_start

# guestd says at start who besides root can open /dev/kvm (it changes
# nothing there; tests never loosen the device either).
expect_grep "$DTMP/guestd.log" "/dev/kvm: .*(mode 0[0-7]*, " "guestd reports at start who can open /dev/kvm"
grep -m1 "/dev/kvm: " "$DTMP/guestd.log" | sed 's/^/    /'

HANG=$DTMP/hang
mkdir -m 755 "$HANG"
# A user's file name, newline and all. CreateGuest opens it as A (it must
# be there then); the mount that never answers then covers it, so that
# A's Start waits on it.
KERNEL=$HANG/$'kernel\n<0>guestd: forged by A'
KERNEL_SHOWN="$HANG/kernel\\n<0>guestd: forged by A" # as a log line shows it
install -m 0644 "$G/hello.elf" "$KERNEL"
expect_exit 0 "A creates stuck (its kernel where the mount that never answers will be)" "${CTL_A[@]}" create stuck --kernel "$KERNEL" --memory 16
"$FUSE_HANG" "$HANG" >"$TMP/fuse.out" 2>&1 &
FUSE_PID=$!
fuse_cleanup() {
        local rc=$?
        kill "$FUSE_PID" 2>/dev/null
        wait "$FUSE_PID" 2>/dev/null
        umount -l "$HANG" 2>/dev/null
        (exit "$rc") # daemon_cleanup exits with the test's status
        daemon_cleanup
}
trap fuse_cleanup EXIT
wait_file "$TMP/fuse.out" ready 10 || { cat "$TMP/fuse.out" >&2; fail "fuse-hang did not mount"; finish; }

# Children and fds of guestd before anything is stuck (the bus connection
# and the event loop's own fds only).
children() { ps -o pid= --ppid "$GUESTD_PID" | wc -l; }
fds() { ls "/proc/$GUESTD_PID/fd" | wc -l; }
CHILDREN0=$(children)
FDS0=$(fds)

expect_exit 0 "B creates b1" "${CTL_B[@]}" create b1 --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"

# --- A's Start waits on the mount; everyone else is answered meanwhile.
start_stuck() {
        rm -f "$TMP/stuck.rc"
        ( "${CTL_A[@]}" start stuck >"$TMP/stuck.out" 2>"$TMP/stuck.err"; echo $? >"$TMP/stuck.rc" ) &
        STUCK_JOB=$!
}
T0=$(date +%s%N)
start_stuck
check "A's stuck is starting (its files are being opened)" wait_state a stuck starting 5
check "guestd has a child for A's files" [ "$(children)" -gt "$CHILDREN0" ]
MAX_MS=0
for i in 1 2 3 4 5; do
        t=$(date +%s%N)
        expect_exit 0 "B's list #$i while A's Start hangs" "${CTL_B[@]}" list
        ms=$(( ($(date +%s%N) - t) / 1000000 ))
        [ "$ms" -gt "$MAX_MS" ] && MAX_MS=$ms
done
echo "    B's list took at most $MAX_MS ms while A's Start waited (the whole guestctl process)"
expect_exit 0 "B's status of b1" "${CTL_B[@]}" status b1
expect_exit 0 "B creates b2" "${CTL_B[@]}" create b2 --kernel "$G/hello.elf" --memory 16
expect_exit 0 "root's list" "${CTL_ROOT[@]}" list
check "A's Start is still waiting after all of that" [ ! -e "$TMP/stuck.rc" ]
expect_exit 0 "B starts b1 while A's Start hangs" "${CTL_B[@]}" start b1
check "b1 runs" wait_state b b1 running 20
ELAPSED_S=$(( ($(date +%s%N) - T0) / 1000000000 ))
if [ "$ELAPSED_S" -lt "$OPEN_TIMEOUT" ]; then
        check "A's Start is still waiting while B's guest runs" [ ! -e "$TMP/stuck.rc" ]
else
        echo "    (B's start took until ${ELAPSED_S}s, past A's ${OPEN_TIMEOUT}s timeout: not checking that A still waits)"
fi

# --- A's Start fails with a named timeout, the guest as it was.
wait "$STUCK_JOB"
STUCK_S=$(( ($(date +%s%N) - T0) / 1000000000 ))
echo "    A's Start answered after ${STUCK_S}s: $(cat "$TMP/stuck.err")"
check "A's Start exits 12 (org.guestd1.Error.Timeout)" [ "$(cat "$TMP/stuck.rc")" = 12 ]
check "the error names the file that did not open, escaped" grep -qF "kernel $KERNEL_SHOWN did not finish in time" "$TMP/stuck.err"
check "it answered after the timeout, not before" [ "$STUCK_S" -ge "$OPEN_TIMEOUT" ]
check "stuck is defined again" [ "$(guest_state a stuck)" = defined ]
expect_exit 0 "A's quota" "${CTL_A[@]}" quota --json
check "A is charged for no running guest" [ "$(json 'd["running"]["used"]' <"$TMP/out")" = 0 ]
check "guestd's log says so, the name escaped on the line" \
        grep -qF "<4>guestd: uid $UID_A: Opening the kernel $KERNEL_SHOWN did not finish in time" "$DTMP/guestd.log"
check "the name forged no line of its own in guestd's log" bash -c '! grep -q "^<0>" "$1"' - "$DTMP/guestd.log"

# --- Stop while the files are being opened ends the Start at once.
start_stuck
check "stuck is starting again" wait_state a stuck starting 5
expect_exit 0 "A stops stuck while its files are being opened" "${CTL_A[@]}" stop stuck
wait "$STUCK_JOB"
check "that Start fails (exit 1)" [ "$(cat "$TMP/stuck.rc")" = 1 ]
expect_grep "$TMP/stuck.err" "stopped before it started" "the Start says it was stopped"
check "stuck is defined" [ "$(guest_state a stuck)" = defined ]

# --- nothing of the stuck opens stays in guestd: the killed children are
# reaped (FUSE's waits are killable) and their fds closed.
settled() { [ "$(children)" -le "$((CHILDREN0 + 1))" ] && [ "$(fds)" -le "$((FDS0 + 12))" ]; }
for i in $(seq 50); do settled && break; sleep 0.1; done
LAUNCHERS=$(launcher_pids | wc -l)
check "guestd's children: b1's launcher only ($(children) now, $CHILDREN0 before, $LAUNCHERS launcher)" [ "$(children)" -eq "$((CHILDREN0 + LAUNCHERS))" ]
echo "    guestd's fds: $FDS0 before, $(fds) now (b1's launcher holds a few)"
check "no opener lingers as a zombie" bash -c '! ps -o stat= --ppid "$1" | grep -q "^Z"' - "$GUESTD_PID"

# --- guestd restarting while the files are being opened: nothing ran, so
# the next guestd finds the guest stopped (the Start went with its caller).
start_stuck
check "stuck is starting once more" wait_state a stuck starting 5
daemon_stop
wait "$STUCK_JOB"
check "that Start ends with guestd (exit 7: no reply)" [ "$(cat "$TMP/stuck.rc")" = 7 ]
daemon_start
check "after the restart stuck is stopped" [ "$(guest_state a stuck)" = stopped ]
expect_exit 0 "its status" "${CTL_A[@]}" status stuck
expect_grep "$TMP/out" "guestd restarted before the guest began" "its reason says what happened"
expect_exit 0 "A's quota after the restart" "${CTL_A[@]}" quota --json
check "nothing is charged for it" [ "$(json 'd["running"]["used"]' <"$TMP/out")" = 0 ]

# --- Consoles.
expect_exit 0 "A creates talk (echo)" "${CTL_A[@]}" create talk --kernel "$G/echo.elf" --memory 16
expect_exit 0 "A creates tick (count)" "${CTL_A[@]}" create tick --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "A starts talk" "${CTL_A[@]}" start talk
expect_exit 0 "A starts tick" "${CTL_A[@]}" start tick
# A writer that stays: its stdin is a FIFO this shell holds open.
mkfifo "$TMP/w1.in" "$TMP/w2.in"
( "${CTL_A[@]}" console talk --idle 0 <"$TMP/w1.in" >"$TMP/w1.out" 2>"$TMP/w1.err"; echo $? >"$TMP/w1.rc" ) &
exec 7>"$TMP/w1.in"
echo "hello one" >&7
check "the writer's typing reaches talk and the answer comes back" wait_file "$TMP/w1.out" "echo: HELLO ONE" 20
expect_exit 6 "a second writer is refused (org.guestd1.Error.Busy)" "${CTL_A[@]}" console talk --idle 0
expect_grep "$TMP/err" "has a console session already" "it is told to attach read-only or force"
fds_now() { ls "/proc/$GUESTD_PID/fd" | wc -l; }
FDS_BEFORE=$(fds_now)
( printf 'from the reader\n' | "${CTL_A[@]}" console talk --read-only --idle 3000 >"$TMP/ro.out" 2>"$TMP/ro.err"; echo $? >"$TMP/ro.rc" ) &
RO_JOB=$!
check "the read-only session attached" wait_until 10 eval '[ "$(fds_now)" -gt "$FDS_BEFORE" ]'
echo "hello two" >&7
wait "$RO_JOB"
check "a read-only session sees the guest's output" grep -q "echo: HELLO TWO" "$TMP/ro.out"
check "and exits 0" [ "$(cat "$TMP/ro.rc")" = 0 ]
check "nothing of the read-only session reached the guest" bash -c '! "$@" log talk | grep -q "FROM THE READER"' - "${CTL_A[@]}"
( "${CTL_A[@]}" console talk --force --idle 0 <"$TMP/w2.in" >"$TMP/w2.out" 2>"$TMP/w2.err"; echo $? >"$TMP/w2.rc" ) &
exec 8>"$TMP/w2.in"
check "--force disconnects the first writer" wait_file "$TMP/w1.rc" 0 10
expect_grep "$TMP/w1.out" "another console session took over" "the first writer is told why"
echo "hello three" >&8
check "the new writer types into talk" wait_file "$TMP/w2.out" "echo: HELLO THREE" 20
exec 7>&-

# Caps: talk has its writer; 7 read-only sessions fill it (8 per guest).
RO_PIDS=()
attach_ro() {
        local before; before=$(fds_now)
        "${CTL_A[@]}" console "$1" --read-only --idle 0 </dev/null >/dev/null 2>"$TMP/ro-$2.err" &
        RO_PIDS+=($!)
        for i in $(seq 50); do
                [ "$(fds_now)" -gt "$before" ] && return 0
                kill -0 "${RO_PIDS[-1]}" 2>/dev/null || return 1
                sleep 0.1
        done
        return 1
}
FDS_BEFORE_RO=$(fds_now)
n=0
for i in 1 2 3 4 5 6 7; do attach_ro talk "t$i" && n=$((n + 1)); done
check "7 read-only sessions beside talk's writer ($n)" [ "$n" = 7 ]
expect_exit 5 "a 9th client of talk is refused (LimitExceeded)" "${CTL_A[@]}" console talk --read-only --idle 0
expect_grep "$TMP/err" "8 console clients" "it says the guest's limit"
n=0
for i in 1 2 3 4 5 6 7 8; do attach_ro tick "k$i" && n=$((n + 1)); done
check "8 sessions on tick ($n): A holds 16" [ "$n" = 8 ]
expect_exit 5 "A's 17th console is refused (LimitExceeded)" "${CTL_A[@]}" console tick --read-only --idle 0
expect_grep "$TMP/err" "You have 16 consoles open" "it says the user's limit"
echo "    guestd's fds: $FDS_BEFORE_RO before A's sessions, $(fds_now) with them"
# B is not A's victim.
expect_exit 0 "B starts b2 while A holds 16 consoles" "${CTL_B[@]}" start b2
# b1 prints all the time: never idle, so the session is cut after 2 s.
timeout 2 "${CTL_B[@]}" console b1 --read-only --idle 0 </dev/null >"$TMP/b1.console" 2>&1
check "B's own console works meanwhile: b1's output comes" grep -q "^count [0-9]" "$TMP/b1.console"
kill "${RO_PIDS[@]}" 2>/dev/null
exec 8>&-
wait "${RO_PIDS[@]}" 2>/dev/null
for i in $(seq 50); do [ "$(fds_now)" -le "$FDS_BEFORE_RO" ] && break; sleep 0.1; done
check "the sessions' fds are closed in guestd ($(fds_now) now)" [ "$(fds_now)" -le "$FDS_BEFORE_RO" ]

expect_exit 0 "A stops talk" "${CTL_A[@]}" stop talk
expect_exit 0 "A stops tick" "${CTL_A[@]}" stop tick
expect_exit 0 "B stops b1" "${CTL_B[@]}" stop b1
check "A's and B's guests: stuck stopped, b1 stopped" [ "$(guest_state a stuck)/$(guest_state b b1)" = stopped/stopped ]
finish
